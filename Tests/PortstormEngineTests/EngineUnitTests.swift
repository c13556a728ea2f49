@testable import PortstormEngine
import PortstormRecord
import Testing

@Suite struct RateScheduleTests {
    @Test func attemptsFallDueOnTheIntervalGrid() {
        let s = RateSchedule(startNs: 1_000_000_000, rate: 1000, phase: 0)
        #expect(s.due(at: 999_999_999) == 0)
        #expect(s.due(at: 1_000_000_000) == 1)
        #expect(s.due(at: 1_000_999_999) == 1)
        #expect(s.due(at: 1_001_000_000) == 2)
        #expect(s.due(at: 2_000_000_000) == 1001)
        #expect(s.dueTime(of: 10) == 1_010_000_000)
    }

    @Test func workersAreStaggered() {
        let a = RateSchedule(startNs: 0, rate: 100, phase: 0)
        let b = RateSchedule(startNs: 0, rate: 100, phase: 0.5)
        #expect(b.dueTime(of: 0) - a.dueTime(of: 0) == 5_000_000)
    }
}

@Suite struct AnswerCheckTests {
    func judge(_ check: AnswerCheck, _ text: String, eof: Bool = false) -> AnswerCheck.Verdict {
        Array(text.utf8).withUnsafeBytes { check.judge($0, eof: eof) }
    }

    @Test func containsChecks() {
        let c = AnswerCheck.contains(Array("pong".utf8))
        #expect(judge(c, "ping pong") == .valid)
        #expect(judge(c, "pin") == .needMore)
        #expect(judge(c, "pin", eof: true) == .invalid)
        #expect(judge(c, String(repeating: "x", count: 1024)) == .invalid)
    }

    @Test func payloads() {
        #expect(Payload.unescaped("a\\r\\nb\\t\\\\c\\q") == Array("a\r\nb\t\\c\\q".utf8))
        let get = String(decoding: Payload.httpGet(path: "/x", host: "::1", port: 8080), as: UTF8.self)
        #expect(get.hasPrefix("GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n"))
        #expect(get.hasSuffix("Connection: close\r\n\r\n"))
        let named = String(decoding: Payload.httpGet(path: "/", host: "127.0.0.1", port: 8080, hostHeader: "api.example"), as: UTF8.self)
        #expect(named.contains("\r\nHost: api.example\r\n"))
        // RFC 6455 section 1.3's own example key and answer.
        #expect(WebSocketHandshake.accept(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let ws = String(decoding: WebSocketHandshake.request(path: "/chat", host: "h", port: 80, key: "k", hostHeader: nil), as: UTF8.self)
        #expect(ws.hasPrefix("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n") && ws.contains("Sec-WebSocket-Key: k\r\n"))
    }
}

@Suite struct RunPlanTests {
    func error(_ config: RunConfig) -> String? {
        if case .failure(let e) = RunPlan.make(config) { return e.message }
        return nil
    }

    @Test func rejectsBadCombinationsWithOneSentence() {
        let base = RunConfig(target: "127.0.0.1:9", durationSeconds: 1)
        var c = base
        c.durationSeconds = nil
        #expect(error(c)?.contains("must be bounded") == true)
        c = base; c.concurrency = 0
        #expect(error(c)?.contains("--concurrency") == true)
        c = base; c.rate = -5
        #expect(error(c)?.contains("--rate") == true)
        c = base; c.wireProtocol = .http; c.send = "x"
        #expect(error(c)?.contains("--protocol tcp") == true)
        c = base; c.sources = ["127.0.0.9-127.0.0.2"]
        #expect(error(c)?.contains("reversed") == true)
        c = base; c.sources = ["::1"]
        #expect(error(c)?.contains("resolved only to 127.0.0.1") == true)
        c = base; c.sources = ["not-an-ip"]
        #expect(error(c)?.contains("is not an IP address") == true)
        c = base; c.path = "no-slash"
        #expect(error(c)?.contains("--path") == true)
        c = base; c.target = "no-such-host.invalid:80"
        #expect(error(c)?.contains("cannot resolve") == true)
        c = base; c.expectStatus = "200"
        #expect(error(c)?.contains("goes with --protocol http") == true)
        c = base; c.wireProtocol = .http; c.expectStatus = "2xx"
        #expect(error(c)?.contains("--expect-status") == true)
        #expect(error(base) == nil)
    }

    @Test func answerBuffersAreBoundedBeforeAnythingIsAllocated() {
        var c = RunConfig(target: "127.0.0.1:9", concurrency: 4_000_000, durationSeconds: 1)
        c.wireProtocol = .ws
        #expect(error(c)?.contains("3.8 GiB of answer buffers") == true)
        c.wireProtocol = .http  // 512 bytes per attempt: 1.9 GiB for 4M, 0.95 GiB for 2M
        #expect(error(c)?.contains("1.9 GiB") == true)
        c.concurrency = 2_000_000
        #expect(error(c) == nil)
        c.wireProtocol = .tcp  // no answer to keep: no buffer per attempt
        c.concurrency = 4_000_000
        #expect(error(c) == nil)
    }

    @Test func expandsSourceRanges() throws {
        let list = try SourceList.parse("127.0.0.2-127.0.0.4, 127.0.0.9")
        #expect(list.map(\.ip) == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9"])
    }

    @Test func sourcesPickTheTargetAddressOfTheirFamily() throws {
        var c = RunConfig(target: "localhost:9", durationSeconds: 1)
        c.sources = ["127.0.0.1"]
        let plan = try RunPlan.make(c).get()
        #expect(plan.target.family == .ipv4)
    }
}

@Suite struct LiveLatencyBucketTests {
    @Test func eachConnectIsCountedUnderTheFirstBoundItFitsAndTheSumIsExact() {
        var stats = WorkerStats(expectedSeconds: 1)
        for us: UInt64 in [40, 50, 51, 100, 2_000, 9_000_000, 20_000_000] { stats.connected(latencyNanos: us * 1000) }
        let live = stats.live
        let bounds = LiveStatus.connectBoundsUs
        #expect(live.connectBuckets.count == bounds.count)
        func atOrBelow(_ us: UInt64) -> UInt64 { live.connectBuckets[bounds.firstIndex(of: us)!] }
        #expect(atOrBelow(50) == 2 && atOrBelow(100) == 4 && atOrBelow(1_000) == 4 && atOrBelow(2_500) == 5 && atOrBelow(10_000_000) == 6)
        #expect(live.connectCount == 7, "the 20 s connect is only in +Inf (the count)")
        #expect(live.connectSumUs == 29_002_241)
        // Publishing again after more connects does not disturb what was published.
        stats.connected(latencyNanos: 10_000)
        #expect(atOrBelow(50) == 2 && stats.live.connectBuckets[bounds.firstIndex(of: 50)!] == 3)
    }
}
