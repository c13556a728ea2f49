import Foundation
import PortstormAnalysis
import PortstormRecord

/// One self-contained HTML file: summary, charts (inline SVG), findings. No script, no network.
public enum ReportHTML {
    static let okColor = "#3a9d5d", localColor = "#e07b24", remoteColor = "#7b4fc9", unknownColor = "#8a8a8a"

    public static func render(_ r: RunRecord, _ a: Analysis) -> String {
        var h: [String] = [head("portstorm report: \(r.config.target)")]
        h.append("<pre class=\"summary\">\(HTML.escape(SummaryText.render(r)))</pre>")
        h.append(verdict(a))
        h.append(section("Outcomes per second", "attempts that ended each second, by class", outcomesChart(r)))
        if let ports = portsChart(r, a) {
            h.append(section("Ports in use and TIME_WAIT", "busiest (source, destination, port) tuple against its range; dashed: onsets of failures", ports))
        }
        let scale = latencyScale(r)
        if let lat = latencyChart(r, \.connectLatencyUs, "connect latency", scale) {
            h.append(section("Connect latency over time", "p50, p90, p99 of the connects that completed each second", lat))
        }
        if r.config.tls != nil, let lat = latencyChart(r, \.handshakeLatencyUs, "handshake latency", scale) {
            h.append(section("TLS handshake latency over time",
                             "p50, p90, p99 of the handshakes that completed each second, on the connect chart's scale", lat))
        }
        if let heat = heatmap(a) { h.append(section("Local-port occupancy", "busiest tuple: share of each slice of its port range in use, per census (darker = fuller)", heat)) }
        if let hist = histogram(r) { h.append(section("Connect latency distribution", "all connects, log scale", hist)) }
        h.append("<h2>Outcomes</h2>" + ReportTables.html(ReportTables.outcomes(r, a)))
        h.append("<h2>Capacity</h2><p class=\"caption\">the port budget's model (range / 60 s per tuple without TIME_WAIT reuse) against what the run achieved</p>"
                 + ReportTables.html(ReportTables.capacity(r, a)))
        if let hosts = r.hosts { h.append("<h2>Hosts</h2>" + ReportTables.html(ReportTables.hosts(hosts))) }
        if let rows = WitnessTable.rows(r, a) {
            let t = ReportTables.Table(header: ["", "portstorm", r.hosts == nil ? "this namespace's kernel, over the run" : "the hosts' kernels, added, over the run"],
                                       numeric: [false, true, true], rows: rows.map { [$0.what, $0.portstorm, $0.kernel] })
            h.append("<h2>portstorm's counts and the kernel's</h2><p class=\"caption\">\(HTML.escape(WitnessTable.caption))</p>" + ReportTables.html(t))
        }
        if let tuples = ReportTables.portBudget(a) { h.append("<h2>Port budget per tuple</h2>" + ReportTables.html(tuples)) }
        h.append("<h2>Findings</h2>")
        for f in a.findings {
            h.append("<div class=\"finding \(f.severity.rawValue)\"><h3><span class=\"sev\">\(f.severity.rawValue)</span> \(HTML.escape(f.title))</h3>")
            if !f.evidence.isEmpty { h.append("<ul>" + f.evidence.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>") }
            if !f.advice.isEmpty { h.append("<p class=\"todo\">What to do:</p><ul class=\"advice\">" + f.advice.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>") }
            h.append("</div>")
        }
        h.append("<h2>Configuration</h2>" + ReportTables.html(ReportTables.configuration(r)))
        h.append("<p class=\"foot\">portstorm \(HTML.escape(r.tool.version)), kernel \(HTML.escape(r.system.kernel)), started \(ISO8601DateFormatter().string(from: r.startedAt))</p>")
        h.append("</body></html>")
        return h.joined(separator: "\n") + "\n"
    }

    /// The document's start, up to the page title: one style sheet, no script.
    static func head(_ title: String) -> String {
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            + "<title>\(HTML.escape(title))</title>\n<style>\(css)</style></head><body>\n<h1>\(HTML.escape(title))</h1>"
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
        var c = SVGChart(x: 0...Double(max(1, r.timeline.count)), y: 0...Double(max(1, peak)), wholeY: true, headroom: true)
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
            + c.svg(xLabel: "seconds", yLabel: "per second")
    }

    static func portsChart(_ r: RunRecord, _ a: Analysis) -> String? {
        guard let busiest = a.tuples.max(by: { $0.peakPortsInUse < $1.peakPortsInUse }), !busiest.points.isEmpty else { return nil }
        let tw = r.timeline.compactMap { s in s.kernel?.sockstat.map { (Double(s.t) + 0.5, Double($0.tw)) } }
        var c = SVGChart(x: 0...Double(max(1, r.timeline.count)), y: 0...Double(max(1, busiest.rangeSize, busiest.peakPortsInUse)),
                         wholeY: true, headroom: true)
        let top = c.yMax
        c.line([(0, Double(busiest.rangeSize)), (Double(max(1, r.timeline.count)), Double(busiest.rangeSize))], stroke: "#c0392b", dash: true, width: 1.2)
        // Ports in use drawn wide underneath: when every port is in TIME_WAIT the two lines coincide.
        c.line(busiest.points.map { (Double($0.atMs) / 1000, Double($0.portsInUse)) }, stroke: "#1f6fb2", width: 4)
        c.line(busiest.points.compactMap { p in p.timeWait.map { (Double(p.atMs) / 1000, Double($0)) } }, stroke: "#e0a800", width: 1.6)
        if tw.contains(where: { $0.1 <= top }) { c.line(tw.filter { $0.1 <= top }, stroke: "#999999", dash: true, width: 1) }
        // Sockets there before the first attempt use the same budget but are not this run's.
        var before: [(String, String)] = []
        if let atStart = busiest.portsInUseAtStart, atStart > 0 {
            let held = busiest.points.compactMap { p in p.heldBefore.map { (Double(p.atMs) / 1000, Double($0)) } }
            c.line([(0, Double(atStart))] + held, stroke: "#7f7f7f", width: 2.4)
            before = [("of which already in use before the run (\(Format.count(atStart)) at the start)", "#7f7f7f")]
        }
        for o in a.onsets { c.vmarker(at: Double(o.firstSecond), label: o.outcome, color: o.cause == .local ? localColor : remoteColor) }
        return legend([("ports in use (\(busiest.source) to \(busiest.destination):\(busiest.port))", "#1f6fb2")] + before
                      + [("of which TIME_WAIT", "#e0a800"), ("range size \(Format.count(busiest.rangeSize))", "#c0392b"),
                         ("TIME_WAIT, whole namespace", "#999999")])
            + c.svg(xLabel: "seconds", yLabel: "sockets")
    }

    /// The log scale of the per-second latency charts, in decades from below the lowest p50 to
    /// above the highest p99: of the connects, and in TLS runs of the handshakes too, so that the
    /// two charts compare at a glance. Nil when no second has a latency.
    static func latencyScale(_ r: RunRecord) -> ClosedRange<Double>? {
        var seconds = r.timeline.compactMap(\.connectLatencyUs)
        if r.config.tls != nil { seconds += r.timeline.compactMap(\.handshakeLatencyUs) }
        guard !seconds.isEmpty else { return nil }
        let hi = Double(seconds.map(\.p99).max() ?? 1), lo = Double(max(1, seconds.map(\.p50).min() ?? 1))
        return pow(10, floor(log10(lo)))...pow(10, ceil(log10(max(hi, lo * 10))))
    }

    static func latencyChart(_ r: RunRecord, _ series: KeyPath<TimelineSecond, SecondLatency?>, _ label: String,
                             _ scale: ClosedRange<Double>?) -> String? {
        let pts = r.timeline.compactMap { s in s[keyPath: series].map { (Double(s.t) + 0.5, $0) } }
        guard !pts.isEmpty, let scale else { return nil }
        var c = SVGChart(x: 0...Double(max(1, r.timeline.count)), y: scale, logY: true)
        c.line(pts.map { ($0.0, Double($0.1.p50)) }, stroke: "#3a9d5d")
        c.line(pts.map { ($0.0, Double($0.1.p90)) }, stroke: "#e0a800")
        c.line(pts.map { ($0.0, Double($0.1.p99)) }, stroke: "#c0392b")
        return legend([("p50", "#3a9d5d"), ("p90", "#e0a800"), ("p99", "#c0392b")])
            + c.svg(xLabel: "seconds", yLabel: label, yFormat: SVGChart.micros(_:step:))
    }

    /// The busiest tuple's port range (y, in port numbers) against time (x): each census's slices,
    /// shaded by the share of the slice's ports in use. A slice b holds the ports p with
    /// (p - rangeLow) * slices / span == b, as the census counts them.
    static func heatmap(_ a: Analysis) -> String? {
        guard let t = a.tuples.max(by: { $0.peakPortsInUse < $1.peakPortsInUse }), let n = t.points.first?.buckets.count, n > 0,
              t.rangeHigh >= t.rangeLow else { return nil }
        let low = Int(t.rangeLow), span = Int(t.rangeHigh) - low + 1
        func firstPort(_ b: Int) -> Int { low + (b * span + n - 1) / n }
        var c = SVGChart(x: 0...max(1, Double((t.points.last?.atMs ?? 0) + 1000) / 1000), y: Double(low)...Double(low + span), wholeY: true)
        for (i, p) in t.points.enumerated() {
            let x0 = Double(p.atMs) / 1000, x1 = i + 1 < t.points.count ? Double(t.points[i + 1].atMs) / 1000 : x0 + 1
            for (b, used) in p.buckets.enumerated() where used > 0 {
                let lo = firstPort(b), hi = firstPort(b + 1) - 1
                guard hi >= lo else { continue }
                c.rect(x0: x0, x1: x1, y0: Double(lo), y1: Double(hi + 1), fill: "#1f6fb2", opacity: min(1, Double(used) / Double(hi - lo + 1)),
                       title: "\(p.atMs) ms: ports \(lo)-\(hi), \(used) in use")
            }
        }
        return c.svg(xLabel: "seconds", yLabel: "local port", yFormat: SVGChart.port(_:step:))
    }

    static func histogram(_ r: RunRecord) -> String? {
        let buckets = r.latency.connectHistogram.buckets
        guard let first = buckets.first?[0], let last = buckets.last?[0] else { return nil }
        // Ten bins per decade.
        var bins: [Int: UInt64] = [:]
        for b in buckets { bins[Int(floor(log10(Double(max(1, b[0]))) * 10)), default: 0] += b[1] }
        let lo = pow(10, floor(log10(Double(max(1, first))))), hi = pow(10, ceil(log10(Double(max(2, last)) * 1.0001)))
        var c = SVGChart(x: lo...hi, y: 0...Double(bins.values.max() ?? 1), logX: true, wholeY: true, headroom: true)
        for (k, n) in bins.sorted(by: { $0.key < $1.key }) {
            c.rect(x0: pow(10, Double(k) / 10), x1: pow(10, Double(k + 1) / 10), y0: 0, y1: Double(n), fill: "#1f6fb2",
                   title: "\(Format.micros(tick: pow(10, Double(k) / 10)))-\(Format.micros(tick: pow(10, Double(k + 1) / 10))): \(n)")
        }
        return c.svg(xLabel: "connect latency", yLabel: "connects", xFormat: SVGChart.micros(_:step:))
    }

    static let css = """
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:920px;margin:24px auto;padding:0 16px;color:#222}
    h1{font-size:22px;margin:0 0 12px;overflow-wrap:anywhere}h2{font-size:17px;margin:28px 0 2px;border-bottom:1px solid #ddd;padding-bottom:3px}
    h3{font-size:15px;margin:0 0 6px}.caption{color:#666;margin:0 0 6px;font-size:13px}
    pre.summary{background:#f6f7f9;border:1px solid #e3e5e8;padding:10px 12px;font-size:12.5px;overflow-x:auto}
    svg.chart{width:100%;height:auto;display:block}.grid{stroke:#eee}.axis{stroke:#888}
    .tick{font-size:11px;fill:#666}.label{font-size:11px;fill:#444}.mark{font-size:11px}
    .legend{font-size:12px;color:#444;margin:2px 0}.legend span{margin-right:14px;white-space:nowrap}
    .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
    ul.verdict{padding-left:18px}ul.verdict li.problem{color:#b02a1a;font-weight:600}ul.verdict li.warning{color:#a0600a;font-weight:600}ul.verdict li.ok{color:#2d7a47;font-weight:600}
    .verdict.ok{color:#2d7a47;font-weight:600}
    .finding{border-left:4px solid #bbb;padding:6px 12px;margin:10px 0;background:#fafafa;overflow-wrap:anywhere}
    .finding.problem{border-color:#c0392b}.finding.warning{border-color:#e0a800}.finding.ok{border-color:#3a9d5d}
    .finding ul{margin:4px 0;padding-left:20px}.sev{font-size:11px;text-transform:uppercase;color:#666;margin-right:6px}
    .scroll{overflow-x:auto;margin:4px 0}
    table.data{border-collapse:collapse;font-size:13px}table.data td,table.data th{border:1px solid #e3e5e8;padding:3px 8px;text-align:left;vertical-align:top}
    table.data th{background:#f6f7f9;font-weight:600}table.data .n{text-align:right}table.data td.n{white-space:nowrap}table.data tr.knee td{background:#fdecea}
    .todo{margin:6px 0 0;font-weight:600;font-size:13px}.advice li{color:#1d4e7a}.foot{color:#888;font-size:12px;margin-top:28px}
    @media (max-width:640px){body{margin:12px auto;padding:0 10px}.tick,.label,.mark{font-size:20px}pre.summary{font-size:11px}}
    """
}
