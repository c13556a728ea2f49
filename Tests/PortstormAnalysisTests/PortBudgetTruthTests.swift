import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// A record of a 4-port tuple (--local-ports 40000-40003, no TIME_WAIT reuse) whose every census
/// saw the 4 ports in use, all in TIME_WAIT, beside `timeWaitElsewhere` more TIME_WAIT sockets
/// toward the same destination on ports outside the range (an earlier run's).
func fourPortRecord(ok: [UInt64], failed: [UInt64], timeWaitElsewhere: Int, heldAtStart: Int? = nil,
                    statesInRange: Bool = true) -> RunRecord {
    let seconds = zip(ok, failed).map { LiteralSecond(ok: $0, failures: $1 > 0 ? ["eaddrnotavail": $1] : [:], portsInUse: 4, timeWait: 4) }
    var config = RunConfig(target: "127.0.0.1:8080", rate: 50, durationSeconds: Double(ok.count))
    config.localPorts = PortRange(low: 40000, high: 40003)
    var r = literalRecord(seconds, config: config, rangeSize: 4)
    for i in r.timeline.indices {
        guard var c = r.timeline[i].kernel?.census else { continue }
        c.tuples[0].states = ["TIME_WAIT": 4 + timeWaitElsewhere]
        c.tuples[0].statesInRange = statesInRange ? ["TIME_WAIT": 4] : nil
        c.tuples[0].heldBefore = heldAtStart.map { min($0, 4) }
        r.timeline[i].kernel?.census = c
    }
    if let held = heldAtStart {
        var buckets = [Int](repeating: 0, count: 64)
        for p in 0..<held { buckets[p * 64 / 4] += 1 }
        let start = Census(atMs: 0, trigger: "start", tookUs: 100, tuples: [
            TupleCensus(source: "127.0.0.1", destination: "127.0.0.1", port: 8080, states: ["TIME_WAIT": held + timeWaitElsewhere],
                        portsInUse: held, rangeSize: 4, rangeLow: 40000, rangeHigh: 40003, buckets: buckets,
                        statesInRange: ["TIME_WAIT": held])])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 0], startCensus: start)
    }
    return r
}

@Suite struct PortBudgetTruthTests {
    // Audit: "up to 2,004 of that tuple's sockets were in TIME_WAIT" for a tuple of 4 ports.
    @Test func aTuplesTimeWaitCountsOnlyThePortsOfItsRange() throws {
        let r = fourPortRecord(ok: [4, 0, 0], failed: [46, 50, 50], timeWaitElsewhere: 2000)
        let a = RunAnalysis.analyze(r)
        let f = try #require(a.findings.first { $0.topic == "port-exhaustion" })
        #expect(f.evidence.contains("up to 4 of that tuple's 4 ports were held by sockets in TIME_WAIT"))
        #expect(!f.evidence.joined().contains("2,004"))
        #expect(a.tuples.first?.points.compactMap(\.timeWait).max() == 4)
    }

    @Test func theConsistencyCheckRefusesMoreTimeWaitThanATuplesPorts() throws {
        let r = fourPortRecord(ok: [4, 0, 0], failed: [46, 50, 50], timeWaitElsewhere: 2000)
        var findings = RunAnalysis.analyze(r).findings
        #expect(ReportConsistency.problems(record: r, findings: findings).isEmpty)
        let i = try #require(findings.firstIndex { $0.topic == "port-exhaustion" })
        findings[i].evidence.append("up to 2,004 of that tuple's 4 ports were held by sockets in TIME_WAIT")
        #expect(ReportConsistency.problems(record: r, findings: findings).contains { $0.contains("puts 2,004 sockets in TIME_WAIT on a tuple of 4 ports") })
    }

    @Test func aRecordWithoutStatesInRangeClaimsNoTimeWaitPerTuple() throws {
        let r = fourPortRecord(ok: [4, 0, 0], failed: [46, 50, 50], timeWaitElsewhere: 2000, statesInRange: false)
        let a = RunAnalysis.analyze(r)
        let f = try #require(a.findings.first { $0.topic == "port-exhaustion" })
        #expect(!f.evidence.contains { $0.contains("TIME_WAIT") && $0.contains("up to") })
        #expect(a.tuples.first?.points.allSatisfy { $0.timeWait == nil } == true)
    }

