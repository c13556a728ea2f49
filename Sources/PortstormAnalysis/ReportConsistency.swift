import Foundation
import PortstormRecord

/// Checks a report against itself and against its record: a finding that contradicts another or
/// the record, advice to set what is already in effect or what cannot be set, figures that disagree
/// with the totals, latency percentiles out of order, impossible rates. Pure; the truth suite runs
/// every report it produces through it.
public enum ReportConsistency {
    /// One sentence per contradiction found; empty when the report and the record agree.
    public static func problems(record r: RunRecord, findings: [Finding]) -> [String] {
        var out: [String] = []
        out += recordInvariants(r)
        out += latencyOrder(r)
        out += numbersAgree(r, findings)
        out += impossibleFigures(r, findings)
        out += counterFigures(r, findings)
        out += weakCorrelations(findings)
        out += adviceAlreadyInEffect(r, findings)
        out += claimsAgainstTheRecord(r, findings)
        return out
    }

    // MARK: the record alone

    static func recordInvariants(_ r: RunRecord) -> [String] {
        var out: [String] = []
        let t = r.totals
        if !t.isBalanced {
            out.append("totals do not add up: attempted \(t.attempted.grouped) but outcomes \(t.outcomes.total.grouped) + in flight at end \(t.inFlightAtEnd.grouped)")
        }
        if !t.achievedRate.isFinite || t.achievedRate < 0 { out.append("impossible achieved rate \(t.achievedRate)/s") }
        if let want = t.requestedRate, !want.isFinite || want <= 0 { out.append("impossible requested rate \(want)/s") }
        if !r.timeline.isEmpty {
            let ok = r.timeline.reduce(UInt64(0)) { $0.addingSaturating($1.ok) }
            if ok != t.outcomes[.ok] { out.append("the timeline counts \(ok.grouped) ok, the totals \(t.outcomes[.ok].grouped)") }
            var perSecond: [String: UInt64] = [:]
            for s in r.timeline { for (name, n) in s.failures { perSecond[name] = perSecond[name, default: 0].addingSaturating(n) } }
            for (o, n) in t.outcomes.nonZero where !o.isOK && (perSecond[o.name] ?? 0) != n {
                out.append("the timeline counts \((perSecond[o.name] ?? 0).grouped) \(o.name), the totals \(n.grouped)")
            }
            if let tls = r.tls, r.timeline.allSatisfy({ $0.handshakes != nil }) {
                let n = r.timeline.reduce(UInt64(0)) { $0.addingSaturating($1.handshakes!) }
                if n != tls.handshakes { out.append("the timeline counts \(n.grouped) TLS handshakes, tls.handshakes \(tls.handshakes.grouped)") }
            }
        }
        return out
    }

    /// p50 <= p90 <= p99 (<= p99.9) <= max, for the run and for every second.
    static func latencyOrder(_ r: RunRecord) -> [String] {
        var out: [String] = []
        let l = r.latency.connect
        if l.count > 0, !(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max) {
            out.append("connect latency percentiles out of order: p50 \(l.p50), p90 \(l.p90), p99 \(l.p99), p99.9 \(l.p999), max \(l.max) us")
        }
        for s in r.timeline {
            for (name, p) in [("connect", s.connectLatencyUs), ("handshake", s.handshakeLatencyUs)] {
                guard let p, !(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max) else { continue }
                out.append("second \(s.t): \(name) latency percentiles out of order: p50 \(p.p50), p90 \(p.p90), p99 \(p.p99), max \(p.max) us")
            }
        }
        return out
    }

    // MARK: findings against the record

    /// A count as findings print it, with or without thousands separators ("28,232").
    static func count(_ text: Substring) -> UInt64? { UInt64(text.filter { $0 != "," }) }

