import PortstormRecord

/// Ranks the likely causes of a client's failures from what diagnose observed. Pure.
public enum Diagnosis {
    /// Whether diagnose should exit non-zero: a problem or a warning was found.
    public static func fails(_ findings: [Finding]) -> Bool { findings.contains { $0.severity >= .warning } }

    public static func rank(_ o: DiagnoseObservations) -> [Finding] {
        if let why = o.resolveError {
            return [Finding(.problem, "resolve", "\(o.host) does not resolve", evidence: [why],
                            advice: ["check the name and the resolver (getent hosts \(o.host)); a typo or a missing DNS record"])]
        }
        var out: [Finding] = []
        if let s = o.source, !s.local {
            out.append(Finding(.problem, "source-address", "\(s.address) is not an address of this machine",
                               evidence: ["bind(\(s.address)): \(s.error ?? "refused")", "a local cause: no connection can leave from that address"],
                               advice: ["use an address configured here (ip -br addr), or add \(s.address) to an interface"]))
        }
        let proxies = o.proxyVariables.map { String($0.prefix { $0 != "=" }) }.filter { $0.uppercased() != "NO_PROXY" }
        if !proxies.isEmpty {
            out.append(Finding(.info, "proxy-env", "your own client may be going through a proxy: " + proxies.joined(separator: ", ") + " set",
                               evidence: o.proxyVariables + ["portstorm connects directly; curl, browsers and many runtimes use these variables"],
                               advice: ["compare with a direct connection (curl --noproxy '*'), or check NO_PROXY for \(o.host)"]))
        }
        let anyOK = o.probes.contains { ($0.outcomes["ok"] ?? 0) > 0 }
        if o.resolved.count > 1 {
            out.append(Finding(.info, "addresses", "\(o.host) resolves to \(o.resolved.count) addresses: each was tried",
                               evidence: o.probes.map { "\($0.address): " + $0.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }))
            let good = o.probes.filter { ($0.outcomes["ok"] ?? 0) > 0 }.map(\.address)
            let bad = o.probes.filter { ($0.outcomes["ok"] ?? 0) == 0 }.map(\.address)
            if !good.isEmpty && !bad.isEmpty {
                out.append(Finding(.problem, "family", "only some of its addresses work: \(bad.joined(separator: ", ")) fail(s)",
                                   evidence: ["working: \(good.joined(separator: ", "))"],
                                   advice: ["a client that tries \(bad.first!) first fails: e.g. localhost resolving to ::1 while the server listens on IPv4 only",
                                            "make the server listen on every family it is published under, or fix the name"]))
            }
        }
        for p in o.probes {
            let total = max(1, p.outcomes.values.reduce(0, +))
            let dominant = p.outcomes.filter { $0.key != "ok" }.max { $0.value < $1.value }
            guard let (failure, n) = dominant, Double(n) / Double(total) >= 0.5 else { continue }
            out.append(cause(failure, p, o))
        }
        for p in o.probes where (p.occupancy ?? 0) >= 0.9 {
            out.append(Finding(.problem, "port-exhaustion", String(format: "this client's ports toward %@ are %.0f%% in use", p.address, (p.occupancy ?? 0) * 100),
                               evidence: ["connect() will fail with EADDRNOTAVAIL: the limit is the client's, not the server's"],
                               advice: ["see portstorm doctor: widen ip_local_port_range, more source addresses, let the server close first"]))
        }
        for p in o.probes where (p.outcomes["ok"] ?? 0) > 0 {
            out += protocolFindings(p, asked: o.protocolAsked)
            out += tlsFindings(p, tlsAsked: o.tlsAsked == true)
        }
        if !o.probes.isEmpty && !anyOK && !out.contains(where: { $0.severity == .problem }) {
            out.append(Finding(.problem, "no-connect", "no connect to \(o.host):\(o.port) succeeded",
                               evidence: o.probes.map { "\($0.address): " + $0.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }))
        }
        if anyOK && !out.contains(where: { $0.severity >= .warning }) {
            out.insert(Finding(.ok, "connects", "\(o.host):\(o.port) accepts connections from here"), at: 0)
        }
        if o.probes.contains(where: { !$0.isLocal }) {
            out.append(Finding(.info, "unseen", "what cannot be seen from here",
                               evidence: ["firewalls and cloud security groups on the path or at the server",
                                          "a proxy, load balancer or CDN answering in the server's place",
                                          "whether \(o.host) points at the right machine (compare with where the server really runs)"]))
        }
        return out.sorted { $0.severity > $1.severity }
    }

