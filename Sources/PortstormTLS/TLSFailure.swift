import COpenSSL
import PortstormRecord

/// Why a TLS connection failed: the outcome it counts as and a sentence naming the facts (the
/// alert, the certificate's names and dates), without advice (the analysis gives that).
public struct TLSFailure: Sendable, Equatable {
    public var outcome: Outcome
    public var detail: String

    public init(_ outcome: Outcome, _ detail: String) {
        self.outcome = outcome
        self.detail = detail
    }

    /// Reads the verify result (SSL_get_verify_result), the server's leaf certificate
    /// (SSL_get_peer_cert_chain) and the first error of OpenSSL's queue (ERR_peek_error).
    /// `afterHandshake`: the handshake had completed on this side (in TLS 1.3 the client is done
    /// once its Finished is written, before the server has checked it); `clientCertificateRequested`:
    /// the server sent a CertificateRequest (portstorm answers with no certificate).
    static func classify(ssl: OpaquePointer?, context: TLSContext, afterHandshake: Bool = false,
                         clientCertificateRequested: Bool = false) -> TLSFailure {
        let verify = SSL_get_verify_result(ssl)
        if verify != PS_X509_V_OK && !context.config.insecure && !afterHandshake {
            return certificate(verify, leaf: ps_peer_leaf(ssl), context: context)
        }
        let e = ERR_peek_error()
        let reason = ps_err_reason(e)
        let asked = clientCertificateRequested ? ", which had asked for a client certificate (portstorm sends none)," : ""
        if afterHandshake {
            if e != 0 && ps_err_lib(e) == PS_ERR_LIB_SSL && reason >= PS_SSL_AD_REASON_OFFSET {
                let alert = Int(reason - PS_SSL_AD_REASON_OFFSET)
                return TLSFailure(.tlsFailedAfterHandshake,
                                  "the server\(asked) sent the alert \(TLSAlert.name(alert)) (\(alert)) after this side had finished its handshake")
            }
            return TLSFailure(.tlsFailedAfterHandshake, "after the handshake, OpenSSL refused what the server sent: \(e == 0 ? "no reason given" : reasonText(e))")
        }
        if e != 0 && ps_err_lib(e) == PS_ERR_LIB_SSL {
            if reason >= PS_SSL_AD_REASON_OFFSET {
                let alert = Int(reason - PS_SSL_AD_REASON_OFFSET)
                return TLSFailure(.tlsHandshakeFailed, "the server\(asked) sent the alert \(TLSAlert.name(alert)) (\(alert)) during the handshake")
            }
            if reason == PS_SSL_R_WRONG_VERSION_NUMBER || reason == PS_SSL_R_PACKET_LENGTH_TOO_LONG {
                return TLSFailure(.tlsPlainServer, "the answer is not a TLS record (OpenSSL: \(reasonText(e)))")
            }
            if reason == PS_SSL_R_UNEXPECTED_EOF_WHILE_READING {
                return TLSFailure(.tlsHandshakeFailed, "the server\(asked) closed the connection during the handshake, without an alert")
            }
        }
        if e == 0 {
            return TLSFailure(.tlsHandshakeFailed, "the server\(asked) closed the connection during the handshake, without an alert")
        }
        return TLSFailure(.tlsHandshakeFailed, "OpenSSL: \(reasonText(e))")
    }

    private static func reasonText(_ e: UInt) -> String {
        ERR_reason_error_string(e).map { String(cString: $0) } ?? "error \(e)"
    }

    private static func certificate(_ verify: Int, leaf: OpaquePointer?, context: TLSContext) -> TLSFailure {
        let names = text { ps_cert_names(leaf, $0, $1) }
        let subject = names.isEmpty ? "the server's certificate" : "the certificate for \(names)"
        switch verify {
        case PS_X509_V_ERR_CERT_HAS_EXPIRED:
            return TLSFailure(.tlsCertExpired, "\(subject) expired on \(text { ps_cert_time(leaf, 1, $0, $1) })")
        case PS_X509_V_ERR_CERT_NOT_YET_VALID:
            return TLSFailure(.tlsCertExpired, "\(subject) is not valid before \(text { ps_cert_time(leaf, 0, $0, $1) })")
        case PS_X509_V_ERR_HOSTNAME_MISMATCH, PS_X509_V_ERR_IP_ADDRESS_MISMATCH:
            return TLSFailure(.tlsCertNameMismatch, "\(subject) does not name \(context.checkedName)")
        case PS_X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            return TLSFailure(.tlsCertUntrusted, "\(subject) is self-signed and not in the trusted store")
        case PS_X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, PS_X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             PS_X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, PS_X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            let issuer = text { ps_cert_issuer(leaf, $0, $1) }
            return TLSFailure(.tlsCertUntrusted, "\(subject) is issued by \(issuer.isEmpty ? "a CA" : issuer), which is not in the trusted store")
        default:
            let why = X509_verify_cert_error_string(verify).map { String(cString: $0) } ?? "error \(verify)"
            return TLSFailure(.tlsCertUntrusted, "\(subject) failed verification: \(why)")
        }
    }

    private static func text(_ fill: (UnsafeMutablePointer<CChar>, Int32) -> Int32) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buf in
            let n = fill(buf.baseAddress!, 512)
            return n > 0 ? String(cString: buf.baseAddress!) : ""
        }
    }
}

/// TLS alert names as RFC 8446 (section 6) and RFC 5246 spell them.
public enum TLSAlert {
    public static func name(_ code: Int) -> String {
        switch code {
        case 0: return "close_notify"
        case 10: return "unexpected_message"
        case 20: return "bad_record_mac"
        case 22: return "record_overflow"
        case 40: return "handshake_failure"
        case 42: return "bad_certificate"
        case 43: return "unsupported_certificate"
        case 44: return "certificate_revoked"
        case 45: return "certificate_expired"
        case 46: return "certificate_unknown"
        case 47: return "illegal_parameter"
        case 48: return "unknown_ca"
        case 49: return "access_denied"
        case 50: return "decode_error"
        case 51: return "decrypt_error"
        case 70: return "protocol_version"
        case 71: return "insufficient_security"
        case 80: return "internal_error"
        case 86: return "inappropriate_fallback"
        case 90: return "user_canceled"
        case 109: return "missing_extension"
        case 110: return "unsupported_extension"
        case 112: return "unrecognized_name"
        case 116: return "certificate_required"
        case 120: return "no_application_protocol"
        default: return "alert_\(code)"
        }
    }
}

/// The first bytes of a TLS record: content type 20-23 (change_cipher_spec, alert, handshake,
/// application_data) then major version 3. Enough to tell a TLS peer from a plain one.
public enum TLSRecordSniff {
    public static func looksLikeTLS(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first else { return false }
        guard (20...23).contains(first) else { return false }
        return bytes.count < 2 || bytes[1] == 3
    }
}
