import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// Sentences a report used to print while its own record contradicted them (issue 9, item 6).
@Suite struct SaidWrongTests {
    /// No report sentence may contradict the record.
    func consistent(_ r: RunRecord, sourceLocation: SourceLocation = #_sourceLocation) -> [Finding] {
        let findings = RunAnalysis.analyze(r).findings
        let problems = ReportConsistency.problems(record: r, findings: findings)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        return findings
    }

    @Test func aNegativeCorrelationIsNotCalledFollowing() throws {
        // The range is full throughout while the failures fade: r is negative.
        var seconds: [LiteralSecond] = []
        for t in 0..<8 {
            seconds.append(LiteralSecond(ok: 10, failures: ["eaddrnotavail": UInt64(80 - 10 * t)], portsInUse: 950 + 5 * t, timeWait: 900))
        }
        let f = try #require(consistent(literalRecord(seconds)).first { $0.topic == "port-exhaustion" })
        let line = try #require(f.evidence.first { $0.contains("r = ") })
        #expect(!line.contains("follow"), "\(line)")
        #expect(line.contains("do not rise with port occupancy"))
    }

    @Test func aStrongCorrelationOverEnoughSecondsIsCalledFollowing() throws {
        var seconds: [LiteralSecond] = []
        for t in 0..<8 {
            let failed: [String: UInt64] = t >= 3 ? ["eaddrnotavail": 100] : [:]
            seconds.append(LiteralSecond(ok: 10, failures: failed, portsInUse: min(1000, 700 + 100 * t), timeWait: 500))
        }
        let f = try #require(consistent(literalRecord(seconds)).first { $0.topic == "port-exhaustion" })
        #expect(f.evidence.contains { $0.hasPrefix("failures per second follow the busiest tuple's port occupancy: r = 0.89") && $0.hasSuffix("over 8 seconds") })
    }

    /// A full range with the given tcp_tw_reuse, toward `target`.
    func exhausted(reuse: Int, target: String) -> RunRecord {
        var seconds: [LiteralSecond] = []
        for t in 0..<6 {
            seconds.append(LiteralSecond(ok: 100, failures: t >= 3 ? ["eaddrnotavail": 50] : [:], portsInUse: min(1000, 400 + 200 * t),
                                         timeWait: 300, counters: reuse > 0 ? ["TWRecycled": 20] : [:]))
        }
        var r = literalRecord(seconds)
        r.system.tcpTwReuse = reuse
        r.target = TargetInfo(host: target, port: 8080, resolved: [target], used: "\(target):8080")
        return r
    }

    @Test func tcpTwReuseIsNotAdvisedWhereItAlreadyApplies() throws {
        // 2 covers loopback: no advice to set 1, and the finding says reuse was already on.
        let loop = try #require(consistent(exhausted(reuse: 2, target: "127.0.0.1")).first { $0.topic == "port-exhaustion" })
        #expect(!loop.advice.contains { $0.contains("tcp_tw_reuse=1") }, "\(loop.advice)")
        #expect(loop.evidence.contains { $0.hasPrefix("tcp_tw_reuse = 2 already applied to this target") })
        // 2 does not cover another host: advise 1, saying what 2 means.
        let remote = try #require(consistent(exhausted(reuse: 2, target: "10.0.0.2")).first { $0.topic == "port-exhaustion" })
        #expect(remote.advice.contains { $0.contains("tcp_tw_reuse=1") && $0.contains("it is 2: loopback only") })
        // 1 covers everything.
        let one = try #require(consistent(exhausted(reuse: 1, target: "10.0.0.2")).first { $0.topic == "port-exhaustion" })
        #expect(!one.advice.contains { $0.contains("tcp_tw_reuse=1") })
        // 0: advise it.
        let off = try #require(consistent(exhausted(reuse: 0, target: "10.0.0.2")).first { $0.topic == "port-exhaustion" })
        #expect(off.advice.contains { $0.hasPrefix("net.ipv4.tcp_tw_reuse=1") })
    }

