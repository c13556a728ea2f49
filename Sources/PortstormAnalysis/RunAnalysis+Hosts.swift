import Foundation
import PortstormRecord

/// One host's port budget in the capacity model of a merged record.
public struct HostCapacity: Codable, Sendable, Equatable {
    public var hostName: String
    public var tuples: Int
    public var rangeSize: Int
    public var reuseInEffect: Bool
    /// How many of the merged runs shared this one network namespace, and so this budget (nil: one).
    public var runs: Int?
}

extension CapacityModel {
    /// Ports the generators hold toward the target at once: every host's range times its tuples.
    public var ports: Int {
        guard let hosts else { return RunAnalysis.product(rangeSize, tuples) }
        return hosts.reduce(0) { RunAnalysis.sum($0, RunAnalysis.product($1.rangeSize, $1.tuples)) }
    }

    /// The budget in words: "4 hosts x 1 source x 28,232 ports" (hosts with the same budget grouped,
    /// "+" between groups), or "2 sources x 28,232 ports" for one host.
    public var budgetText: String {
        func sources(_ n: Int) -> String { "\(n.grouped) source\(n == 1 ? "" : "s")" }
        guard let hosts else { return "\(sources(tuples)) x \(RunAnalysis.count(rangeSize)) ports" }
        var groups: [(tuples: Int, range: Int, n: Int)] = []
        var shared: [String] = []
        for h in hosts {
            if let runs = h.runs, runs > 1 {
                shared.append("1 namespace shared by \(runs) runs x \(sources(h.tuples)) x \(RunAnalysis.count(h.rangeSize)) ports")
            } else if let i = groups.firstIndex(where: { $0.tuples == h.tuples && $0.range == h.rangeSize }) { groups[i].n += 1 }
            else { groups.append((h.tuples, h.rangeSize, 1)) }
        }
        return (groups.map { "\($0.n) host\($0.n == 1 ? "" : "s") x \(sources($0.tuples)) x \(RunAnalysis.count($0.range)) ports" } + shared)
            .joined(separator: " + ")
    }
}

extension RunAnalysis {
    /// 28232 -> "28,232".
    static func count<T: BinaryInteger>(_ n: T) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// a x b and a + b, stopping at Int.max (crafted records may hold any numbers).
    static func product(_ a: Int, _ b: Int) -> Int {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? .max : p
    }

    static func sum(_ a: Int, _ b: Int) -> Int {
        let (p, o) = a.addingReportingOverflow(b)
        return o ? .max : p
    }

    /// The capacity model of a merged record: every host's own range and sources.
    static func hostsCapacity(_ r: RunRecord, _ hosts: [HostRun], okRate: Double) -> CapacityModel {
        // Runs that shared a network namespace shared its ports: one budget, their sources joined.
        let shared = RunRecord.sharedNamespaces(hosts.map { ($0.networkNamespace, $0.hostName) })
        var caps: [HostCapacity] = []
        for (i, h) in hosts.enumerated() {
            if let g = shared.first(where: { $0.contains(i) }) {
                guard g[0] == i else { continue }
                let members = g.map { hosts[$0] }
                let sources = Set(members.flatMap(\.sources))
                caps.append(HostCapacity(hostName: members.map(\.hostName).joined(separator: "+"), tuples: max(1, sources.count),
                                         rangeSize: members.map(\.portBudget.rangeSize).min()!,
                                         reuseInEffect: members.allSatisfy(\.portBudget.reuseInEffect), runs: g.count))
            } else {
                caps.append(HostCapacity(hostName: h.hostName, tuples: h.portBudget.tuples, rangeSize: h.portBudget.rangeSize,
                                         reuseInEffect: h.portBudget.reuseInEffect))
            }
        }
        let ports = caps.reduce(0) { sum($0, product($1.rangeSize, $1.tuples)) }
        let uniform = caps.allSatisfy { $0.rangeSize == caps[0].rangeSize }
        let clientCloses = r.config.close == .client
        var c = CapacityModel(rangeSize: caps.map(\.rangeSize).min() ?? 0, tuples: caps.reduce(0) { sum($0, $1.tuples) },
                              reuseInEffect: caps.allSatisfy(\.reuseInEffect),
                              modelRatePerTuple: clientCloses && uniform ? PortBudget.sustainableRate(rangeSize: caps[0].rangeSize) : nil,
                              modelRate: clientCloses ? PortBudget.sustainableRate(rangeSize: ports) : nil,
                              achievedOkRate: okRate, requestedRate: r.config.rate)
        c.hosts = caps
        return c
    }

    /// What a rate needs, without TIME_WAIT reuse, in hosts like the median one or in source
    /// addresses: nil when the rate fits the budget, or when there is no model.
    static func scaleNeed(_ want: Double, _ c: CapacityModel) -> String? {
        guard let hosts = c.hosts, let model = c.modelRate, want > model, !hosts.isEmpty else { return nil }
        let sorted = hosts.sorted { product($0.rangeSize, $0.tuples) < product($1.rangeSize, $1.tuples) }
        let typical = sorted[sorted.count / 2]
        let perHost = PortBudget.sustainableRate(rangeSize: product(typical.rangeSize, typical.tuples))
        let perSource = PortBudget.sustainableRate(rangeSize: typical.rangeSize)
        // Counts a person can act on: not for rates past any real load (or not numbers at all).
        guard perHost > 0, perSource > 0, want.isFinite, want / perSource < 1e9 else { return nil }
        let needHosts = Int((want / perHost).rounded(.up))
        let needSources = Int((want / perSource).rounded(.up))
        let perHostSources = Int((Double(needSources) / Double(hosts.count)).rounded(.up))
        return "\(rate(want))/s without TIME_WAIT reuse needs \(needHosts) hosts like \(typical.hostName) (\(rate(perHost))/s each), "
            + "or \(needSources) source addresses of \(count(typical.rangeSize)) ports in all (\(perHostSources) per host on \(hosts.count) host\(hosts.count == 1 ? "" : "s"))"
    }

