import Foundation
import PortstormRecord

extension RunAnalysis {
    /// Mass of the connect-latency histogram near the SYN retransmission times (1 s, 3 s, 7 s):
    /// connects that completed only after their first SYN(s) were dropped.
    static func synRetransmitBumps(_ r: RunRecord) -> Finding? {
        let h = r.latency.connectHistogram
        guard h.count > 0 else { return nil }
        let windows: [(String, ClosedRange<UInt64>)] = [("1 s", 950_000...1_500_000), ("3 s", 2_900_000...3_600_000),
                                                        ("7 s", 6_900_000...7_800_000)]
        var ev: [String] = []
        var total: UInt64 = 0
        for (label, w) in windows {
            let n = h.hdr.count(within: w)
            if n > 0 { ev.append("\(n) connects took about \(label) (\(w.lowerBound / 1000)-\(w.upperBound / 1000) ms)") }
            total += n
        }
        guard total > 0, Double(total) / Double(h.count) >= 0.001 else { return nil }
        ev.append(String(format: "%.2f%% of connects completed after a retransmitted SYN", Double(total) * 100 / Double(h.count)))
        return Finding(.warning, "syn-retransmits", "dropped SYNs: connect latency bunches at the SYN retransmission times", evidence: ev,
                       advice: ["a full accept queue on the server (ListenOverflows), a firewall rate limit, or packet loss on the path"])
    }

    static func capacityFinding(_ r: RunRecord, _ c: CapacityModel, _ tuples: [TupleSeries]) -> Finding {
        var ev = [String(format: "achieved %.0f successful connections/s", c.achievedOkRate)]
        if let want = c.requestedRate { ev.append(String(format: "requested %.0f/s", want)) }
        ev.append("\(c.rangeSize) ports per tuple, \(c.tuples) tuple(s)")
        if let peak = tuples.map(\.peakOccupancy).max() { ev.append("peak occupancy of a tuple: \(pct(peak))") }
        guard let model = c.modelRate else {
            ev.append("the client did not close first (--close \(r.config.close.rawValue)): no TIME_WAIT here, so the port range does not bound the rate")
            return Finding(.info, "capacity", "the port range does not limit this way of closing", evidence: ev)
        }
        ev.append(String(format: "model without TIME_WAIT reuse: %d ports / 60 s = about %.0f new connections/s per tuple, %.0f/s in all",
                         c.rangeSize, c.modelRatePerTuple ?? 0, model))
        if c.reuseInEffect {
            ev.append("tcp_tw_reuse was in effect for this target (\(r.system.tcpTwReuse.map(String.init) ?? "?")): TIME_WAIT tuples are reused after \(r.system.tcpTwReuseDelayMs.map(String.init) ?? "1000") ms, so the run can exceed the model")
            let recycled = r.timeline.compactMap { $0.kernel?.counters["TWRecycled"] }.reduce(Int64(0)) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
            if recycled > 0 { ev.append("TWRecycled grew by \(recycled) during the run") }
        }
        let ports = Double(c.rangeSize) * Double(c.tuples)
        let fill = c.achievedOkRate > 0 ? ports / c.achievedOkRate : 0
        let exhausted = r.totals.outcomes[.eaddrnotavail] + r.totals.outcomes[.eaddrinuse] > 0
        let title: String
        if c.achievedOkRate <= model * 1.05 {
            title = String(format: "sustainable rate without TIME_WAIT reuse: about %.0f new connections/s from %d source(s)", model, c.tuples)
        } else if c.reuseInEffect {
            title = String(format: "the run made %.0f/s, above the %.0f/s the port range allows without reuse: TIME_WAIT reuse made up the difference", c.achievedOkRate, model)
        } else if exhausted {
            // Measured, not modelled: the ok rate before the first local failure, and when it came.
            let onset: Int = r.timeline.first(where: { ($0.failures["eaddrnotavail"] ?? 0) + ($0.failures["eaddrinuse"] ?? 0) > 0 }).map { $0.t } ?? 0
            let before = r.timeline.prefix(max(0, onset)).map(\.ok)
            let rate = before.isEmpty ? c.achievedOkRate : before.reduce(0.0) { $0 + Double($1) } / Double(before.count)
            title = String(format: "at %.0f/s the %.0f ports filled after about %d s; after that only about %.0f/s is sustainable", rate, ports, onset, model)
        } else {
            title = String(format: "the run ended before the range filled: at %.0f/s the %.0f ports fill in about %.0f s, then about %.0f/s is sustainable", c.achievedOkRate, ports, fill, model)
        }
        return Finding(.info, "capacity", title, evidence: ev,
                       advice: c.achievedOkRate > model * 0.8 && !c.reuseInEffect ? Array(portAdvice.prefix(3)) : [])
    }

    static func healthFinding(_ r: RunRecord, _ h: GeneratorHealth) -> Finding? {
        guard let want = h.requestedRate else { return nil }
        var ev = [String(format: "requested %.0f/s, achieved %.0f/s", want, h.achievedRate),
                  "\(h.delayed) attempts started late (> \(String(format: r.totals.delayThresholdMs < 1e15 ? "%.0f" : "%.3g", r.totals.delayThresholdMs)) ms), \(h.missed) never started"]
        guard h.generatorLimited else {
            return Finding(.ok, "generator", "the generator kept the requested rate", evidence: ev)
        }
        if r.totals.inFlightAtEnd > 0 || Double(r.config.concurrency) <= want {
            ev.append("--concurrency \(r.config.concurrency) caps attempts in flight: when they all wait, new ones cannot start")
        }
        return Finding(.warning, "generator", "the generator did not keep the requested rate: the results understate the load asked for",
                       evidence: ev, advice: ["raise --concurrency (slow connects hold slots)", "add --threads on a machine with spare cores"])
    }
}
