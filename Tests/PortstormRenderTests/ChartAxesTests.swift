import Foundation
import PortstormAnalysis
import PortstormRecord
@testable import PortstormRender
import PortstormTestSupport
import Testing

/// The tick labels of a chart's x-axis (the row under the plot) and y-axis (left of it), in order.
func tickLabels(_ svg: String) -> (x: [String], y: [String]) {
    var x: [String] = [], y: [String] = []
    for part in svg.components(separatedBy: "<text ").dropFirst() where part.contains("class=\"tick\"") {
        guard let open = part.firstIndex(of: ">"), let close = part.range(of: "</text>") else { continue }
        let label = String(part[part.index(after: open)..<close.lowerBound])
        if part.contains("text-anchor=\"end\" class=\"tick\"") && !part.contains("y=\"\(String(format: "%.1f", SVGChart(x: 0...1, y: 0...1).xTickBaseline))\"") { y.append(label) } else { x.append(label) }
    }
    return (x, y)
}

/// The charts of an HTML report, one SVG text each.
func charts(_ html: String) -> [String] {
    html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
}

@Suite struct ChartAxesTests {
    /// A run of 0.6 s: one timeline second, a census at 400 ms.
    static func subSecondRecord() -> RunRecord {
        var r = literalRecord([LiteralSecond(ok: 240, portsInUse: 240, timeWait: 200)], config: RunConfig(target: "127.0.0.1:8080", rate: 400, durationSeconds: 0.6))
        r.elapsedSeconds = 0.6
        return r
    }

    @Test func aSubSecondRunsTicksAreTenthsNotRepeatedZeros() throws {
        let html = ReportFormat.html.render(Self.subSecondRecord())
        let outcomes = try #require(charts(html).first)
        let x = tickLabels(outcomes).x
        #expect(x == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], "\(x)")
        for chart in charts(html) {
            let t = tickLabels(chart)
            #expect(Set(t.x).count == t.x.count && Set(t.y).count == t.y.count, "repeated tick labels: \(t)")
        }
    }

    @Test func countAxesTickInWholeNumbers() {
        // One connect per bin: the histogram's y-axis read 0 0 0 0 0 1 before.
        let r = literalRecord([LiteralSecond(ok: 3)], latenciesUs: [100, 1000, 10_000])
        let hist = charts(ReportFormat.html.render(r)).last!
        #expect(tickLabels(hist).y == ["0", "1", "2"], "\(tickLabels(hist).y)")
        #expect(SVGChart(x: 0...1, y: 0...1, wholeY: true).ticks(0, 1, log: false, whole: true).values == [0, 1])
    }

    @Test func theTallestBarHasHeadroom() {
        for peak in [1.0, 7, 200, 1000, 28_232, 1e9] {
            let c = SVGChart(x: 0...1, y: 0...peak, wholeY: true, headroom: true)
            #expect(c.yMax >= peak * 1.05 && c.yMax <= peak * 2.5, "peak \(peak): top \(c.yMax)")
            #expect(c.py(peak) >= c.top + 0.04 * (c.height - c.top - c.bottom) - 1e-9, "peak \(peak) touches the frame")
        }
        #expect(SVGChart(x: 0...1, y: 0...200).yMax == 200, "no headroom unless asked")
    }

    /// A label centred on a tick at the right edge ran past the frame: the end ticks are anchored inward.
    @Test func endLabelsStayInsideTheFrame() {
        let c = SVGChart(x: 100...10_000, y: 0...1, logX: true)
        let svg = c.svg(xLabel: "connect latency", yLabel: "connects", xFormat: SVGChart.micros(_:step:))
        #expect(svg.contains("text-anchor=\"end\" class=\"tick\">10ms</text>"), "the rightmost tick ends at its tick")
        #expect(svg.contains("text-anchor=\"start\" class=\"tick\">100us</text>"))
        #expect(!svg.contains("rotate("), "the y title is level above the plot")
    }

    @Test func theHeatmapIsLabelledInPortNumbers() throws {
        let html = ReportFormat.html.render(exhaustionRecord())
        let heat = try #require(charts(html).first { $0.contains("local port") })
        #expect(!html.contains("port slice"))
        let ports = tickLabels(heat).y.compactMap { Int($0) }
        #expect(ports == [40000, 40200, 40400, 40600, 40800, 41000], "\(tickLabels(heat).y)")
        // Each slice's tooltip names its ports: 1000 ports in 64 slices, the first holds 40000-40015.
        #expect(heat.contains("ports 40000-40015, 16 in use"))
        #expect(heat.contains("ports 40985-40999"), "the last slice ends at the range's last port")
    }

    @Test func tickNumbersUseTheDecimalsTheirStepNeeds() {
        #expect(SVGChart.number(0.4, step: 0.2) == "0.4" && SVGChart.number(0.05, step: 0.05) == "0.05")
        #expect(SVGChart.number(1000, step: 200) == "1,000" && SVGChart.number(30_000, step: 10_000) == "30k")
        #expect(SVGChart.micros(1000, step: 1) == "1ms" && SVGChart.micros(100, step: 1) == "100us" && SVGChart.micros(1e6, step: 1) == "1s")
    }
}
