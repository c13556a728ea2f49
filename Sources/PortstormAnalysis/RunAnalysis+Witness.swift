import PortstormRecord

/// portstorm's own counts set beside the kernel's (`RunRecord.kernelWitness`). The kernel's
/// counters cover every program in the run's namespace: where portstorm runs alone, ActiveOpens
/// equals the attempts that sent a SYN; other programs can only add to it. Every outcome is
/// classified by `Outcome.Reach` (connected, sent a SYN, no SYN, unknown), so none falls out.
public struct WitnessCheck: Codable, Sendable, Equatable {
    /// Attempts whose handshake completed on this side (`Outcome.Reach.connected`): ok, and the
    /// outcomes that need an established connection (resets, protocol, HTTP and TLS failures).
    public var connected: UInt64
    /// Of those, the ones that ended `ok` (closed the way --close says).
    public var ok: UInt64
    /// Attempts that certainly sent a SYN: `connected` plus `Outcome.Reach.sentSYN` (refused,
    /// unreachable, timed out).
    public var sentSYN: UInt64
    /// Attempts that may or may not have sent one: outcomes of `Outcome.Reach.unknown` (an errno
    /// portstorm has no name for) and attempts still in flight at the end.
    public var maybeSentSYN: UInt64
    /// Attempts that ended before connect() sent a SYN (`Outcome.Reach.noSYN`).
    public var noSYN: UInt64
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

    /// The most attempts that can have sent a SYN: `sentSYN + maybeSentSYN`.
    public var sentSYNAtMost: UInt64 { sentSYN.addingSaturating(maybeSentSYN) }
}