    /// A merged record's kernels: its hosts less those that shared a network namespace (nil: not merged).
    static func kernels(_ r: RunRecord) -> Int? {
        guard let hosts = r.hosts else { return nil }
        return hosts.count - RunRecord.sharedNamespaces(hosts.map { ($0.networkNamespace, $0.hostName) }).reduce(0) { $0 + $1.count - 1 }
    }

    /// The per-host view of a merged record: which host ran out of ports first, and each host's budget.
    static func hostsFindings(_ r: RunRecord) -> [Finding] {
        guard let hosts = r.hosts, !hosts.isEmpty else { return [] }
        var out: [Finding] = []
        let ev = hosts.map(hostLine)
        let exhausted = hosts.filter { $0.firstExhaustionSecond != nil }.sorted { $0.firstExhaustionSecond! < $1.firstExhaustionSecond! }
        if let first = exhausted.first {
            let others = hosts.count - exhausted.count
            var title = "\(first.hostName) ran out of local ports first, at second \(first.firstExhaustionSecond!)"
                + " (\(first.portBudget.tuples) source x \(count(first.portBudget.rangeSize)) ports)"
            if exhausted.count > 1 {
                title += "; then " + exhausted.dropFirst().map { "\($0.hostName) at \($0.firstExhaustionSecond!)" }.joined(separator: ", ")
            }
            title += others > 0 ? "; \(others) of \(hosts.count) hosts did not" : "; every host did"
            let budgets = Set(hosts.map(\.portBudget.ports))  // saturating: crafted figures do not trap
            var advice: [String] = []
            if budgets.count > 1 {
                advice.append("the hosts' port budgets differ: widen the range of \(exhausted.map(\.hostName).joined(separator: ", ")) to the others' (net.ipv4.ip_local_port_range, or --local-ports), or give it a smaller share")
            }
            out.append(Finding(.warning, "hosts", title, evidence: ev, advice: advice))
        } else {
            out.append(Finding(.info, "hosts", "\(hosts.count) hosts, none ran out of local ports", evidence: ev))
        }
        for g in RunRecord.sharedNamespaces(hosts.map { ($0.networkNamespace, $0.hostName) }) {
            let names = HostRun.names(g.map { hosts[$0] })
            let sure = g.allSatisfy { hosts[$0].networkNamespace != nil }
            var ev = [sure ? "their records name the same network namespace (inode \(hosts[g[0]].networkNamespace!.inode), same boot)"
                           : "their records carry the same host name (\(hosts[g[0]].hostName)) and no namespace of their own: taken as one namespace"]
            ev.append("one namespace has one kernel and one port range: its counters and ports are counted once, not once per run")
            if r.kernelWitness == nil, g.allSatisfy({ hosts[$0].kernelWitness != nil }) {
                ev.append("the runs overlapped in time, neither within another's, and their records lack the counters' start values: their kernel counters could not be separated, so there is no kernel witness")
            }
            out.append(Finding(.info, "hosts", "\(names.joined(separator: ", ")) ran in one network namespace: counted as one kernel and one port budget",
                               evidence: ev))
        }
        let late = hosts.filter { ($0.startLateMs ?? 0) >= 1000 }
        if !late.isEmpty {
            let lines = late.map { String(format: "%@ started %.1f s after --start-at (merged seconds from %d)", $0.hostName, Double($0.startLateMs!) / 1000, $0.offsetSeconds) }
            out.append(Finding(.warning, "late-start", "\(late.count) of \(hosts.count) hosts started late: the merged first seconds lack their load",
                               evidence: lines, advice: ["start the shards earlier before --start-at (image pull, scheduling), or set --start-at further ahead"]))
        }
        return out
    }

    static func hostLine(_ h: HostRun) -> String {
        let b = h.portBudget
        var s = "\(h.hostName)"
        if let shard = h.shard { s += " (shard \(shard))" }
        s += ": \(b.tuples) source x \(count(b.rangeSize)) ports (\(b.rangeLow)-\(b.rangeHigh)), tcp_tw_reuse \(h.system.tcpTwReuse.map(String.init) ?? "unknown")"
        s += ", \(count(h.totals.attempted)) attempted, \(count(h.totals.outcomes[.ok])) connected"
        let short = h.totals.outcomes[.eaddrnotavail].addingSaturating(h.totals.outcomes[.eaddrinuse])
        if let t = h.firstExhaustionSecond { s += ", \(count(short)) could not get a port from second \(t)" }
        if let p = h.peakOccupancy { s += ", busiest tuple up to \(pct(p)) of its ports" }
        if let late = h.startLateMs { s += late >= 1000 ? String(format: ", started %.1f s late", Double(late) / 1000) : ", started on time (+\(late) ms)" }
        return s
    }
}
