import PortstormAnalysis
import Testing

/// Servers that listen, but not where or not as fast as the client needs.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct ListenerTruthTests {
    /// The server listens on its own 127.0.0.1 only; the client comes over the veth.
    @Test(.timeLimit(.minutes(1)))
    func aLoopbackOnlyListenerRefusesTheVethAddress() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("accept-close", listen: "127.0.0.1", port: 9000)
        let run = try net.run("\(TruthNet.serverIP):9000", ["-n", "20", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["econnrefused": 20])
        #expect(run.server["PassiveOpens"] == 0)
        #expect(mainCause(run.findings)?.topic == "refused", "\(run.reportText)")
        let d = try net.diagnose("\(TruthNet.serverIP):9000", ["--attempts", "2", "--timeout", "500ms"])
        let dc = try #require(mainCause(d.findings), "\(d.command.stdout)")
        #expect(dc.topic == "refused", "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("127.0.0.1"), "diagnose does not mention a loopback-only listener: \(d.command.stdout)")
    }

    /// The server on this machine listens on [::1] only; the client asks for 127.0.0.1.
    @Test(.timeLimit(.minutes(1)))
    func anIPv6OnlyListenerIsNamedAsSuch() throws {
        let net = try TruthNet.single()
        defer { net.close() }
        try net.serve("accept-close", listen: "[::1]", port: 9000)
        let run = try net.run("127.0.0.1:9000", ["-n", "20", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["econnrefused": 20])
        #expect(run.server["PassiveOpens"] == 0)
        let d = try net.diagnose("127.0.0.1:9000", ["--attempts", "2", "--timeout", "500ms"])
        let dc = try #require(mainCause(d.findings), "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("::1"), "diagnose does not say the server listens on ::1 only: \(d.command.stdout)")
        #expect(!d.text.contains("nothing listens on port 9000"), "\(d.command.stdout)")
        #expect(!d.text.contains("no tcp listener at all"), "\(d.command.stdout)")
    }

    /// `serve --mode slow-accept` (backlog 4, 20 accepts a second) on the client's machine, 200
    /// connects at once: the accept queue overflows, the server's kernel drops final ACKs, and the
    /// client counts connections the server never accepted. The report must name the difference.
    @Test(.timeLimit(.minutes(1)))
    func aFullAcceptQueueIsNamedWhenClientAndServerKernelsDisagree() throws {
        let net = try TruthNet.single()
        defer { net.close() }
        try net.serve("slow-accept", listen: "127.0.0.1", port: 9000)
        let run = try net.run("127.0.0.1:9000", ["-n", "200", "-c", "200", "--connect-timeout", "3s"])
        expectTruthful(run)
        // The difference as the run saw it: the record's PassiveOpens (the suite reads later, after
        // the slow server may have accepted a few more).
        let ok = run["ok"], passive = UInt64(max(0, run.witnessed("PassiveOpens") ?? run.server["PassiveOpens"]))
        try #require(run.server["ListenOverflows"] > 0, "the accept queue never overflowed: the case did not happen")
        #expect(UInt64(max(0, run.server["PassiveOpens"])) < ok, "client ok \(ok), server PassiveOpens +\(run.server["PassiveOpens"]): the case did not happen")
        // One finding names both the accept queue and how many connections the server never accepted.
        let named = run.findings.first { f in
            let t = TruthRun.text([f])
            return f.severity >= .warning && t.contains("accept queue") && t.contains("\(ok - passive)")
        }
        #expect(named != nil,
                "no finding names the accept queue and the difference (client ok \(ok), server kernel accepted \(passive)): \(run.reportText)")
        #expect(!run.reportText.lowercased().contains("did not answer in time"), "\(run.reportText)")
    }

    /// `serve --mode blackhole` on the server's machine: its accept queue is full, so its kernel
    /// drops every SYN (ListenOverflows grows there). The client only sees timeouts; diagnose must
    /// count a full accept queue among the causes, not only firewalls.
    @Test(.timeLimit(.minutes(1)))
    func aFullAcceptQueueOnAnotherHostIsAmongTheTimeoutCauses() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("blackhole", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run("\(TruthNet.serverIP):9000", ["-n", "10", "-c", "10", "--connect-timeout", "1500ms"])
        expectTruthful(run)
        #expect(run.nonZero == ["connect_timeout": 10])
        #expect(run.server["PassiveOpens"] == 0)
        #expect(run.server["ListenOverflows"] > 0, "the server's kernel did not count overflows: the case did not happen")
        let cause = try #require(mainCause(run.findings), "\(run.reportText)")
        #expect(cause.topic == "timeout", "\(run.reportText)")
        let d = try net.diagnose("\(TruthNet.serverIP):9000", ["--attempts", "1", "--timeout", "500ms"])
        let dc = try #require(mainCause(d.findings), "\(d.command.stdout)")
        #expect(TruthRun.text([dc]).contains("accept queue"), "diagnose's timeout causes leave out a full accept queue: \(d.command.stdout)")
    }
}
