import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

@Suite struct ThresholdTests {
    /// 970 ok, 20 eaddrnotavail, 10 http_status over 1,000 finished attempts; connect latencies 200-400 us.
    var record: RunRecord {
        var r = literalRecord([LiteralSecond(ok: 500, failures: ["eaddrnotavail": 20]),
                               LiteralSecond(ok: 470, failures: ["http_status": 10])],
                              latenciesUs: [200, 300, 400, 40_000])
        r.totals.httpStatuses = ["200": 970, "503": 6, "500": 3, "404": 1]
        r.totals.achievedRate = 5012
        return r
    }

    func judge(_ text: String) throws -> ThresholdResult {
        try Threshold.parse(text).get().evaluate(record)
    }

    @Test func sharesAndCountsAreMeasuredOverFinishedAttempts() throws {
        let f = try judge("failures<1%")
        #expect(f.measured == 3 && f.unit == "percent" && f.limit == 1 && !f.passed)
        #expect(try judge("failures <= 3%").passed)
        #expect(try judge("failures==30").passed)
        #expect(try !judge("eaddrnotavail==0").passed)
        #expect(try judge("eaddrnotavail==0").measured == 20)
        #expect(try judge("econnrefused==0").passed)
        #expect(try judge("ok>=97%").passed)
        #expect(try !judge("ok>97%").passed)
        #expect(try judge("attempts>=1k").passed)
    }

    @Test func httpStatusesComeFromTheRecordedCodes() throws {
        let fives = try judge("http_status_5xx<0.1%")
        #expect(abs((fives.measured ?? 0) - 0.9) < 1e-9 && !fives.passed)
        #expect(try judge("http_status_5xx==9").passed)
        #expect(try judge("http_status_404<=1").passed)
        #expect(try judge("http_status_2xx>=97%").passed)
        #expect(try judge("http_status_429==0").passed)
    }

    @Test func latencyAndRate() throws {
        let p99 = try judge("connect_p99<50ms")
        #expect(p99.unit == "ms" && p99.passed)
        let max = try judge("connect_max < 0.03s")
        #expect(max.limit == 30 && !max.passed, "\(max)")
        #expect(try judge("connect_p50<=500us").passed)
        #expect(try judge("connect_p99.9<50").passed)
        #expect(try judge("rate>=5000").passed)
        #expect(try !judge("rate>=5.1k").passed)
        #expect(try judge("rate!=0").passed)
    }

    @Test func nothingMeasuredFails() throws {
        var empty = literalRecord([LiteralSecond(ok: 0, failures: ["econnrefused": 5])], latenciesUs: [])
        empty.latency.connectHistogram = LatencyHistogram()
        let t = try Threshold.parse("connect_p99<50ms").get().evaluate(empty)
        #expect(t.measured == nil && !t.passed)
        let none = literalRecord([LiteralSecond(ok: 0)], latenciesUs: [])
        #expect(try Threshold.parse("failures<1%").get().evaluate(none).passed == false)
    }

    @Test(arguments: [
        ("failures", "no comparison"),
        ("failures=<1%", "'=<' is not a comparison"),
        ("speed<5", "unknown measure 'speed'"),
        ("<5", "no measure before <"),
        ("connect_p99<50m", "takes us, ms or s"),
        ("connect_p0<5ms", "unknown measure"),
        ("rate>=5%", "new connections per second"),
        ("attempts>5%", "is a count, not a share"),
        ("failures<1ms", "is a count (or a share with %)"),
        ("failures<101%", "at most 100%"),
        ("failures<abc", "is not a number"),
        ("http_status_6xx<1", "unknown measure"),
    ])
    func badExpressionsGetOneSentence(text: String, fragment: String) {
        guard case .failure(let e) = Threshold.parse(text) else {
            Issue.record("'\(text)' was accepted")
            return
        }
        #expect(e.message.hasPrefix("--threshold '\(text)': ") && e.message.contains(fragment), "\(e.message)")
    }
}
