import Foundation
import PortstormAnalysis
import PortstormRecord
@testable import PortstormRender
import PortstormTestSupport
import Testing

/// A plan of four steps that runs out of ports at the third (400/s for 2 s from 1000 ports).
func portsPlan() -> PlanRecord {
    func step(_ rate: Double, failed: UInt64 = 0, p99: UInt64 = 300, used: Int) -> PlanStep {
        let seconds = (0..<2).map { _ in
            LiteralSecond(ok: UInt64(rate) - failed / 2, failures: failed > 0 ? ["eaddrnotavail": failed / 2] : [:], portsInUse: used, timeWait: used)
        }
        var r = literalRecord(seconds, config: RunConfig(target: "127.0.0.1:8080", rate: rate, durationSeconds: 2),
                              latenciesUs: Array(repeating: p99, count: 100))
        r.totals.achievedRate = rate
        return PlanStep(r)
    }
    let steps = [step(100, used: 200), step(200, p99: 350, used: 600), step(400, failed: 200, p99: 900, used: 1000)]
    let system = literalRecord([]).system
    let plan = CapacityPlan.make(steps: steps, rule: KneeRule(), targetRate: 1000, system: system,
                                 config: RunConfig(target: "127.0.0.1:8080", durationSeconds: 2), sources: 1)
    return PlanRecord(target: "127.0.0.1:8080", used: "127.0.0.1:8080", system: system, plan: plan)
}

@Suite struct PlanReportTests {
    /// A TLS plan's steps carry their handshakes: every table format shows them, a plain plan's
    /// tables keep their columns (pinned by the golden files above).
    @Test func aTLSPlansHandshakesAreInEveryTable() throws {
        var p = portsPlan()
        for i in p.plan.steps.indices {
            p.plan.steps[i].handshakes = p.plan.steps[i].ok
            p.plan.steps[i].resumed = p.plan.steps[i].ok - 1
            p.plan.steps[i].handshakeP99Us = 4_200
        }
        let md = ReportFormat.markdown.render(p)
        #expect(md.contains("| TLS handshakes | resumed | handshake p99 |") && md.contains("| 400 | 399 | 4.20ms |"), "\(md)")
        let html = ReportFormat.html.render(p)
        #expect(html.contains("<th class=\"n\">TLS handshakes</th>") && html.contains("<td class=\"n\">4.20ms</td>"), "\(html)")
        let csv = ReportFormat.csv.render(p).split(separator: "\n")
        #expect(csv.first?.hasSuffix(",tls_handshakes,tls_resumed,handshake_p99_us") == true && csv[1].hasSuffix(",200,199,4200"), "\(csv)")
        #expect(ReportFormat.text.render(p).contains("tls 200 handshakes (199 resumed) p99 4.20ms"))
    }

    @Test(arguments: [ReportFormat.html, .markdown, .text, .csv])
    func aPlanRecordsLayoutIsPinned(format: ReportFormat) throws {
        let ext = ["text": "txt", "markdown": "md", "html": "html", "csv": "csv"][format.rawValue]!
        try assertGolden(format.render(portsPlan()), "plan-ports.\(ext)")
    }

    @Test func theHTMLPlanChartsEachStepAndMarksTheKnee() throws {
        let p = portsPlan()
        #expect(p.plan.kneeStep == 2 && p.plan.limit == "ports")
        let html = ReportFormat.html.render(p)
        let svgs = charts(html)
        #expect(svgs.count == 3, "rates, failures, p99")
        for svg in svgs {
            #expect(svg.contains(">knee</text>"), "each chart marks the knee")
            #expect(tickLabels(svg).x == ["100", "200", "400"], "steps labelled with the rate asked: \(tickLabels(svg).x)")
        }
        // Asked, achieved attempts and successful: three series with a point per step.
        #expect(svgs[0].components(separatedBy: "<circle ").count - 1 == 6, "dots for achieved and successful at each of 3 steps")
        // 200 of 400*2 attempts failed: 25% -> the bar of step 3, over the 1% rule line.
        #expect(svgs[1].contains("400/s: 25.00% failed (mostly eaddrnotavail)"))
        #expect(html.contains("<tr class=\"knee\"><td class=\"n\">3 (knee)</td>"))
        #expect(html.contains("highest sustainable rate: 200 new connections/s"))
        #expect(html.contains("limit hit first: the client's ephemeral ports"))
        #expect(!html.contains("<script") && !html.contains("src=\"http"))
    }

    @Test func aPlanRecordRoundTripsThroughJSON() throws {
        let json = ReportFormat.json.render(portsPlan())
        #expect(PlanRecord.schema(of: Data(json.utf8)) == "portstorm.plan/1")
        let back = try PlanRecord.load(from: Data(json.utf8))
        #expect(back.plan.steps == portsPlan().plan.steps && back.plan.kneeStep == 2)
    }
}
