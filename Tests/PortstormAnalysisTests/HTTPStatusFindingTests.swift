import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

@Suite struct HTTPStatusFindingTests {
    func record(_ statuses: [String: UInt64], failed: UInt64, expect: String? = nil) -> RunRecord {
        var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: 1)
        config.wireProtocol = .http
        config.close = .server
        config.path = "/missing"
        config.expectStatus = expect
        let ok = statuses.values.reduce(0, +) - failed
        var r = literalRecord([LiteralSecond(ok: ok, failures: ["http_status": failed])], config: config)
        r.totals.httpStatuses = statuses
        return r
    }

    @Test func statusesOutsideTheSetAreNamedWithWhatTheyMean() throws {
        let r = record(["200": 10, "404": 30, "503": 10], failed: 40)
        let findings = RunAnalysis.analyze(r).findings
        #expect(ReportConsistency.problems(record: r, findings: findings).isEmpty)
        let f = try #require(findings.first { $0.topic == "http-status" })
        #expect(f.severity == .problem)
        #expect(f.title == "the server answered with HTTP statuses outside the accepted set (200-399): 404 (30), 503 (10)")
        #expect(f.evidence.contains("answers by status: 200 x10, 404 x30, 503 x10"))
        #expect(f.evidence.contains { $0.hasPrefix("4xx: ") } && f.evidence.contains { $0.hasPrefix("5xx: ") })
        #expect(f.advice.contains { $0.hasPrefix("check --path (/missing)") })
        #expect(f.advice.last == "if these statuses are what the server should answer, accept them: --expect-status 200-399,404,503")
    }

    @Test func theAcceptedSetComesFromTheRecord() throws {
        let r = record(["200": 20], failed: 20, expect: "201")
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "http-status" })
        #expect(f.title.hasSuffix("(201): 200 (20)"))
        #expect(f.evidence.contains("accepted statuses: 201 (--expect-status)"))
    }
}
