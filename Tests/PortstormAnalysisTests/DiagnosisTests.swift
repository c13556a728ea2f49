import PortstormAnalysis
import PortstormRecord
import Testing

@Suite struct DiagnosisTests {
    func probe(_ address: String, local: Bool = true, _ outcomes: [String: UInt64], listeners: [String]? = nil) -> DiagnoseObservations.AddressProbe {
        var p = DiagnoseObservations.AddressProbe(address: address, isLocal: local, outcomes: outcomes)
        p.listeners = listeners ?? (local ? [] : nil)
        return p
    }

    func observations(_ probes: [DiagnoseObservations.AddressProbe], host: String? = nil, port: UInt16 = 9000) -> DiagnoseObservations {
        DiagnoseObservations(host: host ?? probes.first?.address ?? "127.0.0.1", port: port, resolveError: nil, resolved: probes.map(\.address), probes: probes,
                             otherLocalPorts: [port])
    }

    @Test func localhostOnIPv6WhileTheServerListensOnIPv4Only() {
        let o = DiagnoseObservations(host: "localhost", port: 8080, resolveError: nil, resolved: ["::1", "127.0.0.1"],
                                     probes: [probe("::1", ["econnrefused": 3], listeners: ["127.0.0.1"]), probe("127.0.0.1", ["ok": 3], listeners: ["127.0.0.1"])],
                                     otherLocalPorts: [8080])
        let f = Diagnosis.rank(o)
        #expect(f.first { $0.topic == "family" }?.advice.first?.contains("::1") == true)
        #expect(f.first?.severity == .problem)
        #expect(Diagnosis.fails(f))
    }

    @Test func remoteTimeoutsSayWhatCannotBeSeenAndNameAFullAcceptQueue() {
        let f = Diagnosis.rank(observations([probe("203.0.113.7", local: false, ["connect_timeout": 3])], host: "db.example"))
        #expect(f.first?.topic == "timeout")
        #expect(f.first?.advice.contains { $0.contains("security group") } == true)
        #expect(f.first?.advice.contains { $0.contains("accept queue is full") } == true)
        #expect(f.contains { $0.topic == "unseen" && $0.evidence.contains { $0.contains("CDN") } })
    }

    @Test func aHealthyHTTPTargetIsSaidToBeSoWithoutAWebSocketWarning() {
        var p = probe("127.0.0.1", ["ok": 3], listeners: ["0.0.0.0"])
        p.http = "ok"
        p.httpStatus = 200
        p.ws = "protocol_mismatch"   // a WebSocket answer nobody asked about
        let f = Diagnosis.rank(observations([p]))
        #expect(f.contains { $0.topic == "connects" && $0.severity == .ok })
        #expect(!f.contains { $0.severity >= .warning })
        #expect(!Diagnosis.fails(f))
        var asked = observations([p])
        asked.protocolAsked = .ws
        #expect(Diagnosis.rank(asked).first?.topic == "protocol")
    }

    @Test func theAdviceOnAnErrorStatusFollowsItsClass() {
        func findings(_ status: Int, tls: String? = nil) -> [Finding] {
            var p = probe("127.0.0.1", ["ok": 3], listeners: ["0.0.0.0"])
            p.http = "ok"
            p.httpStatus = status
            p.tls = tls
            var o = observations([p])
            o.protocolAsked = .http
            return Diagnosis.rank(o)
        }
        let notFound = findings(404).first { $0.topic == "http-status" }
        #expect(notFound?.advice.first?.contains("check the path") == true)
        let failed = findings(500).first { $0.topic == "http-status" }
        #expect(failed?.title == "127.0.0.1 answers HTTP 500: a server error")
        #expect(failed?.advice.contains { $0.contains("path") } == false)
        // 400 from a TLS port: a protocol mismatch, said by the TLS finding, not a path to check.
        let tlsPort = findings(400, tls: "ok")
        #expect(!tlsPort.contains { $0.topic == "http-status" })
        #expect(tlsPort.contains { $0.topic == "protocol" && $0.title.contains("speaks TLS") })
        #expect(!tlsPort.contains { $0.advice.contains { $0.contains("check the path") } })
    }

