import Foundation
import PortstormAnalysis
import PortstormRecord

/// A capacity plan (`portstorm plan -o FILE`, read back by `portstorm report`) as one
/// self-contained HTML file: per step, the rate asked against the rate achieved, the failures
/// and the connect p99, with the knee marked. No script, no network.
public enum PlanHTML {
    static let askedColor = "#cfcfcf", attemptsColor = "#1f6fb2", okColor = ReportHTML.okColor, kneeColor = "#c0392b"

    public static func render(_ record: PlanRecord) -> String {
        let p = record.plan
        var h = [ReportHTML.head("portstorm capacity plan: \(record.target)")]
        h.append("<ul class=\"verdict\">" + PlanText.conclusions(p).enumerated().map { i, line in
            "<li\(i == 0 ? " class=\"\(p.sustainableRate == nil ? "problem" : "ok")\"" : "")>\(HTML.escape(line))</li>"
        }.joined() + "</ul>")
        if !p.steps.isEmpty {
            h.append(ReportHTML.section("Rate asked and achieved", "new connections per second, per step of the ramp; dashed red: the knee", rateChart(p)))
            h.append(ReportHTML.section("Failures per step", "share of each step's attempts that failed; dashed: the knee rule's limit", failureChart(p)))
            h.append(ReportHTML.section("Connect p99 per step", "log scale; dashed: the knee rule's limit (\(Format.rate(p.rule.latencyFactor))x the first step's p99, and at least \(Format.micros(KneeRule.minLatencyRiseUs)) above it)",
                                        latencyChart(p)))
        }
        h.append("<h2>Steps</h2>" + ReportTables.html(ReportTables.planSteps(p)))
        h.append("<h2>What \(HTML.escape(Format.rate(p.targetRate)))/s needs</h2><ul>" + p.needs.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>")
        h.append("<p class=\"caption\">\(HTML.escape(PlanText.carryOver(p))).</p>")
        h.append("<p class=\"foot\">target \(HTML.escape(record.target)), used \(HTML.escape(record.used)); kernel \(HTML.escape(record.system.kernel))</p>")
        h.append("</body></html>")
        return h.joined(separator: "\n") + "\n"
    }

    /// Steps sit at x = 1...n; a tick is labelled with its step's rate asked.
    static func chart(_ p: CapacityPlan, y: ClosedRange<Double>, logY: Bool = false) -> SVGChart {
        SVGChart(x: 0.5...(Double(p.steps.count) + 0.5), y: y, logY: logY, wholeX: true, headroom: !logY)
    }

    static func xTick(_ p: CapacityPlan) -> (Double, Double) -> String {
        { v, _ in
            let i = Int(v.rounded()) - 1
            return p.steps.indices.contains(i) ? Format.rate(p.steps[i].rate) : ""
        }
    }

    static func markKnee(_ c: inout SVGChart, _ p: CapacityPlan) {
        if let k = p.kneeStep, p.steps.indices.contains(k) { c.vmarker(at: Double(k + 1), label: "knee", color: kneeColor) }
    }

    static func rateChart(_ p: CapacityPlan) -> String {
        let top = p.steps.map { max($0.rate, $0.achievedRate) }.max() ?? 1
        var c = chart(p, y: 0...max(1, top))
        // The rate asked drawn wide and light underneath: where the generator kept up, the others lie on it.
        c.line(p.steps.enumerated().map { (Double($0.offset + 1), $0.element.rate) }, stroke: askedColor, width: 7)
        c.line(p.steps.enumerated().map { (Double($0.offset + 1), $0.element.achievedRate) }, stroke: attemptsColor, dots: true)
        c.line(p.steps.enumerated().map { (Double($0.offset + 1), $0.element.achievedRate * (1 - $0.element.failureShare)) }, stroke: okColor, dots: true)
        markKnee(&c, p)
        return ReportHTML.legend([("asked", askedColor), ("attempts achieved", attemptsColor), ("successful", okColor)])
            + c.svg(xLabel: "rate asked per step (/s)", yLabel: "per second", xFormat: xTick(p))
    }

    static func failureChart(_ p: CapacityPlan) -> String {
        let limit = p.rule.maxFailureShare * 100
        var c = chart(p, y: 0...max(limit * 1.5, p.steps.map { $0.failureShare * 100 }.max() ?? 0, 0.1))
        for (i, s) in p.steps.enumerated() where s.failureShare > 0 {
            c.rect(x0: Double(i + 1) - 0.35, x1: Double(i + 1) + 0.35, y0: 0, y1: s.failureShare * 100, fill: ReportHTML.localColor,
                   title: String(format: "%@/s: %.2f%% failed", Format.rate(s.rate), s.failureShare * 100) + (s.dominantFailure.map { " (mostly \($0))" } ?? ""))
        }
        c.line([(c.xMin, limit), (c.xMax, limit)], stroke: kneeColor, dash: true, width: 1.2)
        markKnee(&c, p)
        return c.svg(xLabel: "rate asked per step (/s)", yLabel: "failed (%)", xFormat: xTick(p))
    }

    static func latencyChart(_ p: CapacityPlan) -> String {
        let p99 = p.steps.map { Double(max(1, $0.connectP99Us)) }
        let base = Double(max(1, p.steps.first?.connectP99Us ?? 1))
        let limit = max(base + Double(KneeRule.minLatencyRiseUs), base * p.rule.latencyFactor)
        let lo = p99.min() ?? 1, hi = max(p99.max() ?? 1, limit)
        var c = chart(p, y: pow(10, floor(log10(lo)))...pow(10, ceil(log10(max(hi, lo * 10)) + 1e-9)), logY: true)
        c.line(p99.enumerated().map { (Double($0.offset + 1), $0.element) }, stroke: ReportHTML.remoteColor, dots: true)
        c.line([(c.xMin, limit), (c.xMax, limit)], stroke: kneeColor, dash: true, width: 1.2)
        markKnee(&c, p)
        return c.svg(xLabel: "rate asked per step (/s)", yLabel: "connect p99", xFormat: xTick(p), yFormat: SVGChart.micros(_:step:))
    }
}
