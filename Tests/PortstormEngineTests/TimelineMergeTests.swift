@testable import PortstormEngine
import PortstormRecord
import Testing

@Suite struct TimelineMergeTests {
    /// Every connect of the second took 1,234 us: the two-digit bucket's top value passes that, and
    /// p90 used to keep it while p99 was capped by the exact maximum (p90 > p99).
    @Test func perSecondPercentilesAreOrderedAndNeverPassTheMaximum() throws {
        var hist = LatencyHistogram(significantDigits: .two)
        hist.record(micros: 1_234, count: 100)
        #expect(try #require(hist.buckets.first)[0] > 1_234, "the premise: the bucket's top value passes the exact maximum")
        var s = WorkerSecond(t: 0)
        s.outcomes = [(code: Outcome.ok.code, count: 100)]
        s.latency = hist.buckets
        s.latencyMax = 1_234
        let merged = RecordBuilder.mergeTimelines([[s]])
        let l = try #require(merged.first?.connectLatencyUs)
        #expect(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, "\(l)")
        #expect(l.max == 1_234)
    }
}