    @Test func aRefusalTowardAWildcardListenerIsAFirewall() {
        var o = observations([probe("127.0.0.1", ["econnrefused": 3], listeners: ["0.0.0.0"])])
        let plain = Diagnosis.rank(o).first
        #expect(plain?.topic == "firewall")
        #expect(plain?.title == "the server listens on 0.0.0.0, which covers 127.0.0.1, yet connects are refused: a firewall rule or a reset on the path")
        #expect(plain?.advice.contains { $0.contains("0.0.0.0") && $0.contains("point") } != true)
        o.firewall = .init(tool: "nft", matching: ["table inet f chain in: tcp dport 9000 reject with tcp reset"])
        let named = Diagnosis.rank(o).first
        #expect(named?.title.hasPrefix("a local firewall rule rejects connections to port 9000") == true)
        #expect(named?.evidence.contains { $0.contains("tcp dport 9000 reject with tcp reset") } == true)
    }

    @Test func anIPv6OnlyServerWithAnIPv4Client() {
        let f = Diagnosis.rank(observations([probe("127.0.0.1", ["econnrefused": 3], listeners: ["::1"])])).first
        #expect(f?.topic == "family")
        #expect(f?.title == "the server listens on IPv6 ::1 only; 127.0.0.1 is IPv4")
        #expect(f?.advice.first == "connect to [::1]:9000 (or localhost, where it resolves to ::1)")
    }

    @Test func aNonLocalSourceIsNamed() {
        var o = observations([])
        o.host = "127.0.0.1"
        o.source = SourceCheck(address: "192.0.2.1", local: false, error: "Cannot assign requested address")
        let f = Diagnosis.rank(o)
        #expect(f.first?.title == "192.0.2.1 is not an address of this machine")
        #expect(!f.contains { $0.topic == "port-exhaustion" })
    }

    @Test func proxyVariablesAndProxyHeadersAreNamed() {
        var p = probe("203.0.113.9", local: false, ["ok": 3])
        p.http = "ok"
        p.httpStatus = 200
        p.proxyHeaders = ["Via: 1.1 varnish", "Server: cloudflare"]
        var o = observations([p])
        o.proxyVariables = ["HTTPS_PROXY=http://proxy:3128"]
        let f = Diagnosis.rank(o)
        #expect(f.contains { $0.title == "your own client may be going through a proxy: HTTPS_PROXY set" })
        #expect(f.first { $0.topic == "proxy-answer" }?.evidence == ["Via: 1.1 varnish", "Server: cloudflare"])
    }

    @Test func anInternalAddressWithNoRoute() {
        var p = probe("10.99.0.5", local: false, ["no_route": 3])
        p.path = PathObservation(destination: "10.99.0.5", route: .none, routeError: "Network is unreachable")
        let f = Diagnosis.rank(observations([p])).first
        #expect(f?.title == "10.99.0.5 is an internal address: the client must be on the same network")
        let pub = Diagnosis.rank(observations([probe("198.51.100.1", local: false, ["no_route": 3])])).first
        #expect(pub?.title == "this machine has no route to 198.51.100.1")
    }

    @Test func anOnLinkAddressNobodyOwns() {
        var p = probe("10.77.0.9", local: false, ["connect_timeout": 3])
        p.path = PathObservation(destination: "10.77.0.9", route: .found, device: "vethA", source: "10.77.0.1",
                                 neighbourAddress: "10.77.0.9", neighbourState: "INCOMPLETE")
        let f = Diagnosis.rank(observations([p])).first
        #expect(f?.title == "no host answers ARP/ND for 10.77.0.9 on dev vethA")
        #expect(f?.advice.contains { $0.contains("firewall") } != true)
        // A router's ICMP: the route is fine and the neighbour answers.
        var r = probe("10.77.0.9", local: false, ["ehostunreach": 3])
        r.path = PathObservation(destination: "10.77.0.9", route: .found, gateway: "10.77.0.254", device: "vethA",
                                 neighbourAddress: "10.77.0.254", neighbourState: "REACHABLE")
        #expect(Diagnosis.rank(observations([r])).first?.topic == "unreachable")
    }

