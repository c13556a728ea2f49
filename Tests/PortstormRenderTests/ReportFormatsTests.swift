import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing

/// An exhaustion run in literal form: 1000 ports fill over 5 s of TIME_WAIT, then eaddrnotavail.
func exhaustionRecord() -> RunRecord {
    let seconds = (0..<8).map { t -> LiteralSecond in
        let used = min(1000, 200 * (t + 1))
        let fails: UInt64 = t >= 5 ? 150 : 0
        return LiteralSecond(ok: fails > 0 ? 50 : 200, failures: fails > 0 ? ["eaddrnotavail": fails] : [:], portsInUse: used,
                             timeWait: max(0, used - 20), counters: ["ActiveOpens": 200])
    }
    return literalRecord(seconds, config: RunConfig(target: "127.0.0.1:8080", rate: 200, concurrency: 500, durationSeconds: 8),
                         latenciesUs: [120, 150, 180, 240, 300, 900, 1500])
}

@Suite struct ReportFormatsTests {
    @Test(arguments: ReportFormat.allCases)
    func everyFormatsLayoutIsPinned(format: ReportFormat) throws {
        let ext = ["text": "txt", "markdown": "md", "html": "html", "csv": "csv", "json": "json"][format.rawValue]!
        try assertGolden(format.render(exhaustionRecord()), "report-exhaustion.\(ext)")
    }

    @Test func csvHasOneRowPerSecondAndAColumnPerFailure() {
        let lines = TimelineCSV.render(exhaustionRecord()).split(separator: "\n")
        #expect(lines.count == 9)
        #expect(lines[0].hasPrefix("t,attempts,ok,eaddrnotavail,in_flight"))
        #expect(lines[6].hasPrefix("5,200,50,150,"))
        #expect(lines[6].hasSuffix(",1000,1000,1.0000,"), "no start census: ports_held_before is empty")
    }

    @Test func htmlIsSelfContained() {
        let html = ReportFormat.html.render(exhaustionRecord())
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 5, "five charts")
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"))
        #expect(html.contains("the client ran out of ephemeral ports"))
    }

    @Test func jsonFindingsDecode() throws {
        let data = Data(ReportFormat.json.render(exhaustionRecord()).utf8)
        let a = try JSONDecoder().decode(Analysis.self, from: data)
        #expect(a.findings.first?.topic == "port-exhaustion")
    }

    @Test func formatFromPath() {
        #expect(ReportFormat.forPath("r.HTML") == .html && ReportFormat.forPath("x.md") == .markdown)
        #expect(ReportFormat.forPath("t.csv") == .csv && ReportFormat.forPath("f.json") == .json && ReportFormat.forPath("out") == .text)
    }
}
