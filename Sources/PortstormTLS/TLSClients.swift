import COpenSSL
import Glibc
import PortstormRecord

/// What a step of a TLS connection came to.
public enum TLSStep: Equatable, Sendable {
    /// Done: for read and write the plaintext byte count (0 for the handshake).
    case done(Int)
    /// OpenSSL needs more ciphertext from the server (send what `pendingOutput` holds first).
    case wantRead
    /// The server closed (close_notify or end of stream) before any plaintext came.
    case closed
    /// The connection failed: `failure(_:)` says why.
    case failed
}

/// The client side of TLS for a table of connection slots, over memory BIOs: the caller moves the
/// ciphertext (what the server sent goes in with `feed`, what to send comes out of `takeOutput`);
/// OpenSSL only transforms bytes and never touches a socket, so nothing blocks.
///
/// One SSL object and two memory BIOs per slot, made once and reset for each attempt (SSL_clear,
/// BIO_reset): an attempt allocates nothing here beyond what OpenSSL itself does in the handshake.
/// With `--tls-resume` the last resumable session is kept and offered to the next attempt.
/// Used from one thread (the worker's).
public final class TLSClients {
    public let context: TLSContext
    private let count: Int
    private let ssls: UnsafeMutablePointer<OpaquePointer?>
    private let readBIOs: UnsafeMutablePointer<OpaquePointer?>
    private let writeBIOs: UnsafeMutablePointer<OpaquePointer?>
    /// Whether slot `i`'s handshake completed on this side (SSL_do_handshake returned 1). Kept
    /// here because OpenSSL marks the connection as in-init again once a fatal alert arrives.
    private let established: UnsafeMutablePointer<Bool>
    /// The session offered for resumption (--tls-resume), owned (one reference).
    private var session: OpaquePointer?

    public init(context: TLSContext, count: Int) {
        self.context = context
        self.count = count
        ssls = .allocate(capacity: count)
        readBIOs = .allocate(capacity: count)
        writeBIOs = .allocate(capacity: count)
        established = .allocate(capacity: count)
        established.initialize(repeating: false, count: count)
        for i in 0..<count {
            let ssl = SSL_new(context.ctx)
            let r = BIO_new(BIO_s_mem()), w = BIO_new(BIO_s_mem())
            precondition(ssl != nil && r != nil && w != nil, "OpenSSL could not allocate a connection")
            // An empty read BIO means "not yet", not end of stream.
            ps_bio_set_mem_eof_return(r, -1)
            SSL_set_bio(ssl, r, w)
            ssls[i] = ssl
            readBIOs[i] = r
            writeBIOs[i] = w
        }
    }

    deinit {
        for i in 0..<count { SSL_free(ssls[i]) }  // frees its BIOs too
        if let session { SSL_SESSION_free(session) }
        ssls.deallocate()
        readBIOs.deallocate()
        writeBIOs.deallocate()
        established.deallocate()
    }

    /// Readies slot `i` for a new connection: state and buffers cleared, SNI set, the kept session offered.
    public func begin(_ i: Int) {
        let ssl = ssls[i]
        // The connection ended as the run wanted (no close_notify is sent): marked shut down, so
        // that SSL_clear keeps its session resumable instead of dropping it as a bad one.
        if SSL_is_init_finished(ssl) == 1 { SSL_set_shutdown(ssl, PS_SSL_SENT_SHUTDOWN | PS_SSL_RECEIVED_SHUTDOWN) }
        if context.config.resume, let s = SSL_get1_session(ssl) {
            // Kept only when a later handshake can use it (TLS 1.3 tickets come after the handshake).
            if SSL_SESSION_is_resumable(s) == 1 && s != session {
                if let old = session { SSL_SESSION_free(old) }
                session = s
            } else {
                SSL_SESSION_free(s)
            }
        }
        SSL_clear(ssl)
        established[i] = false
        ps_ssl_forget_client_cert_request(ssl)
        _ = ps_bio_reset(readBIOs[i])
        ps_bio_set_mem_eof_return(readBIOs[i], -1)
        _ = ps_bio_reset(writeBIOs[i])
        SSL_set_connect_state(ssl)
        if let name = context.serverName { _ = ps_ssl_set_sni(ssl, name) }
        // SSL_clear keeps the last session on the object: without --tls-resume every handshake
        // must be a full one, so it is dropped.
        if context.config.resume, let session { SSL_set_session(ssl, session) } else { SSL_set_session(ssl, nil) }
        ERR_clear_error()
    }

