#ifndef PORTSTORM_COPENSSL_SHIM_H
#define PORTSTORM_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/evp.h>

// OpenSSL's function-like macros (SSL_set_tlsext_host_name, SSL_CTX_set_min_proto_version,
// BIO_pending, ...) cannot be imported by Swift: each is a small inline function here.
static inline long ps_ssl_set_sni(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
static inline int ps_ctx_set_min_proto(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_min_proto_version(ctx, v); }
static inline int ps_ctx_set_max_proto(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_max_proto_version(ctx, v); }
static inline size_t ps_bio_pending(BIO *b) { return BIO_ctrl_pending(b); }
static inline int ps_bio_reset(BIO *b) { return (int)BIO_reset(b); }
static inline long ps_ctx_set_session_cache_client(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
}
static inline void ps_bio_set_mem_eof_return(BIO *b, int v) { BIO_set_mem_eof_return(b, v); }
static inline int ps_ssl_get_peer_tmp_key_none(void) { return 0; }

// Whether the server asked for a client certificate (a CertificateRequest, TLS 1.2 or 1.3):
// OpenSSL calls the client-certificate callback then; it notes the request in the SSL object's
// app data (ex_data index 0, SSL_set_app_data's slot) and sends no certificate (returns 0).
static int ps_client_cert_requested_cb(SSL *ssl, X509 **x509, EVP_PKEY **pkey) {
    (void)x509; (void)pkey;
    SSL_set_ex_data(ssl, 0, (void *)1);
    return 0;
}
static inline void ps_ctx_note_client_cert_requests(SSL_CTX *ctx) { SSL_CTX_set_client_cert_cb(ctx, ps_client_cert_requested_cb); }
static inline int ps_ssl_client_cert_requested(const SSL *ssl) { return SSL_get_ex_data(ssl, 0) != NULL; }
static inline void ps_ssl_forget_client_cert_request(SSL *ssl) { SSL_set_ex_data(ssl, 0, NULL); }

static const int PS_TLS1_2_VERSION = TLS1_2_VERSION;
static const int PS_TLS1_3_VERSION = TLS1_3_VERSION;
static const int PS_SSL_ERROR_WANT_READ = SSL_ERROR_WANT_READ;
static const int PS_SSL_ERROR_WANT_WRITE = SSL_ERROR_WANT_WRITE;
static const int PS_SSL_ERROR_ZERO_RETURN = SSL_ERROR_ZERO_RETURN;
static const int PS_SSL_ERROR_SSL = SSL_ERROR_SSL;
static const int PS_SSL_ERROR_SYSCALL = SSL_ERROR_SYSCALL;
static const int PS_SSL_SENT_SHUTDOWN = SSL_SENT_SHUTDOWN;
static const int PS_SSL_RECEIVED_SHUTDOWN = SSL_RECEIVED_SHUTDOWN;
static const int PS_SSL_VERIFY_PEER = SSL_VERIFY_PEER;
static const int PS_SSL_VERIFY_NONE = SSL_VERIFY_NONE;
static const unsigned long PS_SSL_OP_NO_TICKET = SSL_OP_NO_TICKET;
static const unsigned long PS_SSL_MODE_RELEASE_BUFFERS = SSL_MODE_RELEASE_BUFFERS;

// Verify results (X509_V_ERR_*) the classification names.
static const long PS_X509_V_OK = X509_V_OK;
static const long PS_X509_V_ERR_CERT_HAS_EXPIRED = X509_V_ERR_CERT_HAS_EXPIRED;
static const long PS_X509_V_ERR_CERT_NOT_YET_VALID = X509_V_ERR_CERT_NOT_YET_VALID;
static const long PS_X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
static const long PS_X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN = X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
static const long PS_X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
static const long PS_X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
static const long PS_X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE = X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
static const long PS_X509_V_ERR_HOSTNAME_MISMATCH = X509_V_ERR_HOSTNAME_MISMATCH;
static const long PS_X509_V_ERR_IP_ADDRESS_MISMATCH = X509_V_ERR_IP_ADDRESS_MISMATCH;

// ERR_GET_LIB / ERR_GET_REASON are macros (inline functions in 3.0, but keep one seam).
static inline int ps_err_lib(unsigned long e) { return ERR_GET_LIB(e); }
static inline int ps_err_reason(unsigned long e) { return ERR_GET_REASON(e); }
static const int PS_ERR_LIB_SSL = ERR_LIB_SSL;
static const int PS_SSL_R_UNEXPECTED_EOF_WHILE_READING = SSL_R_UNEXPECTED_EOF_WHILE_READING;
static const int PS_SSL_R_WRONG_VERSION_NUMBER = SSL_R_WRONG_VERSION_NUMBER;
static const int PS_SSL_R_CERTIFICATE_VERIFY_FAILED = SSL_R_CERTIFICATE_VERIFY_FAILED;
static const int PS_SSL_R_PACKET_LENGTH_TOO_LONG = SSL_R_PACKET_LENGTH_TOO_LONG;
// Alerts received from the peer show as reasons SSL_AD_REASON_OFFSET + alert number.
static const int PS_SSL_AD_REASON_OFFSET = SSL_AD_REASON_OFFSET;


// The leaf certificate the server sent, also when verification failed (the session's peer is
// set only after a successful verify; the chain is kept either way). Not owned by the caller.
static inline X509 *ps_peer_leaf(const SSL *ssl) {
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    if (chain == NULL || sk_X509_num(chain) < 1) return NULL;
    return sk_X509_value(chain, 0);
}

// The certificate's subjectAltName as OpenSSL prints it ("DNS:localhost, IP Address:127.0.0.1"),
// or its subject when it has none; written to out (NUL-terminated). Returns the length.
static inline int ps_cert_names(X509 *cert, char *out, int cap) {
    if (cert == NULL || cap < 1) return 0;
    out[0] = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL) return 0;
    int idx = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
    if (idx >= 0) {
        X509V3_EXT_print(b, X509_get_ext(cert, idx), 0, 0);
    } else {
        X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    }
    int n = BIO_read(b, out, cap - 1);
    if (n < 0) n = 0;
    out[n] = 0;
    BIO_free(b);
    return n;
}

