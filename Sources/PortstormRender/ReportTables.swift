import Foundation
import PortstormAnalysis
import PortstormRecord

/// The tables the Markdown and the HTML report both show, as rows of text: each renderer only
/// wraps them in its own markup, so the two cannot drift. Formats only: the figures come from the
/// record (`config`, `target`, `system`) and the analysis (`capacity`, `tuples`).
enum ReportTables {
    /// A table: column headers and rows of cells; `numeric[i]` right-aligns column i.
    struct Table {
        var header: [String]
        var numeric: [Bool]
        var rows: [[String]]
        /// A row to set apart (the knee of a plan), by index.
        var marked: Int? = nil
    }

    /// The run's configuration: what was asked for, as `run` recorded it in `config`.
    static func configuration(_ r: RunRecord) -> Table {
        let c = r.config
        var rows: [[String]] = []
        rows.append(["target", c.target == r.target.used ? c.target : "\(c.target), used \(r.target.used)"])
        if r.target.resolved.count > 1 { rows.append(["resolved to", r.target.resolved.joined(separator: ", ")]) }
        rows.append(["each attempt", SummaryText.protocolLabel(c)])
        rows.append(["close", c.close.rawValue + (c.holdMs.map { ", each connection held \(Format.seconds(Double($0) / 1000))" } ?? "")])
        if let rate = c.rate {
            rows.append(["load", "\(Format.rate(rate)) new connections/s (open loop), at most \(Format.count(c.concurrency)) in flight"])
        } else {
            rows.append(["load", "\(Format.count(c.concurrency)) in flight (closed loop)"])
        }
        var bound: [String] = []
        if let d = c.durationSeconds { bound.append(Format.seconds(d)) }
        if let n = c.connections { bound.append("\(Format.count(n)) connections") }
        rows.append(["bounded by", bound.isEmpty ? "-" : bound.joined(separator: " or ")])
        rows.append(["connect timeout", Format.micros(UInt64(max(0, c.connectTimeoutMs)) * 1000)])
        if c.close == .server || c.wireProtocol != .tcp || c.expect != nil {
            rows.append(["response timeout", Format.micros(UInt64(max(0, c.responseTimeoutMs)) * 1000)])
        }
        if let s = c.expectStatus { rows.append(["expected HTTP status", s]) }
        if !r.sources.isEmpty {
            rows.append(["sources", r.sources.count <= 4 ? r.sources.joined(separator: ", ")
                         : "\(r.sources.first!) .. \(r.sources.last!) (\(r.sources.count) addresses)"])
        }
        if let lp = c.localPorts {
            rows.append(["local ports", "\(lp) (--local-ports, \(Format.count(lp.count)) ports)"])
        } else if let range = r.system.ipLocalPortRange, range.count == 2 {
            rows.append(["local ports", "\(range[0])-\(range[1]) (ip_local_port_range)"])
        }
        rows.append(["threads", "\(c.threads)"])
        if let shard = c.shard { rows.append(["shard", "\(shard)"]) }
        rows.append(["ran", "\(Format.seconds(r.elapsedSeconds)) from \(ISO8601DateFormatter().string(from: r.startedAt)), \(SummaryText.ended(r.stopReason))"])
        rows.append(["portstorm, kernel", "\(r.tool.version), \(r.system.kernel)"])
        return Table(header: ["setting", "value"], numeric: [false, false], rows: rows)
    }

    /// One row per outcome present: count, share, cause, and when its failures began and ended (`Analysis.onsets`).
    static func outcomes(_ r: RunRecord, _ a: Analysis) -> Table {
        let t = r.totals
        let rows = t.outcomes.nonZero.map { (o, n) -> [String] in
            let onset = a.onsets.first { $0.outcome == o.name }
            let first: String = onset.map { "\($0.firstSecond)" } ?? "-", last: String = onset.map { "\($0.lastSecond)" } ?? "-"
            let occupancy: String = onset?.occupancyAtOnset.map { Format.share($0) } ?? "-"
            let cause = o.cause == .none ? "-" : o.cause.rawValue
            return [o.name, Format.count(n), Format.percent(n, of: t.attempted), cause, first, last, occupancy]
        }
        return Table(header: ["outcome", "count", "share", "cause", "first s", "last s", "occupancy at onset"],
                     numeric: [false, true, true, false, true, true, true], rows: rows)
    }

    /// One row per host of a merged record (`RunRecord.hosts`): its budget, counts and first exhaustion.
    static func hosts(_ hosts: [HostRun]) -> Table {
        let rows = hosts.map { h -> [String] in
            let b = h.portBudget
            let short = h.totals.outcomes[.eaddrnotavail].addingSaturating(h.totals.outcomes[.eaddrinuse])
            let shard: String = h.shard.map { "\($0)" } ?? "-", reuse: String = h.system.tcpTwReuse.map { "\($0)" } ?? "-"
            let exhausted: String = h.firstExhaustionSecond.map { "\($0)" } ?? "-", late: String = h.startLateMs.map { "\($0) ms" } ?? "-"
            return [h.hostName, shard, "\(b.tuples) x \(Format.count(b.rangeSize))", "\(b.rangeLow)-\(b.rangeHigh)", reuse,
                    Format.count(h.totals.attempted), Format.count(h.totals.outcomes[.ok]), Format.count(short), exhausted, late]
        }
        return Table(header: ["host", "shard", "sources x ports", "range", "tcp_tw_reuse", "attempted", "ok", "no port (eaddrnotavail/inuse)",
                              "out of ports from second", "started after --start-at"],
                     numeric: [false, false, false, false, true, true, true, true, true, true], rows: rows)
    }