    // Audit: "At 0.00/s the 4 ports filled within the first second" when they were full before the run.
    @Test func portsFullAtTheStartCensusAreSaidToBeHeldBeforeTheRun() throws {
        let r = fourPortRecord(ok: [0, 0, 0], failed: [100, 100, 99], timeWaitElsewhere: 0, heldAtStart: 4)
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "capacity" })
        #expect(f.title.hasPrefix("the 4 ports were already held before the run: the start census found 4 of them in use by earlier sockets, 4 of them in TIME_WAIT"))
        #expect(!f.title.contains("filled"))
        // The run's own exhaustion still reads as before.
        let own = try #require(RunAnalysis.analyze(fourPortRecord(ok: [4, 0, 0], failed: [46, 50, 50], timeWaitElsewhere: 0, heldAtStart: 0))
            .findings.first { $0.topic == "capacity" })
        #expect(own.title.hasPrefix("at ") && own.title.contains("the 4 ports filled within the first second"))
    }

    // Audit: "this run's own sockets held at most 0.0%" while 50 were in flight (0.2% of a range).
    @Test func theRunsOwnShareIsNotRoundedToZeroAndNamesThePeakInFlight() throws {
        let seconds = (0..<3).map { _ in LiteralSecond(ok: 500, portsInUse: 2001) }
        var config = RunConfig(target: "127.0.0.1:8080", rate: 500, durationSeconds: 3)
        config.close = .rst
        var r = literalRecord(seconds, config: config, rangeSize: 25000)
        for i in r.timeline.indices { r.timeline[i].kernel?.census?.tuples[0].heldBefore = 2000 }
        r.kernelWitness = KernelWitness(counters: [:], startCensus: Census(atMs: 0, trigger: "start", tookUs: 1, tuples: [
            TupleCensus(source: "127.0.0.1", destination: "127.0.0.1", port: 8080, states: ["TIME_WAIT": 2000], portsInUse: 2000,
                        rangeSize: 25000, rangeLow: 40000, rangeHigh: 64999, buckets: [2000] + [Int](repeating: 0, count: 63))]))
        r.process = ProcessStats(rssAtStartKiB: 1, maxRssKiB: 2, userSeconds: 0, systemSeconds: 0, peakInFlight: 50)
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "capacity" })
        let line = try #require(f.evidence.first { $0.hasPrefix("peak occupancy") })
        #expect(line.contains("the censuses saw at most 1 ports (<0.1%) held by this run's own sockets"))
        #expect(line.contains("up to 50 of its attempts were in flight at once (0.2%)"))
        #expect(!line.contains("0.0%"))
    }

    // Audit: "r = 1.00" printed while the busiest tuple sat at 0.0% of its ports.
    @Test func noCorrelationIsClaimedOverANearFlatOccupancy() throws {
        let used = [0, 1, 2, 3, 4, 5]  // of 25,000 ports: at most 0.02%
        let seconds = used.map { LiteralSecond(ok: 100, failures: ["econnrefused": UInt64($0 * 10)], portsInUse: $0) }
        let a = RunAnalysis.analyze(literalRecord(seconds, rangeSize: 25000))
        let o = try #require(a.onsets.first { $0.outcome == "econnrefused" })
        #expect(o.correlationWithOccupancy == nil)
        #expect(!a.findings.flatMap(\.evidence).contains { $0.contains("r = ") })
        // The same failures over an occupancy that does move keep their r.
        let moving = used.map { LiteralSecond(ok: 100, failures: ["econnrefused": UInt64($0 * 10)], portsInUse: $0 * 100) }
        #expect(RunAnalysis.analyze(literalRecord(moving, rangeSize: 1000)).onsets.first?.correlationWithOccupancy != nil)
    }

    // Audit: the peak per second of a failure was printed without separators ("peak 105820/s").
    @Test func findingsGroupTheirCounts() throws {
        let seconds = [LiteralSecond(ok: 0, failures: ["econnrefused": 105_820]), LiteralSecond(ok: 0, failures: ["econnrefused": 5])]
        let f = try #require(RunAnalysis.analyze(literalRecord(seconds)).findings.first { $0.topic == "refused" })
        #expect(f.evidence.first?.contains("peak 105,820/s") == true)
    }

    // Audit: the model rate read "0.1" in the table and "0.07/s" in the finding; "0.00" and "0.0".
    @Test func ratesReadTheSameInFindingsAndTables() {
        #expect(Format.rate(4.0 / 60) == "0.07")
        #expect(Format.rate(0) == "0")
        #expect(Format.rate(50) == "50")
        #expect(Format.rate(23.4) == "23.4")
        #expect(Format.rate(105_820.4) == "105,820")
        #expect(Format.rate(0.001) == "<0.01")
        #expect(Format.share(50.0 / 28232) == "0.2%")
        #expect(Format.share(1.0 / 28232) == "<0.1%")
        #expect(Format.share(0) == "0.0%")
    }
}