extension RunAnalysis {
    /// `a + b`, held at the type's bounds: a record is input from anywhere and must not trap.
    static func saturating<T: FixedWidthInteger & SignedInteger>(_ a: T, _ b: T) -> T {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b < 0 ? .min : .max) : s
    }

    static func count(_ names: [String], _ r: RunRecord) -> UInt64 {
        names.compactMap(Outcome.init(name:)).reduce(UInt64(0)) { $0.addingSaturating(r.totals.outcomes[$1]) }
    }

    /// The named outcomes of one reach that occur in the record, for evidence lines.
    static func names(_ reach: Outcome.Reach, _ r: RunRecord) -> String {
        r.totals.outcomes.nonZero.filter { $0.outcome.reach == reach }.map(\.outcome.name).joined(separator: ", ")
    }

    static func witnessCheck(_ r: RunRecord) -> WitnessCheck? {
        guard let w = r.kernelWitness else { return nil }
        let c = w.counters
        let outcomes = r.totals.outcomes
        let connected = outcomes.count(.connected)
        var twToTarget: Int?
        var twBefore = 0
        if let start = w.startCensus, let last = r.timeline.last(where: { $0.kernel?.census != nil })?.kernel?.census {
            twBefore = start.tuples.reduce(0) { saturating($0, $1.states["TIME_WAIT"] ?? 0) }
            let after = last.tuples.reduce(0) { saturating($0, $1.states["TIME_WAIT"] ?? 0) }
            let (grown, overflow) = after.subtractingReportingOverflow(twBefore)
            twToTarget = overflow ? nil : grown
        }
        let entered = c["TW"].map { saturating($0, c["TWKilled"] ?? 0) }
        // No TIME_WAIT: none entered in the whole namespace, or (with no reuse to hide them and
        // within TIME_WAIT's 60 s) none more toward the target at the end than at the start.
        // Judged on the connections that ended ok: the others may have been reset by the server.
        let ok = outcomes[.ok]
        var none = false
        if r.config.close == .client, ok >= 10 {
            if entered == 0 { none = true }
            // Only from an empty start: TIME_WAIT left from before expires during the run and
            // would hide the run's own.
            else if let tw = twToTarget, tw <= 0, twBefore == 0, (c["TWRecycled"] ?? 0) == 0,
                    r.elapsedSeconds < PortBudget.timeWaitSeconds { none = true }
        }
        return WitnessCheck(connected: connected, ok: ok, sentSYN: connected.addingSaturating(outcomes.count(.sentSYN)),
                            maybeSentSYN: outcomes.count(.unknown).addingSaturating(r.totals.inFlightAtEnd), noSYN: outcomes.count(.noSYN),
                            activeOpens: c["ActiveOpens"],
                            passiveOpens: w.serverIsLocal == true ? c["PassiveOpens"] : nil, listenOverflows: c["ListenOverflows"],
                            timeWaitEntered: entered, timeWaitTowardTarget: twToTarget, twRecycled: c["TWRecycled"],
                            abortOnClose: c["TCPAbortOnClose"], outRsts: c["OutRsts"], closedWithoutTimeWait: none)
    }

    /// "this namespace's kernel over the run: ActiveOpens +146, PassiveOpens +106, ..." for the counters present.
    static func kernelLine(_ w: KernelWitness, hosts: Int? = nil) -> String {
        let order = ["ActiveOpens", "PassiveOpens", "AttemptFails", "LockDroppedIcmps", "EstabResets", "OutRsts", "TCPAbortOnClose", "ListenOverflows",
                     "ListenDrops", "TCPSynRetrans", "TW", "TWKilled", "TWRecycled", "TCPTimeWaitOverflow", "InDestUnreachs", "Icmp6InDestUnreachs"]
        let parts = order.compactMap { name in w.counters[name].map { "\(name) +\($0.grouped)" } }
        let whose = hosts.map { $0 == 1 ? "the merged runs' one network namespace, counted once: " : "the \($0) hosts' kernels over the run, added: " }
        return (whose ?? "this namespace's kernel over the run: ") + parts.joined(separator: ", ")
    }

    static func witnessFindings(_ r: RunRecord, _ k: WitnessCheck) -> [Finding] {
        guard let w = r.kernelWitness else { return [] }
        var out: [Finding] = []
        let own = "portstorm counted \(k.connected.grouped) connected and \(k.sentSYN.grouped) attempts that sent a SYN"
        let shared = "these counters include every program in the namespace: where portstorm runs alone, ActiveOpens equals the attempts that sent a SYN; other programs can only add to it"
        var agree = true
        if let opens = k.activeOpens, opens < Int64(clamping: k.sentSYN) {
            agree = false
            out.append(Finding(.problem, "kernel-witness", "portstorm counted more connects than this machine's kernel opened",
                               evidence: ["\(own); the kernel opened \(opens.grouped) (ActiveOpens +\(opens.grouped))", kernelLine(w, hosts: kernels(r)), shared],
                               advice: ["this contradicts portstorm's own counts: please report it with the record"]))
        } else if let opens = k.activeOpens, opens > Int64(clamping: k.sentSYNAtMost) {
            // The other side of the check: fewer SYNs than the kernel sent is not agreement.
            agree = false
            let extra = saturating(opens, -Int64(clamping: k.sentSYNAtMost))
            var ev = ["\(own); the kernel opened \(opens.grouped) (ActiveOpens +\(opens.grouped)): \(extra.grouped) more than portstorm's attempts account for"]
            if k.maybeSentSYN > 0 { ev.append("that allows for \(k.maybeSentSYN.grouped) attempts that may have sent one (\(unknownReach(r)))") }
            ev += [kernelLine(w, hosts: r.hosts?.count),
                   "ActiveOpens counts every connect() in the namespace that sent a SYN, portstorm's and any other program's: it is exact only where portstorm runs alone, so here it bounds this run's share from above"]
            out.append(Finding(.info, "kernel-witness", "this machine's kernel opened \(extra.grouped) more connections than portstorm's attempts account for",
                               evidence: ev,
                               advice: ["another program connecting during the run explains the difference; in a network namespace of its own (ip netns) the counts must be equal, and a difference there is portstorm's to explain: please report it with the record"]))
        }
        // A connect that ends refused or timed out by the kernel is counted in AttemptFails when
        // the kernel closes it (tcp_done from SYN_SENT: a RST, an ICMP error, its SYN retries),
        // except when an ICMP error arrives while connect() still holds the socket: the error is
        // then the socket's soft error, LockDroppedIcmps grows, and a socket closed from SYN_SENT
        // afterwards never reaches AttemptFails. Without LockDroppedIcmps (older records) the
        // check cannot be made.
        let failedConnects = count(["econnrefused", "etimedout"], r)
        if let fails = w.counters["AttemptFails"], let lockDropped = w.counters["LockDroppedIcmps"],
           saturating(fails, max(0, lockDropped)) < Int64(clamping: failedConnects) {
            agree = false
            out.append(Finding(.problem, "kernel-witness", "portstorm counted more failed connects than this machine's kernel saw fail",
                               evidence: ["portstorm counted \(failedConnects.grouped) connects refused or timed out by the kernel (econnrefused, etimedout); AttemptFails grew by \(fails.grouped) and LockDroppedIcmps by \(lockDropped.grouped)",
                                          "the kernel counts a connect in AttemptFails when it closes the socket from SYN_SENT (a RST, an ICMP error, its SYN retries), and in LockDroppedIcmps when an ICMP error arrives while connect() still holds the socket",
                                          kernelLine(w), shared],
                               advice: ["this contradicts portstorm's own counts: please report it with the record"]))
        }
        if r.config.close == .rst, k.ok >= 10 {
            if let rsts = k.outRsts, rsts < Int64(clamping: k.ok) {
                agree = false
                out.append(Finding(.warning, "close-mode", "--close rst, yet this machine's kernel sent \(rsts.grouped) RSTs for \(k.ok.grouped) connections",
                                   evidence: ["an abortive close (SO_LINGER 0) sends one RST per connection; OutRsts counts every RST the namespace sent", kernelLine(w)]))
            }
            if let t = k.timeWaitTowardTarget, t >= max(10, Int(clamping: k.ok / 2)) {
                agree = false
                out.append(Finding(.warning, "close-mode", "--close rst, yet \(t.grouped) sockets toward the target entered TIME_WAIT on this side",
                                   evidence: ["an abortive close leaves no TIME_WAIT; TIME_WAIT toward \(r.target.used) grew by \(t.grouped) from the start census to the last one"]))
            }
        }
        if let accepted = k.passiveOpens, accepted < Int64(clamping: k.connected) {
            agree = false
            let missing = saturating(Int64(clamping: k.connected), -max(0, accepted))
            var ev = ["portstorm counted \(k.connected.grouped) connected; this machine's kernel opened \(k.activeOpens.map(\.grouped) ?? "?") (ActiveOpens) and the local server's kernel completed \(accepted.grouped) handshakes (PassiveOpens)"]
            if let overflows = k.listenOverflows, overflows > 0 {
                ev[0] += ": at least \(missing.grouped) final ACKs were dropped by a full accept queue (ListenOverflows +\(overflows.grouped))"
                ev.append("the client counts a connection once its SYN-ACK arrives; a listener whose accept queue is full drops the final ACK, so the server never accepted at least \(missing.grouped) of them")
                out.append(Finding(.problem, "accept-queue", "the server's accept queue overflowed: at least \(missing.grouped) connections the client counted were never accepted",
                                   evidence: ev + [kernelLine(w, hosts: kernels(r)), shared], advice: [
                                       "the server must accept faster: a larger listen backlog (and net.core.somaxconn\(r.system.somaxconn.map { ", now \($0)" } ?? "")), more accept threads",
                                       "compare with a lower rate or concurrency: below the server's accept rate the two counts agree",
                                   ]))
            } else {
                ev[0] += ": at least \(missing.grouped) connections portstorm counted were never established on the server's side, and no accept queue overflowed (ListenOverflows +\(k.listenOverflows.map(\.grouped) ?? "?"))"
                out.append(Finding(.problem, "kernel-witness", "at least \(missing.grouped) connections counted as established never reached the local server",
                                   evidence: ev + [kernelLine(w, hosts: kernels(r)), shared],
                                   advice: ["a connect that completed without a handshake (e.g. an ICMP answer read as success) is not a connection: please report it with the record"]))
            }
        }
        if k.closedWithoutTimeWait {
            var ev = ["\(k.ok.grouped) connections ended ok with --close client, which means the client closes first and keeps TIME_WAIT on this side"]
            if let e = k.timeWaitEntered { ev.append("TIME_WAIT sockets entered in this namespace: \(e.grouped) (TW + TWKilled)") }
            if let t = k.timeWaitTowardTarget { ev.append("TIME_WAIT toward \(r.target.used) grew by \(max(0, t).grouped) from the start census to the last one") }
            let aborts = k.abortOnClose ?? 0
            if aborts > 0 {
                ev.append("TCPAbortOnClose +\(aborts.grouped) in this namespace: closes with unread data, which send RST instead of FIN" + (k.outRsts.map { " (OutRsts +\($0.grouped))" } ?? ""))
            }
            if let overflow = w.counters["TCPTimeWaitOverflow"], overflow > 0 {
                ev.append("TCPTimeWaitOverflow +\(overflow.grouped): tcp_max_tw_buckets\(r.system.tcpMaxTwBuckets.map { " (\($0))" } ?? "") was reached, so closes that would have entered TIME_WAIT did not")
            }
            ev.append("the TIME_WAIT capacity model does not apply to this run")
            if aborts > 0 && Double(aborts) * 2 >= Double(k.ok) {
                out.append(Finding(.warning, "close-mode", "the client's closes made no TIME_WAIT here: the connections were reset (RST), not closed", evidence: ev, advice: [
                    "to leave TIME_WAIT here as --close client means to, the client must read the answer to its end before it closes",
                    "if resets are what you want, say so with --close rst",
                ]))
            } else if let e = k.timeWaitEntered, e > 0, w.serverIsLocal == true {
                if r.config.wireProtocol == .ws {
                    ev.append("a WebSocket closing handshake ends with the server closing the TCP connection first (RFC 6455, 7.1.1)")
                }
                out.append(Finding(.info, "close-mode", "the client's closes made no TIME_WAIT here: the local server's side entered TIME_WAIT (it closed first)", evidence: ev))
            } else {
                out.append(Finding(.info, "close-mode", "the client's closes made no TIME_WAIT here", evidence: ev))
            }
        }
        if r.config.close == .server, let t = k.timeWaitTowardTarget, t >= max(10, Int(clamping: k.connected / 2)) {
            out.append(Finding(.warning, "close-mode", "--close server, yet \(t.grouped) sockets toward the target entered TIME_WAIT on this side",
                               evidence: ["a socket enters TIME_WAIT on the side that closes first: for those the client closed first (or both at once)",
                                          "\(k.connected.grouped) connections; TIME_WAIT toward \(r.target.used) grew by \(t.grouped) from the start census to the last one"]))
        }
        if agree {
            var ev = [own + (k.activeOpens.map { opens in
                k.maybeSentSYN == 0 ? ", as many as the kernel opened (ActiveOpens +\(opens.grouped))"
                                    : "; the kernel opened \(opens.grouped) (ActiveOpens), within the \(k.maybeSentSYN.grouped) attempts that may have sent one (\(unknownReach(r)))"
            } ?? "")]
            if k.noSYN > 0 { ev.append("\(k.noSYN.grouped) attempts ended before sending a SYN (\(names(.noSYN, r))): the kernel does not count them") }
            ev += [kernelLine(w, hosts: kernels(r)), shared]
            if w.serverIsLocal != true { ev.append("the server is not in this namespace: its accepts are not counted here") }
            out.append(Finding(.ok, "kernel-witness", "the kernel's counts agree with portstorm's", evidence: ev))
        }
        return out
    }

    /// What the attempts of unknown reach are: "errno_71, in flight at the end".
    static func unknownReach(_ r: RunRecord) -> String {
        var parts: [String] = []
        let unknown = names(.unknown, r)
        if !unknown.isEmpty { parts.append(unknown) }
        if r.totals.inFlightAtEnd > 0 { parts.append("\(r.totals.inFlightAtEnd.grouped) in flight at the end") }
        return parts.joined(separator: ", ")
    }

    /// Sockets toward the target that were there before the first attempt (`startCensus`).
    static func beforeRunFinding(_ r: RunRecord) -> Finding? {
        guard let start = r.kernelWitness?.startCensus, let b = start.busiest, b.portsInUse > 0 else { return nil }
        // The states of the sockets on the range's ports (a record without them: every port's).
        let states = (b.statesInRange ?? b.states).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.grouped)" }.joined(separator: ", ")
        return Finding(.info, "before-run", "\(b.portsInUse.grouped) ports toward \(b.destination):\(b.port) were already in use before the first attempt (\(pct(b.occupancy)) of the range)",
                       evidence: ["start census from \(b.source)\(b.statesInRange == nil ? "" : ", ports \(b.rangeLow)-\(b.rangeHigh)"): \(states)",
                                  "left by an earlier run or another program: they still hold ports of this run's budget until they close (TIME_WAIT: up to 60 s)",
                                  "charts and tables separate them from the sockets this run made"],
                       advice: b.states["TIME_WAIT"].map { _ in ["wait 60 s between runs toward the same destination for a clean budget"] } ?? [])
    }
}
