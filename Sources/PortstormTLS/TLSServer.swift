import COpenSSL
import Glibc

/// The server side of TLS for the built-in targets (`serve --mode https|wss|tls`): one SSL_CTX
/// with a certificate from files (`--cert/--key`) or a self-signed ECDSA P-256 one made at start.
/// Connections use the socket directly (SSL_set_fd) and non-blocking I/O: a test server, not the
/// engine's path.
public final class TLSServerContext: @unchecked Sendable {
    let ctx: OpaquePointer
    /// The certificate in PEM when it was made here (clients pass it to --cacert); nil for files.
    public let selfSignedPEM: String?

    /// A self-signed certificate for `localhost`, 127.0.0.1 and ::1 (plus `extraNames`: host names
    /// or IP addresses), valid from an hour ago for `days` days.
    public init(selfSignedFor extraNames: [String] = [], days: Int = 30) throws(TLSSetupError) {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSSetupError("OpenSSL could not make a server context") }
        self.ctx = ctx
        var san = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
        for n in extraNames { san.append(SocketAddressText.isIPAddress(n) ? "IP:\(n)" : "DNS:\(n)") }
        let pem = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 8192) { buf -> String? in
            ps_ctx_use_self_signed(ctx, "localhost", san.joined(separator: ","), Int32(days), buf.baseAddress!, 8192) > 0
                ? String(cString: buf.baseAddress!) : nil
        }
        guard let pem else {
            throw TLSSetupError("OpenSSL could not make a self-signed certificate: \(TLSErrors.drain() ?? "no reason given")")
        }
        selfSignedPEM = pem
        Self.configure(ctx)
    }

    /// A certificate (chain) and its key from PEM files.
    public init(certificateFile: String, keyFile: String) throws(TLSSetupError) {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSSetupError("OpenSSL could not make a server context") }
        self.ctx = ctx
        selfSignedPEM = nil
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateFile) == 1 else {
            throw TLSSetupError("--cert \(certificateFile): OpenSSL cannot load a certificate from it (\(TLSErrors.drain() ?? "unreadable"))")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSSetupError("--key \(keyFile): OpenSSL cannot load a private key from it (\(TLSErrors.drain() ?? "unreadable"))")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSSetupError("--key \(keyFile) does not belong to the certificate in --cert \(certificateFile)")
        }
        Self.configure(ctx)
    }

    private static func configure(_ ctx: OpaquePointer) {
        // Resumption works as with nginx's defaults: tickets on, no server-side cache needed.
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(ctx) }

    /// A server connection on an accepted, non-blocking socket.
    public func connection(fd: Int32) -> TLSServerConnection? {
        guard let ssl = SSL_new(ctx) else { return nil }
        SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
        return TLSServerConnection(ssl: ssl)
    }
}

/// One accepted connection: the handshake and then the plaintext, over a non-blocking socket.
public final class TLSServerConnection {
    private let ssl: OpaquePointer
    public private(set) var established = false
    /// The client spoke plain HTTP to this TLS port (OpenSSL's SSL_R_HTTP_REQUEST).
    public private(set) var plainHTTPSeen = false

    init(ssl: OpaquePointer) { self.ssl = ssl }
    deinit { SSL_free(ssl) }

    /// Reads plaintext: > 0 bytes, 0 the client closed, -EAGAIN not yet (also while the handshake
    /// goes on), -EPROTO the handshake or a record failed.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if !established {
            let r = SSL_accept(ssl)
            if r != 1 { return failure(r) }
            established = true
        }
        let r = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        return r > 0 ? Int(r) : failure(r)
    }

    /// Writes plaintext; returns what SSL_write returned (the whole buffer on success).
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        Int(SSL_write(ssl, bytes.baseAddress, Int32(bytes.count)))
    }

    /// Sends close_notify (once, without waiting for the client's).
    public func shutdown() {
        if established { _ = SSL_shutdown(ssl) }
        ERR_clear_error()
    }

    private func failure(_ r: Int32) -> Int {
        let e = SSL_get_error(ssl, r)
        switch e {
        case PS_SSL_ERROR_WANT_READ, PS_SSL_ERROR_WANT_WRITE: return -Int(EAGAIN)
        case PS_SSL_ERROR_ZERO_RETURN: ERR_clear_error(); return 0
        default:
            let err = ERR_peek_error()
            if ps_err_lib(err) == PS_ERR_LIB_SSL && ps_err_reason(err) == PS_SSL_R_HTTP_REQUEST { plainHTTPSeen = true }
            ERR_clear_error()
            return e == PS_SSL_ERROR_SYSCALL && established ? 0 : -Int(EPROTO)
        }
    }
}
