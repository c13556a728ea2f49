import Foundation
import PortstormRecord

extension RunAnalysis {
    /// A rate as every report prints one (`Format.rate`).
    static func rate(_ x: Double) -> String { Format.rate(x) }

    /// The most successful connections in any 60 consecutive seconds of the timeline: what had to
    /// fit in the ports at once if each left TIME_WAIT behind (TIME_WAIT lasts 60 s).
    static func okWithinTimeWait(_ r: RunRecord) -> UInt64 {
        let ok = r.timeline.map(\.ok)
        let w = Int(PortBudget.timeWaitSeconds)
        var best: UInt64 = 0, sum: UInt64 = 0
        for (i, n) in ok.enumerated() {
            // A record is input from anywhere: a window past 2^64-1 saturates instead of trapping.
            let (added, overflow) = sum.addingReportingOverflow(n)
            if overflow { return .max }
            sum = added
            if i >= w { sum -= ok[i - w] }
            best = max(best, sum)
        }
        return best
    }

    /// The busiest tuple of the start census (`kernelWitness.startCensus`): its ports in use before
    /// the first attempt, its range, and how many of those were in TIME_WAIT (nil: not counted).
    static func heldAtStart(_ r: RunRecord) -> (inUse: Int, size: Int, timeWait: Int?)? {
        guard let b = r.kernelWitness?.startCensus?.busiest, b.rangeSize > 0 else { return nil }
        return (b.portsInUse, b.rangeSize, b.timeWaitInRange)
    }

    /// "2 source(s)", or for a merged record its hosts' budget ("4 hosts x 1 source x 28,232 ports").
    static func sourcesText(_ c: CapacityModel) -> String { c.hosts == nil ? "\(c.tuples) source(s)" : c.budgetText }

