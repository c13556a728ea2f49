import Foundation
import PortstormAnalysis
import PortstormRecord

/// The capacity report of `portstorm plan`, for a terminal or as Markdown.
public enum PlanText {
    public static func stepLine(_ i: Int, _ s: PlanStep) -> String {
        var line = String(format: "step %2d  %@/s  ok %@/s  failed %.2f%%", i + 1, Format.pad(Format.rate(s.rate), 7, right: true),
                          Format.pad(Format.rate(s.achievedRate * (1 - s.failureShare)), 7, right: true), s.failureShare * 100)
        if let f = s.dominantFailure { line += " (\(f))" }
        line += "  p99 \(Format.micros(s.connectP99Us))"
        if let h = s.handshakes {
            line += "  tls \(Format.count(h)) handshakes" + (s.resumed ?? 0 > 0 ? " (\(Format.count(s.resumed!)) resumed)" : "")
                + (h > 0 ? " p99 \(Format.micros(s.handshakeP99Us ?? 0))" : "")
        }
        if let o = s.peakOccupancy { line += String(format: "  ports %.0f%%", o * 100) }
        if let tw = s.timeWaitAtEnd { line += "  TIME_WAIT \(Format.count(tw))" }
        return line
    }

    public static func render(_ p: CapacityPlan, target: String, markdown: Bool = false) -> String {
        var out: [String] = []
        let h = markdown ? "# " : ""
        out.append("\(h)portstorm capacity plan: \(target)")
        out.append("")
        if markdown {
            out += ReportTables.markdown(ReportTables.planSteps(p))
        } else {
            for (i, s) in p.steps.enumerated() { out.append("  " + stepLine(i, s)) }
        }
        out.append("")
        return out.joined(separator: "\n") + "\n" + conclusion(p, markdown: markdown)
    }

    /// The plan's conclusion without the steps (printed after the step lines `plan` showed as it
    /// went): the sustainable rate, the knee and its limit, caveats, the rule, what the target needs.
    public static func conclusion(_ p: CapacityPlan, markdown: Bool = false) -> String {
        var out: [String] = []
        let bullet = markdown ? "- " : "  "
        out += conclusions(p).map { bullet + $0 }
        out.append("")
        out.append(markdown ? "## What \(Format.rate(p.targetRate))/s needs" : "  what \(Format.rate(p.targetRate))/s needs:")
        if markdown { out.append("") }
        for n in p.needs { out.append(markdown ? "- \(n)" : "    - \(n)") }
        out.append("")
        let carry = carryOver(p)
        out.append(markdown ? carry + "." : "  " + carry.prefix(1).lowercased() + carry.dropFirst())
        return out.joined(separator: "\n") + "\n"
    }

    /// What a step leaves to the next, by how the steps closed (`CapacityPlan.close`): only a
    /// client that closes first keeps TIME_WAIT on its own ports.
    public static func carryOver(_ p: CapacityPlan) -> String {
        switch p.close {
        case .client?:
            return "Steps run one after another: TIME_WAIT left by a step still holds this client's ports in the next, as under sustained load"
        case .server?:
            return "Steps run one after another: the server closed first, so TIME_WAIT stays on the server and holds none of this client's ports; the server's carries into the next step"
        case .rst?:
            return "Steps run one after another: connections were reset (--close rst), so no step leaves TIME_WAIT to the next"
        case nil:
            return "Steps run one after another: TIME_WAIT stays with the side that closed first and carries into the next step"
        }
    }

    /// What the plan concludes, one sentence a line: the sustainable rate, the knee and the limit
    /// hit first (or that there was none), caveats, and the knee rule.
    public static func conclusions(_ p: CapacityPlan) -> [String] {
        var out: [String] = []
        if let rate = p.sustainableRate {
            out.append("highest sustainable rate: \(Format.rate(rate)) new connections/s")
        } else {
            out.append("no step was sustainable: even the first rate failed")
        }
        if let k = p.kneeStep, let why = p.kneeReason {
            out.append("knee at step \(k + 1): \(why)")
            out.append("limit hit first: \(describe(p.limit))")
        } else {
            out.append("no knee up to the ceiling (\(Format.rate(p.steps.last?.rate ?? 0))/s): the limit is above it")
        }
        for c in p.caveats { out.append("caveat: \(c)") }
        out.append("knee rule: failures above \(Format.share(p.rule.maxFailureShare)) of attempts, connect p99 above \(Format.rate(p.rule.latencyFactor))x the first step's "
                   + "and at least \(Format.micros(KneeRule.minLatencyRiseUs)) above it, or the generator falling behind")
        return out
    }

    static func describe(_ limit: String?) -> String {
        switch limit {
        case "ports": return "the client's ephemeral ports (TIME_WAIT holds them 60 s): the 4-tuple budget"
        case "accept-queue": return "the server's accept queue (ListenOverflows grew: SYNs dropped)"
        case "generator": return "the generator itself (it could not keep the schedule)"
        case "latency": return "latency: connects slowed down before anything failed"
        case "local-limits": return "this machine's descriptors or buffers"
        case "server": return "the server or the path (remote failures)"
        default: return "none found"
        }
    }
}
