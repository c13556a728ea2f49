import PortstormRecord

/// portstorm's own counts set beside the kernel's (`RunRecord.kernelWitness`). The kernel's
/// counters cover every program in the run's namespace, so they bound this run's share from
/// above: a kernel count *below* portstorm's is a disagreement, one above it is not.
public struct WitnessCheck: Codable, Sendable, Equatable {
    /// Attempts that ended after the handshake completed on this side: ok, and the outcomes that
    /// need an established connection (econnreset, protocol_mismatch, response_timeout, http_status).
    public var connected: UInt64
    /// Of those, the ones that ended `ok` (closed the way --close says).
    public var ok: UInt64
    /// Attempts that certainly sent a SYN: `connected` plus refused and timed-out connects.
    public var sentSYN: UInt64
    public var activeOpens: Int64?
    /// The local server's completed handshakes, when the server listens in this namespace.
    public var passiveOpens: Int64?
    public var listenOverflows: Int64?
    /// TIME_WAIT sockets entered in the namespace (TW + TWKilled), both sides of a local server.
    public var timeWaitEntered: Int64?
    /// Growth of TIME_WAIT toward the target on this side, start census to last census.
    public var timeWaitTowardTarget: Int?
    public var twRecycled: Int64?
    public var abortOnClose: Int64?
    public var outRsts: Int64?
    /// The client closed first but no TIME_WAIT was made: the TIME_WAIT model does not apply.
    public var closedWithoutTimeWait: Bool
}

extension RunAnalysis {
    /// Outcomes that end only after the handshake completed on the client's side.
    static let afterConnect = ["ok", "econnreset", "protocol_mismatch", "response_timeout", "http_status"]
    /// Outcomes whose attempt certainly put a SYN on the wire (besides `afterConnect`).
    static let sentSYNOnly = ["econnrefused", "etimedout", "connect_timeout"]

    static func count(_ names: [String], _ r: RunRecord) -> UInt64 {
        names.compactMap(Outcome.init(name:)).reduce(0) { $0 + r.totals.outcomes[$1] }
    }

    static func witnessCheck(_ r: RunRecord) -> WitnessCheck? {
        guard let w = r.kernelWitness else { return nil }
        let c = w.counters
        let connected = count(afterConnect, r)
        var twToTarget: Int?
        if let start = w.startCensus, let last = r.timeline.last(where: { $0.kernel?.census != nil })?.kernel?.census {
            let before = start.tuples.reduce(0) { $0 + ($1.states["TIME_WAIT"] ?? 0) }
            let after = last.tuples.reduce(0) { $0 + ($1.states["TIME_WAIT"] ?? 0) }
            twToTarget = after - before
        }
        let entered = c["TW"].map { $0 + (c["TWKilled"] ?? 0) }
        // No TIME_WAIT: none entered in the whole namespace, or (with no reuse to hide them and
        // within TIME_WAIT's 60 s) none more toward the target at the end than at the start.
        // Judged on the connections that ended ok: the others may have been reset by the server.
        let ok = r.totals.outcomes[.ok]
        var none = false
        if r.config.close == .client, ok >= 10 {
            if entered == 0 { none = true }
            else if let tw = twToTarget, tw <= 0, (c["TWRecycled"] ?? 0) == 0, r.elapsedSeconds < PortBudget.timeWaitSeconds { none = true }
        }
        return WitnessCheck(connected: connected, ok: ok, sentSYN: connected + count(sentSYNOnly, r), activeOpens: c["ActiveOpens"],
                            passiveOpens: w.serverIsLocal == true ? c["PassiveOpens"] : nil, listenOverflows: c["ListenOverflows"],
                            timeWaitEntered: entered, timeWaitTowardTarget: twToTarget, twRecycled: c["TWRecycled"],
                            abortOnClose: c["TCPAbortOnClose"], outRsts: c["OutRsts"], closedWithoutTimeWait: none)
    }

    /// "this machine's kernel: ActiveOpens +146, PassiveOpens +106, ..." for the counters present.
    static func kernelLine(_ w: KernelWitness) -> String {
        let order = ["ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "OutRsts", "TCPAbortOnClose", "ListenOverflows",
                     "ListenDrops", "TCPSynRetrans", "TW", "TWKilled", "TWRecycled", "TCPTimeWaitOverflow"]
        let parts = order.compactMap { name in w.counters[name].map { "\(name) +\($0)" } }
        return "this namespace's kernel over the run: " + parts.joined(separator: ", ")
    }

