import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// portstorm's counts set beside the kernel's (`RunRecord.kernelWitness`), on literal records.
@Suite struct KernelWitnessTests {
    func consistent(_ r: RunRecord, sourceLocation: SourceLocation = #_sourceLocation) -> [Finding] {
        let findings = RunAnalysis.analyze(r).findings
        let problems = ReportConsistency.problems(record: r, findings: findings)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        return findings
    }

    func census(timeWait: Int, atMs: Int = 0, trigger: String = "start") -> Census {
        Census(atMs: atMs, trigger: trigger, tookUs: 100, tuples: timeWait == 0 ? [] : [
            TupleCensus(source: "127.0.0.1", destination: "127.0.0.1", port: 8080, states: ["TIME_WAIT": timeWait],
                        portsInUse: timeWait, rangeSize: 1000, rangeLow: 40000, rangeHigh: 40999, buckets: [timeWait] + Array(repeating: 0, count: 63))])
    }

    /// The reported case: 146 connected (ok and response_timeout), the local server's kernel
    /// completed 106 handshakes, ListenOverflows +40.
    func overflowed() -> RunRecord {
        var r = literalRecord([LiteralSecond(ok: 100, failures: ["response_timeout": 46, "connect_timeout": 4], portsInUse: 50)])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 150, "PassiveOpens": 106, "ListenOverflows": 40, "TW": 100, "TWKilled": 0,
                                                   "TCPAbortOnClose": 0, "TWRecycled": 0],
                                        serverIsLocal: true, startCensus: census(timeWait: 0))
        return r
    }

    @Test func aFullAcceptQueueIsNamedWithTheKernelsNumbers() throws {
        let findings = consistent(overflowed())
        let f = try #require(findings.first { $0.topic == "accept-queue" })
        #expect(f.severity == .problem)
        #expect(f.title == "the server's accept queue overflowed: at least 40 connections the client counted were never accepted")
        #expect(f.evidence.first == "portstorm counted 146 connected; this machine's kernel opened 150 (ActiveOpens) and the local server's kernel completed 106 handshakes (PassiveOpens): at least 40 final ACKs were dropped by a full accept queue (ListenOverflows +40)")
        // The response timeouts are not blamed on a server that "accepted but did not answer".
        let noAnswer = try #require(findings.first { $0.topic == "no-answer" })
        #expect(!noAnswer.title.contains("accepted but"), "\(noAnswer.title)")
        #expect(noAnswer.title.contains("accept queue overflowed"))
        #expect(!findings.contains { $0.topic == "kernel-witness" && $0.severity == .ok })
    }

    @Test func theOldSentenceIsCaughtByTheConsistencyCheck() {
        let r = overflowed()
        let old = Finding(.warning, "no-answer", "the server accepted but did not answer in time")
        #expect(ReportConsistency.problems(record: r, findings: [old]).count == 1)
        let wrongCount = Finding(.problem, "accept-queue", "x", evidence: ["portstorm counted 150 connected; ..."])
        #expect(ReportConsistency.problems(record: r, findings: [wrongCount]).count == 1)
    }

    @Test func overflowsWithoutALocalServerClaimNothingAboutItsAccepts() {
        var r = overflowed()
        r.kernelWitness?.serverIsLocal = false
        let findings = consistent(r)
        #expect(!findings.contains { $0.topic == "accept-queue" })
        #expect(findings.contains { $0.topic == "kernel-witness" && $0.severity == .ok && $0.evidence.contains { $0.contains("the server is not in this namespace") } })
    }

    @Test func fewerActiveOpensThanSYNsIsADisagreement() throws {
        var r = literalRecord([LiteralSecond(ok: 40, failures: ["econnrefused": 10])])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 45, "TW": 40, "TWKilled": 0])
        let f = try #require(consistent(r).first { $0.topic == "kernel-witness" })
        #expect(f.severity == .problem)
        #expect(f.evidence.first == "portstorm counted 40 connected and 50 attempts that sent a SYN; the kernel opened 45 (ActiveOpens +45)")
        // More in the kernel is no agreement either: another program's, or attempts left out.
        r.kernelWitness?.counters["ActiveOpens"] = 70
        #expect(consistent(r).first { $0.topic == "kernel-witness" }?.severity == .info)
        r.kernelWitness?.counters["ActiveOpens"] = 50
        #expect(consistent(r).first { $0.topic == "kernel-witness" }?.severity == .ok)
    }

    @Test func closesThatResetAreSaidAndTheTimeWaitModelIsNotApplied() throws {
        // --close client over HTTP with the answer unread: RST, no TIME_WAIT anywhere.
        var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: 1)
        config.wireProtocol = .http
        config.close = .client
        var r = literalRecord([LiteralSecond(ok: 300, portsInUse: 0)], config: config, rangeSize: 100)
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 300, "PassiveOpens": 300, "TW": 0, "TWKilled": 0,
                                                   "TCPAbortOnClose": 300, "OutRsts": 300, "TWRecycled": 0],
                                        serverIsLocal: true, startCensus: census(timeWait: 0))
        let findings = consistent(r)
        let f = try #require(findings.first { $0.topic == "close-mode" })
        #expect(f.title == "the client's closes made no TIME_WAIT here: the connections were reset (RST), not closed")
        #expect(f.evidence.contains("TIME_WAIT sockets entered in this namespace: 0 (TW + TWKilled)"))
        let cap = try #require(findings.first { $0.topic == "capacity" })
        #expect(cap.title == "the port range did not limit this run: its connections left no TIME_WAIT here", "\(cap.title)")
        #expect(RunAnalysis.analyze(r).capacity.modelRate == nil)
        // Without the witness, the model is applied (older records).
        r.kernelWitness = nil
        #expect(RunAnalysis.analyze(r).capacity.modelRate != nil)
    }

    @Test func timeWaitMadeKeepsTheModel() {
        var r = literalRecord((0..<3).map { t in LiteralSecond(ok: 100, portsInUse: 100 * (t + 1), timeWait: 100 * (t + 1)) })
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 300, "TW": 300, "TWKilled": 0, "TCPAbortOnClose": 0], startCensus: census(timeWait: 0))
        let findings = consistent(r)
        #expect(!findings.contains { $0.topic == "close-mode" })
        #expect(RunAnalysis.analyze(r).capacity.modelRate != nil)
    }

    @Test func socketsFromBeforeTheRunAreSaidToUseTheBudget() throws {
        var r = literalRecord((0..<3).map { _ in LiteralSecond(ok: 10, portsInUse: 900, timeWait: 890) })
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 30, "TW": 30, "TWKilled": 0], startCensus: census(timeWait: 880))
        let f = try #require(consistent(r).first { $0.topic == "before-run" })
        #expect(f.title == "880 ports toward 127.0.0.1:8080 were already in use before the first attempt (88.0% of the range)")
        #expect(f.evidence.contains { $0.contains("they still hold ports of this run's budget") })
    }

    /// A WebSocket run: the server closes the TCP connection first after the closing handshake,
    /// so the TIME_WAIT is on its side; said as information, with no advice to read answers.
    @Test func aServerThatClosesFirstTakesTheTimeWait() throws {
        var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: 1)
        config.wireProtocol = .ws
        var r = literalRecord([LiteralSecond(ok: 50, portsInUse: 0)], config: config)
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 50, "PassiveOpens": 50, "TW": 50, "TWKilled": 0, "TCPAbortOnClose": 0, "TWRecycled": 0],
                                        serverIsLocal: true, startCensus: census(timeWait: 0))
        let f = try #require(consistent(r).first { $0.topic == "close-mode" })
        #expect(f.severity == .info && f.advice.isEmpty)
        #expect(f.title == "the client's closes made no TIME_WAIT here: the local server's side entered TIME_WAIT (it closed first)")
        #expect(f.evidence.contains { $0.contains("RFC 6455") })
    }

    @Test func refusalsTheKernelDidNotSeeAreADisagreement() throws {
        var r = literalRecord([LiteralSecond(ok: 0, failures: ["econnrefused": 100])])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 100, "AttemptFails": 100, "LockDroppedIcmps": 0, "OutRsts": 100])
        #expect(consistent(r).first { $0.topic == "kernel-witness" }?.severity == .ok)
        r.kernelWitness?.counters["AttemptFails"] = 60
        let f = try #require(consistent(r).first { $0.topic == "kernel-witness" })
        #expect(f.severity == .problem)
        #expect(f.evidence.first == "portstorm counted 100 connects refused or timed out by the kernel (econnrefused, etimedout); AttemptFails grew by 60 and LockDroppedIcmps by 0")
    }

    @Test func anRstCloseThatSentNoRSTIsSaid() throws {
        var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: 1)
        config.close = .rst
        var r = literalRecord([LiteralSecond(ok: 300, portsInUse: 0)], config: config)
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 300, "OutRsts": 300, "TW": 0, "TWKilled": 0], startCensus: census(timeWait: 0))
        #expect(!consistent(r).contains { $0.topic == "close-mode" })
        r.kernelWitness?.counters["OutRsts"] = 12
        let f = try #require(consistent(r).first { $0.topic == "close-mode" })
        #expect(f.title == "--close rst, yet this machine's kernel sent 12 RSTs for 300 connections")
    }

    /// 900 TIME_WAIT of an earlier run expire while this run makes 200: fewer at the end than at
    /// the start is no proof that this run made none.
    @Test func expiringTimeWaitFromBeforeHidesNothing() {
        var r = literalRecord([LiteralSecond(ok: 200, portsInUse: 300, timeWait: 300)])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 200, "TW": 200, "TWKilled": 0, "TWRecycled": 0], startCensus: census(timeWait: 900))
        #expect(!consistent(r).contains { $0.topic == "close-mode" })
        #expect(RunAnalysis.analyze(r).witness?.closedWithoutTimeWait == false)
    }
}
