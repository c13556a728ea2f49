import PortstormAnalysis
import PortstormRecord
import Testing

/// A snapshot with Linux defaults, changed per test.
func defaults() -> SystemSnapshot {
    var s = SystemSnapshot(kernel: "6.18.0", ipLocalPortRange: [32768, 60999], openFilesSoft: 1024, openFilesHard: 1_048_576)
    s.ipLocalReservedPorts = ""
    s.tcpTwReuse = 2
    s.tcpTwReuseDelayMs = 1000
    s.tcpMaxTwBuckets = 262_144
    s.tcpFinTimeout = 60
    s.tcpTimestamps = 1
    s.somaxconn = 4096
    s.fileMax = 9_223_372
    s.nrOpen = 1_048_576
    return s
}

func finding(_ topic: String, _ s: SystemSnapshot, _ load: PlannedLoad, ioUring: String? = nil) -> Finding? {
    Preflight.check(s, load: load, ioUringProblem: ioUring).first { $0.topic == topic }
}

@Suite struct PreflightTests {
    @Test func aRateAboveRangeOverSixtyWarnsWithConcreteAdvice() throws {
        // 28,232 ports / 60 s = about 470/s per tuple.
        let f = try #require(finding("port-budget", defaults(), PlannedLoad(rate: 1000, targetIsLoopback: false)))
        #expect(f.severity == .warning)
        #expect(f.title.contains("about 471/s"))
        #expect(f.evidence.contains { $0.contains("fills the range in about 28.2 s") })
        #expect(f.advice.contains { $0.contains("ip_local_port_range") })
        #expect(f.advice.contains { $0.contains("--source") })
        #expect(f.advice.contains { $0.contains("--close server") })
    }

    @Test func theSameRateIsFineWithEnoughSourcesOrWhenTheServerClosesOrWithReuse() throws {
        #expect(finding("port-budget", defaults(), PlannedLoad(rate: 1000, sources: 3, targetIsLoopback: false))?.severity == .ok)
        #expect(finding("port-budget", defaults(), PlannedLoad(rate: 1000, close: .server, targetIsLoopback: false))?.severity == .ok)
        // tcp_tw_reuse=2 covers loopback targets only.
        #expect(finding("port-budget", defaults(), PlannedLoad(rate: 1000, targetIsLoopback: true))?.severity == .ok)
    }

    @Test func moreInFlightThanPortsIsAProblem() throws {
        let f = try #require(finding("port-budget", defaults(), PlannedLoad(concurrency: 20, localPorts: PortRange(low: 40000, high: 40009))))
        #expect(f.severity == .problem)
        #expect(f.title.contains("only 10 ports"))
        #expect(f.advice.first == "widen --local-ports (the per-socket range)")
    }

    @Test func reservedPortsShrinkTheBudget() throws {
        var s = defaults()
        s.ipLocalReservedPorts = "40000-40999"
        let f = try #require(finding("port-budget", s, PlannedLoad()))
        #expect(f.evidence.first?.contains("27,232 usable ports") == true)
    }

    @Test func reuseIsExplainedForTheTarget() throws {
        let loop = try #require(finding("tw-reuse", defaults(), PlannedLoad(targetIsLoopback: true)))
        #expect(loop.evidence.contains("it applies to this target"))
        let remote = try #require(finding("tw-reuse", defaults(), PlannedLoad(targetIsLoopback: false)))
        #expect(remote.evidence.contains("it does not apply to this target"))
        var s = defaults()
        s.tcpTimestamps = 0
        s.tcpTwReuse = 1
        #expect(finding("tw-reuse", s, PlannedLoad())?.severity == .warning)
    }

    @Test func adviceIsCurrent() {
        let all = Preflight.check(defaults(), load: PlannedLoad(rate: 5000, targetIsLoopback: false), ioUringProblem: nil)
        let advice = all.flatMap(\.advice).joined(separator: "\n")
        #expect(!advice.contains("tcp_tw_recycle"), "never recommend the removed tcp_tw_recycle")
        #expect(!advice.contains("tcp_fin_timeout"), "tcp_fin_timeout does not shorten TIME_WAIT")
        let timeWait = all.first { $0.topic == "time-wait" }
        #expect(timeWait?.evidence.contains { $0.contains("does not shorten TIME_WAIT") } == true)
        #expect(timeWait?.evidence.contains { $0.contains("removed in Linux 4.12") } == true)
    }

    @Test func limitsConntrackAndIoUring() throws {
        var s = defaults()
        s.openFilesHard = 4096
        #expect(finding("open-files", s, PlannedLoad(concurrency: 10_000))?.severity == .warning)
        s.openFilesSoft = 20; s.openFilesHard = 20  // below the 64 kept free: one attempt at a time
        #expect(finding("open-files", s, PlannedLoad(concurrency: 100))?.title.hasSuffix("near 1") == true)
        s.openFilesHard = 4096
        #expect(finding("open-files", defaults(), PlannedLoad(concurrency: 10_000))?.title.contains("raises") == true)
        s = defaults()
        s.nfConntrackMax = 65_536
        #expect(finding("conntrack", s, PlannedLoad(rate: 1000))?.severity == .warning)
        s.nfConntrackCount = 12
        #expect(finding("conntrack", s, PlannedLoad(rate: 1000))?.severity == .warning, "entries tracked here: the table can fill")
        s.nfConntrackCount = 0
        #expect(finding("conntrack", s, PlannedLoad(rate: 1000))?.severity == .info, "nothing tracked in this namespace: no warning")
        #expect(finding("conntrack", defaults(), PlannedLoad()) == nil, "no conntrack module: no finding")
        #expect(finding("io_uring", defaults(), PlannedLoad(), ioUring: "blocked")?.severity == .problem)
        s = defaults()
        s.tcpMaxTwBuckets = 10_000
        #expect(finding("tw-buckets", s, PlannedLoad(rate: 1000))?.evidence.first?.contains("60,000 TIME_WAIT") == true)
    }
}