    static func capacityFinding(_ r: RunRecord, _ c: CapacityModel, _ tuples: [TupleSeries], _ witness: WitnessCheck?) -> Finding {
        var ev = [String(format: "achieved %@ successful connections/s", rate(c.achievedOkRate))]
        if let want = c.requestedRate { ev.append("requested \(rate(want))/s") }
        ev.append(c.hosts == nil ? "\(c.rangeSize.grouped) ports per tuple, \(c.tuples) tuple(s)" : "\(c.budgetText) toward the target")
        if let busiest = tuples.max(by: { $0.peakOccupancy < $1.peakOccupancy }) {
            var line = "peak occupancy of a tuple: \(pct(busiest.peakOccupancy))"
            if let atStart = busiest.portsInUseAtStart, atStart > 0, busiest.rangeSize > 0 {
                line += "; \(pct(Double(atStart) / Double(busiest.rangeSize))) of the range was already in use before the run"
                if let own = busiest.peakPortsMadeByRun {
                    // The censuses are snapshots: they can miss sockets that live a few ms, so the
                    // record's peak in flight is said beside them when it is higher.
                    line += "; the censuses saw at most \(own.grouped) ports (\(pct(Double(own) / Double(busiest.rangeSize)))) held by this run's own sockets"
                    if c.tuples == 1, let peak = r.process?.peakInFlight, peak > UInt64(own) {
                        line += ", and up to \(peak.grouped) of its attempts were in flight at once (\(pct(Double(peak) / Double(busiest.rangeSize))))"
                    }
                }
            }
            ev.append(line)
        }
        if witness?.closedWithoutTimeWait == true {
            ev.append("the kernel saw no TIME_WAIT made by this run's closes (see the close-mode finding): ports were free again at once")
            return Finding(.info, "capacity", "the port range did not limit this run: its connections left no TIME_WAIT here", evidence: ev)
        }
        // Certificates refused by this side: the client ends those connections itself, whatever --close says.
        let refusedByClient = count(["tls_cert_untrusted", "tls_cert_name_mismatch", "tls_cert_expired"], r)
        let tlsRefused = refusedByClient > 0 && refusedByClient.multipliedReportingOverflow(by: 2).partialValue >= r.totals.outcomes.total
        let rsts = witness?.outRsts ?? 0
        if tlsRefused, rsts >= Int64(clamping: refusedByClient) {
            ev.append("\(refusedByClient.grouped) TLS handshakes ended on the client's own check of the certificate: the client sent its alert and closed with the server's data unread, which sends a reset (OutRsts +\(rsts.grouped) in this namespace)")
            return Finding(.info, "capacity", "the port range did not limit this run: the client reset its failed TLS connections, which leaves no TIME_WAIT", evidence: ev)
        }
        guard let model = c.modelRate else {
            if tlsRefused {
                ev.append("\(refusedByClient.grouped) TLS handshakes ended on the client's own check of the certificate, and the client closed them itself: the TIME_WAIT model is not applied")
                return Finding(.info, "capacity", "the port range is not modelled for this run: the client ended its failed TLS connections itself", evidence: ev)
            }
            ev.append("the client did not close first (--close \(r.config.close.rawValue)): no TIME_WAIT here, so the port range does not bound the rate")
            return Finding(.info, "capacity", "the port range does not limit this way of closing", evidence: ev)
        }
        let ports = c.ports
        guard ports > 0 else {
            return Finding(.info, "capacity", "the effective port range holds no usable port: every connect needs a port outside it",
                           evidence: ev + ["ip_local_reserved_ports covers the whole range, or --local-ports lies inside the reserved ports"])
        }
        if c.hosts != nil {
            ev.append("model without TIME_WAIT reuse: \(c.budgetText) / 60 s = about \(rate(model)) new connections/s")
            if let want = c.requestedRate, let need = scaleNeed(want, c) { ev.append(need) }
        } else {
            ev.append("model without TIME_WAIT reuse: \(c.rangeSize.grouped) ports / 60 s = about \(rate(c.modelRatePerTuple ?? 0)) new connections/s per tuple, \(rate(model))/s in all")
        }
        let within = okWithinTimeWait(r)
        let needed = within > UInt64(ports)
        ev.append("\(within.grouped) successful connections within 60 s (TIME_WAIT's length) against \(ports.grouped) ports")
        let recycled = counterTotals(r)["TWRecycled"] ?? 0
        // Ran out of ports: local failures, with the ports full when a census saw them.
        let peak = tuples.map(\.peakOccupancy).max()
        let exhausted = r.totals.outcomes[.eaddrnotavail].addingSaturating(r.totals.outcomes[.eaddrinuse]) > 0 && (peak ?? 1) >= 0.9
        let title: String
        if c.reuseInEffect {
            ev.append("tcp_tw_reuse was in effect for this target (\(r.system.tcpTwReuse.map(String.init) ?? "2")): a TIME_WAIT tuple may be reused once it is \(r.system.tcpTwReuseDelayMs.map(String.init) ?? "1000") ms old")
            ev.append("TWRecycled grew by \(recycled.grouped) during the run")
        }
        let over = needed ? within - UInt64(ports) : 0
        let shortHosts = (r.hosts ?? []).filter { $0.firstExhaustionSecond != nil }
        if !shortHosts.isEmpty, let hosts = r.hosts {
            // Merged: the sum of the budgets says little about a host that ran out of its own.
            title = "sustainable rate without TIME_WAIT reuse: about \(rate(model)) new connections/s from \(c.budgetText); "
                + "\(shortHosts.map(\.hostName).joined(separator: ", ")) (\(shortHosts.count) of \(hosts.count) hosts) ran out of its own ports nonetheless"
        } else if exhausted {
            // Measured, not modelled: the ok rate before the first local failure, and when it came.
            let at = r.timeline.firstIndex(where: { ($0.failures["eaddrnotavail"] ?? 0) > 0 || ($0.failures["eaddrinuse"] ?? 0) > 0 })
            let onset = at.map { max(0, r.timeline[$0].t) } ?? 0
            let before = r.timeline.prefix(at ?? 0).map(\.ok)
            let okRate = before.isEmpty ? c.achievedOkRate : before.reduce(0.0) { $0 + Double($1) } / Double(before.count)
            let when = onset == 0 ? "within the first second" : "after about \(onset) s"
            let then = "after that only about \(rate(model))/s is sustainable without TIME_WAIT reuse"
                + (c.reuseInEffect ? " (reuse frees a tuple only once it is \(r.system.tcpTwReuseDelayMs.map(String.init) ?? "1000") ms old)" : "")
            if onset == 0, let held = heldAtStart(r), held.inUse * 10 >= held.size * 9 {
                // The start census found the range (nearly) full: earlier sockets held the ports, not this run.
                let tw = held.timeWait.map { ", \($0.grouped) of them in TIME_WAIT" } ?? ""
                title = "the \(held.size.grouped) ports were already held before the run: the start census found \(held.inUse.grouped) of them in use by earlier sockets\(tw); \(then)"
            } else {
                title = "at \(rate(okRate))/s the \(ports.grouped) ports filled \(when); \(then)"
            }
        } else if needed && c.reuseInEffect && recycled >= over {
            title = "the run made \(within.grouped) connections within 60 s, more than its \(ports.grouped) ports hold in TIME_WAIT: TIME_WAIT reuse made up the difference (TWRecycled +\(recycled.grouped) in this namespace)"
        } else if needed && recycled > 0 {
            title = "the run made \(within.grouped) connections within 60 s, \(over.grouped) more than its \(ports.grouped) ports hold in TIME_WAIT: TIME_WAIT reuse covered \(recycled.grouped) (TWRecycled), the rest left no TIME_WAIT on this side (the server closed first, resets, or tcp_max_tw_buckets)"
        } else if needed {
            title = "the run made \(within.grouped) connections within 60 s, more than its \(ports.grouped) ports hold in TIME_WAIT, with no reuse counted: not every connection left a TIME_WAIT socket on this side"
        } else if c.reuseInEffect {
            title = "sustainable rate without TIME_WAIT reuse: about \(rate(model)) new connections/s from \(sourcesText(c)); this run stayed within its ports and needed no reuse"
        } else if c.achievedOkRate <= model * 1.05 {
            title = "sustainable rate without TIME_WAIT reuse: about \(rate(model)) new connections/s from \(sourcesText(c))"
        } else {
            let fill = c.achievedOkRate > 0 ? Double(ports) / c.achievedOkRate : 0
            title = "the run ended before the range filled: at \(rate(c.achievedOkRate))/s the \(ports.grouped) ports fill in about \(rate(fill)) s, then about \(rate(model))/s is sustainable"
        }
        return Finding(.info, "capacity", title, evidence: ev,
                       advice: c.achievedOkRate > model * 0.8 && !c.reuseInEffect ? Array(portAdvice(r).prefix(3)) : [])
    }
}