    @Test func theCloseModeInUseIsNotAdvised() throws {
        var r = exhausted(reuse: 0, target: "10.0.0.2")
        r.config.close = .rst
        let f = try #require(consistent(r).first { $0.topic == "port-exhaustion" })
        #expect(!f.advice.contains { $0.contains("--close rst") })
        #expect(f.advice.contains { $0.hasPrefix("let the server close first") })
    }

    @Test func preflightDoesNotAdviseReuseThatIsOn() {
        var s = SystemSnapshot(kernel: "6.18.0", ipLocalPortRange: [32768, 60999], openFilesSoft: 1024, openFilesHard: 4096)
        s.tcpTwReuse = 1
        s.tcpTimestamps = 1
        let unknownTarget = Preflight.check(s, load: PlannedLoad(rate: 5000), ioUringProblem: nil)
        #expect(!unknownTarget.flatMap(\.advice).contains { $0.contains("tcp_tw_reuse=1") })
        s.tcpTwReuse = 2
        let advice = Preflight.check(s, load: PlannedLoad(rate: 5000), ioUringProblem: nil).flatMap(\.advice)
        #expect(advice.contains { $0.hasPrefix("for a target that is not loopback: net.ipv4.tcp_tw_reuse=1") })
    }

    /// Short loopback runs under tcp_tw_reuse=2: the ports never filled, nothing was reused.
    @Test func reuseIsCreditedOnlyWhenTheRunNeededItAndTWRecycledGrew() throws {
        // 20 attempts in one second, a range of 10 ports (the "0/s the port range allows" run).
        var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: nil, connections: 20)
        config.localPorts = PortRange(low: 40000, high: 40009)
        var tiny = literalRecord([LiteralSecond(ok: 20, portsInUse: 10, timeWait: 10)], config: config, rangeSize: 10)
        tiny.system.tcpTwReuse = 2
        tiny.totals.achievedRate = 2220
        var f = try #require(consistent(tiny).first { $0.topic == "capacity" })
        #expect(!f.title.contains("made up the difference"), "TWRecycled did not grow: \(f.title)")
        #expect(!([f.title] + f.evidence).contains { $0.contains(" 0/s") || $0.contains("about 0 ") }, "\(f)")
        #expect(f.evidence.contains { $0.contains("about 0.17 new connections/s per tuple") })
        tiny.timeline[0].kernel?.counters = ["TWRecycled": 10]
        f = try #require(consistent(tiny).first { $0.topic == "capacity" })
        #expect(f.title.contains("TIME_WAIT reuse made up the difference (TWRecycled +10 in this namespace)"))

