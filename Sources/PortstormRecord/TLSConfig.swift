/// The TLS settings of a run (`--protocol https|wss|tls` and the `--tls-*` options), as given.
///
/// Present in `RunConfig.tls` when the run speaks TLS; the protocol inside the TLS connection is
/// still `RunConfig.wireProtocol` (https: http, wss: ws, tls: tcp).
public struct TLSConfig: Codable, Sendable, Equatable {
    /// The server name sent (SNI) and checked against the certificate; nil: the target's host name
    /// when it is a name, none (and the IP address checked) when it is an address.
    public var sni: String?
    /// A PEM file of CA certificates to trust instead of the system's store.
    public var caFile: String?
    /// Certificates are not verified (`--insecure`).
    public var insecure: Bool = false
    /// Lowest and highest protocol version offered: "1.2" or "1.3" (nil: OpenSSL's default).
    public var minVersion: String?
    public var maxVersion: String?
    /// ALPN protocols offered, in order (`--alpn h2,http/1.1`); empty: no ALPN.
    public var alpn: [String] = []
    /// Reuse one session (ticket) across attempts (`--tls-resume`).
    public var resume: Bool = false

    public init(sni: String? = nil, caFile: String? = nil, insecure: Bool = false, minVersion: String? = nil,
                maxVersion: String? = nil, alpn: [String] = [], resume: Bool = false) {
        self.sni = sni
        self.caFile = caFile
        self.insecure = insecure
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.alpn = alpn
        self.resume = resume
    }

    private enum CodingKeys: String, CodingKey { case sni, caFile, insecure, minVersion, maxVersion, alpn, resume }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sni = try c.decodeIfPresent(String.self, forKey: .sni)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        insecure = try c.decodeIfPresent(Bool.self, forKey: .insecure) ?? false
        minVersion = try c.decodeIfPresent(String.self, forKey: .minVersion)
        maxVersion = try c.decodeIfPresent(String.self, forKey: .maxVersion)
        alpn = try c.decodeIfPresent([String].self, forKey: .alpn) ?? []
        resume = try c.decodeIfPresent(Bool.self, forKey: .resume) ?? false
    }

    /// The versions `--tls-min` / `--tls-max` take.
    public static let versions = ["1.2", "1.3"]
}

/// What the TLS handshakes of a run came to (record field `tls`, present when the run spoke TLS).
public struct TLSTotals: Codable, Sendable, Equatable {
    /// Handshakes completed, and how many of them resumed a session (`--tls-resume`).
    public var handshakes: UInt64
    public var resumed: UInt64
    /// Handshakes completed by negotiated protocol version ("TLSv1.3": n).
    public var versions: [String: UInt64]
    /// Why handshakes failed, each sentence with its count ("certificate has expired (notAfter ...)": n);
    /// the outcome each belongs to is in `failureOutcomes`, same keys.
    public var failures: [String: UInt64]
    public var failureOutcomes: [String: String]
    /// Attempts whose server asked for a client certificate (a CertificateRequest in the handshake,
    /// seen through OpenSSL's client-certificate callback); portstorm sends none. Older /2
    /// records omit it (read as 0).
    public var clientCertificateRequests: UInt64

    public init(handshakes: UInt64 = 0, resumed: UInt64 = 0, versions: [String: UInt64] = [:],
                failures: [String: UInt64] = [:], failureOutcomes: [String: String] = [:],
                clientCertificateRequests: UInt64 = 0) {
        self.handshakes = handshakes
        self.resumed = resumed
        self.versions = versions
        self.failures = failures
        self.failureOutcomes = failureOutcomes
        self.clientCertificateRequests = clientCertificateRequests
    }

    private enum CodingKeys: String, CodingKey {
        case handshakes, resumed, versions, failures, failureOutcomes, clientCertificateRequests
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        handshakes = try c.decode(UInt64.self, forKey: .handshakes)
        resumed = try c.decodeIfPresent(UInt64.self, forKey: .resumed) ?? 0
        versions = try c.decodeIfPresent([String: UInt64].self, forKey: .versions) ?? [:]
        failures = try c.decodeIfPresent([String: UInt64].self, forKey: .failures) ?? [:]
        failureOutcomes = try c.decodeIfPresent([String: String].self, forKey: .failureOutcomes) ?? [:]
        clientCertificateRequests = try c.decodeIfPresent(UInt64.self, forKey: .clientCertificateRequests) ?? 0
    }
}
