import Foundation
import PortstormRecord

/// One step of a rate ramp, summarised from its run record.
public struct PlanStep: Codable, Sendable, Equatable {
    public var rate: Double
    public var attempted: UInt64
    public var ok: UInt64
    public var failureShare: Double
    /// The most frequent failure of the step, if any.
    public var dominantFailure: String?
    public var connectP99Us: UInt64
    public var achievedRate: Double
    public var delayedOrMissedShare: Double
    /// Attempts that started late or never started (totals.delayed + totals.missed).
    public var delayedOrMissed: UInt64
    public var peakOccupancy: Double?
    public var listenOverflows: Int64
    public var timeWaitAtEnd: Int64?
    /// TLS steps: handshakes completed on this side and how many resumed a session (the step
    /// record's `tls`), and the handshake latency p99 in microseconds; absent for plain steps.
    public var handshakes: UInt64?
    public var resumed: UInt64?
    public var handshakeP99Us: UInt64?

    public init(_ r: RunRecord) {
        let t = r.totals
        rate = r.config.rate ?? t.achievedRate
        attempted = t.attempted
        ok = t.outcomes[.ok]
        failureShare = Double(t.outcomes.failures) / Double(max(1, t.attempted))
        dominantFailure = t.outcomes.nonZero.filter { !$0.outcome.isOK }.max { $0.count < $1.count }?.outcome.name
        connectP99Us = r.latency.connect.p99
        achievedRate = t.achievedRate
        delayedOrMissed = t.delayed.addingSaturating(t.missed)
        delayedOrMissedShare = Double(delayedOrMissed) / max(1, Double(t.attempted) + Double(t.missed))
        peakOccupancy = r.timeline.compactMap { $0.kernel?.census?.busiest?.occupancy }.max()
        listenOverflows = r.timeline.compactMap { $0.kernel?.counters["ListenOverflows"] }.reduce(0, +)
        timeWaitAtEnd = r.timeline.last(where: { $0.kernel?.sockstat != nil })?.kernel?.sockstat?.tw
        handshakes = r.tls?.handshakes
        resumed = r.tls?.resumed
        handshakeP99Us = r.tls == nil ? nil : r.latency.handshake?.p99 ?? 0
    }
}

/// When a step counts as past the knee.
public struct KneeRule: Codable, Sendable, Equatable {
    /// Late or missed attempts a step needs, besides a share over 1%, to make the generator the limit.
    public static let minLateAttempts: UInt64 = 3
    /// Failures above this share of attempts.
    public var maxFailureShare: Double
    /// Connect p99 above this multiple of the first step's, and at least `minLatencyRiseUs` above it.
    public var latencyFactor: Double
    /// How far (microseconds) a step's connect p99 must rise above the first step's, besides the
    /// factor, to mark the knee: 10 ms. On loopback a p99 of 0.6 ms moving to 3 ms is scheduling
    /// noise on a busy machine, not a server slowing down; a dropped SYN costs about 1 s, a
    /// queueing server tens of ms.
    public static let minLatencyRiseUs: UInt64 = 10_000
    public init(maxFailureShare: Double = 0.01, latencyFactor: Double = 3) {
        self.maxFailureShare = maxFailureShare
        self.latencyFactor = latencyFactor
    }
}

/// The capacity report: the highest sustainable rate, the limit that came first, what a target needs.
public struct CapacityPlan: Codable, Sendable {

    public var steps: [PlanStep]
    /// Index of the first step past the knee (nil: the ceiling was reached without one).
    public var kneeStep: Int?
    public var kneeReason: String?
    /// The limit hit first: `ports`, `accept-queue`, `server`, `generator`, `latency`, or nil.
    public var limit: String?
    /// The highest step rate that stayed under the knee (nil when even the first step failed).
    public var sustainableRate: Double?
    public var targetRate: Double
    public var needs: [String]
    /// What the steps cannot show (e.g. steps shorter than TIME_WAIT).
    public var caveats: [String]
    public var rule: KneeRule
    /// How the steps closed their connections (--close): it says where TIME_WAIT stays between
    /// steps. nil in plans written before it was kept.
    public var close: CloseMode?

