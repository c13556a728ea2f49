import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// Answers with error statuses are named by their codes, with advice per class; a WebSocket-only
/// server answering a plain request is a protocol mismatch with the way out.
@Suite struct HTTPStatusFindingTests {
    func httpRecord(_ failures: [String: UInt64], statuses: [String: UInt64], samples: [String] = [], expect: String? = nil) -> RunRecord {
        var config = RunConfig(target: "127.0.0.1:8080", rate: 100, durationSeconds: 3, wireProtocol: .http)
        config.expectStatus = expect
        var r = literalRecord([LiteralSecond(ok: 60, failures: failures), LiteralSecond(ok: 60, failures: failures)], config: config)
        r.totals.httpStatuses = statuses
        r.totals.mismatchSamples = samples
        return r
    }

    @Test func errorStatusesAreNamedWithTheirCounts() throws {
        let r = httpRecord(["http_status": 40], statuses: ["200": 120, "404": 50, "503": 30])
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "http-status" })
        #expect(f.evidence.contains { $0.contains("50 x 404, 30 x 503") && !$0.contains("x 200") })
        #expect(f.advice.contains { $0.hasPrefix("404/410") })
        #expect(f.advice.contains { $0.hasPrefix("5xx") })
        #expect(f.advice.last?.contains("--expect-status") == true)
        #expect(ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings).isEmpty)
    }

    @Test func acceptedCodesAreNotListedAsErrors() throws {
        let r = httpRecord(["http_status": 30], statuses: ["404": 90, "503": 30], expect: "200-299,404")
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "http-status" })
        #expect(f.evidence.contains("the server answered, with 30 x 503 (accepted: 200-299,404)"))
    }

    @Test func aWebSocketOnlyServerIsAProtocolMismatchWithTheWayOut() throws {
        let r = httpRecord(["protocol_mismatch": 20], statuses: ["426": 40],
                           samples: ["HTTP/1.1 426 (the server asks for a WebSocket upgrade)"])
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "protocol" })
        #expect(f.evidence.contains { $0.contains("WebSocket-only service") })
        #expect(f.advice.first?.contains("--protocol ws") == true)
        #expect(f.evidence.contains { $0.contains("HTTP status 426") })
    }

    /// 200 under --expect-status 201 is outside the set, not an error status.
    @Test func aSuccessOutsideTheSetIsNotCalledAnError() throws {
        let r = httpRecord(["http_status": 60], statuses: ["200": 180], expect: "201")
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "http-status" })
        #expect(f.title == "the server answered with HTTP statuses outside the accepted set (201)")
        #expect(!f.title.contains("error"))
    }

    /// A server that closed without a byte is not "a different protocol": said as what it was, and
    /// over TLS with the handshakes that had completed; a mixed set of samples stays a mismatch.
    @Test func aSilentCloseIsSaidAsSuch() throws {
        var r = httpRecord(["protocol_mismatch": 20], statuses: [:], samples: [Totals.silentClose])
        let plain = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "no-answer" })
        #expect(plain.title == "the server closed connections without answering")
        #expect(plain.evidence.contains("the server closed the connection without sending a byte"), "\(plain.evidence)")
        r.tls = TLSTotals(handshakes: 160)
        let overTLS = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "no-answer" })
        #expect(overTLS.evidence.contains("the server closed the connection without sending a byte after the TLS handshake had completed (160 handshakes)"))
        #expect(ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings).isEmpty)
        let mixed = httpRecord(["protocol_mismatch": 20], statuses: [:], samples: [Totals.silentClose, "SSH-2.0-OpenSSH_9.2"])
        #expect(RunAnalysis.analyze(mixed).findings.contains { $0.title == "client and server speak different protocols" })
    }

    /// The server asked for a client certificate and answered 400: the finding says portstorm sends none.
    @Test func aClientCertificateRequestExplainsA400() throws {
        var r = httpRecord(["http_status": 40], statuses: ["200": 80, "400": 40])
        r.tls = TLSTotals(handshakes: 160, clientCertificateRequests: 160)
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "http-status" })
        #expect(f.evidence.contains { $0.contains("asked for a client certificate in 160 attempts") }, "\(f.evidence)")
        #expect(f.advice.first?.contains("portstorm does not send one") == true, "\(f.advice)")
        r.tls = TLSTotals(handshakes: 160)
        let without = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "http-status" })
        #expect(!(without.evidence + without.advice).contains { $0.contains("client certificate") })
    }
}

/// `--expect TEXT` over raw TCP: an answer without the text is said as such, with its first bytes.
@Suite struct ExpectFindingTests {
    @Test func anAnswerWithoutTheExpectedTextIsNotCalledATimeoutOrAnotherProtocol() throws {
        var config = RunConfig(target: "127.0.0.1:8080", concurrency: 2, durationSeconds: 10, connections: 20)
        config.send = "GET / HTTP/1.0\\r\\n\\r\\n"
        config.expect = "NOPE"
        var r = literalRecord([LiteralSecond(ok: 0, failures: ["protocol_mismatch": 20])], config: config)
        r.totals.mismatchSamples = ["HTTP/1.1 200 OK\\r\\nContent-Type: text/plain"]
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "protocol" })
        #expect(f.title == "the server answered, but not with the expected text")
        #expect(f.evidence.contains { $0.contains("did not contain --expect \"NOPE\"") })
        #expect(f.evidence.contains("the answer began \"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\""))
        #expect(ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings).isEmpty)
    }
}

/// A TLS run whose certificates this side refused: the client ends those connections itself.
@Suite struct RefusedCertificateCapacityTests {
    @Test func theClientsResetIsSaidNotThatItDidNotCloseFirst() throws {
        var config = RunConfig(target: "127.0.0.1:8443", concurrency: 10, durationSeconds: 10, connections: 200, close: .server)
        config.tls = TLSConfig()
        config.wireProtocol = .http
        var r = literalRecord([LiteralSecond(ok: 0, failures: ["tls_cert_untrusted": 200])], config: config)
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 200, "OutRsts": 200, "TW": 0], serverIsLocal: true)
        let cap = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "capacity" })
        #expect(cap.title == "the port range did not limit this run: the client reset its failed TLS connections, which leaves no TIME_WAIT")
        #expect(cap.evidence.contains { $0.contains("OutRsts +200") })
        #expect(!cap.evidence.contains { $0.contains("did not close first") })
        // Without the kernel's count of resets, no reset is claimed.
        r.kernelWitness = nil
        let unseen = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "capacity" })
        #expect(unseen.title == "the port range is not modelled for this run: the client ended its failed TLS connections itself")
    }
}