    static func isIPv6(_ ip: String) -> Bool { ip.contains(":") }

    /// Evidence lines about the local firewall rules for the port.
    static func firewallEvidence(_ o: DiagnoseObservations) -> [String] {
        guard let f = o.firewall else { return [] }
        if let why = f.unreadable { return ["the local firewall rules could not be read (\(why))"] }
        if f.matching.isEmpty { return ["no reject or drop rule names port \(o.port) in the local rules (\(f.tool ?? "?"))"] }
        return f.matching.map { "local firewall rule (\(f.tool ?? "?")): \($0)" }
    }

    static func cause(_ failure: String, _ p: DiagnoseObservations.AddressProbe, _ o: DiagnoseObservations) -> Finding {
        let port = o.port
        let rules = o.firewall?.matching ?? []
        switch failure {
        case "econnrefused":
            let byICMP = refusedByICMP(p)
            guard p.isLocal, let listeners = p.listeners else {
                if !rules.isEmpty {
                    return Finding(.problem, "firewall", "a local firewall rule rejects connections to port \(port)",
                                   evidence: ["\(p.address):\(port) refused every connect"] + refusalEvidence(p) + firewallEvidence(o),
                                   advice: ["remove or narrow that rule, or allow \(p.address):\(port)"])
                }
                if byICMP {
                    return Finding(.problem, "refused", "\(p.address):\(port) refuses connections with an ICMP port-unreachable: a reject rule on the path or at the server, not a closed port",
                                   evidence: refusalEvidence(p) + firewallEvidence(o),
                                   advice: ["check the firewall rules at the server and on the path for a reject rule on port \(port) (nft list ruleset, iptables -S; cloud security groups and network ACLs too)",
                                            "the server may well be running: the rule answers before the SYN reaches it"])
                }
                return Finding(.problem, "refused", "\(p.address):\(port) refuses connections: nothing accepts there",
                               evidence: refusalEvidence(p) + firewallEvidence(o),
                               advice: ["check that the server runs and listens on port \(port) (ss -ltn on the server)",
                                        "a server listening on 127.0.0.1 only refuses clients on other addresses",
                                        "a firewall REJECT rule on the path or at the server answers the same way",
                                        "check that \(o.host) resolves to the server's address, not an old IP or a proxy"])
            }
            if listeners.isEmpty {
                let near = o.otherLocalPorts.filter { $0 != port }.prefix(8).map(String.init).joined(separator: ", ")
                let nothing = near.isEmpty ? "no TCP listener at all" : "no listener on port \(port); listening ports here: \(near)"
                if !rules.isEmpty || byICMP {
                    // The rule answers before the SYN reaches TCP: it is what refuses, listener or not.
                    return Finding(.problem, "firewall",
                                   rules.isEmpty ? "a firewall rule on this machine rejects connections to port \(port) (ICMP port-unreachable), and nothing listens there"
                                                 : "a local firewall rule rejects connections to port \(port), and nothing listens there",
                                   evidence: refusalEvidence(p) + firewallEvidence(o) + [nothing],
                                   advice: [rules.isEmpty ? "find the reject rule for port \(port) in this machine's firewall (nft list ruleset, iptables -S) and remove or narrow it"
                                                          : "remove or narrow that rule, or add an accept rule for \(p.address):\(port) before it",
                                            "and start the server, or check the port number"])
                }
                return Finding(.problem, "refused", "nothing listens on port \(port) on this machine",
                               evidence: [nothing] + refusalEvidence(p),
                               advice: ["start the server, or check the port number"])
            }
            let v6 = isIPv6(p.address)
            let sameFamily = listeners.filter { isIPv6($0) == v6 }
            let listening = "listening on port \(port): \(listeners.joined(separator: ", "))"
            if let wildcard = sameFamily.first(where: { $0 == "0.0.0.0" || $0 == "::" }) ?? listeners.first(where: { $0 == "::" }) {
                var advice = rules.isEmpty ? ["look for a REJECT rule for port \(port) (nft list ruleset, iptables -S) here, in a container or host firewall, or a proxy that resets"]
                                           : ["remove or narrow that rule, or add an accept rule for \(p.address):\(port) before it"]
                if wildcard == "::" && !v6 {
                    advice.append("or the server's :: socket is IPv6-only (IPV6_V6ONLY): make it listen on 0.0.0.0 too, or connect to [::1]:\(port)")
                }
                return Finding(.problem, "firewall",
                               rules.isEmpty ? "the server listens on \(wildcard), which covers \(p.address), yet connects are refused: a firewall rule or a reset on the path"
                                             : "a local firewall rule rejects connections to port \(port); the server listens on \(wildcard), which covers \(p.address)",
                               evidence: [listening] + refusalEvidence(p) + firewallEvidence(o), advice: advice)
            }
            if sameFamily.isEmpty {
                let other = v6 ? "IPv4" : "IPv6"
                let loopback = v6 ? "127.0.0.1" : "::1"
                let connectTo = listeners.first.map { isIPv6($0) ? "[\($0)]:\(port)" : "\($0):\(port)" } ?? ""
                return Finding(.problem, "family", "the server listens on \(other) \(listeners.joined(separator: ", ")) only; \(p.address) is \(v6 ? "IPv6" : "IPv4")",
                               evidence: [listening],
                               advice: ["connect to \(connectTo)" + (listeners.contains(loopback) ? " (or localhost, where it resolves to \(loopback))" : ""),
                                        "or make the server listen on \(p.address) too, or on both families (\(v6 ? "0.0.0.0 and ::" : ":: without IPV6_V6ONLY, or 0.0.0.0 and ::"))"])
            }
            let loopbackOnly = sameFamily.allSatisfy { $0.hasPrefix("127.") || $0 == "::1" }
            return Finding(.problem, "bound-elsewhere",
                           loopbackOnly ? "the server listens on \(sameFamily.joined(separator: ", ")) only; \(p.address) is not one of them"
                                        : "the server listens on port \(port) but not on \(p.address)",
                           evidence: [listening],
                           advice: ["make the server listen on \(v6 ? "::" : "0.0.0.0"), or on \(p.address)",
                                    "or point the client at \(sameFamily.first!)"])

        case "connect_timeout", "etimedout":
            if !rules.isEmpty {
                return Finding(.problem, "firewall", "a local firewall rule drops connections to port \(port)",
                               evidence: ["no SYN-ACK within the deadline"] + firewallEvidence(o),
                               advice: ["remove or narrow that rule, or allow \(p.address):\(port)"])
            }
            if p.isLocal, let listeners = p.listeners, !listeners.isEmpty {
                return Finding(.problem, "accept-queue", "a local server listens on port \(port) but its SYNs go unanswered",
                               evidence: ["listening: \(listeners.joined(separator: ", "))", "ListenOverflows grew by \(p.listenOverflows) during the probe"] + firewallEvidence(o),
                               advice: ["the server does not accept (hung, or its accept queue is full): check it, raise its backlog"])
            }
            if let f = pathFinding(p, o) { return f }
            var advice = ["a firewall or security group dropping SYNs to port \(port)",
                          "the server's accept queue is full: it drops SYNs while it does not accept (on the server: nstat -az TcpExtListenOverflows, ss -ltn Recv-Q at the backlog)",
                          "the server or its host is down"]
            if let kind = AddressKind.internalRange(p.address) {
                advice.insert("\(p.address) is \(kind): an internal address, the client must be on the same network", at: 0)
            } else {
                advice.append("an internal address not reachable from this network")
            }
            return Finding(.problem, "timeout", "\(p.address):\(port) does not answer SYNs",
                           evidence: ["no SYN-ACK within the deadline"] + firewallEvidence(o), advice: advice)

        case "eaddrnotavail", "eaddrinuse":
            return Finding(.problem, "cannot-assign", "this client cannot get a local port or address toward \(p.address)",
                           evidence: ["\(failure) on connect: a local limit"], advice: ["see portstorm doctor"])

        case "ehostunreach", "enetunreach", "no_route":
            if let f = pathFinding(p, o) { return f }
            if failure == "no_route" { return noRoute(p, routeError: nil) }
            if p.isLocal || p.path?.route == .local {
                // An address of this machine: no router on the path, so the ICMP was made here.
                let kind = failure == "enetunreach" ? "network" : "host"
                return Finding(.problem, "firewall",
                               rules.isEmpty ? "a firewall rule on this machine rejects connections to port \(port) (ICMP \(kind) unreachable)"
                                             : "a local firewall rule rejects connections to port \(port) (ICMP \(kind) unreachable)",
                               evidence: ["\(failure): \(p.address) is an address of this machine (route local), so no router is on the path: a reject rule here answered the SYN"] + firewallEvidence(o),
                               advice: [rules.isEmpty ? "find the reject rule for port \(port) in this machine's firewall (nft list ruleset, iptables -S) and remove or narrow it"
                                                      : "remove or narrow that rule, or add an accept rule for \(p.address):\(port) before it"])
            }
            return Finding(.problem, "unreachable", "a router on the path reports \(p.address) unreachable",
                           evidence: ["\(failure): the route from this machine is fine\(p.path.flatMap { $0.gateway }.map { " (via \($0))" } ?? ""); an ICMP \(failure == "enetunreach" ? "network" : "host") unreachable came back"],
                           advice: ["trace the path (traceroute -T -p \(port) \(p.address)); the router that answers has no route to it or filters it"])
        default:
            return Finding(.warning, "other", "\(failure) toward \(p.address):\(port)")
        }
    }