    /// Where the knee is, given the steps run so far. Pure.
    public static func knee(_ steps: [PlanStep], rule: KneeRule) -> (index: Int, reason: String, limit: String)? {
        guard let first = steps.first else { return nil }
        let baseline = max(first.connectP99Us, 1)
        for (i, s) in steps.enumerated() {
            if s.failureShare > rule.maxFailureShare {
                let f = s.dominantFailure ?? "failures"
                let reason = String(format: "%.1f%% of attempts failed at %@/s (mostly %@)", s.failureShare * 100, Format.rate(s.rate), f)
                return (i, reason, limit(for: s))
            }
            if s.achievedRate < s.rate * 0.95 {
                // Format.rate keeps a decimal below 100/s: 23.4/s of 25/s does not read "23/s of 25/s".
                return (i, "the generator reached only \(Format.rate(s.achievedRate))/s of \(Format.rate(s.rate))/s", "generator")
            }
            // A step of 50 attempts with one started 10 ms late is 2%: on a busy machine that is
            // scheduling noise, not a generator that cannot keep the rate. A few must be late or missed.
            if s.delayedOrMissedShare > 0.01 && s.delayedOrMissed >= KneeRule.minLateAttempts {
                return (i, String(format: "the generator fell behind at %@/s: %.1f%% of attempts started late or never", Format.rate(s.rate),
                                  s.delayedOrMissedShare * 100), "generator")
            }
            if i > 0, s.connectP99Us >= baseline.addingSaturating(KneeRule.minLatencyRiseUs),
               Double(s.connectP99Us) > Double(baseline) * rule.latencyFactor {
                return (i, String(format: "connect p99 rose to %.1f ms (%.1fx the first step)", Double(s.connectP99Us) / 1000,
                                  Double(s.connectP99Us) / Double(baseline)), "latency")
            }
        }
        return nil
    }

    static func limit(for s: PlanStep) -> String {
        switch s.dominantFailure {
        case "eaddrnotavail", "eaddrinuse": return "ports"
        case "connect_timeout", "etimedout": return s.listenOverflows > 0 ? "accept-queue" : "server"
        case "emfile", "enfile", "enobufs": return "local-limits"
        default: return "server"
        }
    }

    public static func make(steps: [PlanStep], rule: KneeRule, targetRate: Double, system: SystemSnapshot,
                            config: RunConfig, sources: Int) -> CapacityPlan {
        let k = knee(steps, rule: rule)
        let under = k.map { Array(steps.prefix($0.index)) } ?? steps
        let range = PortBudget.effectiveRange(system, perSocket: config.localPorts)
        let perTuple = PortBudget.sustainableRate(rangeSize: range.size)
        var needs: [String] = []
        if config.close == .client, perTuple == 0 {
            needs.append("the effective port range holds no usable port (ip_local_reserved_ports or --local-ports): free some ports first")
        } else if config.close == .client {
            // Whole numbers written with %.0f, never converted to Int: a target rate may be huge.
            let tuplesNeeded = String(format: "%.0f", (targetRate / perTuple).rounded(.up))
            let rangeNeeded = (targetRate * PortBudget.timeWaitSeconds).rounded(.up)
            let widest = PortBudget.widestRange(system)
            var line = "without TIME_WAIT reuse, \(Format.rate(targetRate))/s needs \(tuplesNeeded) source address(es) at \(range.size.grouped) ports each (about \(Format.rate(perTuple))/s per source)"
            if rangeNeeded <= Double(widest) {
                line += String(format: ", or a range of %.0f ports per source", rangeNeeded)
            } else if widest > 0 {
                // No port range is that wide: only more sources (or no TIME_WAIT here) get there.
                let atWidest = String(format: "%.0f", (targetRate / PortBudget.sustainableRate(rangeSize: widest)).rounded(.up))
                line += "; no single source can: the widest range, \(widest.grouped) ports (1024-65535 less reserved ports), sustains about \(Format.rate(PortBudget.sustainableRate(rangeSize: widest)))/s, so even at that width it takes \(atWidest) source addresses"
            }
            needs.append(line)
            needs.append("or let the server close first / keep connections alive (TIME_WAIT moves to the server), or --close rst (no TIME_WAIT)")
        } else {
            needs.append("the client does not close first (--close \(config.close.rawValue)): its port range does not bound the rate")
        }
        if k?.limit == "accept-queue" { needs.append("the server must accept faster: a larger listen backlog (and net.core.somaxconn), more accept threads") }
        if k?.limit == "generator" { needs.append("more generator threads or machines: this one could not keep the schedule") }
        var caveats: [String] = []
        if config.close == .client, let d = config.durationSeconds, d < PortBudget.timeWaitSeconds,
           let best = under.last?.rate, best > perTuple * Double(max(1, sources)) {
            caveats.append("each step lasted \(Format.rate(d)) s, less than TIME_WAIT's 60 s: without TIME_WAIT reuse, any rate above about \(Format.rate(perTuple * Double(max(1, sources))))/s (\(range.size.grouped) ports x \(max(1, sources)) source(s) / 60 s) runs out of ports once it has lasted a minute, whatever a short step shows")
        }
        return CapacityPlan(steps: steps, kneeStep: k?.index, kneeReason: k?.reason, limit: k?.limit,
                            sustainableRate: under.last?.rate, targetRate: targetRate, needs: needs, caveats: caveats, rule: rule,
                            close: config.close)
    }
}
