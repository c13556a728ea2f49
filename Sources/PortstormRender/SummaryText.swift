import PortstormRecord

/// The terse end-of-run summary for a terminal: rate, outcome table, connect latency, notes.
public enum SummaryText {
    /// What each attempt does, as the header names it: one label per `--protocol`.
    public static func protocolLabel(_ c: RunConfig) -> String {
        c.tls == nil ? plainLabel(c) : "tls, " + plainLabel(c)
    }

    private static func plainLabel(_ c: RunConfig) -> String {
        switch c.wireProtocol {
        case .http: return "http GET \(c.path)"
        case .ws: return "websocket handshake \(c.path)"
        case .tcp: return c.send != nil ? "tcp with payload" : (c.expect != nil ? "tcp, expecting an answer" : "tcp connect")
        }
    }

    public static func render(_ r: RunRecord) -> String {
        var lines: [String] = []
        let c = r.config
        let t = r.totals
        let proto = protocolLabel(c)
        let asked = c.target
        let via = asked == r.target.used || r.target.resolved.count > 1 ? "" : " -> \(r.target.used)"
        lines.append("portstorm \(r.tool.version): \(asked)\(via), \(proto), close=\(c.close.rawValue)")
        if r.target.resolved.count > 1 {
            lines.append("  resolved to \(r.target.resolved.joined(separator: ", ")); used \(r.target.used)")
        }
        if !r.sources.isEmpty {
            let shown = r.sources.count <= 4 ? r.sources.joined(separator: ", ")
                : "\(r.sources.first!) .. \(r.sources.last!) (\(r.sources.count) addresses)"
            lines.append("  sources: \(shown)")
        }
        if let hosts = r.hosts {
            lines.append("  \(hosts.count) hosts: " + hosts.map { h in
                h.firstExhaustionSecond.map { "\(h.hostName) (out of ports from second \($0))" } ?? h.hostName
            }.joined(separator: ", "))
        }
        if let lp = c.localPorts { lines.append("  local ports: \(lp) (\(Format.count(lp.count)) ports per destination)") }
        lines.append("  \(Format.seconds(r.elapsedSeconds)), concurrency \(Format.count(c.concurrency)), threads \(c.threads), \(ended(r.stopReason))")
        var rateLine = "  achieved \(Format.rate(t.achievedRate)) attempts/s"
        if let want = t.requestedRate {
            rateLine = "  requested \(Format.rate(want))/s, achieved \(Format.rate(t.achievedRate))/s"
            rateLine += ", delayed \(Format.count(t.delayed)) (> \(Format.integer(t.delayThresholdMs))ms late), missed \(Format.count(t.missed))"
        }
        lines.append(rateLine)
        lines.append("  attempted \(Format.count(t.attempted)), ok \(Format.count(t.outcomes[.ok])), failed \(Format.count(t.outcomes.failures)), in flight at end \(Format.count(t.inFlightAtEnd))")
        lines.append("")
        lines.append(contentsOf: outcomeTable(t))
        lines.append("")
        let l = r.latency.connect
        if l.count > 0 {
            lines.append("  connect latency  \(percentiles(l))  (\(Format.count(l.count)) connects)")
        } else {
            lines.append("  connect latency  no connection completed")
        }
        if c.tls != nil, let h = r.latency.handshake {
            let tls = r.tls ?? TLSTotals()
            let versions = tls.versions.sorted { $0.key < $1.key }.map { "\($0.key) \(Format.count($0.value))" }.joined(separator: ", ")
            let resumed = c.tls?.resume == true ? ", \(Format.count(tls.resumed)) resumed" : ""
            if h.count > 0 {
                lines.append("  tls handshake    \(percentiles(h))  (\(Format.count(h.count)) handshakes\(resumed)\(versions.isEmpty ? "" : "; " + versions))")
            } else {
                lines.append("  tls handshake    no handshake completed")
            }
        }
        if let f = r.latency.firstByte {
            if f.count > 0 {
                lines.append("  first byte       \(percentiles(f))  (\(Format.count(f.count)) answers)")
            } else {
                lines.append("  first byte       no answer arrived")
            }
        }
        if let p = r.process, p.peakInFlight >= 1000, let perConnection = p.bytesPerConnection {
            lines.append("  generator: peak \(Format.count(p.peakInFlight)) in flight, \(Format.count(p.maxRssKiB / 1024)) MiB peak RSS ("
                         + String(format: "%.0f bytes per connection", perConnection) + "), CPU "
                         + String(format: "%.2fs user + %.2fs system", p.userSeconds, p.systemSeconds))
        }
        for note in r.notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "p50 404us  p90 661us  p99 3.31ms  p99.9 3.84ms  max 3.85ms": one latency line's figures.
    static func percentiles(_ l: LatencySummary) -> String {
        "p50 \(Format.micros(l.p50))  p90 \(Format.micros(l.p90))  p99 \(Format.micros(l.p99))  p99.9 \(Format.micros(l.p999))  max \(Format.micros(l.max))"
    }

    static func ended(_ reason: StopReason) -> String {
        switch reason {
        case .duration: return "ended at its duration"
        case .connections: return "ended at its connection count"
        case .interrupted: return "interrupted (Ctrl-C)"
        }
    }

    /// One row per outcome present: count, share of attempts, local/remote, meaning.
    static func outcomeTable(_ t: Totals) -> [String] {
        let rows = t.outcomes.nonZero
        guard !rows.isEmpty else { return ["  no attempt finished"] }
        let nameW = max(7, rows.map { $0.outcome.name.count }.max()!)
        let countW = max(5, rows.map { Format.count($0.count).count }.max()!)
        var out = ["  " + Format.pad("outcome", nameW) + "  " + Format.pad("count", countW, right: true) + "    share  cause   meaning"]
        for (o, n) in rows {
            let cause = o.cause == .none ? "-" : o.cause.rawValue
            out.append("  " + Format.pad(o.name, nameW) + "  " + Format.pad(Format.count(n), countW, right: true) + "  "
                       + Format.pad(Format.percent(n, of: t.attempted), 7, right: true) + "  " + Format.pad(cause, 6) + "  " + o.meaning)
        }
        return out
    }
}
