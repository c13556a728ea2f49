import PortstormAnalysis
import PortstormRecord
import Testing

/// Inputs where nothing stops a million: each test lowers one limit below the others.
private func roomy(wanted: Int = 1_000_000) -> HoldCapacity.Inputs {
    HoldCapacity.Inputs(wanted: wanted, threads: 100, openFiles: 20_000, socketsInRing: true,
                        memAvailableBytes: 24 << 30, bytesPerConnection: 8_000, portsPerSource: 64_511, sources: 20,
                        destination: "127.0.0.1:9000", server: LocalServerRoom(processes: 64, room: 1_300_000))
}

@Suite struct HoldCapacityTests {
    @Test func noLimitStopsWhenEveryBoundIsAboveTheLoad() throws {
        let c = HoldCapacity(roomy())
        #expect(c.stopping == nil)
        #expect(c.finding.severity == .ok)
        // 20 x 64,511 = 1,290,220 ports is the nearest.
        #expect(c.sentence == "no limit stops 1,000,000 connections at once; the nearest is ports per tuple, at 1,290,220 (20 source addresses x 64,511 ports toward 127.0.0.1:9000; the rest fail with EADDRNOTAVAIL)")
    }

    @Test func fileTablesOfTooFewRingsStopTheRun() throws {
        var i = roomy()
        i.threads = 4
        let c = HoldCapacity(i)
        let s = try #require(c.stopping)
        #expect(s.limit == .fileTables)
        #expect(s.connections == 80_000)
        #expect(c.sentence.hasPrefix("file tables will stop this run near 80,000 of the 1,000,000 connections"))
        #expect(c.finding.severity == .warning)
        #expect(c.finding.advice.first == "use --threads 50 or more (one ring and one file table per thread)")
    }

    @Test func unevenSharesAreCountedPerTable() throws {
        // 5 over 2 rings with tables of at most 2: min(3, 2) + min(2, 2) = 4.
        var i = roomy(wanted: 5)
        i.threads = 2
        i.openFiles = 2
        #expect(HoldCapacity(i).stopping?.connections == 4)
    }

    @Test func theProcessTableStopsTodaysEngineAndSaysWhatHappensPastIt() throws {
        var i = roomy()
        i.socketsInRing = false
        let capped = try #require(HoldCapacity(i).stopping)
        #expect(capped.limit == .fileTables)
        #expect(capped.connections == 19_936)
        #expect(capped.why.contains("the run caps -c to fit"))
        i.openFilesGiven = true
        #expect(HoldCapacity(i).stopping?.why.contains("attempts past it fail with EMFILE") == true)
    }

    @Test func memoryStopsWhenItIsTheSmallest() throws {
        var i = roomy()
        i.memAvailableBytes = 4 << 30
        let c = HoldCapacity(i)
        let s = try #require(c.stopping)
        #expect(s.limit == .memory)
        #expect(s.connections == (4 << 30) / 8_000)
        #expect(c.sentence.contains("memory will stop this run near 536,870 of the 1,000,000"))
        #expect(s.why.contains("MemAvailable 4.0 GiB at about 8,000 bytes per connection"))
    }

    @Test func portsPerTupleStopWithTooFewSources() throws {
        var i = roomy()
        i.sources = 10
        let c = HoldCapacity(i)
        let s = try #require(c.stopping)
        #expect(s.limit == .portsPerTuple)
        #expect(s.connections == 645_110)
        #expect(c.finding.advice.first == "use 16 source addresses or more (--source A.B.C.D-A.B.C.E)")
    }

    @Test func theServersRoomStopsWhenItIsTheSmallest() throws {
        var i = roomy()
        i.server = LocalServerRoom(processes: 13, room: 259_000)
        let c = HoldCapacity(i)
        let s = try #require(c.stopping)
        #expect(s.limit == .server)
        #expect(s.why.hasPrefix("13 portstorm serve processes on 127.0.0.1:9000 can accept 259,000 more"))
        #expect(c.finding.advice.first?.contains("--reuse-port") == true)
    }

    @Test func unknownMemoryAndServerAreLeftOutNotGuessed() throws {
        var i = roomy()
        i.memAvailableBytes = nil
        i.server = nil
        let limits = HoldCapacity(i).bounds.map(\.limit)
        #expect(limits == [.fileTables, .portsPerTuple])
    }

    @Test func theSmallestOfSeveralStoppingLimitsIsNamed() throws {
        // Ports 64,511 < tables 80,000 < memory: ports are named.
        var i = roomy()
        i.threads = 4
        i.sources = 1
        #expect(HoldCapacity(i).stopping?.limit == .portsPerTuple)
        #expect(HoldCapacity(i).bounds.map(\.limit).prefix(2) == [.portsPerTuple, .fileTables])
    }

    @Test func aLoadAtTheBoundIsNotStopped() throws {
        var i = roomy(wanted: 19_936)
        i.socketsInRing = false
        #expect(HoldCapacity(i).stopping == nil)
        i.wanted = 19_937
        #expect(HoldCapacity(i).stopping?.limit == .fileTables)
    }

    @Test func thePreflightCarriesTheSentenceFirstAfterIOUring() throws {
        var i = roomy()
        i.threads = 4
        let findings = Preflight.check(defaults(), load: PlannedLoad(concurrency: 1_000_000), ioUringProblem: nil, capacity: HoldCapacity(i))
        #expect(findings.map(\.topic).prefix(2) == ["io_uring", "hold-capacity"])
        #expect(findings[1].severity == .warning)
        #expect(Preflight.check(defaults(), load: PlannedLoad(), ioUringProblem: nil).contains { $0.topic == "hold-capacity" } == false)
    }
}
