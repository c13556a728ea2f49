import PortstormAnalysis
import Testing

/// nftables rules in the server's namespace in front of a listener on 0.0.0.0:9000: every verdict
/// checked against the kernels of both namespaces.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason),
       .enabled(if: TruthEnvironment.nftMissing == nil, "nft (nftables) is not installed"))
struct FirewallTruthTests {
    static let target = "\(TruthNet.serverIP):9000"

    /// A server that would accept, behind `rule`.
    func behind(_ rule: String) throws -> TruthNet {
        let net = try TruthNet.pair()
        try net.serve("accept-close", listen: "0.0.0.0", port: 9000)
        try net.inputRule(rule)
        return net
    }

    @Test(.timeLimit(.minutes(1)))
    func droppedSYNsEndAsConnectTimeouts() throws {
        let net = try behind("tcp dport 9000 drop")
        defer { net.close() }
        let run = try net.run(Self.target, ["-n", "20", "-c", "20", "--connect-timeout", "500ms"])
        expectTruthful(run)
        #expect(run.nonZero == ["connect_timeout": 20])
        #expect(run.server["PassiveOpens"] == 0, "the server's kernel accepted \(run.server["PassiveOpens"]) behind a DROP")
        #expect(mainCause(run.findings)?.topic == "timeout", "\(run.reportText)")
        let d = try net.diagnose(Self.target, ["--attempts", "2", "--timeout", "500ms"])
        #expect(mainCause(d.findings)?.topic == "timeout", "\(d.command.stdout)")
        #expect(!d.topics.contains("connects"), "diagnose says the target accepts connections: \(d.command.stdout)")
    }

    @Test(.timeLimit(.minutes(1)))
    func aTCPResetRejectIsRefused() throws {
        let net = try behind("tcp dport 9000 reject with tcp reset")
        defer { net.close() }
        let run = try net.run(Self.target, ["-n", "40", "-c", "10"])
        expectTruthful(run)
        #expect(run.nonZero == ["econnrefused": 40])
        #expect(run.server["PassiveOpens"] == 0)
        #expect(mainCause(run.findings)?.topic == "refused", "\(run.reportText)")
        let d = try net.diagnose(Self.target, ["--attempts", "2", "--timeout", "500ms"])
        #expect(mainCause(d.findings)?.topic == "refused", "\(d.command.stdout)")
    }

    /// The ICMP answers a REJECT can send, and the errno connect() must end with. The server's
    /// per-destination ICMP rate limit (icmp_ratelimit, per namespace) is lifted so that every SYN
    /// gets its answer; 40 answers stay within the kernel's global ICMP burst.
    static let icmpCases: [(type: String, outcome: String, topic: String)] = [
        ("port-unreachable", "econnrefused", "refused"),
        ("host-unreachable", "ehostunreach", "unreachable"),
        ("admin-prohibited", "ehostunreach", "unreachable"),
        ("net-unreachable", "enetunreach", "unreachable"),
    ]

    @Test(.timeLimit(.minutes(1)), arguments: icmpCases.map(\.type))
    func anICMPRejectIsNeverCountedOK(icmpType: String) throws {
        let want = try #require(Self.icmpCases.first { $0.type == icmpType })
        let net = try behind("tcp dport 9000 reject with icmp type \(icmpType)")
        defer { net.close() }
        try net.sysctl(net.server, "net.ipv4.icmp_ratelimit", "0")
        let run = try net.run(Self.target, ["-n", "40", "-c", "10"])
        expectTruthful(run)
        #expect(run.server["PassiveOpens"] == 0, "the server's kernel accepted \(run.server["PassiveOpens"]) behind a REJECT")
        #expect(run["ok"] == 0, "\(run["ok"]) counted ok, but no connection was established (PassiveOpens +0)")
        #expect(run.nonZero == [want.outcome: 40])
        #expect(run.causes[want.outcome] == "remote")
        #expect(mainCause(run.findings)?.topic == want.topic, "\(run.reportText)")
        let d = try net.diagnose(Self.target, ["--attempts", "3", "--timeout", "500ms"])
        #expect(!d.topics.contains("connects"), "diagnose says the target accepts connections: \(d.command.stdout)")
        #expect(mainCause(d.findings)?.topic == want.topic, "\(d.command.stdout)")
    }

    /// The same truth through the fallback for kernels without getsockopt in the ring (before 6.7):
    /// SO_ERROR read by a system call after the CONNECT completes.
    @Test(.timeLimit(.minutes(1)))
    func anICMPRejectIsNeverCountedOKWithTheSyscallCheckEither() throws {
        let net = try behind("tcp dport 9000 reject with icmp type port-unreachable")
        defer { net.close() }
        try net.sysctl(net.server, "net.ipv4.icmp_ratelimit", "0")
        let run = try net.run(Self.target, ["-n", "40", "-c", "10"], environment: ["PORTSTORM_CONNECT_CHECK=getsockopt"])
        expectTruthful(run)
        #expect((run.json["engine"] as? [String: Any])?["connectCheck"] as? String == "getsockopt")
        #expect(run.nonZero == ["econnrefused": 40])
        #expect(run.server["PassiveOpens"] == 0)
    }

    /// The server on the client's own machine: a wildcard listener covers every address, so a
    /// refusal in front of it is a firewall on the path, not a listener on the wrong address.
    @Test(.timeLimit(.minutes(1)))
    func aLocalResetRejectInFrontOfAWildcardListenerNamesTheFirewall() throws {
        let net = try TruthNet.single()
        defer { net.close() }
        try net.serve("accept-close", listen: "0.0.0.0", port: 9000)
        try net.inputRule("tcp dport 9000 reject with tcp reset")
        let run = try net.run("127.0.0.1:9000", ["-n", "20", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["econnrefused": 20])
        #expect(run.server["PassiveOpens"] == 0)
        let d = try net.diagnose("127.0.0.1:9000", ["--attempts", "2", "--timeout", "500ms"])
        #expect(mainCause(d.findings)?.topic == "refused" || mainCause(d.findings)?.topic == "firewall", "\(d.command.stdout)")
        #expect(!d.text.contains("point the client at 0.0.0.0"), "\(d.command.stdout)")
        #expect(!d.text.contains("not on 127.0.0.1"), "\(d.command.stdout)")
        #expect(d.text.contains("firewall"), "diagnose does not name a firewall rule: \(d.command.stdout)")
    }
}
