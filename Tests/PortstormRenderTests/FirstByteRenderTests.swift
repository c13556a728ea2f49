import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing

/// Time to first byte beside the connect latency: the summary, the Markdown report, the JSON summary.
@Suite struct FirstByteRenderTests {
    /// An HTTP run whose answers took 1, 2, ... 9 ms to their first byte.
    static func answered(_ latenciesUs: [UInt64]) -> RunRecord {
        var r = sampleRecord()
        r.config.wireProtocol = .http
        var h = LatencyHistogram()
        for us in latenciesUs { h.record(micros: us) }
        r.latency.setFirstByte(h)
        return r
    }

    @Test func theSummaryAndTheReportShowIt() {
        let r = Self.answered((1...9).map { $0 * 1_000 })
        let line = SummaryText.render(r).split(separator: "\n").first { $0.contains("first byte") }
        #expect(line?.contains("p50 5.00ms") == true && line?.contains("(9 answers)") == true, "\(line ?? "none")")
        let md = ReportMarkdown.render(r, RunAnalysis.analyze(r))
        #expect(md.contains("## Time to first byte") && md.contains("| 9 |"), "\(md)")

        let silent = Self.answered([])
        #expect(SummaryText.render(silent).contains("first byte       no answer arrived"))
        #expect(ReportMarkdown.render(silent, RunAnalysis.analyze(silent)).contains("No answer arrived."))
        #expect(!SummaryText.render(sampleRecord()).contains("first byte"), "a run that reads no answer has no such line")
    }

    @Test func theJSONSummaryHasIt() throws {
        let r = Self.answered([500, 700, 30_000])
        let json = try #require(try JSONSerialization.jsonObject(with: try SummaryJSON(r, findings: []).data()) as? [String: Any])
        let f = try #require(json["firstByteLatency"] as? [String: Any], "\(json.keys.sorted())")
        #expect(f["count"] as? Int == 3 && (f["maxMs"] as? Double ?? 0) >= 29.9)
    }
}
