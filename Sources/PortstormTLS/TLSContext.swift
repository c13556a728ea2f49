import COpenSSL
import Glibc
import PortstormRecord

/// A TLS setting OpenSSL refused (a CA file it cannot read, a version it does not know): one
/// sentence meant for the user.
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One client SSL_CTX for a whole run, shared by every worker (OpenSSL's SSL_CTX is safe to use
/// from several threads once set up): trust store, verification, versions, ALPN.
///
/// The corresponding C calls are SSL_CTX_new(TLS_client_method()), SSL_CTX_set_verify,
/// SSL_CTX_load_verify_locations / SSL_CTX_set_default_verify_paths, SSL_CTX_set_{min,max}_proto_version,
/// SSL_CTX_set_alpn_protos and X509_VERIFY_PARAM_set1_host / _set1_ip_asc for the name checked.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let config: TLSConfig
    /// The name sent as SNI (nil for an IP address target without --sni: no SNI, the IP is checked).
    public let serverName: String?
    /// What the certificate is checked against: the SNI name, or the target's IP address.
    public let checkedName: String

    /// `host` is the target's host as given (a name or an address).
    public init(config: TLSConfig, host: String) throws(TLSSetupError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw TLSSetupError("OpenSSL could not make a TLS context: \(TLSErrors.drain() ?? "no reason given")")
        }
        self.ctx = ctx
        self.config = config
        let isAddress = SocketAddressText.isIPAddress(host)
        serverName = config.sni ?? (isAddress ? nil : host)
        checkedName = config.sni ?? host
        SSL_CTX_set_verify(ctx, config.insecure ? PS_SSL_VERIFY_NONE : PS_SSL_VERIFY_PEER, nil)
        if let file = config.caFile {
            guard access(file, R_OK) == 0 else {
                throw TLSSetupError("--cacert \(file): cannot read it (\(String(cString: strerror(errno))))")
            }
            guard SSL_CTX_load_verify_locations(ctx, file, nil) == 1 else {
                let why = TLSErrors.drain() ?? "unreadable"
                throw TLSSetupError("--cacert \(file): OpenSSL cannot load CA certificates from it (\(why)); give a PEM file")
            }
        } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSSetupError("OpenSSL could not load the system's CA store: \(TLSErrors.drain() ?? "no reason given"); give --cacert FILE")
        }
        if !config.insecure {
            let param = SSL_CTX_get0_param(ctx)
            if config.sni == nil && isAddress {
                X509_VERIFY_PARAM_set1_ip_asc(param, host)
            } else {
                X509_VERIFY_PARAM_set1_host(param, checkedName, 0)
            }
        }
        let lo = try Self.version(config.minVersion, "--tls-min")
        let hi = try Self.version(config.maxVersion, "--tls-max")
        if let lo, let hi, lo > hi {
            throw TLSSetupError("--tls-min \(config.minVersion!) is above --tls-max \(config.maxVersion!)")
        }
        if let lo { _ = ps_ctx_set_min_proto(ctx, lo) }
        if let hi { _ = ps_ctx_set_max_proto(ctx, hi) }
        if !config.alpn.isEmpty {
            var wire: [UInt8] = []
            for p in config.alpn {
                let bytes = Array(p.utf8)
                guard (1...255).contains(bytes.count) else {
                    throw TLSSetupError("--alpn takes protocol names of 1 to 255 bytes separated by commas, as in h2,http/1.1")
                }
                wire.append(UInt8(bytes.count))
                wire += bytes
            }
            // Returns 0 on success (unlike most of OpenSSL).
            guard SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count)) == 0 else {
                throw TLSSetupError("OpenSSL refused --alpn \(config.alpn.joined(separator: ","))")
            }
        }
        // portstorm sends no client certificate; a server's request for one is noted per connection.
        ps_ctx_note_client_cert_requests(ctx)
        if config.resume {
            // Sessions are kept by the caller (one per worker), not in OpenSSL's cache.
            _ = ps_ctx_set_session_cache_client(ctx)
        }
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(ctx) }

    private static func version(_ text: String?, _ option: String) throws(TLSSetupError) -> Int32? {
        switch text {
        case nil: return nil
        case "1.2": return PS_TLS1_2_VERSION
        case "1.3": return PS_TLS1_3_VERSION
        case let v?: throw TLSSetupError("\(option) takes 1.2 or 1.3, not '\(v)'")
        }
    }
}

/// OpenSSL's thread-local error queue, read and emptied.
enum TLSErrors {
    /// The earliest error's reason string, or nil when the queue is empty; the queue is cleared.
    static func drain() -> String? {
        let e = ERR_peek_error()
        defer { ERR_clear_error() }
        guard e != 0 else { return nil }
        return ERR_reason_error_string(e).map { String(cString: $0) } ?? "error \(e)"
    }
}

/// Whether a host text is an IP address (then no SNI is sent, and the certificate's IP entries are checked).
enum SocketAddressText {
    static func isIPAddress(_ host: String) -> Bool {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, h, &v4) == 1 || inet_pton(AF_INET6, h, &v6) == 1
    }
}
