import PortstormRecord

/// Refused connects (ECONNREFUSED), told apart by what answered the SYN: a RST (a closed port, or a
/// `reject with tcp reset` rule) or an ICMP port-unreachable (a reject rule, never a closed port).
/// The kernel's ICMP counters over the run (`kernelWitness`) are the evidence.
extension RunAnalysis {
    /// ICMP destination-unreachable messages this namespace received over the run (IPv4 and IPv6);
    /// nil when the record has neither counter (older records).
    static func icmpUnreachablesReceived(_ w: KernelWitness) -> Int64? {
        let v4 = w.counters["InDestUnreachs"], v6 = w.counters["Icmp6InDestUnreachs"]
        if v4 == nil && v6 == nil { return nil }
        return saturating(max(0, v4 ?? 0), max(0, v6 ?? 0))
    }

    /// What answered the refused connects, as far as the kernel's counters tell.
    enum RefusedBy: Equatable {
        /// No ICMP destination-unreachable arrived in the namespace: every refusal was a RST.
        case rst
        /// At least one ICMP destination-unreachable per refused connect arrived.
        case icmp(received: Int64)
        /// Fewer ICMP messages than refusals: some were RSTs, at most `received` ICMP.
        case mixed(received: Int64)
        /// The record has no ICMP counters.
        case unknown
    }

    static func refusedBy(_ r: RunRecord) -> RefusedBy {
        let refused = r.totals.outcomes[.econnrefused]
        guard refused > 0, let w = r.kernelWitness, let icmp = icmpUnreachablesReceived(w) else { return .unknown }
        if icmp == 0 { return .rst }
        return icmp >= Int64(clamping: refused) ? .icmp(received: icmp) : .mixed(received: icmp)
    }

    static func refusedCause(_ o: Onset, _ r: RunRecord, evidence: [String]) -> Finding {
        var ev = evidence
        let target = "\(r.target.used)"
        let refused = r.totals.outcomes[.econnrefused]
        let host = hostOnly(target)
        let local = r.path?.route == .local || AddressKind.isLoopback(host)
        let rules = "nft list ruleset, iptables -S"
        switch refusedBy(r) {
        case .icmp(let received):
            ev.append("this namespace received \(received.grouped) ICMP destination-unreachable messages over the run (Icmp InDestUnreachs) for \(refused.grouped) refused connects: a closed port answers with RST, not ICMP")
            if let w = r.kernelWitness, let locked = w.counters["LockDroppedIcmps"], locked > 0 {
                ev.append("LockDroppedIcmps +\(locked.grouped): ICMP errors that reached the connecting sockets themselves")
            }
            if local { ev.append("\(host) is this machine: the rule is in this machine's firewall") }
            if let rel = portRelation(o) { ev.append(rel) }
            return Finding(.problem, "refused",
                           "connections to \(target) refused by an ICMP port-unreachable (a reject rule on the path or on the server), not by a closed port",
                           evidence: ev, advice: [
                               local ? "check this machine's firewall rules for a reject rule on port \(r.target.port) (\(rules))"
                                     : "check the firewall rules on the server and on the path for a reject rule on port \(r.target.port) (\(rules); cloud security groups and network ACLs too)",
                               "the server may well be running: the rule answers before the SYN reaches it",
                           ])
        case .rst, .mixed, .unknown:
            switch refusedBy(r) {
            case .rst:
                ev.append("the server (or a host on the path) answered the SYN with RST: nothing accepts connections at \(target); no ICMP destination-unreachable arrived in this namespace")
            case .mixed(let received):
                ev.append("the SYNs were answered with RST or ICMP port-unreachable: this namespace received \(received.grouped) ICMP destination-unreachable messages (Icmp InDestUnreachs) for \(refused.grouped) refused connects, so at least \((Int64(clamping: refused) - received).grouped) were RSTs")
            default:
                ev.append("the SYN was answered with RST or an ICMP port-unreachable (the record has no ICMP counters to tell which)")
            }
            if r.target.resolved.count > 1 { ev.append("\(r.target.host) resolved to \(r.target.resolved.joined(separator: ", ")); portstorm used \(target)") }
            if let rel = portRelation(o) { ev.append(rel) }
            return Finding(.problem, "refused", "connections refused by \(target)", evidence: ev, advice: [
                "check that the server is started and listening on that port (ss -ltn on the server)",
                "a server listening on 127.0.0.1 only refuses clients that use another address: listen on 0.0.0.0 or the right one",
                "check the port, and that \(r.target.host) resolves to the server's address (not an old IP, a proxy or a CDN)",
                "a firewall reject rule answers the same way: check the rules for port \(r.target.port) (\(rules))",
            ])
        }
    }
}
