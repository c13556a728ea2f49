import Foundation
import PortstormRecord
import PortstormTestSupport
import Testing

/// TLS handshake latency per second (`timeline[].handshakes`, `handshakeLatencyUs`,
/// `handshakeBuckets`): through JSON, missing from older records, and merged across hosts.
@Suite struct HandshakeTimelineTests {
    /// Deterministic handshake latencies of one second (about 300 us to 40 ms).
    static func handshakes(_ n: Int, seed: UInt64) -> [UInt64] { LatencySamples.uniform(n, seed: seed, from: 300, span: 40_000) }

    static func tlsHost(_ name: String, startMs: Int64, shard: Int, seconds: [[UInt64]]) -> RunRecord {
        hostRecord(name, startMs: startMs, perSecond: seconds.map { _ in [100, 200] }, shard: Shard(index: shard, count: 2),
                   handshakesPerSecond: seconds)
    }

    @Test func perSecondHandshakesSurviveJSONAndAreOptionalInOlderRecords() throws {
        let r = Self.tlsHost("a", startMs: 1_790_000_000_000, shard: 0, seconds: [Self.handshakes(50, seed: 1), [], Self.handshakes(7, seed: 2)])
        let back = try RunRecord.load(from: try r.jsonData())
        #expect(back.timeline.map(\.handshakes) == [50, 0, 7])
        #expect(back.timeline.map(\.handshakeLatencyUs) == r.timeline.map(\.handshakeLatencyUs))
        #expect(back.timeline[1].handshakeLatencyUs == nil && back.timeline[1].handshakeBuckets == nil)
        #expect(back.timeline.compactMap(\.handshakes).reduce(0, +) == back.tls?.handshakes)

        // A portstorm.run/2 record written before these fields existed still loads.
        var json = try #require(try JSONSerialization.jsonObject(with: try r.jsonData()) as? [String: Any])
        json["timeline"] = (json["timeline"] as? [[String: Any]])?.map { s in
            s.filter { !["handshakes", "handshakeLatencyUs", "handshakeBuckets"].contains($0.key) }
        }
        let older = try RunRecord.load(from: try JSONSerialization.data(withJSONObject: json))
        #expect(older.timeline.count == 3 && older.timeline.allSatisfy { $0.handshakes == nil && $0.handshakeLatencyUs == nil })
        #expect(older.latency.handshake == r.latency.handshake)
    }

    @Test func mergedSecondsAddTheHostsHandshakesAndTheirPercentilesAreThoseOfEverySample() throws {
        // b starts 1.2 s after a: b's second 0 is a's second 1 (the merged second nearest its start).
        let aSeconds = [Self.handshakes(400, seed: 3), Self.handshakes(300, seed: 4), Self.handshakes(200, seed: 5)]
        let bSeconds = [Self.handshakes(250, seed: 6), [], Self.handshakes(90, seed: 7)]
        let a = Self.tlsHost("a", startMs: 1_790_000_000_200, shard: 0, seconds: aSeconds)
        let b = Self.tlsHost("b", startMs: 1_790_000_001_400, shard: 1, seconds: bSeconds)
        let m = try RunRecord.load(from: try RunRecord.merge([a, b], names: ["a.json", "b.json"]).jsonData())
        #expect(m.timeline.map(\.handshakes) == [400, 550, 200, 90])
        #expect(m.timeline.compactMap(\.handshakes).reduce(0, +) == m.tls?.handshakes)
        #expect(m.tls?.handshakes == 1_240 && m.latency.handshake?.count == 1_240)
        let byWallSecond = [aSeconds[0], aSeconds[1] + bSeconds[0], aSeconds[2] + bSeconds[1], bSeconds[2]]
        for (t, samples) in byWallSecond.enumerated() {
            var h = LatencyHistogram(significantDigits: .two)
            for v in samples { h.record(micros: v) }
            let l = try #require(m.timeline[t].handshakeLatencyUs, "second \(t)")
            #expect(l == SecondLatency(h, slowest: samples.max()!), "second \(t)")
            #expect(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max && l.max == samples.max()!)
            #expect(m.timeline[t].handshakeBuckets?.map { $0[1] }.reduce(0, +) == UInt64(samples.count))
        }
    }

    @Test func aSecondAnOlderTLSRecordContributedToHasNoHandshakeFigures() throws {
        let a = Self.tlsHost("a", startMs: 1_790_000_000_000, shard: 0, seconds: [Self.handshakes(10, seed: 8), Self.handshakes(10, seed: 9)])
        var b = Self.tlsHost("b", startMs: 1_790_000_001_000, shard: 1, seconds: [Self.handshakes(10, seed: 10)])
        b.timeline[0].handshakes = nil
        b.timeline[0].handshakeBuckets = nil
        let m = try RunRecord.merge([a, b], names: [])
        #expect(m.timeline[0].handshakes == 10 && m.timeline[0].handshakeLatencyUs != nil)
        #expect(m.timeline[1].handshakes == nil, "b's count of that second is unknown")
        #expect(m.timeline[1].handshakeLatencyUs == nil, "b's latencies of that second cannot be added without its buckets")
    }

    @Test func aTLSRunAndAPlainOneAreNotMerged() throws {
        let tls = Self.tlsHost("a", startMs: 1_790_000_000_000, shard: 0, seconds: [[500]])
        var plain = hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[100, 200]], shard: Shard(index: 1, count: 2))
        plain.config.wireProtocol = .http
        #expect(throws: MergeError.differentLoad(name: "b.json", what: "--protocol")) {
            try RunRecord.merge([tls, plain], names: ["a.json", "b.json"])
        }
    }

    @Test func liveHandshakeBucketsAddUpAcrossWorkersAndStayAbsentWithoutTLS() {
        var plain = LiveStatus()
        plain.merge(LiveStatus(attempted: 3))
        #expect(plain.handshakeBuckets == nil)
        var a = LiveStatus(), b = LiveStatus()
        a.handshakeBuckets = [1, 2, 3]; a.handshakeCount = 4; a.handshakeSumUs = 4_000
        b.handshakeBuckets = [0, 5, 5]; b.handshakeCount = 6; b.handshakeSumUs = 600
        var all = LiveStatus()
        all.merge(a)
        all.merge(b)
        #expect(all.handshakeBuckets == [1, 7, 8] && all.handshakeCount == 10 && all.handshakeSumUs == 4_600)
        #expect(LiveStatus.bucket(50) == 0 && LiveStatus.bucket(51) == 1 && LiveStatus.bucket(20_000_000) == LiveStatus.connectBoundsUs.count)
    }
}
