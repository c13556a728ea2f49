@testable import PortstormEngine
import PortstormRecord
import Testing

/// What a worker counts of its TLS handshakes, per second and live, and how the workers' seconds
/// are added into the record's timeline.
@Suite struct HandshakeStatsTests {
    @Test func eachHandshakeLandsInTheSecondItCompletedIn() throws {
        var stats = WorkerStats(expectedSeconds: 3, tls: true)
        for us: UInt64 in [900, 1_100, 30_000] { stats.handshaked(latencyNanos: us * 1000, resumed: false, version: 0x0304) }
        stats.advance(toSecond: 2)  // second 1 had none
        stats.handshaked(latencyNanos: 2_345_000, resumed: true, version: 0x0303)
        stats.advance(toSecond: 3)
        #expect(stats.timeline.map(\.handshakes) == [3, 0, 1])
        #expect(stats.timeline.map(\.handshakeMax) == [30_000, 0, 2_345])
        #expect(stats.timeline[0].handshakeLatency.map { $0[1] }.reduce(0, +) == 3 && stats.timeline[1].handshakeLatency.isEmpty)
        #expect(stats.handshakeLatency.count == 4 && stats.resumed == 1)

        let merged = RecordBuilder.mergeTimelines([stats.timeline], tls: true)
        #expect(merged.map(\.handshakes) == [3, 0, 1])
        let first = try #require(merged[0].handshakeLatencyUs)
        #expect(first.p50 <= first.p90 && first.p90 <= first.p99 && first.p99 <= first.max && first.max == 30_000, "\(first)")
        #expect(first.p50 >= 1_100 && first.p50 < 1_200, "the middle of 900, 1,100 and 30,000 us (2 digits): \(first)")
        #expect(merged[1].handshakeLatencyUs == nil && merged[1].handshakeBuckets == nil)
        #expect(merged[2].handshakeLatencyUs?.max == 2_345 && merged[2].handshakeLatencyUs?.p50 == 2_345, "capped by the exact value")
        // Without TLS the seconds carry no handshake fields at all.
        #expect(RecordBuilder.mergeTimelines([stats.timeline]).allSatisfy { $0.handshakes == nil && $0.handshakeLatencyUs == nil })
    }

    @Test func workersSecondsAddUp() throws {
        var a = WorkerSecond(t: 0), b = WorkerSecond(t: 0)
        var ha = LatencyHistogram(significantDigits: .two), hb = LatencyHistogram(significantDigits: .two)
        ha.record(micros: 1_000, count: 10)
        hb.record(micros: 50_000, count: 90)
        (a.handshakes, a.handshakeLatency, a.handshakeMax) = (10, ha.buckets, 1_000)
        (b.handshakes, b.handshakeLatency, b.handshakeMax) = (90, hb.buckets, 50_000)
        let merged = RecordBuilder.mergeTimelines([[a], [b]], tls: true)
        #expect(merged[0].handshakes == 100)
        let l = try #require(merged[0].handshakeLatencyUs)
        #expect(l.p50 == 50_000 && l.max == 50_000 && l.p90 == 50_000, "90 of 100 at 50 ms: \(l)")
        #expect(merged[0].handshakeBuckets?.map { $0[1] }.reduce(0, +) == 100)
    }

    @Test func liveHandshakeBucketsArePublishedOnlyInTLSRuns() {
        var plain = WorkerStats(expectedSeconds: 1)
        plain.connected(latencyNanos: 40_000)
        #expect(plain.live.handshakeBuckets == nil && plain.live.handshakeCount == 0)

        var stats = WorkerStats(expectedSeconds: 1, tls: true)
        #expect(stats.live.handshakeBuckets == Array(repeating: 0, count: LiveStatus.connectBoundsUs.count), "a TLS run before its first handshake")
        for us: UInt64 in [400, 2_000, 2_500, 60_000, 12_000_000] { stats.handshaked(latencyNanos: us * 1000, resumed: false, version: 0x0304) }
        let live = stats.live
        let bounds = LiveStatus.connectBoundsUs
        func atOrBelow(_ us: UInt64) -> UInt64? { live.handshakeBuckets?[bounds.firstIndex(of: us)!] }
        #expect(atOrBelow(250) == 0 && atOrBelow(500) == 1 && atOrBelow(2_500) == 3 && atOrBelow(100_000) == 4 && atOrBelow(10_000_000) == 4)
        #expect(live.handshakeCount == 5, "the 12 s handshake is only in +Inf (the count)")
        #expect(live.handshakeSumUs == 12_064_900)
        #expect(live.connectCount == 0, "handshakes are not connects")
    }
}