    /// Counts quoted in findings ("N attempts (x%) ended NAME", "N ok of M attempted") equal the totals.
    static func numbersAgree(_ r: RunRecord, _ findings: [Finding]) -> [String] {
        var out: [String] = []
        for f in findings {
            for line in [f.title] + f.evidence {
                if let m = line.firstMatch(of: #/^(\d[\d,]*) attempts \([0-9.]+%\) ended ([a-z_0-9]+)/#),
                   let n = count(m.1), let o = Outcome(name: String(m.2)), r.totals.outcomes[o] != n {
                    out.append("finding \"\(f.title)\" says \(n.grouped) attempts ended \(m.2); the totals say \(r.totals.outcomes[o].grouped)")
                }
                if let m = line.firstMatch(of: #/^(\d[\d,]*) ok of (\d[\d,]*) attempted/#), let ok = count(m.1), let all = count(m.2),
                   ok != r.totals.outcomes[.ok] || all != r.totals.attempted {
                    out.append("finding \"\(f.title)\" says \(ok.grouped) ok of \(all.grouped) attempted; the totals say \((r.totals.outcomes[.ok]).grouped) of \(r.totals.attempted.grouped)")
                }
            }
        }
        return out
    }

    /// Rates that cannot be: negative, not a number, or a model that allows 0 connections/s.
    static func impossibleFigures(_ r: RunRecord, _ findings: [Finding]) -> [String] {
        var out: [String] = []
        let widest = PortBudget.widestRange(r.system)
        for f in findings {
            for line in [f.title] + f.evidence + f.advice {
                if line.contains(#/(^|[^0-9.,])-[0-9.,]+/s/#) { out.append("a negative rate in \"\(line)\"") }
                if line.contains(#/\b(nan|inf)\b/#) { out.append("a figure that is not a number in \"\(line)\"") }
                if line.contains(#/(the|about) 0(\.0+)?(/s| new connections/s)/#) {
                    out.append("a modelled rate of 0/s in \"\(line)\"")
                }
                for m in line.matches(of: #/range of (\d[\d,]*) ports/#) {
                    if let n = count(m.1), n > widest {
                        out.append("advice for a range of \(n.grouped) ports, wider than the \(widest.grouped) a port range can hold: \"\(line)\"")
                    }
                }
            }
        }
        return out
    }

    /// Kernel counter growth quoted in findings ("ListenOverflows grew by 40", "PassiveOpens +106")
    /// equals the record's: the timeline's per-second sum or the run's witness.
    static func counterFigures(_ r: RunRecord, _ findings: [Finding]) -> [String] {
        var out: [String] = []
        let timeline = RunAnalysis.counterTotals(r)
        let witness = r.kernelWitness?.counters ?? [:]
        let known = Set(timeline.keys).union(witness.keys)
        for f in findings {
            for line in [f.title] + f.evidence {
                var quoted: [(String, Int64)] = []
                for m in line.matches(of: #/\b([A-Z][A-Za-z]+) grew by (\d+)/#) { if let n = Int64(m.2) { quoted.append((String(m.1), n)) } }
                for m in line.matches(of: #/\b([A-Z][A-Za-z]+) \+(\d+)\b/#) { if let n = Int64(m.2) { quoted.append((String(m.1), n)) } }
                for (name, n) in quoted where known.contains(name) || name == "TWRecycled" {
                    let fromTimeline = timeline[name] ?? 0
                    if n != fromTimeline && witness[name].map({ $0 != n }) ?? true {
                        out.append("\"\(line)\" quotes \(name) +\(n.grouped); the record has +\(fromTimeline) in the timeline" + (witness[name].map { " and +\($0) over the run" } ?? ""))
                    }
                }
            }
        }
        return out
    }

    /// "follows" is said of a strong positive correlation only.
    static func weakCorrelations(_ findings: [Finding]) -> [String] {
        var out: [String] = []
        for f in findings {
            for line in f.evidence where line.contains("follow") && !line.contains("not follow") {
                if let m = line.firstMatch(of: #/r = (-?[0-9.]+)/#), let r = Double(m.1), r < RunAnalysis.strongCorrelation {
                    out.append("\"\(line)\": r = \(m.1) is not a strong positive correlation")
                }
            }
        }
        return out
    }

    /// Advice to set what the record shows is already set.
    static func adviceAlreadyInEffect(_ r: RunRecord, _ findings: [Finding]) -> [String] {
        var out: [String] = []
        let loopback = RunAnalysis.targetIsLoopback(r)
        let reuse = PortBudget.reuseApplies(r.system, targetIsLoopback: loopback)
        for f in findings {
            for a in f.advice {
                if reuse, a.contains("tcp_tw_reuse=1") {
                    out.append("advice \"\(a)\" while tcp_tw_reuse = \(r.system.tcpTwReuse.map(String.init) ?? "2 (default)") already applies to \(r.target.used)")
                }
                if r.config.close == .rst, a.contains("--close rst") { out.append("advice \"\(a)\" for a run that already closed with --close rst") }
                if r.config.close == .server, a.hasPrefix("let the server close first") {
                    out.append("advice \"\(a)\" for a run where the server already closed first (--close server)")
                }
                if (r.system.tcpTimestamps ?? 0) != 0, a.contains("tcp_timestamps = 1") {
                    out.append("advice \"\(a)\" while tcp_timestamps is already \(r.system.tcpTimestamps!)")
                }
            }
        }
        return out
    }

    /// Claims a finding makes that the record's own figures deny.
    static func claimsAgainstTheRecord(_ r: RunRecord, _ findings: [Finding]) -> [String] {
        var out: [String] = []
        let counters = RunAnalysis.counterTotals(r)
        let failures = r.totals.outcomes.failures
        for f in findings {
            let text = ([f.title] + f.evidence).joined(separator: "\n")
            if f.topic == "all-ok", failures > 0 {
                out.append("finding \"\(f.title)\" while \(failures) attempts failed")
            }
            if text.contains("TIME_WAIT reuse made up the difference") {
                let recycled = counters["TWRecycled"] ?? 0
                let ports = Int64(PortBudget.effectiveRange(r.system, perSocket: r.config.localPorts).size * max(1, r.sources.count))
                let over = Int64(clamping: RunAnalysis.okWithinTimeWait(r)) - ports
                if recycled == 0 || recycled < over {
                    out.append("finding \"\(f.title)\" credits TIME_WAIT reuse with \(max(0, over)) connections beyond the ports, but TWRecycled grew by \(recycled.grouped)")
                }
            }
            if f.topic == "capacity", f.title.contains("needed no reuse") || f.title.contains("ended before the range filled"),
               findings.contains(where: { $0.topic == "port-exhaustion" }) {
                out.append("finding \"\(f.title)\" while another says the client ran out of ports")
            }
            if let w = RunAnalysis.witnessCheck(r) {
                let overflowed = (w.listenOverflows ?? 0) > 0 && (w.passiveOpens.map { $0 < Int64(clamping: w.connected) } ?? false)
                if overflowed, f.title.contains("accepted but did not answer") {
                    out.append("finding \"\(f.title)\" while the local server's kernel completed \((w.passiveOpens!).grouped) handshakes for \(w.connected.grouped) connections and ListenOverflows grew: the server never accepted some")
                }
                if w.closedWithoutTimeWait, f.topic == "capacity",
                   ["sustainable rate without TIME_WAIT reuse", "ports filled", "ports fill in", "reuse made up"].contains(where: f.title.contains) {
                    out.append("finding \"\(f.title)\" applies the TIME_WAIT model to a run whose closes made no TIME_WAIT")
                }
                if f.topic == "kernel-witness", f.severity == .ok, let opens = w.activeOpens, opens < Int64(clamping: w.sentSYN) {
                    out.append("finding \"\(f.title)\" while ActiveOpens +\(opens.grouped) is below the \(w.sentSYN.grouped) SYNs portstorm counted")
                }
                if let m = text.firstMatch(of: #/portstorm counted (\d[\d,]*) connected/#), let n = count(m.1), n != w.connected {
                    out.append("finding \"\(f.title)\" says portstorm counted \(n.grouped) connected; the totals give \(w.connected.grouped)")
                }
            }
            if f.title.contains("ran out of ephemeral ports"),
               let peak = r.timeline.compactMap({ $0.kernel?.census?.busiest?.occupancy }).max(), peak < 0.9 {
                out.append("finding \"\(f.title)\" while the busiest tuple never had more than \(RunAnalysis.pct(peak)) of its ports in use")
            }
            // A tuple's TIME_WAIT is counted on its own ports: never more than the range holds.
            for m in text.matches(of: #/up to (\d[\d,]*) of that tuple's (\d[\d,]*) ports/#) {
                if let tw = count(m.1), let size = count(m.2), tw > size {
                    out.append("finding \"\(f.title)\" puts \(tw.grouped) sockets in TIME_WAIT on a tuple of \(size.grouped) ports")
                }
            }
        }
        return out
    }
}