@Suite struct PreflightRateTests {
    func fourPorts() -> SystemSnapshot {
        var s = defaults()
        s.ipLocalPortRange = [40000, 40003]
        s.tcpTwReuse = 0
        return s
    }

    // Audit: doctor --rate 100 (default -c 1000) said "1,000 attempts in flight but only 4 ports"
    // and "use 250 source addresses"; the rate sizes the ports: 100/s x 60 s = 6,000 = 1,500 x 4.
    @Test func anOpenLoopRateIsSizedByTimeWaitNotByConcurrency() throws {
        let load = PlannedLoad(rate: 100, concurrency: 1000, close: .client, targetIsLoopback: true, durationSeconds: 10)
        let f = try #require(finding("port-budget", fourPorts(), load))
        #expect(f.severity == .warning)
        #expect(f.title == "--rate 100/s is above what the port range sustains (about 0.07/s)")
        #expect(f.evidence.contains("sustaining 100/s takes about 6,000 ports (100/s x 60 s of TIME_WAIT)"))
        #expect(f.advice.contains { $0.hasPrefix("use 1,500 source addresses or more of 4 ports each") })
        #expect(!(f.title + f.evidence.joined() + f.advice.joined()).contains("1,000 attempts in flight"))
        // The hold-capacity sentence does not count -c as connections holding ports at once.
        let capacity = HoldCapacity(.init(wanted: 1000, openFiles: 1_048_576, bytesPerConnection: 4100, portsPerSource: 4,
                                          destination: "127.0.0.1:8080", portsHeldAtOnce: false))
        #expect(capacity.stopping == nil)
        #expect(!capacity.finding.advice.contains { $0.contains("250 source addresses") })
    }

    @Test func heldConnectionsAtARateAreSizedByRateTimesHold() throws {
        let load = PlannedLoad(rate: 100, concurrency: 1000, close: .server, targetIsLoopback: true, holdSeconds: 2)
        #expect(load.openAtOnce == 200)
        let f = try #require(finding("port-budget", fourPorts(), load))
        #expect(f.severity == .problem)
        #expect(f.title.hasPrefix("at 100/s with each connection held 2 s, about 200 connections are open at once but only 4 ports"))
        #expect(f.advice.contains { $0.hasPrefix("use 50 source addresses or more of 4 ports each") })
        // Closed loop: -c is what is in flight.
        let closed = try #require(finding("port-budget", fourPorts(), PlannedLoad(concurrency: 10, close: .server)))
        #expect(closed.title.hasPrefix("10 attempts in flight but only 4 ports"))
        // Open loop, the server closing, no hold: nothing holds ports for long.
        #expect(finding("port-budget", fourPorts(), PlannedLoad(rate: 100, concurrency: 1000, close: .server))?.severity == .ok)
    }
}
