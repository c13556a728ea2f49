import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

@Suite struct ReportConsistencyTests {
    /// Ten seconds of clean loopback churn: nothing to object to.
    static func clean() -> RunRecord {
        literalRecord((0..<10).map { t in LiteralSecond(ok: 100, portsInUse: 10 * (t + 1), timeWait: 10 * t) })
    }

    @Test func aCleanReportHasNoProblems() {
        let r = Self.clean()
        let problems = ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func theExhaustionReportHasNoProblems() {
        var seconds: [LiteralSecond] = []
        for t in 0..<10 {
            let used = min(1000, 200 * (t + 1))
            let fails: UInt64 = used >= 1000 ? UInt64(200 * (t - 3)) : 0
            seconds.append(LiteralSecond(ok: 200, failures: fails > 0 ? ["eaddrnotavail": fails] : [:], portsInUse: used, timeWait: used - 10))
        }
        let r = literalRecord(seconds)
        let problems = ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func percentilesOutOfOrderAreFound() {
        var r = Self.clean()
        r.timeline[3].connectLatencyUs = SecondLatency(p50: 300, p90: 2_000, p99: 1_000, max: 1_000)
        let problems = ReportConsistency.problems(record: r, findings: [])
        #expect(problems.count == 1)
        #expect(problems.first?.contains("second 3") == true)
    }

    @Test func countsThatDisagreeWithTheTotalsAreFound() {
        let r = literalRecord([LiteralSecond(ok: 90, failures: ["econnrefused": 10])])
        let wrong = Finding(.problem, "refused", "connections refused", evidence: ["12 attempts (12.00%) ended econnrefused, in second 0"])
        #expect(ReportConsistency.problems(record: r, findings: [wrong]).count == 1)
        let right = Finding(.problem, "refused", "connections refused", evidence: ["10 attempts (10.00%) ended econnrefused, in second 0"])
        #expect(ReportConsistency.problems(record: r, findings: [right]).isEmpty)
        let allOK = Finding(.ok, "all-ok", "every attempt that finished succeeded", evidence: ["90 ok of 100 attempted, 0 in flight at the end"])
        #expect(ReportConsistency.problems(record: r, findings: [allOK]).count == 1, "all-ok while 10 failed")
        var unbalanced = r
        unbalanced.totals.attempted = 101
        #expect(ReportConsistency.problems(record: unbalanced, findings: []).contains { $0.contains("do not add up") })
    }

    @Test func weakOrNegativeCorrelationsAreNotFollowing() {
        let r = Self.clean()
        let weak = Finding(.problem, "port-exhaustion", "x", evidence: ["failures per second follow occupancy: r = -0.16"])
        #expect(ReportConsistency.problems(record: r, findings: [weak]).count == 1)
        let strong = Finding(.problem, "port-exhaustion", "x", evidence: ["failures per second follow occupancy: r = 0.93"])
        #expect(ReportConsistency.problems(record: r, findings: [strong]).isEmpty)
    }

    @Test func adviceForWhatIsAlreadyInEffectIsFound() {
        var r = Self.clean()
        r.system.tcpTwReuse = 2
        let advice = Finding(.problem, "port-exhaustion", "x", advice: ["net.ipv4.tcp_tw_reuse=1 lets new outgoing connections reuse TIME_WAIT tuples"])
        #expect(ReportConsistency.problems(record: r, findings: [advice]).count == 1, "2 covers this loopback target")
        r.target = TargetInfo(host: "192.0.2.7", port: 80, resolved: ["192.0.2.7"], used: "192.0.2.7:80")
        #expect(ReportConsistency.problems(record: r, findings: [advice]).isEmpty, "2 does not cover a remote target")
        r.system.tcpTwReuse = 1
        #expect(ReportConsistency.problems(record: r, findings: [advice]).count == 1)
        r.config.close = .rst
        let rst = Finding(.info, "capacity", "x", advice: ["SO_LINGER 0 (--close rst) where an abortive close is acceptable"])
        #expect(ReportConsistency.problems(record: r, findings: [rst]).count == 1)
    }

    @Test func impossibleFiguresAreFound() {
        let r = Self.clean()
        let zero = Finding(.info, "capacity", "the run made 2220/s, above the 0/s the port range allows without reuse")
        #expect(ReportConsistency.problems(record: r, findings: [zero]).contains { $0.contains("0/s") })
        let wide = Finding(.info, "plan", "x", advice: ["or a range of 300000 ports per source"])
        #expect(ReportConsistency.problems(record: r, findings: [wide]).contains { $0.contains("300000") })
        let fine = Finding(.info, "plan", "x", advice: ["or a range of 60000 ports per source"])
        #expect(ReportConsistency.problems(record: r, findings: [fine]).isEmpty)
        let negative = Finding(.info, "capacity", "achieved -12/s")
        #expect(ReportConsistency.problems(record: r, findings: [negative]).count == 1)
        // Figures as findings print them, with thousands separators.
        let wideGrouped = Finding(.info, "plan", "x", advice: ["or a range of 300,000 ports per source"])
        #expect(ReportConsistency.problems(record: r, findings: [wideGrouped]).contains { $0.contains("300,000 ports") })
        let negativeGrouped = Finding(.info, "capacity", "achieved -1,200/s")
        #expect(ReportConsistency.problems(record: r, findings: [negativeGrouped]).count == 1)
    }

    @Test func groupedCountsAreCheckedAgainstTheTotals() {
        let r = literalRecord([LiteralSecond(ok: 9_000, failures: ["econnrefused": 1_000])])
        let wrong = Finding(.problem, "refused", "connections refused", evidence: ["1,200 attempts (12.00%) ended econnrefused, in second 0"])
        #expect(ReportConsistency.problems(record: r, findings: [wrong]).count == 1)
        let right = Finding(.problem, "refused", "connections refused", evidence: ["1,000 attempts (10.00%) ended econnrefused, in second 0"])
        #expect(ReportConsistency.problems(record: r, findings: [right]).isEmpty)
        let allOK = Finding(.ok, "all-ok", "every attempt that finished succeeded", evidence: ["9,000 ok of 10,000 attempted, 0 in flight at the end"])
        #expect(ReportConsistency.problems(record: r, findings: [allOK]).count == 1, "all-ok while 1,000 failed")
    }

    @Test func creditingReuseWithoutTWRecycledIsFound() {
        let r = Self.clean()
        let f = Finding(.info, "capacity", "the run made 2220/s, above the 17/s the port range allows without reuse: TIME_WAIT reuse made up the difference")
        #expect(ReportConsistency.problems(record: r, findings: [f]).contains { $0.contains("TWRecycled") })
        var recycled = r
        recycled.timeline[2].kernel?.counters = ["TWRecycled": 40]
        #expect(ReportConsistency.problems(record: recycled, findings: [f]).isEmpty)
    }

    @Test func kernelCountersQuotedMustBeTheRecords() {
        var r = Self.clean()
        r.timeline[1].kernel?.counters = ["ListenOverflows": 30]
        r.timeline[2].kernel?.counters = ["ListenOverflows": 10]
        let right = Finding(.problem, "timeout", "x", evidence: ["ListenOverflows grew by 40 on this machine"])
        #expect(ReportConsistency.problems(record: r, findings: [right]).isEmpty)
        let wrong = Finding(.problem, "timeout", "x", evidence: ["ListenOverflows grew by 2952 on this machine"])
        #expect(ReportConsistency.problems(record: r, findings: [wrong]).count == 1)
        r.kernelWitness = KernelWitness(counters: ["ListenOverflows": 41, "PassiveOpens": 106])
        let overRun = Finding(.problem, "accept-queue", "x", evidence: ["the kernel: PassiveOpens +106, ListenOverflows +41"])
        #expect(ReportConsistency.problems(record: r, findings: [overRun]).isEmpty)
        let off = Finding(.problem, "accept-queue", "x", evidence: ["the kernel: PassiveOpens +107"])
        #expect(ReportConsistency.problems(record: r, findings: [off]).count == 1)
    }
}
