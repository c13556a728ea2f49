import Foundation
import PortstormAnalysis
import PortstormRecord

/// One self-contained HTML file: summary, charts (inline SVG), findings. No script, no network.
public enum ReportHTML {
    static let okColor = "#3a9d5d", localColor = "#e07b24", remoteColor = "#7b4fc9", unknownColor = "#8a8a8a"

    public static func render(_ r: RunRecord, _ a: Analysis) -> String {
        var h: [String] = []
        h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        h.append("<title>portstorm report: \(HTML.escape(r.config.target))</title>")
        h.append("<style>\(css)</style></head><body>")
        h.append("<h1>portstorm report: \(HTML.escape(r.config.target))</h1>")
        h.append("<pre class=\"summary\">\(HTML.escape(SummaryText.render(r)))</pre>")
        h.append(verdict(a))
        h.append(section("Outcomes per second", "attempts that ended each second, by class", outcomesChart(r)))
        if let ports = portsChart(r, a) {
            h.append(section("Ports in use and TIME_WAIT", "busiest (source, destination, port) tuple against its range; dashed: onsets of failures", ports))
        }
        if let lat = latencyChart(r) { h.append(section("Connect latency over time", "p50, p90, p99 of the connects that completed each second", lat)) }
        if let heat = heatmap(a) { h.append(section("Local-port occupancy", "busiest tuple: share of each slice of the range in use, per census (darker = fuller)", heat)) }
        if let hist = histogram(r) { h.append(section("Connect latency distribution", "all connects, log scale", hist)) }
        if let rows = WitnessTable.rows(r, a) {
            h.append("<h2>portstorm's counts and the kernel's</h2><p class=\"caption\">\(HTML.escape(WitnessTable.caption))</p>")
            h.append("<table class=\"witness\"><tr><th></th><th>portstorm</th><th>this namespace's kernel, over the run</th></tr>"
                     + rows.map { "<tr><td>\(HTML.escape($0.what))</td><td>\(HTML.escape($0.portstorm))</td><td>\(HTML.escape($0.kernel))</td></tr>" }.joined()
                     + "</table>")
        }
        h.append("<h2>Findings</h2>")
        for f in a.findings {
            h.append("<div class=\"finding \(f.severity.rawValue)\"><h3><span class=\"sev\">\(f.severity.rawValue)</span> \(HTML.escape(f.title))</h3>")
            if !f.evidence.isEmpty { h.append("<ul>" + f.evidence.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>") }
            if !f.advice.isEmpty { h.append("<p class=\"todo\">What to do:</p><ul class=\"advice\">" + f.advice.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>") }
            h.append("</div>")
        }
        h.append("<p class=\"foot\">portstorm \(HTML.escape(r.tool.version)), kernel \(HTML.escape(r.system.kernel)), started \(ISO8601DateFormatter().string(from: r.startedAt))</p>")
        h.append("</body></html>")
        return h.joined(separator: "\n") + "\n"
    }

    static func section(_ title: String, _ caption: String, _ svg: String) -> String {
        "<h2>\(HTML.escape(title))</h2><p class=\"caption\">\(HTML.escape(caption))</p>\n\(svg)"
    }

    static func verdict(_ a: Analysis) -> String {
        let top = a.findings.filter { $0.severity >= .warning }
        guard !top.isEmpty else { return "<p class=\"verdict ok\">No failure worth a warning.</p>" }
        return "<ul class=\"verdict\">" + top.map { "<li class=\"\($0.severity.rawValue)\">\(HTML.escape($0.title))</li>" }.joined() + "</ul>"
    }

    static func legend(_ items: [(String, String)]) -> String {
        "<p class=\"legend\">" + items.map { "<span><i style=\"background:\($0.1)\"></i>\(HTML.escape($0.0))</span>" }.joined() + "</p>"
    }

    static func outcomesChart(_ r: RunRecord) -> String {
        let causes = Dictionary(uniqueKeysWithValues: r.totals.outcomes.nonZero.map { ($0.outcome.name, $0.outcome.cause) })
        let peak = r.timeline.map { $0.failures.values.reduce($0.ok) { $0.addingSaturating($1) } }.max() ?? 1
        var c = SVGChart(x: 0...Double(max(1, r.timeline.count)), y: 0...Double(max(1, peak)))
        for s in r.timeline {
            var base = 0.0
            var local: UInt64 = 0, remote: UInt64 = 0, unknown: UInt64 = 0
            for (name, n) in s.failures {
                switch causes[name] ?? .unknown {
                case .local: local = local.addingSaturating(n)
                case .remote: remote = remote.addingSaturating(n)
                default: unknown = unknown.addingSaturating(n)
                }
            }
            for (n, color, label) in [(s.ok, okColor, "ok"), (local, localColor, "local failures"), (remote, remoteColor, "remote failures"),
                                      (unknown, unknownColor, "other failures")] where n > 0 {
                c.rect(x0: Double(s.t) + 0.08, x1: Double(s.t) + 0.92, y0: base, y1: base + Double(n), fill: color,
                       title: "t=\(s.t)s \(label): \(n)")
                base += Double(n)
            }
        }
        return legend([("ok", okColor), ("local failures", localColor), ("remote failures", remoteColor), ("other", unknownColor)])
            + c.svg(xLabel: "seconds", yLabel: "per second", xFormat: { Format.integer($0) }, yFormat: { Format.whole($0, .towardZero) })
    }

    static func portsChart(_ r: RunRecord, _ a: Analysis) -> String? {
        guard let busiest = a.tuples.max(by: { $0.peakPortsInUse < $1.peakPortsInUse }), !busiest.points.isEmpty else { return nil }
        let tw = r.timeline.compactMap { s in s.kernel?.sockstat.map { (Double(s.t) + 0.5, Double($0.tw)) } }
        let top = Double(max(busiest.rangeSize, busiest.peakPortsInUse)) * 1.1
        var c = SVGChart(x: 0...Double(max(1, r.timeline.count)), y: 0...max(top, 1))
        c.line([(0, Double(busiest.rangeSize)), (Double(max(1, r.timeline.count)), Double(busiest.rangeSize))], stroke: "#c0392b", dash: true, width: 1.2)
        // Ports in use drawn wide underneath: when every port is in TIME_WAIT the two lines coincide.
        c.line(busiest.points.map { (Double($0.atMs) / 1000, Double($0.portsInUse)) }, stroke: "#1f6fb2", width: 4)
        c.line(busiest.points.map { (Double($0.atMs) / 1000, Double($0.timeWait)) }, stroke: "#e0a800", width: 1.6)
        if tw.contains(where: { $0.1 <= top }) { c.line(tw.filter { $0.1 <= top }, stroke: "#999999", dash: true, width: 1) }
        // Sockets there before the first attempt use the same budget but are not this run's.
        var before: [(String, String)] = []
        if let atStart = busiest.portsInUseAtStart, atStart > 0 {
            let held = busiest.points.compactMap { p in p.heldBefore.map { (Double(p.atMs) / 1000, Double($0)) } }
            c.line([(0, Double(atStart))] + held, stroke: "#7f7f7f", width: 2.4)
            before = [("of which already in use before the run (\(atStart) at the start)", "#7f7f7f")]
        }
        for o in a.onsets { c.vmarker(at: Double(o.firstSecond), label: o.outcome, color: o.cause == .local ? localColor : remoteColor) }
        return legend([("ports in use (\(busiest.source) to \(busiest.destination):\(busiest.port))", "#1f6fb2")] + before
                      + [("of which TIME_WAIT", "#e0a800"), ("range size \(busiest.rangeSize)", "#c0392b"),
                         ("TIME_WAIT, whole namespace", "#999999")])
            + c.svg(xLabel: "seconds", yLabel: "sockets", xFormat: { Format.integer($0) }, yFormat: { Format.whole($0, .towardZero) })
    }

    static func latencyChart(_ r: RunRecord) -> String? {
        let pts = r.timeline.compactMap { s in s.connectLatencyUs.map { (Double(s.t) + 0.5, $0) } }
        guard !pts.isEmpty else { return nil }
        let hi = Double(pts.map { $0.1.p99 }.max() ?? 1), lo = Double(max(1, pts.map { $0.1.p50 }.min() ?? 1))
        var c = SVGChart(x: 0...Double(max(1, r.timeline.count)), y: pow(10, floor(log10(lo)))...pow(10, ceil(log10(max(hi, lo * 10)))), logY: true)
        c.line(pts.map { ($0.0, Double($0.1.p50)) }, stroke: "#3a9d5d")
        c.line(pts.map { ($0.0, Double($0.1.p90)) }, stroke: "#e0a800")
        c.line(pts.map { ($0.0, Double($0.1.p99)) }, stroke: "#c0392b")
        return legend([("p50", "#3a9d5d"), ("p90", "#e0a800"), ("p99", "#c0392b")])
            + c.svg(xLabel: "seconds", yLabel: "connect latency", xFormat: { Format.integer($0) }, yFormat: { Format.micros(tick: $0) })
    }

    static func heatmap(_ a: Analysis) -> String? {
        guard let t = a.tuples.max(by: { $0.peakPortsInUse < $1.peakPortsInUse }), let n = t.points.first?.buckets.count, n > 0 else { return nil }
        let perBucket = Double(max(1, t.rangeSize)) / Double(n)
        var c = SVGChart(x: 0...Double(t.points.count), y: 0...Double(n))
        for (i, p) in t.points.enumerated() {
            for (b, used) in p.buckets.enumerated() where used > 0 {
                c.rect(x0: Double(i), x1: Double(i + 1), y0: Double(b), y1: Double(b + 1), fill: "#1f6fb2",
                       opacity: min(1, Double(used) / perBucket), title: "census \(i) (\(p.atMs) ms), slice \(b): \(used) ports")
            }
        }
        return c.svg(xLabel: "census (about one a second)", yLabel: "port slice (low to high)",
                     xFormat: { Format.integer($0) }, yFormat: { Format.integer($0) })
    }

    static func histogram(_ r: RunRecord) -> String? {
        let buckets = r.latency.connectHistogram.buckets
        guard let first = buckets.first?[0], let last = buckets.last?[0] else { return nil }
        // Ten bins per decade.
        var bins: [Int: UInt64] = [:]
        for b in buckets { bins[Int(floor(log10(Double(max(1, b[0]))) * 10)), default: 0] += b[1] }
        let lo = pow(10, floor(log10(Double(max(1, first))))), hi = pow(10, ceil(log10(Double(max(2, last)) * 1.0001)))
        var c = SVGChart(x: lo...hi, y: 0...Double(bins.values.max() ?? 1), logX: true)
        for (k, n) in bins.sorted(by: { $0.key < $1.key }) {
            c.rect(x0: pow(10, Double(k) / 10), x1: pow(10, Double(k + 1) / 10), y0: 0, y1: Double(n), fill: "#1f6fb2",
                   title: "\(Format.micros(tick: pow(10, Double(k) / 10)))-\(Format.micros(tick: pow(10, Double(k + 1) / 10))): \(n)")
        }
        return c.svg(xLabel: "connect latency", yLabel: "connects", xFormat: { Format.micros(tick: $0) }, yFormat: { Format.whole($0, .towardZero) })
    }

    static let css = """
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:920px;margin:24px auto;padding:0 16px;color:#222}
    h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 2px;border-bottom:1px solid #ddd;padding-bottom:3px}
    h3{font-size:15px;margin:0 0 6px}.caption{color:#666;margin:0 0 6px;font-size:13px}
    pre.summary{background:#f6f7f9;border:1px solid #e3e5e8;padding:10px 12px;font-size:12.5px;overflow-x:auto}
    svg.chart{width:100%;height:auto;display:block}.grid{stroke:#eee}.axis{stroke:#888}
    .tick{font-size:11px;fill:#666}.label{font-size:11px;fill:#444}
    .legend{font-size:12px;color:#444;margin:2px 0}.legend span{margin-right:14px}
    .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
    ul.verdict{padding-left:18px}ul.verdict li.problem{color:#b02a1a;font-weight:600}ul.verdict li.warning{color:#a0600a;font-weight:600}
    .verdict.ok{color:#2d7a47;font-weight:600}
    .finding{border-left:4px solid #bbb;padding:6px 12px;margin:10px 0;background:#fafafa}
    .finding.problem{border-color:#c0392b}.finding.warning{border-color:#e0a800}.finding.ok{border-color:#3a9d5d}
    .finding ul{margin:4px 0;padding-left:20px}.sev{font-size:11px;text-transform:uppercase;color:#666;margin-right:6px}
    table.witness{border-collapse:collapse;font-size:13px}table.witness td,table.witness th{border:1px solid #e3e5e8;padding:3px 8px;text-align:right}
    table.witness td:first-child{text-align:left}
    .todo{margin:6px 0 0;font-weight:600;font-size:13px}.advice li{color:#1d4e7a}.foot{color:#888;font-size:12px;margin-top:28px}
    """
}