    /// At least one ICMP destination-unreachable arrived per refused connect of the probe.
    static func refusedByICMP(_ p: DiagnoseObservations.AddressProbe) -> Bool {
        guard let icmp = p.icmpUnreachables, let refused = p.outcomes["econnrefused"], refused > 0 else { return false }
        return icmp >= Int64(clamping: refused)
    }

    /// What answered the refused SYNs, as far as the ICMP counter of the probe tells.
    static func refusalEvidence(_ p: DiagnoseObservations.AddressProbe) -> [String] {
        let refused = p.outcomes["econnrefused"] ?? 0
        guard let icmp = p.icmpUnreachables else { return ["the SYN was answered with RST (or ICMP port unreachable)"] }
        if icmp == 0 { return ["the SYN was answered with RST: no ICMP destination-unreachable arrived during the \(refused.grouped) connects"] }
        if refusedByICMP(p) {
            return ["an ICMP port-unreachable answered the SYN, not a RST: \(icmp.grouped) ICMP destination-unreachable messages arrived for \(refused.grouped) refused connects (Icmp InDestUnreachs): a reject rule, not a closed port"]
        }
        return ["the SYNs were answered with RST or ICMP port-unreachable (\(icmp.grouped) ICMP destination-unreachable messages for \(refused.grouped) refused connects)"]
    }

