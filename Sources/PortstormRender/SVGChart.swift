import Foundation
import PortstormRecord

/// A minimal SVG plotting area: linear or log scales, axes with ticks, and shapes in data units.
/// Everything is inline text: the HTML report needs no network and no script. The chart scales
/// with its viewBox; the report's style sheet enlarges its text on narrow screens.
struct SVGChart {
    // Margins hold the tick labels and titles at the narrow-screen text size too (see ReportHTML.css).
    let width = 860.0, height = 250.0
    let left = 80.0, right = 24.0, top = 30.0, bottom = 56.0
    /// Baseline of the x-axis tick labels, below the plot.
    var xTickBaseline: Double { height - bottom + 18 }
    var xMin: Double, xMax: Double, yMin: Double, yMax: Double
    var logX = false, logY = false
    /// Whole-number ticks only (an axis of counts: a tick at 0.2 connections means nothing).
    var wholeX = false, wholeY = false
    private(set) var body: [String] = []

    /// `headroom` raises the top of a linear y-axis to the first multiple of its tick step above
    /// 105% of `y`'s top, so that the tallest bar or point does not touch the frame.
    init(x: ClosedRange<Double>, y: ClosedRange<Double>, logX: Bool = false, logY: Bool = false,
         wholeX: Bool = false, wholeY: Bool = false, headroom: Bool = false) {
        xMin = x.lowerBound
        xMax = x.upperBound > x.lowerBound ? x.upperBound : x.lowerBound + 1
        yMin = y.lowerBound
        yMax = y.upperBound > y.lowerBound ? y.upperBound : y.lowerBound + 1
        self.logX = logX
        self.logY = logY
        self.wholeX = wholeX
        self.wholeY = wholeY
        if headroom, !logY, yMax.isFinite, yMax < 1e300 {
            let want = yMin + (yMax - yMin) * 1.05
            let step = Self.step(yMin, yMax, whole: wholeY)
            let raised = (want / step).rounded(.up) * step
            if raised.isFinite && raised > yMax { yMax = raised }
        }
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func px(_ x: Double) -> Double {
        let (a, b, v) = logX ? (log10(xMin), log10(xMax), log10(max(x, xMin))) : (xMin, xMax, x)
        return left + (v - a) / (b - a) * (width - left - right)
    }

    func py(_ y: Double) -> Double {
        let (a, b, v) = logY ? (log10(yMin), log10(yMax), log10(max(y, yMin))) : (yMin, yMax, y)
        return height - bottom - (v - a) / (b - a) * (height - top - bottom)
    }

    mutating func rect(x0: Double, x1: Double, y0: Double, y1: Double, fill: String, opacity: Double = 1, title: String? = nil) {
        // Edges rounded before the size is taken: neighbouring cells then share an edge exactly,
        // without a hairline gap between them.
        func r(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        let a = r(px(x0)), b = r(px(x1)), c = r(py(y1)), d = r(py(y0))
        let t = title.map { "<title>\(HTML.escape($0))</title>" } ?? ""
        body.append("<rect x=\"\(f(a))\" y=\"\(f(c))\" width=\"\(f(max(0.5, b - a)))\" height=\"\(f(max(0, d - c)))\" fill=\"\(fill)\" shape-rendering=\"crispEdges\""
                    + (opacity < 1 ? " fill-opacity=\"\(String(format: "%.3f", opacity))\"" : "") + ">\(t)</rect>")
    }

    mutating func line(_ points: [(Double, Double)], stroke: String, dash: Bool = false, width w: Double = 1.8, dots: Bool = false) {
        if dots && points.count > 1 {
            for p in points { body.append("<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"3\" fill=\"\(stroke)\"/>") }
        }
        guard points.count > 1 else {
            if let p = points.first { body.append("<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"2.5\" fill=\"\(stroke)\"/>") }
            return
        }
        let d = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        body.append("<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(w)\"" + (dash ? " stroke-dasharray=\"5 4\"" : "") + "/>")
    }

    /// A point drawn as a ring, e.g. to mark one step of a series.
    mutating func ring(at x: Double, _ y: Double, stroke: String, title: String? = nil) {
        let t = title.map { "<title>\(HTML.escape($0))</title>" } ?? ""
        body.append("<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"6\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"2\">\(t)</circle>")
    }

    /// A dashed vertical line with a label at its top; the label turns left of the line near the right edge.
    mutating func vmarker(at x: Double, label: String, color: String) {
        let at = px(x), nearRight = at > left + (width - left - right) * 0.8
        body.append("<line x1=\"\(f(at))\" x2=\"\(f(at))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"\(color)\" stroke-dasharray=\"3 3\"/>")
        body.append("<text x=\"\(f(nearRight ? at - 3 : at + 3))\" y=\"\(f(top + 10))\" fill=\"\(color)\" class=\"mark\""
                    + (nearRight ? " text-anchor=\"end\"" : "") + ">\(HTML.escape(label))</text>")
    }

    /// Axes, ticks and labels, then the shapes. `xFormat`/`yFormat` write a tick label from its value
    /// and the step between ticks (so that 0.2 s steps print as 0.2, 0.4, not 0, 0).
    func svg(xLabel: String, yLabel: String, xFormat: (Double, Double) -> String = SVGChart.number,
             yFormat: (Double, Double) -> String = SVGChart.number) -> String {
        var s = ["<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" class=\"chart\" role=\"img\""
                 + " aria-label=\"\(HTML.escape(yLabel)) against \(HTML.escape(xLabel))\">"]
        let xs = ticks(xMin, xMax, log: logX, whole: wholeX)
        for v in xs.values {
            // Labels at the ends start or end at their tick instead of centring on it: centred, the
            // rightmost ran past the frame and the leftmost into the y-axis' labels.
            let anchor = px(v) > width - right - 30 ? "end" : px(v) < left + 30 ? "start" : "middle"
            s.append("<line x1=\"\(f(px(v)))\" x2=\"\(f(px(v)))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" class=\"grid\"/>")
            s.append("<text x=\"\(f(px(v)))\" y=\"\(f(xTickBaseline))\" text-anchor=\"\(anchor)\" class=\"tick\">\(HTML.escape(xFormat(v, xs.step)))</text>")
        }
        let ys = ticks(yMin, yMax, log: logY, whole: wholeY)
        for v in ys.values {
            s.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\" class=\"grid\"/>")
            s.append("<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\" class=\"tick\">\(HTML.escape(yFormat(v, ys.step)))</text>")
        }
        s.append("<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>")
        s.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>")
        s += body
        s.append("<text x=\"\(f(width - right))\" y=\"\(f(height - 8))\" text-anchor=\"end\" class=\"label\">\(HTML.escape(xLabel))</text>")
        // The y-axis' title sits level above the plot: turned on its side it collided with long tick labels.
        s.append("<text x=\"\(f(left))\" y=\"\(f(top - 10))\" class=\"label\">\(HTML.escape(yLabel))</text>")
        s.append("</svg>")
        return s.joined(separator: "\n")
    }

    /// A tick label: grouped whole numbers (compact past 10,000: "25k"), decimals as many as the step needs.
    static func number(_ v: Double, step: Double) -> String {
        guard v.isFinite, v.magnitude < 1e15 else { return String(format: "%.3g", v) }
        if v.magnitude >= 10_000 && step >= 1000 {
            return String(format: step.truncatingRemainder(dividingBy: 1000) == 0 ? "%.0fk" : "%.1fk", v / 1000)
        }
        return step >= 1 ? Format.whole(v) : String(format: "%.\(decimals(step))f", v)
    }

    /// A port number as it is written (no separator).
    static func port(_ v: Double, step: Double) -> String { Format.integer(v.rounded()) }

    /// A microsecond tick: "1ms", "10ms" on a power of ten, else as Format.micros writes it.
    static func micros(_ us: Double, step: Double) -> String {
        guard us.isFinite, us >= 1 else { return Format.micros(tick: us) }
        let e = log10(us)
        guard e == e.rounded(), e < 12 else { return Format.micros(tick: us) }
        switch Int(e) {
        case 0...2: return "\(Int(us))us"
        case 3...5: return "\(Int(us / 1000))ms"
        default: return "\(Int(us / 1_000_000))s"
        }
    }

    /// Decimals a step of 1, 2 or 5 times a power of ten needs: 0.2 -> 1, 0.05 -> 2.
    static func decimals(_ step: Double) -> Int {
        step >= 1 || step <= 0 || !step.isFinite ? 0 : min(9, Int(-floor(log10(step) + 1e-9)))
    }

    /// About five round steps over a...b: 1, 2 or 5 times a power of ten (at least 1 when `whole`).
    static func step(_ a: Double, _ b: Double, whole: Bool) -> Double {
        let raw = (b - a) / 5
        let mag = pow(10, floor(log10(max(raw, 1e-9))))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        return whole ? max(1, step) : step
    }

    /// About five round ticks (linear), or the powers of ten in range (log); `step` is the linear step (1 for log).
    func ticks(_ a: Double, _ b: Double, log: Bool, whole: Bool = false) -> (values: [Double], step: Double) {
        // Bounded loops: a record's values can be as large as 2^64-1 (or a range too narrow for a
        // Double step to advance), and a chart never needs more than a few dozen ticks.
        guard a.isFinite, b.isFinite else { return ([], 1) }
        if log {
            var out: [Double] = []
            var p = pow(10, floor(log10(max(a, 1e-9))))
            while p <= b * 1.0001 && out.count < 40 && p.isFinite { if p >= a * 0.9999 { out.append(p) }; p *= 10 }
            return (out, 1)
        }
        let step = Self.step(a, b, whole: whole)
        var out: [Double] = []
        var v = ceil(a / step) * step
        while v <= b + step * 1e-6 && out.count < 40 {
            // 3 * 0.2 is 0.6000000000000001: snap to the step's own decimals.
            out.append(step < 1 ? (v / step).rounded() * step : v)
            let next = v + step
            if next <= v { break }
            v = next
        }
        return (out, step)
    }
}

enum HTML {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