    /// The sustainable-rate model beside what the run achieved (`Analysis.capacity`).
    static func capacity(_ r: RunRecord, _ a: Analysis) -> Table {
        let cap = a.capacity
        var rows: [[String]] = []
        if cap.hosts != nil {
            rows.append(["port budget (hosts x sources x ports)", cap.budgetText])
        } else {
            rows.append(["ports per tuple (effective range)", Format.count(cap.rangeSize)])
            rows.append(["tuples (source addresses)", "\(cap.tuples)"])
        }
        rows.append(["model: new connections/s without TIME_WAIT reuse", cap.modelRate.map { Format.rate($0) }
                     ?? (r.config.close == .client ? "not bounded (no TIME_WAIT made here)" : "not bounded (client does not close first)")])
        rows.append(["TIME_WAIT reuse in effect", cap.reuseInEffect ? "yes" : "no"])
        rows.append(["achieved successful connections/s", Format.rate(cap.achievedOkRate)])
        if let want = cap.requestedRate { rows.append(["requested", Format.rate(want)]) }
        return Table(header: ["", "value"], numeric: [false, true], rows: rows)
    }

    /// One row per (source, destination, port) tuple the censuses saw (`Analysis.tuples`); nil without any.
    static func portBudget(_ a: Analysis) -> Table? {
        guard !a.tuples.isEmpty else { return nil }
        let rows = a.tuples.map { s -> [String] in
            let before: String = s.portsInUseAtStart.map { Format.count($0) } ?? "-", own: String = s.peakPortsMadeByRun.map { Format.count($0) } ?? "-"
            return [s.source, "\(s.destination):\(s.port)", Format.count(s.rangeSize), before, Format.count(s.peakPortsInUse), own,
                    Format.share(s.peakOccupancy), s.points.compactMap(\.timeWait).max().map { Format.count($0) } ?? "-"]
        }
        return Table(header: ["source", "destination", "ports", "in use before the run", "peak in use", "peak made by this run",
                              "peak occupancy", "peak TIME_WAIT"],
                     numeric: [false, false, true, true, true, true, true, true], rows: rows)
    }

    /// The steps of a capacity plan: rate asked and achieved, failures, latency, ports (`CapacityPlan.steps`).
    static func planSteps(_ p: CapacityPlan) -> Table {
        // TLS steps add their handshakes (completed, resumed) and handshake p99.
        let tls = p.steps.contains { $0.handshakes != nil }
        let rows = p.steps.enumerated().map { (i, s) -> [String] in
            let step = i == p.kneeStep ? "\(i + 1) (knee)" : "\(i + 1)"
            let occupancy: String = s.peakOccupancy.map { String(format: "%.0f%%", $0 * 100) } ?? "-"
            let tw: String = s.timeWaitAtEnd.map { Format.count($0) } ?? "-"
            var row = [step, Format.rate(s.rate), Format.rate(s.achievedRate), Format.rate(s.achievedRate * (1 - s.failureShare)),
                       String(format: "%.2f%%", s.failureShare * 100), s.dominantFailure ?? "-", Format.micros(s.connectP99Us), occupancy, tw]
            if tls {
                row += [s.handshakes.map { Format.count($0) } ?? "-", s.resumed.map { Format.count($0) } ?? "-",
                        (s.handshakes ?? 0) > 0 ? Format.micros(s.handshakeP99Us ?? 0) : "-"]
            }
            return row
        }
        return Table(header: ["step", "rate asked/s", "attempts/s", "ok/s", "failed", "mostly", "connect p99", "peak port occupancy", "TIME_WAIT at end"]
                        + (tls ? ["TLS handshakes", "resumed", "handshake p99"] : []),
                     numeric: [true, true, true, true, true, false, true, true, true] + (tls ? [true, true, true] : []), rows: rows, marked: p.kneeStep)
    }

    /// The table as Markdown lines (header, alignment row, rows); `|` in a cell is escaped.
    static func markdown(_ t: Table) -> [String] {
        func line(_ cells: [String]) -> String {
            "|" + cells.map { $0.isEmpty ? " " : " \($0.replacingOccurrences(of: "|", with: "\\|")) " }.joined(separator: "|") + "|"
        }
        return [line(t.header), "| " + t.numeric.map { $0 ? "---:" : "---" }.joined(separator: " | ") + " |"] + t.rows.map(line)
    }

    /// The table as HTML, inside a wrapper that scrolls sideways on a narrow screen.
    static func html(_ t: Table, class cls: String = "data") -> String {
        func cells(_ row: [String], _ tag: String) -> String {
            row.enumerated().map { i, v in "<\(tag)\(t.numeric[i] ? " class=\"n\"" : "")>\(HTML.escape(v))</\(tag)>" }.joined()
        }
        return "<div class=\"scroll\"><table class=\"\(cls)\"><thead><tr>\(cells(t.header, "th"))</tr></thead><tbody>"
            + t.rows.enumerated().map { "<tr\($0.offset == t.marked ? " class=\"knee\"" : "")>\(cells($0.element, "td"))</tr>" }.joined()
            + "</tbody></table></div>"
    }
}
