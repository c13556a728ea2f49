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
            if n > 0 { ev.append("\(n.grouped) connects took about \(label) (\(w.lowerBound / 1000)-\(w.upperBound / 1000) ms)") }
            total += n
        }
        guard total > 0, Double(total) / Double(h.count) >= 0.001 else { return nil }
        ev.append(String(format: "%.2f%% of connects completed after a retransmitted SYN", Double(total) * 100 / Double(h.count)))
        return Finding(.warning, "syn-retransmits", "dropped SYNs: connect latency bunches at the SYN retransmission times", evidence: ev,
                       advice: ["a full accept queue on the server (ListenOverflows), a firewall rate limit, or packet loss on the path"])
    }

    static func healthFinding(_ r: RunRecord, _ h: GeneratorHealth) -> Finding? {
        guard let want = h.requestedRate else { return nil }
        var ev = ["requested \(rate(want))/s, achieved \(rate(h.achievedRate))/s",
                  "\(h.delayed) attempts started late (> \(String(format: r.totals.delayThresholdMs < 1e15 ? "%.0f" : "%.3g", r.totals.delayThresholdMs)) ms), \(h.missed) never started"]
        guard h.generatorLimited else {
            return Finding(.ok, "generator", "the generator kept the requested rate", evidence: ev)
        }
        if r.totals.inFlightAtEnd > 0 || Double(r.config.concurrency) <= want {
            ev.append("--concurrency \(r.config.concurrency.grouped) caps attempts in flight: when they all wait, new ones cannot start")
        }
        return Finding(.warning, "generator", "the generator did not keep the requested rate: the results understate the load asked for",
                       evidence: ev, advice: ["raise --concurrency (slow connects hold slots)", "add --threads on a machine with spare cores"])
    }
}
