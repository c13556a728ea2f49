import PortstormAnalysis
import Testing

/// The client's own port budget: 50 ephemeral ports, no TIME_WAIT reuse, set inside its namespace.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct ExhaustionTruthTests {
    /// `hold` server, client closes first: every connection leaves a TIME_WAIT socket holding its
    /// port for 60 s. With tcp_tw_reuse 0 and a fresh namespace nothing else holds those ports, so
    /// at most 50 connects to the one (source, destination, port) tuple can succeed, and every
    /// attempt after the range is used up fails with EADDRNOTAVAIL before sending a SYN. A few
    /// of the 50 may still be lost to the kernel's port search under concurrency (it gives up on a
    /// port it finds busy in the same instant), hence the lower bound of 45.
    @Test(.timeLimit(.minutes(1)))
    func aNarrowRangeRunsOutAtItsSize() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.sysctl(net.client, "net.ipv4.ip_local_port_range", "40000 40049")
        try net.sysctl(net.client, "net.ipv4.tcp_tw_reuse", "0")
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run("\(TruthNet.serverIP):9000", ["-n", "120", "-c", "10", "--close", "client"])
        expectTruthful(run)
        let ok = run["ok"]
        #expect((45...50).contains(ok), "ok \(ok) with 50 ports and no reuse")
        #expect(run["eaddrnotavail"] == 120 - ok, "\(run.nonZero)")
        #expect(run.nonZero.keys.allSatisfy { $0 == "ok" || $0 == "eaddrnotavail" }, "\(run.nonZero)")
        #expect(run.causes["eaddrnotavail"] == "local")
        #expect(run.server["PassiveOpens"] == Int64(ok))
        #expect(run.client["TIME_WAIT"] == Int64(ok), "TIME_WAIT in the client namespace +\(run.client["TIME_WAIT"])")
        #expect(mainCause(run.findings)?.topic == "port-exhaustion", "\(run.reportText)")
        #expect(run.findingsText.contains("40000-40049") || run.findingsText.contains("50 ports"), "\(run.reportText)")
        let d = try net.diagnose("\(TruthNet.serverIP):9000", ["--attempts", "2", "--timeout", "500ms"])
        let topics = Set(d.problems.map(\.topic))
        #expect(!topics.isDisjoint(with: ["port-exhaustion", "cannot-assign"]), "\(d.command.stdout)")
        #expect(!d.topics.contains("connects"), "\(d.command.stdout)")
    }
}