    /// No route in this machine's table, or an on-link address no host answers ARP/ND for.
    static func pathFinding(_ p: DiagnoseObservations.AddressProbe, _ o: DiagnoseObservations) -> Finding? {
        guard let path = p.path else { return nil }
        if path.route == .none { return noRoute(p, routeError: path.routeError) }
        guard path.route == .found, path.neighbourUnanswered, let hop = path.neighbourAddress else { return nil }
        let dev = path.device.map { " on dev \($0)" } ?? ""
        let ev = ["the route is fine: \(path.onLink ? "on-link" : "via \(path.gateway ?? "?")")\(dev)",
                  "neighbour entry for \(hop): \(path.neighbourState ?? "?") (address resolution got no answer)"]
        if path.onLink {
            return Finding(.problem, "no-neighbour", "no host answers ARP/ND for \(hop)\(dev)", evidence: ev,
                           advice: ["\(hop) is on this link but nobody owns it: check the address, and that its host is up and on this network (ip neigh show \(hop))"])
        }
        return Finding(.problem, "no-neighbour", "the gateway \(hop) does not answer ARP/ND\(dev)", evidence: ev,
                       advice: ["check that the gateway \(hop) is up and on this link (ip neigh show \(hop))"])
    }

    static func noRoute(_ p: DiagnoseObservations.AddressProbe, routeError: String?) -> Finding {
        let ev = ["this machine's routing table has no route to \(p.address)" + (routeError.map { " (\($0))" } ?? "") + ": no SYN left"]
        if let kind = AddressKind.internalRange(p.address) {
            return Finding(.problem, "no-route", "\(p.address) is an internal address: the client must be on the same network",
                           evidence: ev + ["\(p.address) is \(kind), with no route from here"],
                           advice: ["run the client inside that network, or reach it through a VPN or a route (ip route get \(p.address))"])
        }
        return Finding(.problem, "no-route", "this machine has no route to \(p.address)", evidence: ev,
                       advice: ["check this machine's routes: ip route get \(p.address) (a missing default route?)"])
    }