    static func witnessFindings(_ r: RunRecord, _ k: WitnessCheck) -> [Finding] {
        guard let w = r.kernelWitness else { return [] }
        var out: [Finding] = []
        let own = "portstorm counted \(k.connected.grouped) connected and \(k.sentSYN.grouped) attempts that sent a SYN"
        let shared = "these counters include every program in the namespace: they can exceed this run's share, never fall short of it"
        var agree = true
        if let opens = k.activeOpens, opens < Int64(k.sentSYN) {
            agree = false
            out.append(Finding(.problem, "kernel-witness", "portstorm counted more connects than this machine's kernel opened",
                               evidence: ["\(own); the kernel opened \(opens.grouped) (ActiveOpens +\(opens.grouped))", kernelLine(w), shared],
                               advice: ["this contradicts portstorm's own counts: please report it with the record"]))
        }
        if let accepted = k.passiveOpens, accepted < Int64(k.connected) {
            agree = false
            let missing = Int64(k.connected) - accepted
            var ev = ["portstorm counted \(k.connected.grouped) connected; this machine's kernel opened \(k.activeOpens.map(String.init) ?? "?") (ActiveOpens) and the local server's kernel completed \(accepted.grouped) handshakes (PassiveOpens)"]
            if let overflows = k.listenOverflows, overflows > 0 {
                ev[0] += ": at least \(missing.grouped) final ACKs were dropped by a full accept queue (ListenOverflows +\(overflows.grouped))"
                ev.append("the client counts a connection once its SYN-ACK arrives; a listener whose accept queue is full drops the final ACK, so the server never accepted at least \(missing.grouped) of them")
                out.append(Finding(.problem, "accept-queue", "the server's accept queue overflowed: at least \(missing.grouped) connections the client counted were never accepted",
                                   evidence: ev + [kernelLine(w), shared], advice: [
                                       "the server must accept faster: a larger listen backlog (and net.core.somaxconn\(r.system.somaxconn.map { ", now \($0)" } ?? "")), more accept threads",
                                       "compare with a lower rate or concurrency: below the server's accept rate the two counts agree",
                                   ]))
            } else {
                ev[0] += ": at least \(missing.grouped) connections portstorm counted were never established on the server's side, and no accept queue overflowed (ListenOverflows +\(k.listenOverflows.map(String.init) ?? "?"))"
                out.append(Finding(.problem, "kernel-witness", "at least \(missing.grouped) connections counted as established never reached the local server",
                                   evidence: ev + [kernelLine(w), shared],
                                   advice: ["a connect that completed without a handshake (e.g. an ICMP answer read as success) is not a connection: please report it with the record"]))
            }
        }
        if k.closedWithoutTimeWait {
            var ev = ["\(k.ok) connections ended ok, closed by the client first (--close client), which leaves TIME_WAIT on this side"]
            if let e = k.timeWaitEntered { ev.append("TIME_WAIT sockets entered in this namespace: \(e) (TW + TWKilled)") }
            if let t = k.timeWaitTowardTarget { ev.append("TIME_WAIT toward \(r.target.used) grew by \(max(0, t)) from the start census to the last one") }
            var title = "the client's closes made no TIME_WAIT here"
            if let aborts = k.abortOnClose, aborts > 0 {
                ev.append("TCPAbortOnClose +\(aborts) in this namespace: closes with unread data, which send RST instead of FIN" + (k.outRsts.map { " (OutRsts +\($0))" } ?? ""))
                if aborts * 2 >= Int64(k.ok) { title += ": the connections were reset (RST), not closed" }
            }
            ev.append("the TIME_WAIT capacity model does not apply to this run")
            out.append(Finding(.warning, "close-mode", title, evidence: ev, advice: [
                "to leave TIME_WAIT here as --close client means to, the client must read the answer to its end before it closes",
                "if resets are what you want, say so with --close rst",
            ]))
        }
        if r.config.close == .server, let t = k.timeWaitTowardTarget, t >= max(10, Int(k.connected / 2)) {
            out.append(Finding(.warning, "close-mode", "--close server, yet \(t) sockets toward the target entered TIME_WAIT on this side",
                               evidence: ["a socket enters TIME_WAIT on the side that closes first: for those the client closed first (or both at once)",
                                          "\(k.connected.grouped) connections; TIME_WAIT toward \(r.target.used) grew by \(t.grouped) from the start census to the last one"]))
        }
        if agree {
            var ev = [own, kernelLine(w), shared]
            if w.serverIsLocal != true { ev.append("the server is not in this namespace: its accepts are not counted here") }
            out.append(Finding(.ok, "kernel-witness", "the kernel's counts agree with portstorm's", evidence: ev))
        }
        return out
    }

    /// Sockets toward the target that were there before the first attempt (`startCensus`).
    static func beforeRunFinding(_ r: RunRecord) -> Finding? {
        guard let start = r.kernelWitness?.startCensus, let b = start.busiest, b.portsInUse > 0 else { return nil }
        let states = b.states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return Finding(.info, "before-run", "\(b.portsInUse) ports toward \(b.destination):\(b.port) were already in use before the first attempt (\(pct(b.occupancy)) of the range)",
                       evidence: ["start census from \(b.source): \(states)",
                                  "left by an earlier run or another program: they still hold ports of this run's budget until they close (TIME_WAIT: up to 60 s)",
                                  "charts and tables separate them from the sockets this run made"],
                       advice: b.states["TIME_WAIT"].map { _ in ["wait 60 s between runs toward the same destination for a clean budget"] } ?? [])
    }
}
