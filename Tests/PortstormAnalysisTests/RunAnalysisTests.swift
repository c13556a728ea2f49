import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

@Suite struct RunAnalysisTests {
    /// A range of 1000 ports filling at ~50/s per second of TIME_WAIT, then eaddrnotavail once full.
    static func exhaustion() -> RunRecord {
        var seconds: [LiteralSecond] = []
        for t in 0..<10 {
            let used = min(1000, 200 * (t + 1))
            let fails: UInt64 = used >= 1000 ? UInt64(200 * (t - 3)) : 0
            seconds.append(LiteralSecond(ok: 200, failures: fails > 0 ? ["eaddrnotavail": fails] : [:], portsInUse: used, timeWait: used - 10))
        }
        return literalRecord(seconds)
    }

    @Test func exhaustionIsAttributedToThePortBudget() throws {
        let a = RunAnalysis.analyze(Self.exhaustion())
        let onset = try #require(a.onsets.first { $0.outcome == "eaddrnotavail" })
        #expect(onset.firstSecond == 4 && onset.lastSecond == 9)
        #expect(onset.occupancyAtOnset == 1.0)
        #expect((onset.correlationWithOccupancy ?? 0) > 0.6, "\(String(describing: onset.correlationWithOccupancy))")
        let f = try #require(a.findings.first { $0.topic == "port-exhaustion" })
        #expect(f.severity == .problem)
        #expect(f.title.contains("ran out of ephemeral ports"))
        #expect(f.evidence.contains { $0.contains("100.0% of its ports in use") })
        #expect(f.evidence.contains("the limit is this client's, not the server's"))
        #expect(f.advice.contains { $0.contains("--source") })
        #expect(a.findings.first?.topic == "port-exhaustion", "the worst finding comes first")
        #expect(a.tuples.count == 1 && a.tuples[0].peakOccupancy == 1.0 && a.tuples[0].points.count == 10)
    }

    @Test func eaddrnotavailWithFreePortsIsNotBlamedOnThePorts() throws {
        let r = literalRecord((0..<5).map { _ in LiteralSecond(ok: 10, failures: ["eaddrnotavail": 5], portsInUse: 20) })
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "cannot-assign" })
        #expect(f.evidence.contains("the range was not full: ports were not the cause"))
        #expect(f.advice.contains { $0.contains("--source") && $0.contains("configured on this machine") })
    }

    @Test func refusedIsRemoteAndUnrelatedToPorts() throws {
        let r = literalRecord((0..<5).map { t in LiteralSecond(ok: 0, failures: ["econnrefused": 100], portsInUse: t) },
                              resolved: ["127.0.0.1", "::1"])
        let a = RunAnalysis.analyze(r)
        let f = try #require(a.findings.first { $0.topic == "refused" })
        #expect(f.evidence.contains { $0.hasPrefix("not related to the local port range") })
        #expect(f.evidence.contains { $0.contains("resolved to 127.0.0.1, ::1") })
        #expect(f.advice.contains { $0.contains("127.0.0.1 only") })
        #expect(a.onsets.first?.cause == .remote)
    }

    @Test func timeoutsWithListenOverflowsPointAtTheAcceptQueueAndSynBumps() throws {
        let seconds = (0..<4).map { _ in LiteralSecond(ok: 50, failures: ["connect_timeout": 20], portsInUse: 30,
                                                      counters: ["ListenOverflows": 40, "TCPSynRetrans": 60]) }
        let r = literalRecord(seconds, latenciesUs: [300, 400] + Array(repeating: 1_020_000, count: 30) + Array(repeating: 3_050_000, count: 5))
        let a = RunAnalysis.analyze(r)
        let f = try #require(a.findings.first { $0.topic == "timeout" })
        #expect(f.evidence.contains { $0.contains("ListenOverflows grew by 160") })
        #expect(f.advice.first?.contains("listen backlog") == true)
        let bumps = try #require(a.findings.first { $0.topic == "syn-retransmits" })
        #expect(bumps.evidence.contains { $0.contains("30 connects took about 1 s") })
        #expect(bumps.evidence.contains { $0.contains("5 connects took about 3 s") })
    }

    @Test func aMixedRunGetsOneFindingPerClassWorstFirst() {
        let r = literalRecord([LiteralSecond(ok: 90, failures: ["econnreset": 3, "emfile": 2, "protocol_mismatch": 1], portsInUse: 10)])
        let a = RunAnalysis.analyze(r)
        let topics = Set(a.findings.map(\.topic))
        #expect(topics.isSuperset(of: ["reset", "descriptors", "protocol", "capacity"]))
        #expect(a.onsets.first { $0.outcome == "emfile" }?.cause == .local)
        #expect(a.findings.map(\.severity) == a.findings.map(\.severity).sorted(by: >))
        #expect(!a.findings.flatMap(\.advice).contains { $0.contains("tcp_tw_recycle") && !$0.hasPrefix("not:") })
    }

    @Test func capacityModelAndGeneratorHealth() throws {
        var r = Self.exhaustion()
        r.totals.delayed = 500
        let a = RunAnalysis.analyze(r)
        #expect(a.capacity.rangeSize == 1000)
        #expect(abs((a.capacity.modelRatePerTuple ?? 0) - 1000.0 / 60) < 0.01)
        #expect(a.capacity.reuseInEffect == false)
        #expect(a.health.generatorLimited)
        #expect(a.findings.contains { $0.topic == "generator" && $0.severity == .warning })
        // A server-closing run has no TIME_WAIT here: no port model.
        var s = r
        s.config.close = .server
        #expect(RunAnalysis.analyze(s).capacity.modelRate == nil)
    }

    @Test func anAllOkRunSaysSo() {
        let a = RunAnalysis.analyze(literalRecord([LiteralSecond(ok: 100)]))
        #expect(a.findings.contains { $0.topic == "all-ok" && $0.severity == .ok })
        #expect(a.onsets.isEmpty)
    }
}
