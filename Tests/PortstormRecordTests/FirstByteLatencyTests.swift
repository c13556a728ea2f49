import Foundation
import PortstormRecord
import PortstormTestSupport
import Testing

/// Time to the answer's first byte (`latency.firstByte`): through JSON, absent from older records,
/// and merged across hosts as one histogram of every answer.
@Suite struct FirstByteLatencyTests {
    /// Deterministic first-byte latencies (50 us to about 20 ms).
    static func answers(_ n: Int, seed: UInt64) -> [UInt64] { LatencySamples.uniform(n, seed: seed, from: 50, span: 20_000) }

    static func host(_ name: String, startMs: Int64, shard: Int, firstBytes: [UInt64]) -> RunRecord {
        var r = hostRecord(name, startMs: startMs, perSecond: [[100, 200]], shard: Shard(index: shard, count: 2))
        var h = LatencyHistogram()
        for us in firstBytes { h.record(micros: us) }
        r.latency.setFirstByte(h)
        return r
    }

    @Test func survivesJSONAndIsOptionalInOlderRecords() throws {
        let r = Self.host("a", startMs: 1_790_000_000_000, shard: 0, firstBytes: Self.answers(300, seed: 1))
        let back = try RunRecord.load(from: try r.jsonData())
        #expect(back.latency.firstByte == r.latency.firstByte && back.latency.firstByte?.count == 300)
        var json = try #require(try JSONSerialization.jsonObject(with: try r.jsonData()) as? [String: Any])
        var latency = try #require(json["latency"] as? [String: Any])
        latency["firstByte"] = nil
        latency["firstByteHistogram"] = nil
        json["latency"] = latency
        let older = try RunRecord.load(from: try JSONSerialization.data(withJSONObject: json))
        #expect(older.latency.firstByte == nil && older.latency.firstByteHistogram == nil)
    }

    @Test func mergedPercentilesAreThoseOfEveryAnswer() throws {
        let a = Self.answers(700, seed: 2), b = Self.answers(450, seed: 3)
        let m = try RunRecord.merge([Self.host("a", startMs: 1_790_000_000_200, shard: 0, firstBytes: a),
                                     Self.host("b", startMs: 1_790_000_000_900, shard: 1, firstBytes: b)], names: ["a.json", "b.json"])
        var all = LatencyHistogram()
        for us in a + b { all.record(micros: us) }
        #expect(m.latency.firstByte == all.summary)
        #expect(m.latency.firstByte?.count == 1_150)
    }
}
