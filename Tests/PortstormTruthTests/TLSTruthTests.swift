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