    /// Drives the handshake as far as the ciphertext fed so far allows.
    public func handshake(_ i: Int) -> TLSStep {
        let r = SSL_do_handshake(ssls[i])
        if r == 1 {
            established[i] = true
            return .done(0)
        }
        return step(i, r)
    }

    /// Encrypts plaintext; the records are then in `pendingOutput`. All of it is taken (the write
    /// BIO grows), so a write never waits for the socket.
    public func write(_ i: Int, _ bytes: UnsafeRawPointer, _ length: Int) -> TLSStep {
        let r = SSL_write(ssls[i], bytes, Int32(length))
        return r > 0 ? .done(Int(r)) : step(i, r)
    }

    /// Decrypts what has been fed into `buffer`; `.wantRead` when a whole record is not there yet.
    public func read(_ i: Int, into buffer: UnsafeMutableRawPointer, capacity: Int) -> TLSStep {
        let r = SSL_read(ssls[i], buffer, Int32(capacity))
        return r > 0 ? .done(Int(r)) : step(i, r)
    }

    private func step(_ i: Int, _ r: Int32) -> TLSStep {
        switch SSL_get_error(ssls[i], r) {
        case PS_SSL_ERROR_WANT_READ, PS_SSL_ERROR_WANT_WRITE: return .wantRead
        case PS_SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return .closed
        case PS_SSL_ERROR_SYSCALL where established[i]:
            // End of stream without close_notify after the handshake: many servers close that way.
            ERR_clear_error()
            return .closed
        case PS_SSL_ERROR_SSL where established[i] && Self.isUnexpectedEOF(ERR_peek_error()):
            // The same, as OpenSSL 3 reports it (SSL_R_UNEXPECTED_EOF_WHILE_READING): a close, for
            // the plain path to judge (an answer read to its end, or cut short).
            ERR_clear_error()
            return .closed
        default: return .failed
        }
    }

    private static func isUnexpectedEOF(_ e: UInt) -> Bool {
        e != 0 && ps_err_lib(e) == PS_ERR_LIB_SSL && ps_err_reason(e) == PS_SSL_R_UNEXPECTED_EOF_WHILE_READING
    }

    /// Whether the server asked slot `i` for a client certificate in this connection's handshake
    /// (noted by the client-certificate callback; portstorm sends none).
    public func clientCertificateRequested(_ i: Int) -> Bool { ps_ssl_client_cert_requested(ssls[i]) == 1 }

    /// Ciphertext waiting to be sent, in bytes.
    public func pendingOutput(_ i: Int) -> Int { ps_bio_pending(writeBIOs[i]) }

    /// Moves up to `capacity` bytes of ciphertext to send into `buffer`.
    public func takeOutput(_ i: Int, into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        max(0, Int(BIO_read(writeBIOs[i], buffer, Int32(capacity))))
    }

    /// Ciphertext received from the server.
    public func feed(_ i: Int, _ bytes: UnsafeRawPointer, _ length: Int) {
        _ = BIO_write(readBIOs[i], bytes, Int32(length))
    }

    /// The server closed its side: OpenSSL then sees the end of the stream.
    public func feedEndOfStream(_ i: Int) { ps_bio_set_mem_eof_return(readBIOs[i], 0) }

    /// Whether the completed handshake resumed a session.
    public func resumed(_ i: Int) -> Bool { SSL_session_reused(ssls[i]) == 1 }

    /// The negotiated version (SSL_version: 0x0303 TLS 1.2, 0x0304 TLS 1.3).
    public func version(_ i: Int) -> Int32 { SSL_version(ssls[i]) }

    /// The negotiated version's name ("TLSv1.3"), a static string of OpenSSL's.
    public func versionName(_ i: Int) -> UnsafePointer<CChar> { SSL_get_version(ssls[i]) }

    /// Why slot `i` failed, read from its verify result and OpenSSL's error queue (which is then
    /// empty). Allocates: called once per failed attempt.
    public func failure(_ i: Int) -> TLSFailure {
        defer { ERR_clear_error() }
        return TLSFailure.classify(ssl: ssls[i], context: context, afterHandshake: established[i],
                                   clientCertificateRequested: clientCertificateRequested(i))
    }
}
