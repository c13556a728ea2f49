import Foundation

/// Certificates the TLS tests make for themselves in the test's directory: a CA and a leaf for
/// `portstorm.test` and the server's address signed by it (openssl CLI, ECDSA P-256), and an
/// expired leaf from the same CA (Python's `cryptography`: openssl 3.0's x509 command cannot set
/// dates in the past).
struct TLSFiles {
    let caCert: String
    let leafCert: String
    let leafKey: String
    /// nil when Python's cryptography package is not installed.
    let expiredCert: String?
    static let serverName = "portstorm.test"

    static func make(in dir: URL, python: String?) throws -> TLSFiles {
        let d = dir.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        let p = d.path
        try "subjectAltName=DNS:\(serverName),IP:\(TruthNet.serverIP)\n".write(toFile: "\(p)/ext.cnf", atomically: true, encoding: .utf8)
        for args in [
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(p)/ca.key"],
            ["openssl", "req", "-x509", "-new", "-key", "\(p)/ca.key", "-subj", "/CN=portstorm test CA", "-days", "2", "-out", "\(p)/ca.pem"],
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(p)/leaf.key"],
            ["openssl", "req", "-new", "-key", "\(p)/leaf.key", "-subj", "/CN=\(serverName)", "-out", "\(p)/leaf.csr"],
            ["openssl", "x509", "-req", "-in", "\(p)/leaf.csr", "-CA", "\(p)/ca.pem", "-CAkey", "\(p)/ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "\(p)/ext.cnf", "-out", "\(p)/leaf.pem"],
        ] {
            try Command.must(args)
        }
        var expired: String?
        if let python {
            try """
                import datetime, ipaddress, sys
                from cryptography import x509
                from cryptography.hazmat.primitives import hashes, serialization
                from cryptography.x509.oid import NameOID
                d, name, ip = sys.argv[1], sys.argv[2], sys.argv[3]
                ca_key = serialization.load_pem_private_key(open(d + "/ca.key", "rb").read(), None)
                ca = x509.load_pem_x509_certificate(open(d + "/ca.pem", "rb").read())
                key = serialization.load_pem_private_key(open(d + "/leaf.key", "rb").read(), None)
                now = datetime.datetime.now(datetime.timezone.utc)
                cert = (x509.CertificateBuilder()
                        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                        .issuer_name(ca.subject).public_key(key.public_key())
                        .serial_number(x509.random_serial_number())
                        .not_valid_before(now - datetime.timedelta(days=10))
                        .not_valid_after(now - datetime.timedelta(days=1))
                        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
                        .sign(ca_key, hashes.SHA256()))
                open(d + "/expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
                """.write(toFile: "\(p)/expired.py", atomically: true, encoding: .utf8)
            try Command.must([python, "\(p)/expired.py", p, serverName, TruthNet.serverIP])
            expired = "\(p)/expired.pem"
        }
        return TLSFiles(caCert: "\(p)/ca.pem", leafCert: "\(p)/leaf.pem", leafKey: "\(p)/leaf.key", expiredCert: expired)
    }
}

extension TruthNet {
    /// Debian's nginx over TLS, one worker, `keepalive_timeout 0`: on `port` the good certificate
    /// (/ok answers 200), on `port + 1` the expired one (when made), on `port + 2` plain HTTP, on
    /// `port + 3` the good certificate with TLS 1.2 only, on `port + 4` the good certificate and a
    /// client certificate required (`ssl_verify_client on`).
    @discardableResult
    func startTLSNginx(_ nginx: String, files: TLSFiles, port: UInt16) throws -> Server {
        let ip = TruthNet.serverIP
        let expired = files.expiredCert.map { """
              server {
                listen \(ip):\(port + 1) ssl;
                ssl_certificate \($0); ssl_certificate_key \(files.leafKey);
                location / { return 200 "ok\\n"; }
              }
            """ } ?? ""
        return try startNginx(nginx, in: "nginx-tls", listeningOn: port + 3, servers: """
              server {
                listen \(ip):\(port) ssl backlog=4096;
                ssl_certificate \(files.leafCert); ssl_certificate_key \(files.leafKey);
                ssl_protocols TLSv1.2 TLSv1.3;
                location /ok { return 200 "ok\\n"; }
                location / { return 404; }
              }
            \(expired)
              server {
                listen \(ip):\(port + 2);
                location / { return 200 "ok\\n"; }
              }
              server {
                listen \(ip):\(port + 3) ssl;
                ssl_certificate \(files.leafCert); ssl_certificate_key \(files.leafKey);
                ssl_protocols TLSv1.2;
                location / { return 200 "ok\\n"; }
              }
              server {
                listen \(ip):\(port + 4) ssl;
                ssl_certificate \(files.leafCert); ssl_certificate_key \(files.leafKey);
                ssl_protocols TLSv1.2 TLSv1.3;
                ssl_client_certificate \(files.caCert); ssl_verify_client on;
                location / { return 200 "ok\\n"; }
              }
            """)
    }

    /// OpenSSL's own test server (`openssl s_server -www`, one connection at a time) with the good
    /// certificate, requiring a client certificate (`-Verify 1`: a handshake without one fails on
    /// the server's side, in TLS 1.3 after the client's Finished).
    @discardableResult
    func startClientCertificateServer(files: TLSFiles, port: UInt16) throws -> Server {
        try startServer(["openssl", "s_server", "-accept", "\(TruthNet.serverIP):\(port)", "-cert", files.leafCert,
                         "-key", files.leafKey, "-CAfile", files.caCert, "-Verify", "1", "-www"], listeningOn: port)
    }

    /// An HTTPS server in Python's ssl module that reads each request, answers it with 200 (or,
    /// `answering: false`, with nothing) and then closes the socket without a close_notify (no
    /// unwrap), as many servers do.
    @discardableResult
    func startHTTPSWithoutCloseNotify(_ python: String, files: TLSFiles, port: UInt16, answering: Bool = true) throws -> Server {
        let script = dir.appendingPathComponent("https_no_close_notify.py")
        try """
            import socket, ssl, sys
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[3], sys.argv[4])
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((sys.argv[1], int(sys.argv[2])))
            s.listen(64)
            while True:
                c, _ = s.accept()
                try:
                    t = ctx.wrap_socket(c, server_side=True)
                    data = b""
                    while b"\\r\\n\\r\\n" not in data:
                        d = t.recv(4096)
                        if not d:
                            break
                        data += d
                    if sys.argv[5] == "answer":
                        t.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n")
                    t.close()
                    print("closed-without-close-notify", flush=True)
                except Exception as e:
                    print("error", e, flush=True)
                    c.close()
            """.write(to: script, atomically: true, encoding: .utf8)
        return try startServer([python, script.path, TruthNet.serverIP, String(port), files.leafCert, files.leafKey,
                                answering ? "answer" : "silent"], listeningOn: port)
    }

    /// A WebSocket echo server over TLS: `startWebSocketServer` with the leaf certificate and key.
    @discardableResult
    func startSecureWebSocketServer(_ python: String, files: TLSFiles, port: UInt16) throws -> Server {
        try startWebSocketServer(python, port: port, tls: files)
    }
}