        // 5,000 attempts at 0.5% occupancy: the range was nowhere near full.
        let big = (0..<5).map { _ in LiteralSecond(ok: 1000, portsInUse: 140, timeWait: 100) }
        var r = literalRecord(big, config: RunConfig(target: "127.0.0.1:8080", durationSeconds: 5), rangeSize: 20000)
        r.system.tcpTwReuse = 2
        let g = try #require(consistent(r).first { $0.topic == "capacity" })
        #expect(!g.title.contains("made up the difference"))
        #expect(g.title.contains("needed no reuse"))
    }

    @Test func planNeverAdvisesARangeWiderThanPortsGo() throws {
        let steps = [step(100), step(200)]
        let p = CapacityPlan.make(steps: steps, rule: KneeRule(), targetRate: 5000, system: literalRecord([]).system,
                                  config: RunConfig(target: "x:1", durationSeconds: 2), sources: 1)
        let need = try #require(p.needs.first)
        #expect(!need.contains("a range of 300000 ports"), "\(need)")
        #expect(need.contains("no single source can: the widest range, 64,512 ports"))
        #expect(need.contains("it takes 5 source addresses"))
        let fits = CapacityPlan.make(steps: steps, rule: KneeRule(), targetRate: 1000, system: literalRecord([]).system,
                                     config: RunConfig(target: "x:1", durationSeconds: 2), sources: 1)
        #expect(fits.needs.first?.contains("or a range of 60000 ports per source") == true)
        let planFindings = [Finding(.info, "plan", "plan", advice: p.needs + fits.needs)]
        #expect(ReportConsistency.problems(record: literalRecord([]), findings: planFindings).isEmpty)
    }

    @Test func theConntrackEstimateIsBoundedByWhatTheRunCanMake() throws {
        var s = SystemSnapshot(kernel: "6.18.0", ipLocalPortRange: [32768, 60999], openFilesSoft: 1024, openFilesHard: 4096)
        s.nfConntrackMax = 65_536
        // 2,000 attempts at 1000/s can never hold 120,100 entries.
        let small = try #require(Preflight.check(s, load: PlannedLoad(rate: 1000, concurrency: 100, connections: 2000), ioUringProblem: nil)
            .first { $0.topic == "conntrack" })
        #expect(small.severity == .ok, "\(small)")
        #expect(small.evidence.first?.contains("about 2,000 entries") == true)
        // A 10 s run at 1000/s makes at most about 10,100.
        let short = try #require(Preflight.check(s, load: PlannedLoad(rate: 1000, concurrency: 100, durationSeconds: 10), ioUringProblem: nil)
            .first { $0.topic == "conntrack" })
        #expect(short.severity == .ok && short.evidence.first?.contains("about 10,100 entries") == true, "\(short)")
        // A long one at that rate does fill the table.
        let long = try #require(Preflight.check(s, load: PlannedLoad(rate: 1000, concurrency: 100, durationSeconds: 600), ioUringProblem: nil)
            .first { $0.topic == "conntrack" })
        #expect(long.severity == .warning && long.evidence.first?.contains("about 120,100 entries") == true)
    }

    /// The same 10 ports under tcp_tw_reuse=2, run out within a second (reuse waits 1 s): the
    /// capacity finding says the ports filled, never that the run "needed no reuse".
    @Test func aFastExhaustionUnderReuseIsNotCalledWithinItsPorts() throws {
        var config = RunConfig(target: "127.0.0.1:8080", durationSeconds: nil, connections: 20)
        config.localPorts = PortRange(low: 40000, high: 40009)
        var r = literalRecord([LiteralSecond(ok: 10, failures: ["eaddrnotavail": 10], portsInUse: 10, timeWait: 10)], config: config, rangeSize: 10)
        r.system.tcpTwReuse = 2
        let findings = consistent(r)
        let cap = try #require(findings.first { $0.topic == "capacity" })
        #expect(cap.title.hasPrefix("at 10/s the 10 ports filled within the first second"), "\(cap.title)")
        #expect(cap.title.hasSuffix("(reuse frees a tuple only once it is 1000 ms old)"))
        let wrong = Finding(.info, "capacity", "sustainable rate without TIME_WAIT reuse: about 0.17 new connections/s from 1 source(s); this run stayed within its ports and needed no reuse")
        #expect(ReportConsistency.problems(record: r, findings: findings.filter { $0.topic != "capacity" } + [wrong]).count == 1)
    }

    /// A step that kept its rate but started attempts late is not "25/s of 25/s".
    @Test func aGeneratorKneeSaysWhatFellBehind() throws {
        var late = step(25)
        late.delayedOrMissed = 4
        late.delayedOrMissedShare = 0.08
        let k = try #require(CapacityPlan.knee([late], rule: KneeRule()))
        #expect(k.limit == "generator")
        #expect(k.reason == "the generator fell behind at 25/s: 8.0% of attempts started late or never", "\(k.reason)")
        // One attempt 10 ms late out of 50 is scheduling noise on a busy machine, not a knee.
        var noise = step(25)
        noise.delayedOrMissed = 1
        noise.delayedOrMissedShare = 0.02
        #expect(CapacityPlan.knee([noise], rule: KneeRule()) == nil)
        var slow = step(25)
        slow.achievedRate = 23.4
        #expect(CapacityPlan.knee([slow], rule: KneeRule())?.reason == "the generator reached only 23.4/s of 25/s")
    }
}
