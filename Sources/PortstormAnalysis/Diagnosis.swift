import PortstormRecord

/// What `portstorm diagnose` saw, for one target.
public struct DiagnoseObservations: Codable, Sendable {
    public struct AddressProbe: Codable, Sendable {
        public var address: String
        /// Whether the address is one of this machine's (bind() to it succeeds).
        public var isLocal: Bool
        /// Outcomes of the few connects tried.
        public var outcomes: [String: UInt64]
        /// For a local address: the addresses listening on the port (nil for remote targets).
        public var listeners: [String]?
        /// ListenOverflows growth during the probe (local targets).
        public var listenOverflows: Int64
        /// Busiest tuple occupancy toward this address.
        public var occupancy: Double?
        /// Outcome of one HTTP GET and of one WebSocket handshake, with the first bytes when mismatched.
        public var http: String?
        public var httpSample: String?
        public var ws: String?
        public var wsSample: String?

        public init(address: String, isLocal: Bool, outcomes: [String: UInt64]) {
            self.address = address
            self.isLocal = isLocal
            self.outcomes = outcomes
            listenOverflows = 0
        }
    }

    public var host: String
    public var port: UInt16
    public var resolveError: String?
    public var resolved: [String]
    public var probes: [AddressProbe]
    /// Other ports listening on this machine (hints when nothing listens on `port`).
    public var otherLocalPorts: [UInt16]

    public init(host: String, port: UInt16, resolveError: String?, resolved: [String], probes: [AddressProbe], otherLocalPorts: [UInt16]) {
        self.host = host
        self.port = port
        self.resolveError = resolveError
        self.resolved = resolved
        self.probes = probes
        self.otherLocalPorts = otherLocalPorts
    }
}

/// Ranks the likely causes of a client's failures from what diagnose observed. Pure.
public enum Diagnosis {
    public static func rank(_ o: DiagnoseObservations) -> [Finding] {
        if let why = o.resolveError {
            return [Finding(.problem, "resolve", "\(o.host) does not resolve", evidence: [why],
                            advice: ["check the name and the resolver (getent hosts \(o.host)); a typo or a missing DNS record"])]
        }
        var out: [Finding] = []
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
            out += protocolFindings(p)
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

    static func cause(_ failure: String, _ p: DiagnoseObservations.AddressProbe, _ o: DiagnoseObservations) -> Finding {
        let port = o.port
        switch failure {
        case "econnrefused":
            guard p.isLocal, let listeners = p.listeners else {
                return Finding(.problem, "refused", "\(p.address):\(port) refuses connections: nothing accepts there",
                               evidence: ["the SYN was answered with RST"],
                               advice: ["check that the server runs and listens on port \(port) (ss -ltn on the server)",
                                        "a server listening on 127.0.0.1 only refuses clients on other addresses",
                                        "check that \(o.host) resolves to the server's address, not an old IP or a proxy"])
            }
            if listeners.isEmpty {
                let near = o.otherLocalPorts.filter { $0 != port }.prefix(8).map(String.init).joined(separator: ", ")
                return Finding(.problem, "refused", "nothing listens on port \(port) on this machine",
                               evidence: near.isEmpty ? ["no TCP listener at all"] : ["listening ports here: \(near)"],
                               advice: ["start the server, or check the port number"])
            }
            let loopbackOnly = listeners.allSatisfy { $0.hasPrefix("127.") || $0 == "::1" }
            return Finding(.problem, "bound-elsewhere",
                           loopbackOnly ? "the server listens on \(listeners.joined(separator: ", ")) only; \(p.address) is not one of them"
                                        : "the server listens on port \(port) but not on \(p.address)",
                           evidence: ["listening on port \(port): \(listeners.joined(separator: ", "))"],
                           advice: ["make the server listen on 0.0.0.0 (or ::), or on \(p.address)",
                                    "or point the client at \(listeners.first!)"])
        case "connect_timeout", "etimedout":
            if p.isLocal, let listeners = p.listeners, !listeners.isEmpty {
                return Finding(.problem, "accept-queue", "a local server listens on port \(port) but its SYNs go unanswered",
                               evidence: ["listening: \(listeners.joined(separator: ", "))", "ListenOverflows grew by \(p.listenOverflows) during the probe"],
                               advice: ["the server does not accept (hung, or its accept queue is full): check it, raise its backlog"])
            }
            return Finding(.problem, "timeout", "\(p.address):\(port) does not answer SYNs",
                           evidence: ["no SYN-ACK within the deadline"],
                           advice: ["a firewall or security group dropping SYNs to port \(port)", "the server or its host is down",
                                    "an internal address not reachable from this network"])
        case "eaddrnotavail", "eaddrinuse":
            return Finding(.problem, "cannot-assign", "this client cannot get a local port or address toward \(p.address)",
                           evidence: ["\(failure) on connect: a local limit"], advice: ["see portstorm doctor"])
        case "ehostunreach", "enetunreach":
            return Finding(.problem, "unreachable", "no route to \(p.address)", advice: ["check routes: ip route get \(p.address)"])
        default:
            return Finding(.warning, "other", "\(failure) toward \(p.address):\(port)")
        }
    }

    static func protocolFindings(_ p: DiagnoseObservations.AddressProbe) -> [Finding] {
        var out: [Finding] = []
        let speaksHTTP = p.http == "ok"
        if speaksHTTP {
            out.append(Finding(.info, "speaks-http", "\(p.address) answers HTTP"))
            if p.ws == "protocol_mismatch" {
                out.append(Finding(.warning, "protocol", "a WebSocket handshake gets an ordinary HTTP answer (unexpected response code)",
                                   evidence: p.wsSample.map { ["the answer began \"\($0)\""] } ?? [],
                                   advice: ["a WebSocket client pointed at a plain HTTP service, or a proxy that does not pass Upgrade"]))
            } else if p.ws == "ok" {
                out.append(Finding(.info, "speaks-ws", "\(p.address) accepts WebSocket upgrades"))
            }
        } else if p.http == "protocol_mismatch" {
            out.append(Finding(.warning, "protocol", "\(p.address) does not speak HTTP (invalid HTTP response)",
                               evidence: p.httpSample.map { ["the answer began \"\($0)\""] } ?? ["it closed without answering"],
                               advice: ["an HTTP or WebSocket client here gets \"invalid HTTP response\": check the port (a raw TCP, TLS or other service)"]))
        }
        return out
    }
}