// notBefore (which = 0) or notAfter (1) as OpenSSL prints it ("Jan  1 00:00:00 2020 GMT").
static inline int ps_cert_time(X509 *cert, int which, char *out, int cap) {
    if (cert == NULL || cap < 1) return 0;
    out[0] = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL) return 0;
    ASN1_TIME_print(b, which == 0 ? X509_get0_notBefore(cert) : X509_get0_notAfter(cert));
    int n = BIO_read(b, out, cap - 1);
    if (n < 0) n = 0;
    out[n] = 0;
    BIO_free(b);
    return n;
}

// The issuer's one-line name (for "issued by X, which is not trusted").
static inline int ps_cert_issuer(X509 *cert, char *out, int cap) {
    if (cert == NULL || cap < 1) return 0;
    out[0] = 0;
    X509_NAME_oneline(X509_get_issuer_name(cert), out, cap);
    return (int)strlen(out);
}

// 1 when the certificate's issuer is its subject (self-signed).
static inline int ps_cert_self_issued(X509 *cert) {
    return cert != NULL && X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
}

static const int PS_SSL_R_HTTP_REQUEST = SSL_R_HTTP_REQUEST;

// A self-signed ECDSA P-256 certificate for `cn`, with subjectAltName `san` (as in
// "DNS:localhost,IP:127.0.0.1"), valid from an hour ago for `days` days, installed in `ctx` with
// its key. Its PEM is written to pem_out (NUL-terminated). Returns the PEM's length, or -1.
static inline int ps_ctx_use_self_signed(SSL_CTX *ctx, const char *cn, const char *san, int days,
                                         char *pem_out, int cap) {
    int ok = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    BIO *b = BIO_new(BIO_s_mem());
    if (key == NULL || cert == NULL || b == NULL) goto done;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)(time(NULL) & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (ext == NULL) goto done;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (X509_sign(cert, key, EVP_sha256()) <= 0) goto done;
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) goto done;
    if (PEM_write_bio_X509(b, cert) != 1) goto done;
    int n = BIO_read(b, pem_out, cap - 1);
    if (n <= 0) goto done;
    pem_out[n] = 0;
    ok = n;
done:
    if (b) BIO_free(b);
    if (cert) X509_free(cert);
    if (key) EVP_PKEY_free(key);
    return ok;
}

#endif
