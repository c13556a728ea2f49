import Foundation
import PortstormAnalysis
import Testing

/// TLS against real servers with certificates the test makes: every handshake outcome must be
/// the one the server's certificate or protocol calls for, named in the report, and every attempt
/// counted as connected must be one the server's kernel accepted.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason),
       .enabled(if: TruthEnvironment.openssl, "the openssl command is not installed"))
struct TLSTruthTests {
    /// Every attempt of these runs connected before its TLS outcome: the server accepted each one.
    func expectAllAccepted(_ run: TruthRun, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Int64(run.attempted) == run.server["PassiveOpens"],
                "\(run.attempted) attempts, the server's kernel PassiveOpens +\(run.server["PassiveOpens"])", sourceLocation: sourceLocation)
    }

    func tlsTotals(_ run: TruthRun) -> [String: Any] { run.json["tls"] as? [String: Any] ?? [:] }

    @Test(.timeLimit(.minutes(2)), .enabled(if: TruthEnvironment.nginxPath != nil, "nginx is not installed (/usr/sbin/nginx)"))
    func nginxOverTLS() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let files = try TLSFiles.make(in: net.dir, python: TruthEnvironment.cryptographyPython)
        try net.startTLSNginx(TruthEnvironment.nginxPath!, files: files, port: 8443)
        let ip = TruthNet.serverIP

        // The CA given: every handshake completes and every answer is nginx's 200.
        let ok = try net.run("https://\(ip):8443/ok", ["--cacert", files.caCert, "-n", "40", "-c", "10"])
        expectTruthful(ok)
        expectAllAccepted(ok)
        #expect(ok.nonZero == ["ok": 40], "\(ok.nonZero)")
        #expect(ok.httpStatuses == ["200": 40], "\(ok.httpStatuses)")
        #expect((tlsTotals(ok)["handshakes"] as? NSNumber)?.intValue == 40, "\(tlsTotals(ok))")
        // Without --tls-resume every handshake is a full one (a reused SSL object must not resume).
        #expect((tlsTotals(ok)["resumed"] as? NSNumber)?.intValue == 0, "\(tlsTotals(ok))")
        #expect(ok.record?.latency.handshake?.count == 40, "latency.handshake: \(String(describing: ok.record?.latency.handshake))")

        // Resumption: after the first handshakes, the session ticket is offered and taken.
        let resumed = try net.run("https://\(ip):8443/ok", ["--cacert", files.caCert, "--tls-resume", "-n", "40", "-c", "4"])
        expectTruthful(resumed)
        #expect(resumed.nonZero == ["ok": 40], "\(resumed.nonZero)")
        let resumedCount = (tlsTotals(resumed)["resumed"] as? NSNumber)?.intValue ?? 0
        #expect(resumedCount >= 30, "only \(resumedCount) of 40 handshakes resumed: \(tlsTotals(resumed))")

        // No CA given: the system's store does not know the test's CA.
        let unknown = try net.run("https://\(ip):8443/ok", ["-n", "20", "-c", "5"])
        expectTruthful(unknown)
        expectAllAccepted(unknown)
        #expect(unknown.nonZero == ["tls_cert_untrusted": 20], "\(unknown.nonZero)")
        #expect(unknown.causes["tls_cert_untrusted"] == "local")
        let untrusted = try #require(mainCause(unknown.findings), "\(unknown.reportText)")
        #expect(TruthRun.text([untrusted]).contains("--cacert") && TruthRun.text([untrusted]).contains("portstorm test ca"),
                "the report does not name the issuer and the fix: \(unknown.reportText)")

        // A name the certificate does not hold: both names said.
        let mismatch = try net.run("https://\(ip):8443/ok", ["--cacert", files.caCert, "--sni", "other.test", "-n", "20", "-c", "5"])
        expectTruthful(mismatch)
        expectAllAccepted(mismatch)
        #expect(mismatch.nonZero == ["tls_cert_name_mismatch": 20], "\(mismatch.nonZero)")
        let names = TruthRun.text([try #require(mainCause(mismatch.findings), "\(mismatch.reportText)")])
        #expect(names.contains("other.test") && names.contains(TLSFiles.serverName), "\(mismatch.reportText)")

        // TLS 1.3 asked of a TLS 1.2-only server: nginx's alert, by its name.
        let version = try net.run("https://\(ip):8446/", ["--cacert", files.caCert, "--tls-min", "1.3", "-n", "20", "-c", "5"])
        expectTruthful(version)
        expectAllAccepted(version)
        #expect(version.nonZero == ["tls_handshake_failed": 20], "\(version.nonZero)")
        #expect(version.findingsText.contains("protocol_version"), "\(version.reportText)")

        // https:// to nginx's plain port: nginx answers the ClientHello with a plain HTTP 400.
        let plain = try net.run("https://\(ip):8445/", ["--cacert", files.caCert, "-n", "20", "-c", "5"])
        expectTruthful(plain)
        expectAllAccepted(plain)
        #expect(plain.nonZero == ["tls_plain_server": 20], "\(plain.nonZero)")
        #expect(plain.mismatchSamples.contains { $0.hasPrefix("HTTP/1.1 400") }, "\(plain.mismatchSamples)")
        #expect(plain.findingsText.contains("plain http") && plain.findingsText.contains("http://"), "\(plain.reportText)")

        // http:// to the TLS port: nginx's "400 The plain HTTP request was sent to HTTPS port".
        let required = try net.run("http://\(ip):8443/ok", ["-n", "20", "-c", "5"])
        expectTruthful(required)
        expectAllAccepted(required)
        #expect(required.nonZero == ["tls_required": 20], "\(required.nonZero)")
        #expect(required.findingsText.contains("https://"), "\(required.reportText)")

        // diagnose says which protocol each port speaks, and how a verified handshake ends.
        let tlsPort = try net.diagnose("http://\(ip):8443/ok", ["--attempts", "1", "--timeout", "1s"])
        #expect(tlsPort.text.contains("speaks tls on this port"), "\(tlsPort.command.stdout)")
        let plainPort = try net.diagnose("https://\(ip):8445/", ["--attempts", "1", "--timeout", "1s"])
        #expect(plainPort.text.contains("does not speak tls") && plainPort.text.contains("use http://"), "\(plainPort.command.stdout)")
        let untrustedPort = try net.diagnose("https://\(ip):8443/ok", ["--attempts", "1", "--timeout", "1s"])
        #expect(untrustedPort.text.contains("tls_cert_untrusted") && untrustedPort.text.contains("--cacert"), "\(untrustedPort.command.stdout)")
    }

    @Test(.timeLimit(.minutes(1)),
          .enabled(if: TruthEnvironment.nginxPath != nil, "nginx is not installed (/usr/sbin/nginx)"),
          .enabled(if: TruthEnvironment.cryptographyPython != nil, "Python's cryptography package is not installed (it makes the expired certificate)"))
    func anExpiredCertificateIsNamed() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let files = try TLSFiles.make(in: net.dir, python: TruthEnvironment.cryptographyPython)
        try net.startTLSNginx(TruthEnvironment.nginxPath!, files: files, port: 8443)
        let run = try net.run("https://\(TruthNet.serverIP):8444/", ["--cacert", files.caCert, "-n", "20", "-c", "5"])
        expectTruthful(run)
        expectAllAccepted(run)
        #expect(run.nonZero == ["tls_cert_expired": 20], "\(run.nonZero)")
        #expect(run.causes["tls_cert_expired"] == "remote")
        #expect(run.findingsText.contains("expired on"), "\(run.reportText)")
    }

    /// The record's `tls.failures` sentences counted under `outcome`.
    func failureSentences(_ run: TruthRun, _ outcome: String) -> [String] {
        let outcomes = tlsTotals(run)["failureOutcomes"] as? [String: String] ?? [:]
        return outcomes.filter { $0.value == outcome }.map(\.key)
    }

    func count(_ run: TruthRun, _ key: String) -> Int? { (tlsTotals(run)[key] as? NSNumber)?.intValue }

    /// A server that wants a client certificate, which portstorm does not send. OpenSSL's s_server
    /// (-Verify 1) rejects with an alert: in TLS 1.3 certificate_required after the client's
    /// Finished, when the client has completed its handshake and sent the request (not a handshake
    /// failure on this side); in TLS 1.2 handshake_failure inside the handshake. nginx with
    /// ssl_verify_client on sends no alert at all: the handshake completes and it answers 400.
    @Test(.timeLimit(.minutes(2)), .enabled(if: TruthEnvironment.nginxPath != nil, "nginx is not installed (/usr/sbin/nginx)"))
    func aServerThatRequiresAClientCertificate() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let files = try TLSFiles.make(in: net.dir, python: nil)
        let ip = TruthNet.serverIP
        let sServer = try net.startClientCertificateServer(files: files, port: 8460)

        // TLS 1.3: every client handshake completed, then the server's alert ended the connection.
        let late = try net.run("https://\(ip):8460/", ["--cacert", files.caCert, "--tls-min", "1.3", "-n", "20", "-c", "2"])
        expectTruthful(late)
        expectAllAccepted(late)
        #expect(late.nonZero == ["tls_failed_after_handshake": 20], "\(late.nonZero)")
        #expect(late.causes["tls_failed_after_handshake"] == "remote")
        #expect(count(late, "handshakes") == 20 && count(late, "clientCertificateRequests") == 20, "\(tlsTotals(late))")
        let lateSentences = failureSentences(late, "tls_failed_after_handshake")
        #expect(lateSentences.count == 1 && lateSentences.allSatisfy {
            $0.contains("certificate_required (116)") && $0.contains("after this side had finished its handshake") && $0.contains("client certificate")
        }, "\(tlsTotals(late))")
        #expect(late.findingsText.contains("rejected the connections after the tls handshake")
                && late.findingsText.contains("portstorm does not send one") && !late.findingsText.contains("handshakes with"),
                "\(late.reportText)")
        // The server's side says why: no certificate came.
        #expect(sServer.errors.contains("peer did not return a certificate"), "s_server: \(sServer.errors.prefix(400))")

        // TLS 1.2: the same server refuses inside the handshake, which is a handshake failure.
        let inside = try net.run("https://\(ip):8460/", ["--cacert", files.caCert, "--tls-max", "1.2", "-n", "20", "-c", "2"])
        expectTruthful(inside)
        expectAllAccepted(inside)
        #expect(inside.nonZero == ["tls_handshake_failed": 20], "\(inside.nonZero)")
        #expect(count(inside, "handshakes") == 0 && count(inside, "clientCertificateRequests") == 20, "\(tlsTotals(inside))")
        #expect(failureSentences(inside, "tls_handshake_failed").allSatisfy {
            $0.contains("handshake_failure (40)") && $0.contains("during the handshake") && $0.contains("client certificate")
        }, "\(tlsTotals(inside))")
        #expect(inside.findingsText.contains("portstorm does not send one"), "\(inside.reportText)")

        // nginx, ssl_verify_client on: handshakes complete in both versions, the answer is 400.
        try net.startTLSNginx(TruthEnvironment.nginxPath!, files: files, port: 8443)
        for version in ["1.3", "1.2"] {
            let run = try net.run("https://\(ip):8447/", ["--cacert", files.caCert, "--tls-min", version, "--tls-max", version, "-n", "20", "-c", "5"])
            expectTruthful(run)
            expectAllAccepted(run)
            #expect(run.nonZero == ["http_status": 20] && run.httpStatuses == ["400": 20], "TLS \(version): \(run.nonZero) \(run.httpStatuses)")
            #expect(count(run, "handshakes") == 20 && count(run, "clientCertificateRequests") == 20
                    && (tlsTotals(run)["versions"] as? [String: Any])?["TLSv\(version)"] != nil, "TLS \(version): \(tlsTotals(run))")
            #expect(run.findingsText.contains("client certificate") && run.findingsText.contains("portstorm does not send one"), "\(run.reportText)")
        }
    }

    /// A server that answers and then closes without a close_notify: the answer is whole, the run
    /// is ok (OpenSSL 3 reports that end of stream as an error; it was counted as a failed handshake).
    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.python != nil, "python3 is not installed"))
    func aCloseWithoutCloseNotifyAfterTheAnswerIsOK() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let files = try TLSFiles.make(in: net.dir, python: nil)
        let server = try net.startHTTPSWithoutCloseNotify(TruthEnvironment.python!, files: files, port: 8470)
        for version in ["1.3", "1.2"] {
            let run = try net.run("https://\(TruthNet.serverIP):8470/", ["--cacert", files.caCert, "--tls-max", version, "--tls-min", version,
                                                                         "--close", "server", "-n", "10", "-c", "2"])
            expectTruthful(run)
            expectAllAccepted(run)
            #expect(run.nonZero == ["ok": 10] && run.httpStatuses == ["200": 10], "TLS \(version): \(run.nonZero) \(tlsTotals(run))")
        }
        #expect(server.output.split(separator: "\n").filter { $0 == "closed-without-close-notify" }.count == 20, "\(server.output.prefix(300))")
    }

    /// A server that completes the handshake, reads the request and closes without a word (as one
    /// that refuses a client after accepting it may): not a failed handshake, not "different
    /// protocols", but a server that closed without answering, after the handshake.
    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.python != nil, "python3 is not installed"))
    func aServerThatClosesAfterTheHandshakeWithoutAWord() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let files = try TLSFiles.make(in: net.dir, python: nil)
        let server = try net.startHTTPSWithoutCloseNotify(TruthEnvironment.python!, files: files, port: 8471, answering: false)
        for version in ["1.3", "1.2"] {
            let run = try net.run("https://\(TruthNet.serverIP):8471/", ["--cacert", files.caCert, "--tls-max", version, "--tls-min", version,
                                                                         "-n", "10", "-c", "2"])
            expectTruthful(run)
            expectAllAccepted(run)
            #expect(run.nonZero == ["protocol_mismatch": 10] && count(run, "handshakes") == 10, "TLS \(version): \(run.nonZero) \(tlsTotals(run))")
            #expect(run.findingsText.contains("the server closed connections without answering")
                    && run.findingsText.contains("after the tls handshake had completed (10 handshakes)")
                    && !run.findingsText.contains("different protocols"), "TLS \(version): \(run.reportText)")
        }
        #expect(server.output.split(separator: "\n").filter { $0 == "closed-without-close-notify" }.count == 20, "\(server.output.prefix(300))")
    }

    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.websocketsPython != nil, "python3 with the websockets package is not installed"))
    func aRealSecureWebSocketServer() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let files = try TLSFiles.make(in: net.dir, python: nil)
        let server = try net.startSecureWebSocketServer(TruthEnvironment.websocketsPython!, files: files, port: 8766)
        let ws = try net.run("wss://\(TruthNet.serverIP):8766/", ["--cacert", files.caCert, "-n", "30", "-c", "5"])
        expectTruthful(ws)
        expectAllAccepted(ws)
        #expect(ws.nonZero == ["ok": 30], "\(ws.nonZero)")
        // Each connection ended with a Close frame through TLS, as the server saw it.
        let closes = server.output.split(separator: "\n")
        #expect(closes.filter { $0 == "close-ok" }.count == 30 && !closes.contains { $0.hasPrefix("close-error") },
                "server side: \(closes.prefix(5).joined(separator: " | ")) (\(closes.count) lines)")

        // Plain ws:// to it: the TLS server refuses the handshake.
        let plain = try net.run("ws://\(TruthNet.serverIP):8766/", ["-n", "10", "-c", "5", "--response-timeout", "2s"])
        expectTruthful(plain)
        #expect(plain.nonZero == ["tls_required": 10] || plain["protocol_mismatch"] == 10, "\(plain.nonZero)")
    }
}
