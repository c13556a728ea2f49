import PortstormRecord

/// Causes that lie on this machine's side of the path: a `--source` it does not own, no route in its
/// own routing table, an on-link target no host answers ARP/ND for. Each needs the record's
/// `unusableSources` or `path`, or the `no_route` outcome, as evidence.
extension RunAnalysis {
    /// The finding for onset `o` when the record's path evidence explains it; nil otherwise.
    static func pathCause(_ o: Onset, _ r: RunRecord) -> Finding? {
        var ev = ["\(o.count.grouped) attempts (\(share(o.count, r))) ended \(o.outcome), \(when(o))"]
        let target = r.target.used
        switch o.outcome {
        case "eaddrnotavail", "eaddrinuse":
            guard let bad = r.unusableSources, !bad.isEmpty else { return nil }
            let names = bad.prefix(4).map(\.address).joined(separator: ", ") + (bad.count > 4 ? " and \(bad.count - 4) more" : "")
            ev += bad.prefix(4).map { "bind(\($0.address)) at the start of the run: \($0.error ?? "refused")" }
            ev.append("a local cause: the port range is not involved")
            return Finding(.problem, "source-address",
                           bad.count == 1 ? "\(names) is not an address of this machine" : "\(names) are not addresses of this machine",
                           evidence: ev,
                           advice: ["give --source only addresses configured here (ip -br addr), or add the address to an interface"])

        case "no_route":
            ev.append("connect() failed with ENETUNREACH/EHOSTUNREACH and this machine's routing table has no usable route to \(r.target.host): no SYN left this machine")
            if let p = r.path, p.route == .none { ev.append("route lookup after the run: \(p.routeError ?? "none")") }
            var advice = ["check this machine's routes: ip route get \(hostOnly(target))"]
            if let kind = AddressKind.internalRange(hostOnly(target)) {
                ev.append("\(hostOnly(target)) is \(kind)")
                advice.insert("an internal address: the client must be on the same network (or reach it through a VPN or a route)", at: 0)
            }
            return Finding(.problem, "no-route", "this machine has no route to \(hostOnly(target))", evidence: ev, advice: advice)

        case "ehostunreach", "enetunreach", "connect_timeout", "etimedout":
            if let p = r.path, p.route == .local, o.outcome == "ehostunreach" || o.outcome == "enetunreach" {
                // No router between this machine and its own address: the ICMP was made here.
                let kind = o.outcome == "enetunreach" ? "network" : "host"
                ev.append("\(hostOnly(target)) is an address of this machine (route local\(p.device.map { ", dev \($0)" } ?? "")): no router is on the path")
                ev.append("an ICMP \(kind) unreachable answered the SYN: a reject rule in this machine's firewall (reject with icmp type \(kind)-unreachable, or admin-prohibited)")
                return Finding(.problem, "firewall", "a firewall rule on this machine rejects connections to \(target) (ICMP \(kind) unreachable)", evidence: ev, advice: [
                    "find the rule for port \(r.target.port) in this machine's firewall (nft list ruleset, iptables -S) and remove or narrow it; portstorm diagnose \(target) names it when it can read the rules",
                ])
            }
            guard let p = r.path, p.route == .found else { return nil }
            guard p.neighbourUnanswered, let hop = p.neighbourAddress else {
                guard o.outcome == "ehostunreach" || o.outcome == "enetunreach" else { return nil }
                // This machine has a route and its next hop answers: the ICMP came from further on.
                ev.append("this machine has a route to \(hostOnly(target)) (\(p.onLink ? "on-link" : "via \(p.gateway ?? "?")")\(p.device.map { " on dev \($0)" } ?? ""))"
                          + (p.neighbourState.map { ", next hop \($0)" } ?? ""))
                ev.append("an ICMP \(o.outcome == "enetunreach" ? "network" : "host") unreachable came back from a router or firewall on the path")
                return Finding(.problem, "unreachable", "a router or firewall on the path reports \(hostOnly(target)) unreachable", evidence: ev, advice: [
                    "trace the path (traceroute -T -p \(r.target.port) \(hostOnly(target))): the hop that answers has no route to it, or rejects it",
                ])
            }
            let dev = p.device.map { " on dev \($0)" } ?? ""
            ev.append("the route is fine: \(p.onLink ? "on-link" : "via \(p.gateway ?? "?")")\(dev)")
            ev.append("neighbour entry for \(hop): \(p.neighbourState ?? "?") (address resolution got no answer)")
            if p.onLink {
                return Finding(.problem, "no-neighbour", "no host answers ARP/ND for \(hop)\(dev)", evidence: ev, advice: [
                    "\(hop) is on this link but nobody owns it: check the address, and that its host is up and on this network (ip neigh show \(hop))",
                ])
            }
            return Finding(.problem, "no-neighbour", "the gateway \(hop) does not answer ARP/ND\(dev)", evidence: ev, advice: [
                "check that the gateway \(hop) is up and on this link (ip neigh show \(hop)), or the default route",
            ])

        default:
            return nil
        }
    }

    /// `1.2.3.4` from `1.2.3.4:80`, `::1` from `[::1]:80`.
    static func hostOnly(_ hostPort: String) -> String {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            return String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
        }
        return hostPort.split(separator: ":").first.map(String.init) ?? hostPort
    }
}