    @Test func internalRanges() {
        #expect(AddressKind.internalRange("10.1.2.3")?.contains("RFC 1918") == true)
        #expect(AddressKind.internalRange("172.31.0.1")?.contains("RFC 1918") == true)
        #expect(AddressKind.internalRange("172.32.0.1") == nil)
        #expect(AddressKind.internalRange("192.168.1.1") != nil)
        #expect(AddressKind.internalRange("100.64.0.1")?.contains("100.64.0.0/10") == true)
        #expect(AddressKind.internalRange("100.128.0.1") == nil)
        #expect(AddressKind.internalRange("fd00::1")?.contains("fc00::/7") == true)
        #expect(AddressKind.internalRange("fe80::1")?.contains("link-local") == true)
        #expect(AddressKind.internalRange("8.8.8.8") == nil && AddressKind.internalRange("2001:db8::1") == nil)
    }

    /// A verified attempt that the server ended after the handshake, having asked for a client
    /// certificate: the finding names the outcome and says portstorm sends none.
    @Test func aClientCertificateRequiredAfterTheHandshakeIsSaid() {
        var p = probe("127.0.0.1", ["ok": 3], listeners: ["0.0.0.0"])
        p.tls = "ok"
        p.tlsVerified = "tls_failed_after_handshake"
        p.tlsDetail = "the server, which had asked for a client certificate (portstorm sends none), sent the alert certificate_required (116) after this side had finished its handshake"
        var o = observations([p])
        o.tlsAsked = true
        let f = Diagnosis.rank(o).first { $0.topic == "tls" }
        #expect(f?.title.contains("ended tls_failed_after_handshake") == true, "\(String(describing: f))")
        #expect(f?.advice.first?.contains("portstorm does not send one") == true && f?.evidence.first?.contains("certificate_required (116)") == true)
    }
}

/// diagnose on a local address behind a local reject rule (what `nft ... reject with icmp type ...`
/// does to 127.0.0.1): the rule is named, not a router or a stopped server.
@Suite struct DiagnoseLocalRejectTests {
    let rule9200 = "table inet t chain input: tcp dport 9200 reject with icmp port-unreachable"
    let rule9300 = "table inet t chain input: tcp dport 9300 reject with icmp host-unreachable"

    func observe(_ port: UInt16, _ outcomes: [String: UInt64], icmp: Int64?, listeners: [String] = [], rules: [String]) -> DiagnoseObservations {
        var p = DiagnoseObservations.AddressProbe(address: "127.0.0.1", isLocal: true, outcomes: outcomes)
        p.listeners = listeners
        p.icmpUnreachables = icmp
        var o = DiagnoseObservations(host: "127.0.0.1", port: port, resolveError: nil, resolved: ["127.0.0.1"], probes: [p], otherLocalPorts: [])
        o.firewall = .init(tool: "nft", matching: rules)
        return o
    }

    @Test func noListenerBehindARejectRuleNamesTheRule() throws {
        let f = try #require(Diagnosis.rank(observe(9200, ["econnrefused": 2], icmp: 2, rules: [rule9200])).first)
        #expect(f.topic == "firewall")
        #expect(f.title == "a local firewall rule rejects connections to port 9200, and nothing listens there")
        #expect(f.evidence.contains("local firewall rule (nft): \(rule9200)"))
        #expect(f.evidence.contains { $0.hasPrefix("an ICMP port-unreachable answered the SYN, not a RST") })
        // Without a rule and without ICMP: a closed port, as before.
        let closed = try #require(Diagnosis.rank(observe(9200, ["econnrefused": 2], icmp: 0, rules: [])).first)
        #expect(closed.title == "nothing listens on port 9200 on this machine")
        #expect(closed.advice == ["start the server, or check the port number"])
        // The rules unreadable, the ICMP counter still tells.
        let icmpOnly = try #require(Diagnosis.rank(observe(9200, ["econnrefused": 2], icmp: 2, rules: [])).first)
        #expect(icmpOnly.title == "a firewall rule on this machine rejects connections to port 9200 (ICMP port-unreachable), and nothing listens there")
    }

    @Test func aLocalHostUnreachableIsALocalRuleNotARouter() throws {
        let f = try #require(Diagnosis.rank(observe(9300, ["ehostunreach": 2], icmp: 2, rules: [rule9300])).first)
        #expect(f.topic == "firewall")
        #expect(f.title == "a local firewall rule rejects connections to port 9300 (ICMP host unreachable)")
        #expect(f.evidence.contains("local firewall rule (nft): \(rule9300)"))
        #expect(!([f.title] + f.evidence + f.advice).contains { $0.contains("router") && !$0.contains("no router") || $0.contains("traceroute") })
    }
}
