import PortstormAnalysis
import Testing

/// Reject rules in front of 127.0.0.1, client and server in one namespace of the test's own: the
/// ICMP answer reaches the connecting socket while connect() still holds it, which the kernel
/// counts in LockDroppedIcmps and never in AttemptFails. The report must say only what holds.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason),
       .enabled(if: TruthEnvironment.nftMissing == nil, "nft (nftables) is not installed"))
struct LocalRejectTruthTests {
    @Test(.timeLimit(.minutes(1)))
    func aLocalPortUnreachableIsARejectRuleNotAClosedPort() throws {
        let net = try TruthNet.single()
        defer { net.close() }
        try net.inputRule("tcp dport 9200 reject with icmp type port-unreachable")
        let run = try net.run("127.0.0.1:9200", ["-n", "300", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["econnrefused": 300])
        // The kernel's own figures, read by the suite: each refusal is in one of the two counters.
        #expect(run.client["AttemptFails"] + run.client["LockDroppedIcmps"] >= 300,
                "AttemptFails +\(run.client["AttemptFails"]), LockDroppedIcmps +\(run.client["LockDroppedIcmps"])")
        #expect(!run.findings.contains { $0.topic == "kernel-witness" && $0.severity >= .warning }, "\(run.reportText)")
        let cause = try #require(mainCause(run.findings))
        #expect(cause.topic == "refused")
        #expect(cause.title.contains("ICMP port-unreachable"), "\(cause.title)")
        #expect(!run.findingsText.contains("answered the syn with rst"), "\(run.reportText)")
        #expect(!run.findingsText.contains("check that the server is started"), "\(run.reportText)")

        // diagnose, nothing listening: the rule it reads is named, not only "start the server".
        let d = try net.diagnose("127.0.0.1:9200", ["--attempts", "2", "--timeout", "500ms"])
        let f = try #require(mainCause(d.findings))
        #expect(f.topic == "firewall", "\(d.command.stdout)")
        #expect(d.text.contains("tcp dport 9200 reject"), "\(d.command.stdout)")

        // A listener behind the rule changes nothing: the rule answers first.
        try net.serve("accept-close", listen: "0.0.0.0", port: 9200)
        let behind = try net.run("127.0.0.1:9200", ["-n", "100", "-c", "5"])
        expectTruthful(behind)
        #expect(behind.nonZero == ["econnrefused": 100])
        #expect(mainCause(behind.findings)?.title.contains("not by a closed port") == true, "\(behind.reportText)")
    }

    @Test(.timeLimit(.minutes(1)))
    func aLocalHostUnreachableIsThisMachinesRuleNotARouter() throws {
        let net = try TruthNet.single()
        defer { net.close() }
        try net.inputRule("tcp dport 9300 reject with icmp type host-unreachable")
        let run = try net.run("127.0.0.1:9300", ["-n", "300", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["ehostunreach": 300])
        let cause = try #require(mainCause(run.findings))
        #expect(cause.topic == "firewall", "\(run.reportText)")
        #expect(!run.findingsText.contains("router or firewall on the path reports") && !run.findingsText.contains("traceroute"), "\(run.reportText)")
        let d = try net.diagnose("127.0.0.1:9300", ["--attempts", "2", "--timeout", "500ms"])
        #expect(mainCause(d.findings)?.topic == "firewall", "\(d.command.stdout)")
        #expect(d.text.contains("tcp dport 9300 reject"), "\(d.command.stdout)")
        #expect(!d.text.contains("router on the path") && !d.text.contains("traceroute"), "\(d.command.stdout)")
    }
}
