import Foundation

/// A minimal SVG plotting area: linear or log scales, axes with ticks, and shapes in data units.
/// Everything is inline text: the HTML report needs no network and no script.
struct SVGChart {
    let width = 860.0, height = 230.0
    let left = 64.0, right = 16.0, top = 14.0, bottom = 34.0
    var xMin: Double, xMax: Double, yMin: Double, yMax: Double
    var logX = false, logY = false
    private(set) var body: [String] = []

    init(x: ClosedRange<Double>, y: ClosedRange<Double>, logX: Bool = false, logY: Bool = false) {
        xMin = x.lowerBound
        xMax = x.upperBound > x.lowerBound ? x.upperBound : x.lowerBound + 1
        yMin = y.lowerBound
        yMax = y.upperBound > y.lowerBound ? y.upperBound : y.lowerBound + 1
        self.logX = logX
        self.logY = logY
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
        let a = px(x0), b = px(x1), c = py(y1), d = py(y0)
        let t = title.map { "<title>\(HTML.escape($0))</title>" } ?? ""
        body.append("<rect x=\"\(f(a))\" y=\"\(f(c))\" width=\"\(f(max(0.5, b - a)))\" height=\"\(f(max(0, d - c)))\" fill=\"\(fill)\""
                    + (opacity < 1 ? " fill-opacity=\"\(String(format: "%.3f", opacity))\"" : "") + ">\(t)</rect>")
    }

    mutating func line(_ points: [(Double, Double)], stroke: String, dash: Bool = false, width w: Double = 1.8) {
        guard points.count > 1 else {
            if let p = points.first { body.append("<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"2.5\" fill=\"\(stroke)\"/>") }
            return
        }
        let d = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        body.append("<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(w)\"" + (dash ? " stroke-dasharray=\"5 4\"" : "") + "/>")
    }

    mutating func vmarker(at x: Double, label: String, color: String) {
        body.append("<line x1=\"\(f(px(x)))\" x2=\"\(f(px(x)))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"\(color)\" stroke-dasharray=\"3 3\"/>")
        body.append("<text x=\"\(f(px(x) + 3))\" y=\"\(f(top + 10))\" fill=\"\(color)\" font-size=\"11\">\(HTML.escape(label))</text>")
    }

    /// Axes, ticks and labels, then the shapes; `xFormat`/`yFormat` write tick labels.
    func svg(xLabel: String, yLabel: String, xFormat: (Double) -> String, yFormat: (Double) -> String) -> String {
        var s = ["<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" class=\"chart\" role=\"img\">"]
        for v in ticks(xMin, xMax, log: logX) {
            s.append("<line x1=\"\(f(px(v)))\" x2=\"\(f(px(v)))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" class=\"grid\"/>")
            s.append("<text x=\"\(f(px(v)))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(HTML.escape(xFormat(v)))</text>")
        }
        for v in ticks(yMin, yMax, log: logY) {
            s.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\" class=\"grid\"/>")
            s.append("<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\" class=\"tick\">\(HTML.escape(yFormat(v)))</text>")
        }
        s.append("<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>")
        s.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>")
        s += body
        s.append("<text x=\"\(f(width - right))\" y=\"\(f(height - 4))\" text-anchor=\"end\" class=\"label\">\(HTML.escape(xLabel))</text>")
        s.append("<text x=\"12\" y=\"\(f(top + 4))\" class=\"label\" transform=\"rotate(-90 12 \(f(top + 4)))\" text-anchor=\"end\">\(HTML.escape(yLabel))</text>")
        s.append("</svg>")
        return s.joined(separator: "\n")
    }

    /// About five round ticks (linear), or the powers of ten in range (log).
    func ticks(_ a: Double, _ b: Double, log: Bool) -> [Double] {
        // Bounded loops: a record's values can be as large as 2^64-1 (or a range too narrow for a
        // Double step to advance), and a chart never needs more than a few dozen ticks.
        guard a.isFinite, b.isFinite else { return [] }
        if log {
            var out: [Double] = []
            var p = pow(10, floor(log10(max(a, 1e-9))))
            while p <= b * 1.0001 && out.count < 40 && p.isFinite { if p >= a * 0.9999 { out.append(p) }; p *= 10 }
            return out
        }
        let raw = (b - a) / 5
        let mag = pow(10, floor(log10(max(raw, 1e-9))))
        // 1-2-5 steps: tick labels stay exact when written as whole numbers.
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(a / step) * step
        while v <= b + step * 1e-6 && out.count < 40 {
            out.append(v)
            let next = v + step
            if next <= v { break }
            v = next
        }
        return out
    }
}

enum HTML {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
