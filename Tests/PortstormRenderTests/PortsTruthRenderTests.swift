import PortstormAnalysis
import PortstormRecord
@testable import PortstormRender
import PortstormTestSupport
import Testing

@Suite struct PortsTruthRenderTests {
    // Audit: `plan --close server` said "TIME_WAIT left by a step still holds ports in the next",
    // but that TIME_WAIT is the server's: the client's ports are free at once.
    @Test func thePlansCarryOverSentenceFollowsTheCloseMode() {
        var p = portsPlan().plan
        #expect(p.close == .client)
        #expect(PlanText.carryOver(p).contains("still holds this client's ports in the next"))
        p.close = .server
        let server = PlanText.carryOver(p)
        #expect(server.contains("TIME_WAIT stays on the server and holds none of this client's ports"))
        #expect(!server.contains("still holds"))
        #expect(PlanText.render(p, target: "x:1").contains("holds none of this client's ports"))
        #expect(PlanHTML.render(PlanRecord(target: "x:1", used: "x:1", system: literalRecord([]).system, plan: p))
            .contains("TIME_WAIT stays on the server and holds none of this client"))
        p.close = .rst
        #expect(PlanText.carryOver(p).contains("no step leaves TIME_WAIT"))
    }

    // Audit: the Markdown latency table printed "0us" five times for a run with no connect.
    @Test func noConnectLatencyTableWithoutAConnect() {
        let r = literalRecord([LiteralSecond(ok: 0, failures: ["eaddrnotavail": 100])], latenciesUs: [])
        let md = ReportMarkdown.render(r, RunAnalysis.analyze(r))
        #expect(md.contains("No connection completed: no connect latency to show."))
        #expect(!md.contains("| 0us |"))
    }

    // Audit: the capacity table said "0.1" where the finding said "0.07/s", "0.0" beside "0.00".
    @Test func theCapacityTableAndFindingPrintTheSameRates() throws {
        var config = RunConfig(target: "127.0.0.1:8080", rate: 50, durationSeconds: 2)
        config.localPorts = PortRange(low: 40000, high: 40003)
        let r = literalRecord([LiteralSecond(ok: 0, failures: ["eaddrnotavail": 50], portsInUse: 4, timeWait: 4),
                               LiteralSecond(ok: 0, failures: ["eaddrnotavail": 50], portsInUse: 4, timeWait: 4)],
                              config: config, rangeSize: 4)
        let a = RunAnalysis.analyze(r)
        let md = ReportMarkdown.render(r, a)
        #expect(md.contains("| model: new connections/s without TIME_WAIT reuse | 0.07 |"))
        #expect(md.contains("| achieved successful connections/s | 0 |"))
        #expect(md.contains("| requested | 50 |"))
        let f = try #require(a.findings.first { $0.topic == "capacity" })
        #expect(f.evidence.contains("achieved 0 successful connections/s"))
        #expect(f.evidence.contains("requested 50/s"))
        #expect(f.title.contains("about 0.07/s"))
    }
}
