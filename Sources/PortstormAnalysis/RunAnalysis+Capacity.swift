import Foundation
import PortstormRecord

extension RunAnalysis {
    /// A rate in words: whole numbers from 10/s up, else with the decimals that keep it non-zero.
    static func rate(_ x: Double) -> String {
        // Whole rates grouped as every count is (1,075); past 10^15, or not finite, as printf has them.
        if x >= 10 { return x.isFinite && x < 1e15 ? Int64(x.rounded()).grouped : String(format: "%.0f", x) }
        return x >= 1 ? String(format: "%.1f", x) : String(format: "%.2f", x)
    }

    /// The most successful connections in any 60 consecutive seconds of the timeline: what had to
    /// fit in the ports at once if each left TIME_WAIT behind (TIME_WAIT lasts 60 s).
    static func okWithinTimeWait(_ r: RunRecord) -> UInt64 {
        let ok = r.timeline.map(\.ok)
        let w = Int(PortBudget.timeWaitSeconds)
        var best: UInt64 = 0, sum: UInt64 = 0
        for (i, n) in ok.enumerated() {
            sum += n
            if i >= w { sum -= ok[i - w] }
            best = max(best, sum)
        }
        return best
    }

    static func capacityFinding(_ r: RunRecord, _ c: CapacityModel, _ tuples: [TupleSeries], _ witness: WitnessCheck?) -> Finding {
        var ev = [String(format: "achieved %@ successful connections/s", rate(c.achievedOkRate))]
        if let want = c.requestedRate { ev.append("requested \(rate(want))/s") }
        ev.append("\(c.rangeSize.grouped) ports per tuple, \(c.tuples) tuple(s)")
        if let peak = tuples.map(\.peakOccupancy).max() { ev.append("peak occupancy of a tuple: \(pct(peak))") }
        if witness?.closedWithoutTimeWait == true {
            ev.append("the kernel saw no TIME_WAIT made by this run's closes (see the close-mode finding): ports were free again at once")
            return Finding(.info, "capacity", "the port range did not limit this run: its connections left no TIME_WAIT here", evidence: ev)
        }
        guard let model = c.modelRate else {
            ev.append("the client did not close first (--close \(r.config.close.rawValue)): no TIME_WAIT here, so the port range does not bound the rate")
            return Finding(.info, "capacity", "the port range does not limit this way of closing", evidence: ev)
        }
        let ports = c.rangeSize * c.tuples
        guard ports > 0 else {
            return Finding(.info, "capacity", "the effective port range holds no usable port: every connect needs a port outside it",
                           evidence: ev + ["ip_local_reserved_ports covers the whole range, or --local-ports lies inside the reserved ports"])
        }
        ev.append("model without TIME_WAIT reuse: \(c.rangeSize.grouped) ports / 60 s = about \(rate(c.modelRatePerTuple ?? 0)) new connections/s per tuple, \(rate(model))/s in all")
        let within = okWithinTimeWait(r)
        let needed = within > UInt64(ports)
        ev.append("\(within.grouped) successful connections within 60 s (TIME_WAIT's length) against \(ports.grouped) ports")
        let recycled = counterTotals(r)["TWRecycled"] ?? 0
        let exhausted = r.totals.outcomes[.eaddrnotavail] + r.totals.outcomes[.eaddrinuse] > 0
        let title: String
        if c.reuseInEffect {
            ev.append("tcp_tw_reuse was in effect for this target (\(r.system.tcpTwReuse.map(String.init) ?? "2")): a TIME_WAIT tuple may be reused once it is \(r.system.tcpTwReuseDelayMs.map(String.init) ?? "1000") ms old")
            ev.append("TWRecycled grew by \(recycled.grouped) during the run")
            if needed && recycled > 0 {
                title = "the run made \(within.grouped) connections within 60 s, more than its \(ports.grouped) ports hold in TIME_WAIT: TIME_WAIT reuse made up the difference (TWRecycled +\(recycled.grouped))"
            } else if needed {
                title = "the run made \(within.grouped) connections within 60 s, more than its \(ports.grouped) ports hold in TIME_WAIT, with no reuse counted: not every connection left a TIME_WAIT socket here"
            } else {
                title = "sustainable rate without TIME_WAIT reuse: about \(rate(model)) new connections/s from \(c.tuples) source(s); this run stayed within its ports and needed no reuse"
            }
        } else if c.achievedOkRate <= model * 1.05 && !needed {
            title = "sustainable rate without TIME_WAIT reuse: about \(rate(model)) new connections/s from \(c.tuples) source(s)"
        } else if exhausted {
            // Measured, not modelled: the ok rate before the first local failure, and when it came.
            let onset: Int = r.timeline.first(where: { ($0.failures["eaddrnotavail"] ?? 0) + ($0.failures["eaddrinuse"] ?? 0) > 0 }).map { $0.t } ?? 0
            let before = r.timeline.prefix(onset).map(\.ok)
            let okRate = before.isEmpty ? c.achievedOkRate : Double(before.reduce(0, +)) / Double(before.count)
            title = "at \(rate(okRate))/s the \(ports.grouped) ports filled after about \(onset) s; after that only about \(rate(model))/s is sustainable"
        } else if !needed {
            let fill = c.achievedOkRate > 0 ? Double(ports) / c.achievedOkRate : 0
            title = "the run ended before the range filled: at \(rate(c.achievedOkRate))/s the \(ports.grouped) ports fill in about \(rate(fill)) s, then about \(rate(model))/s is sustainable"
        } else {
            title = "the run made \(within.grouped) connections within 60 s, more than its \(ports.grouped) ports hold in TIME_WAIT, without reuse and without running out: not every connection left a TIME_WAIT socket here"
        }
        return Finding(.info, "capacity", title, evidence: ev,
                       advice: c.achievedOkRate > model * 0.8 && !c.reuseInEffect ? Array(portAdvice(r).prefix(3)) : [])
    }
}
