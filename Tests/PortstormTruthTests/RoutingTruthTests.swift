import PortstormAnalysis
import Testing

/// Where the client cannot get a packet to the server: its own routing table, a neighbour that
/// never answers ARP, a name that points at the wrong machine.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct RoutingTruthTests {
    /// 10.202.0.0/16 is in no route of the client's namespace (no default route either): connect()
    /// fails at once with ENETUNREACH, before any SYN.
    @Test(.timeLimit(.minutes(1)))
    func noRouteIsLocalAndSendsNoSYN() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let run = try net.run("10.202.0.5:9000", ["-n", "20", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["no_route": 20], "\(run.nonZero)")
        #expect(run.causes["no_route"] == "local")
        #expect(run.client["ActiveOpens"] == 0, "a SYN left: ActiveOpens +\(run.client["ActiveOpens"])")
        let cause = try #require(mainCause(run.findings), "\(run.reportText)")
        #expect(TruthRun.text([cause]).contains("route"), "\(run.reportText)")
        #expect(!TruthRun.text([cause]).contains("firewall"), "\(run.reportText)")
        let d = try net.diagnose("10.202.0.5:9000", ["--attempts", "2", "--timeout", "500ms"])
        let dc = try #require(mainCause(d.findings), "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("route"), "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("10.202.0.5"), "\(d.command.stdout)")
    }

    /// 10.201.0.77 is on the veth's /24 (the route is fine) but no host has it: ARP goes
    /// unanswered, the neighbour entry ends FAILED, connect() fails after about 3 s.
    @Test(.timeLimit(.minutes(1)))
    func anOnLinkAddressWithoutAHostIsNamedAsNoARPAnswer() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let run = try net.run("10.201.0.77:9000", ["-n", "5", "-c", "5", "--connect-timeout", "5s"])
        expectTruthful(run)
        #expect(run["ok"] == 0)
        #expect(run["ehostunreach"] + run["connect_timeout"] == 5, "\(run.nonZero)")
        let neigh = try net.must(net.client, ["ip", "neigh", "show", "10.201.0.77"])
        #expect(neigh.contains("FAILED") || neigh.contains("INCOMPLETE"), "neighbour entry: \(neigh)")
        let cause = try #require(mainCause(run.findings), "\(run.reportText)")
        #expect(TruthRun.text([cause]).contains("arp"), "the report does not say that no host answers ARP: \(run.reportText)")
        #expect(!TruthRun.text([cause]).contains("check routes"), "\(run.reportText)")
        let d = try net.diagnose("10.201.0.77:9000", ["--attempts", "1", "--timeout", "5s"])
        let dc = try #require(mainCause(d.findings), "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("arp"), "diagnose does not say that no host answers ARP: \(d.command.stdout)")
    }

    /// /etc/hosts of the client (through /etc/netns/CLIENT/hosts) points the name at 10.201.0.3, an
    /// old address of the server's machine where nothing listens; the server runs on 10.201.0.2.
    @Test(.timeLimit(.minutes(1)))
    func aNameResolvedToTheWrongAddressIsNamed() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.must(net.server, ["ip", "addr", "add", "10.201.0.3/24", "dev", "vs"])
        try net.serve("accept-close", listen: TruthNet.serverIP, port: 9000)
        try net.clientHosts("127.0.0.1 localhost\n::1 localhost\n10.201.0.3 api.truth.test\n")
        let run = try net.run("api.truth.test:9000", ["-n", "20", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["econnrefused": 20])
        #expect(run.record?.target.resolved == ["10.201.0.3"], "resolved: \(run.record?.target.resolved ?? [])")
        #expect(run.server["PassiveOpens"] == 0)
        #expect(run.reportText.contains("10.201.0.3"), "the report does not name the address used: \(run.reportText)")
        let d = try net.diagnose("api.truth.test:9000", ["--attempts", "2", "--timeout", "500ms"])
        let dc = try #require(mainCause(d.findings), "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("10.201.0.3"), "diagnose's cause does not name the resolved address: \(d.command.stdout)")
        #expect(d.text.contains("api.truth.test"), "\(d.command.stdout)")
    }

    /// `--source` with an address no interface of the client has: bind() fails with EADDRNOTAVAIL
    /// before any SYN. The report must name the address, not blame the ephemeral ports, also when
    /// the run was not observed (no census to tell exhaustion from this).
    @Test(.timeLimit(.minutes(1)))
    func aNonLocalSourceIsNamed() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run("\(TruthNet.serverIP):9000", ["--source", "192.0.2.1", "-n", "5", "-c", "5", "--no-observe"])
        expectTruthful(run)
        #expect(run.nonZero == ["eaddrnotavail": 5], "\(run.nonZero)")
        #expect(run.client["ActiveOpens"] == 0)
        let cause = try #require(mainCause(run.findings), "\(run.reportText)")
        #expect(TruthRun.text([cause]).contains("192.0.2.1"), "the report does not name the source address: \(run.reportText)")
        #expect(!TruthRun.text([cause]).contains("ephemeral ports"), "\(run.reportText)")
    }
}
