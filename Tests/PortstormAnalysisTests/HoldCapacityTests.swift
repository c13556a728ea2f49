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

    @Test func fileTablesStopTheRingPathOnlyPastTheMostRings() throws {
        // 1,024 rings x 500 sockets = 512,000 < 1,000,000.
        var i = roomy()
        i.openFiles = 500
        let c = HoldCapacity(i)
        let s = try #require(c.stopping)
        #expect(s.limit == .fileTables)
        #expect(s.connections == 512_000)
        #expect(c.sentence.hasPrefix("file tables will stop this run near 512,000 of the 1,000,000 connections"))
        #expect(s.why.contains("this run takes 1024 rings"))
        #expect(c.finding.severity == .warning)
        #expect(c.finding.advice.first?.hasPrefix("raise the open-file limit") == true)
    }

    @Test func theEngineAddsRingsWhenAShareExceedsATable() throws {
        // 4 threads asked, 250,000 each > 20,000: the engine runs 50 rings of 20,000, and nothing stops it.
        var i = roomy()
        i.threads = 4
        let c = HoldCapacity(i)
        #expect(c.stopping == nil)
        #expect(c.bounds.first { $0.limit == .fileTables }?.why.contains("this run takes 50 rings") == true)
        // Shares that fit keep the threads asked.
        i.wanted = 80_000
        #expect(HoldCapacity(i).bounds.first { $0.limit == .fileTables }?.why.contains("this run takes 4 rings") == true)
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
        #expect(limits == [.portsPerTuple, .fileTables])
    }

    @Test func theSmallestOfSeveralStoppingLimitsIsNamed() throws {
        // Ports 64,511 < memory 536,870 < server 600,000: ports are named.
        var i = roomy()
        i.sources = 1
        i.memAvailableBytes = 4 << 30
        i.server = LocalServerRoom(processes: 30, room: 600_000)
        #expect(HoldCapacity(i).stopping?.limit == .portsPerTuple)
        #expect(HoldCapacity(i).bounds.map(\.limit).prefix(3) == [.portsPerTuple, .memory, .server])
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
        i.sources = 2
        let findings = Preflight.check(defaults(), load: PlannedLoad(concurrency: 1_000_000), ioUringProblem: nil, capacity: HoldCapacity(i))
        #expect(findings.map(\.topic).prefix(2) == ["io_uring", "hold-capacity"])
        #expect(findings[1].severity == .warning)
        #expect(Preflight.check(defaults(), load: PlannedLoad(), ioUringProblem: nil).contains { $0.topic == "hold-capacity" } == false)
    }

    @Test func onTheRingPathTheOpenFileLimitDoesNotCapTheRun() throws {
        var s = defaults()
        s.openFilesSoft = 20_000
        s.openFilesHard = 20_000
        let load = PlannedLoad(concurrency: 1_000_000)
        let ring = Preflight.check(s, load: load, ioUringProblem: nil, capacity: HoldCapacity(roomy())).first { $0.topic == "open-files" }
        #expect(ring?.severity == .ok)
        var i = roomy()
        i.socketsInRing = false
        let process = Preflight.check(s, load: load, ioUringProblem: nil, capacity: HoldCapacity(i)).first { $0.topic == "open-files" }
        #expect(process?.severity == .warning)
    }
}
