import PortstormAnalysis
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing

/// A --close server run that began while 900 TIME_WAIT sockets of an earlier run held the ports:
/// they fade out, and this run adds none. The report must not draw or count them as its own.
func heldBeforeRecord() -> RunRecord {
    var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: 4)
    config.close = .server
    var r = literalRecord((0..<4).map { t in LiteralSecond(ok: 50, portsInUse: 900 - 200 * t, timeWait: 900 - 200 * t) }, config: config)
    for i in r.timeline.indices {
        let n = r.timeline[i].kernel!.census!.tuples[0].portsInUse
        r.timeline[i].kernel!.census!.tuples[0].heldBefore = n
    }
    var start = r.timeline[0].kernel!.census!
    start.atMs = 0
    start.trigger = "start"
    start.tuples[0].portsInUse = 985
    start.tuples[0].states = ["TIME_WAIT": 985]
    start.tuples[0].statesInRange = ["TIME_WAIT": 985]
    r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 200, "PassiveOpens": 200, "TW": 200, "TWKilled": 0], serverIsLocal: true,
                                    startCensus: start)
    return r
}

@Suite struct BeforeRunRenderTests {
    @Test func socketsFromBeforeAreSeparatedInTablesAndCharts() throws {
        let r = heldBeforeRecord()
        let a = RunAnalysis.analyze(r)
        #expect(ReportConsistency.problems(record: r, findings: a.findings).isEmpty)
        let tuple = try #require(a.tuples.first)
        #expect(tuple.portsInUseAtStart == 985 && tuple.peakPortsMadeByRun == 0)
        let md = ReportMarkdown.render(r, a)
        #expect(md.contains("| 127.0.0.1 | 127.0.0.1:8080 | 1,000 | 985 | 900 | 0 | 90.0% | 900 |"), "\(md)")
        let html = ReportHTML.render(r, a)
        #expect(html.contains("of which already in use before the run (985 at the start)"))
        let cap = try #require(a.findings.first { $0.topic == "capacity" })
        #expect(cap.evidence.contains("peak occupancy of a tuple: 90.0%; 98.5% of the range was already in use before the run; the censuses saw at most 0 ports (0.0%) held by this run's own sockets"))
        #expect(a.findings.contains { $0.topic == "before-run" && $0.title.hasPrefix("985 ports toward 127.0.0.1:8080 were already in use") })
        let csv = TimelineCSV.render(r).split(separator: "\n")
        #expect(csv[1].hasSuffix(",900"))
    }

    @Test func markdownSetsTheCountsSideBySide() {
        let r = heldBeforeRecord()
        let md = ReportMarkdown.render(r, RunAnalysis.analyze(r))
        #expect(md.contains("| attempts that sent a SYN | 200 | ActiveOpens +200 |"))
        #expect(md.contains("| connected (client's side) | 200 | PassiveOpens +200 (local server) |"))
        #expect(md.contains("| TIME_WAIT entered | - | TW + TWKilled +200 |"))
        #expect(!ReportMarkdown.render(exhaustionRecord(), RunAnalysis.analyze(exhaustionRecord())).contains("the kernel's"), "no witness, no section")
    }

    @Test func htmlSetsTheCountsSideBySideToo() {
        let r = heldBeforeRecord()
        let html = ReportHTML.render(r, RunAnalysis.analyze(r))
        #expect(html.contains("<tr><td>attempts that sent a SYN</td><td class=\"n\">200</td><td class=\"n\">ActiveOpens +200</td></tr>"))
        #expect(!ReportHTML.render(exhaustionRecord(), RunAnalysis.analyze(exhaustionRecord())).contains("the kernel's</h2>"), "no witness, no section")
    }
}