    /// An HTTP GET that got an error status: the advice follows the class of the status.
    static func httpErrorStatus(_ address: String, _ status: Int) -> Finding {
        switch status {
        case 404, 410:
            return Finding(.warning, "http-status", "\(address) answers HTTP \(status): the path was not found there",
                           advice: ["check the path (--path) and the Host header: a virtual host may serve it under another name"])
        case 401, 403:
            return Finding(.warning, "http-status", "\(address) answers HTTP \(status): the server refuses the request",
                           advice: ["the server wants credentials or does not allow this client: an error status, not a success"])
        case 500...599:
            return Finding(.warning, "http-status", "\(address) answers HTTP \(status): a server error",
                           advice: ["the request reached the server (or a proxy in front of it), which failed: read its error log"])
        default:
            return Finding(.warning, "http-status", "\(address) answers HTTP \(status): an error status, not a success",
                           advice: ["the server could not or would not serve this request: check what it expects (method, headers, the port's protocol)"])
        }
    }

    static func protocolFindings(_ p: DiagnoseObservations.AddressProbe, asked: WireProtocol?) -> [Finding] {
        var out: [Finding] = []
        let httpAsked = asked == .http || asked == .ws
        if let headers = p.proxyHeaders, !headers.isEmpty {
            out.append(Finding(.info, "proxy-answer", "a proxy or CDN answered for \(p.address)", evidence: headers,
                               advice: ["what the client sees is the proxy's behaviour: its limits, timeouts and resets may differ from the server's"]))
        }
        if p.http == "ok" {
            let status = p.httpStatus ?? 0
            if status == 426 {
                out.append(Finding(httpAsked && asked != .ws ? .warning : .info, "protocol", "\(p.address) answers a plain HTTP GET with 426 Upgrade Required: a WebSocket-only (or upgrade-only) server",
                                   advice: ["connect with a WebSocket client (--protocol ws), or use the port that serves plain HTTP"]))
            } else if status == 400 && p.tls == "ok" {
                // A plain GET to a TLS port: the TLS finding says which protocol the port speaks.
            } else if status >= 400 && asked == .http {
                out.append(httpErrorStatus(p.address, status))
            } else {
                out.append(Finding(.info, "speaks-http", "\(p.address) answers HTTP" + (p.httpStatus.map { " (\($0))" } ?? "")))
            }
        } else if p.http == "protocol_mismatch" {
            out.append(Finding(httpAsked ? .warning : .info, "protocol", "\(p.address) does not speak HTTP (invalid HTTP response)",
                               evidence: p.httpSample.map { ["the answer began \"\($0)\""] } ?? ["it closed without answering"],
                               advice: ["an HTTP or WebSocket client here gets \"invalid HTTP response\": check the port (a raw TCP, TLS or other service)"]))
        } else if p.http == "response_timeout" {
            out.append(Finding(httpAsked ? .warning : .info, "no-http-answer", "\(p.address) gave no answer to an HTTP GET within the deadline",
                               advice: ["a service that speaks first or does not speak HTTP; or an overloaded server"]))
        }
        if asked == .ws {
            if p.ws == "protocol_mismatch" {
                out.append(Finding(.warning, "protocol", "a WebSocket handshake gets an ordinary HTTP answer (unexpected response code)",
                                   evidence: p.wsSample.map { ["the answer began \"\($0)\""] } ?? [],
                                   advice: ["a WebSocket client pointed at a plain HTTP service, or a proxy that does not pass Upgrade"]))
            } else if p.ws == "ok" {
                out.append(Finding(.info, "speaks-ws", "\(p.address) accepts WebSocket upgrades"))
            } else if let w = p.ws {
                out.append(Finding(.warning, "protocol", "the WebSocket handshake to \(p.address) ended \(w)"))
            }
        }
        return out
    }
}
