import Glibc

/// How one attempt ended: exactly one per attempt, with a stable name used in records, reports and tests.
///
/// Named outcomes come first; any other errno is `errno_<n>`. The code indexes `OutcomeCounts`.
public struct Outcome: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let code: UInt16

    /// Where the cause of an outcome lies.
    public enum Cause: String, Sendable, Codable {
        /// Not a failure.
        case none
        /// This machine's resources: ports, descriptors, buffers, local addresses.
        case local
        /// The path or the server: refusals, resets, dropped SYNs, wrong protocol.
        case remote
        /// An errno portstorm has no classification for.
        case unknown
    }

    private static let named: [(name: String, cause: Cause, errno: Int32?)] = [
        ("ok", .none, nil),
        ("eaddrnotavail", .local, EADDRNOTAVAIL),
        ("eaddrinuse", .local, EADDRINUSE),
        ("econnrefused", .remote, ECONNREFUSED),
        ("etimedout", .remote, ETIMEDOUT),
        ("connect_timeout", .remote, nil),
        ("econnreset", .remote, ECONNRESET),
        ("ehostunreach", .remote, EHOSTUNREACH),
        ("enetunreach", .remote, ENETUNREACH),
        ("emfile", .local, EMFILE),
        ("enfile", .local, ENFILE),
        ("enobufs", .local, ENOBUFS),
        ("protocol_mismatch", .remote, nil),
        ("response_timeout", .remote, nil),
        ("http_status", .remote, nil),
        ("no_route", .local, nil),
        ("tls_handshake_failed", .remote, nil),
        ("tls_cert_expired", .remote, nil),
        ("tls_cert_untrusted", .local, nil),
        ("tls_cert_name_mismatch", .local, nil),
        ("tls_plain_server", .remote, nil),
        ("tls_required", .remote, nil),
        ("tls_handshake_timeout", .remote, nil),
        ("tls_failed_after_handshake", .remote, nil),
    ]

    /// Errnos at or above this (and nonsensical ones, <= 0) are counted as `errno_255`;
    /// Linux errnos stop near 133, so that name never stands for a real one.
    public static let errnoLimit = 256
    public static let namedCount = named.count
    /// How many distinct codes exist: the size of a dense counter table.
    public static let codeCount = namedCount + errnoLimit

    public static let ok = Outcome(code: 0)
    public static let eaddrnotavail = Outcome(code: 1)
    public static let eaddrinuse = Outcome(code: 2)
    public static let econnrefused = Outcome(code: 3)
    public static let etimedout = Outcome(code: 4)
    /// The run's own deadline (`--connect-timeout`) passed before connect() completed.
    public static let connectTimeout = Outcome(code: 5)
    public static let econnreset = Outcome(code: 6)
    public static let ehostunreach = Outcome(code: 7)
    public static let enetunreach = Outcome(code: 8)
    public static let emfile = Outcome(code: 9)
    public static let enfile = Outcome(code: 10)
    public static let enobufs = Outcome(code: 11)
    /// Connected, but the answer was not what the protocol expects.
    public static let protocolMismatch = Outcome(code: 12)
    /// Connected, but no complete answer (or no close by the server) before `--response-timeout`.
    public static let responseTimeout = Outcome(code: 13)
    /// Connected and answered, with an HTTP status outside the accepted set (`--expect-status`,
    /// 200-399 by default); the codes are in `Totals.httpStatuses`.
    public static let httpStatus = Outcome(code: 14)
    /// connect() failed with ENETUNREACH or EHOSTUNREACH and this machine's own routing table has no
    /// usable route to the target: no SYN left (a route lookup without traffic says so). An ICMP
    /// unreachable from a router on the path stays `enetunreach` / `ehostunreach` (remote).
    public static let noRoute = Outcome(code: 15)
    /// The TLS handshake failed: the server sent an alert (its name is in the record's `tls.failures`),
    /// closed during the handshake, or OpenSSL refused what it sent.
    public static let tlsHandshakeFailed = Outcome(code: 16)
    /// The server's certificate has expired or is not valid yet (the server's to fix).
    public static let tlsCertExpired = Outcome(code: 17)
    /// The server's certificate is self-signed or issued by a CA this machine does not trust:
    /// counted local, since the trust store (`--cacert`) is this side's.
    public static let tlsCertUntrusted = Outcome(code: 18)
    /// The certificate does not name the host asked for (`--sni`, or the target's host): local,
    /// since the name checked is this side's choice; the record names both.
    public static let tlsCertNameMismatch = Outcome(code: 19)
    /// TLS was sent to a plain service: the answer to the ClientHello is not a TLS record.
    public static let tlsPlainServer = Outcome(code: 20)
    /// Plain HTTP or WebSocket was sent to a TLS port: the answer is a TLS record, or nginx's
    /// "400 The plain HTTP request was sent to HTTPS port".
    public static let tlsRequired = Outcome(code: 21)
    /// Connected, but the TLS handshake did not complete within `--response-timeout`.
    public static let tlsHandshakeTimeout = Outcome(code: 22)
    /// The handshake completed on this side, then TLS failed: the server sent an alert (named in
    /// `tls.failures`; in TLS 1.3 a server that checks the client's certificate says
    /// certificate_required only after the client's Finished) or a record OpenSSL refused.
    public static let tlsFailedAfterHandshake = Outcome(code: 23)

    public init(code: UInt16) {
        precondition(Int(code) < Outcome.codeCount)
        self.code = code
    }

    /// The outcome for a failed call's errno (positive).
    @inline(__always)
    public init(errno e: Int32) {
        switch e {
        case EADDRNOTAVAIL: self = .eaddrnotavail
        case EADDRINUSE: self = .eaddrinuse
        case ECONNREFUSED: self = .econnrefused
        case ETIMEDOUT: self = .etimedout
        case ECONNRESET: self = .econnreset
        case EHOSTUNREACH: self = .ehostunreach
        case ENETUNREACH: self = .enetunreach
        case EMFILE: self = .emfile
        case ENFILE: self = .enfile
        case ENOBUFS: self = .enobufs
        default:
            let clamped = e > 0 && Int(e) < Outcome.errnoLimit ? Int(e) : Outcome.errnoLimit - 1
            self.code = UInt16(Outcome.namedCount + clamped)
        }
    }

    /// Parses a stable name back (`ok`, `econnrefused`, `errno_71`, ...).
    public init?(name: String) {
        if let i = Outcome.named.firstIndex(where: { $0.name == name }) {
            self.code = UInt16(i)
        } else if name.hasPrefix("errno_"), let n = Int(name.dropFirst(6)), n > 0, n < Outcome.errnoLimit {
            self.code = UInt16(Outcome.namedCount + n)
        } else {
            return nil
        }
    }

    public var isOK: Bool { code == 0 }

    /// The errno this outcome stands for, when it stands for one.
    public var errno: Int32? {
        Int(code) < Outcome.namedCount ? Outcome.named[Int(code)].errno : Int32(Int(code) - Outcome.namedCount)
    }

    public var name: String {
        Int(code) < Outcome.namedCount ? Outcome.named[Int(code)].name : "errno_\(Int(code) - Outcome.namedCount)"
    }

    public var cause: Cause {
        if Int(code) < Outcome.namedCount { return Outcome.named[Int(code)].cause }
        switch errno {
        case EACCES, EPERM, ENOMEM, EAFNOSUPPORT, EINVAL: return .local
        case EPIPE, ENETDOWN, EPROTO: return .remote
        default: return .unknown
        }
    }

    /// What the name means, in a few words, for tables.
    public var meaning: String {
        switch self {
        case .ok: return "connected and completed"
        case .connectTimeout: return "no connect within --connect-timeout"
        case .protocolMismatch: return "answer not in the expected protocol"
        case .responseTimeout: return "no answer within --response-timeout"
        case .httpStatus: return "HTTP status outside the accepted set"
        case .noRoute: return "no route in this machine's routing table"
        case .tlsHandshakeFailed: return "TLS handshake failed"
        case .tlsCertExpired: return "certificate expired or not yet valid"
        case .tlsCertUntrusted: return "certificate not trusted (unknown CA, self-signed)"
        case .tlsCertNameMismatch: return "certificate does not name the host"
        case .tlsPlainServer: return "TLS sent to a plain (non-TLS) service"
        case .tlsRequired: return "plain protocol sent to a TLS port"
        case .tlsHandshakeTimeout: return "no TLS handshake within --response-timeout"
        case .tlsFailedAfterHandshake: return "TLS ended by the server after the handshake"
        default:
            guard let e = errno else { return name }
            return String(cString: strerror(e))
        }
    }

    public var description: String { name }
    public static func < (a: Outcome, b: Outcome) -> Bool { a.code < b.code }

    /// Every outcome with a fixed name, in code order.
    public static var allNamed: [Outcome] { (0..<namedCount).map { Outcome(code: UInt16($0)) } }
}
