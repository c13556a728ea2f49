import Foundation
import PortstormRecord
import PortstormTestSupport
import Testing

/// A deterministic spread of latencies (1 us to about 3 s, heavy-tailed), so that buckets of every
/// width are hit.
private func samples(_ n: Int, seed: UInt64) -> [UInt64] {
    var g = LatencySamples(seed: seed)
    return (0..<n).map { _ in
        let r = Double(g.next() >> 11) / Double(1 << 53)
        return UInt64(1 + pow(r, 6) * 3_000_000)
    }
}

/// Through JSON, as `portstorm merge` reads records.
private func reloaded(_ r: RunRecord) throws -> RunRecord { try RunRecord.load(from: try r.jsonData()) }

@Suite struct RecordMergeTests {
    static let percentiles: [Double] = [0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100]

    @Test func aHistogramThroughJSONKeepsItsPercentilesMinAndMax() throws {
        var h = LatencyHistogram()
        for v in samples(20_000, seed: 7) { h.record(micros: v) }
        let back = try JSONDecoder().decode(LatencyHistogram.self, from: try JSONEncoder().encode(h))
        #expect(back.count == h.count)
        #expect(back.min == h.min)
        #expect(back.maxRecorded == h.maxRecorded)
        #expect(back.summary == h.summary)
        for p in Self.percentiles { #expect(back.percentile(p) == h.percentile(p), "p\(p)") }
    }

    @Test func mergedPercentilesEqualThoseOfOneHistogramOfEverySample() throws {
        let perHost = (0..<4).map { k in (0..<5).map { t in samples(1_000 + 97 * k, seed: UInt64(100 * k + t + 1)) } }
        let records = try perHost.enumerated().map { k, secs in
            try reloaded(hostRecord("pod-\(k)", startMs: 1_790_000_000_250 + Int64(k) * 100, perSecond: secs, shard: Shard(index: k, count: 4)))
        }
        let merged = try RunRecord.merge(records, names: records.map { $0.hostName! })
        var one = LatencyHistogram()
        for secs in perHost { for s in secs { for v in s { one.record(micros: v) } } }
        let m = try reloaded(merged).latency.connectHistogram
        #expect(m.count == one.count)
        #expect(m.min == one.min && m.maxRecorded == one.maxRecorded)
        for p in Self.percentiles { #expect(m.percentile(p) == one.percentile(p), "p\(p)") }
        #expect(merged.latency.connect == one.summary)
        // Per second too: the merged second's percentiles are those of all hosts' connects of that second.
        for t in 0..<5 {
            var h = LatencyHistogram(significantDigits: .two)
            var top: UInt64 = 0
            for secs in perHost { for v in secs[t] { h.record(micros: v); top = max(top, v) } }
            #expect(merged.timeline[t].connectLatencyUs == SecondLatency(p50: min(h.percentile(50), top), p90: min(h.percentile(90), top),
                                                                          p99: min(h.percentile(99), top), max: top))
        }
    }

    @Test func countsAddAndTimelinesAlignOnTheWallClock() throws {
        // b starts 2.3 s after a (its second 0 is a's second 2); c 0.4 s after a (in a's second 0).
        let a = hostRecord("a", startMs: 1_790_000_000_100, perSecond: [[10, 20], [30], [40], [50]], shard: Shard(index: 0, count: 3))
        let b = hostRecord("b", startMs: 1_790_000_002_400, perSecond: [[60, 70, 80], [90]], shard: Shard(index: 1, count: 3), eaddrnotavailAt: 1)
        let c = hostRecord("c", startMs: 1_790_000_000_500, perSecond: [[5]], shard: Shard(index: 2, count: 3))
        let m = try RunRecord.merge([a, b, c], names: ["a.json", "b.json", "c.json"])
        #expect(m.totals.attempted == a.totals.attempted + b.totals.attempted + c.totals.attempted)
        #expect(m.totals.outcomes[.ok] == 10 && m.totals.outcomes[.eaddrnotavail] == 5)
        #expect(m.totals.isBalanced)
        #expect(m.timeline.map(\.ok) == [3, 1, 4, 2])
        #expect(m.timeline.map(\.at) == [1_790_000_000, 1_790_000_001, 1_790_000_002, 1_790_000_003])
        #expect(m.timeline[3].failures == ["eaddrnotavail": 5])
        #expect(m.startedAtMs == 1_790_000_000_100)
        #expect(m.config.rate == 300 && m.config.concurrency == 30)
        let hosts = try #require(m.hosts)
        #expect(hosts.map(\.hostName) == ["a", "b", "c"])
        #expect(hosts.map(\.offsetSeconds) == [0, 2, 0])
        #expect(hosts.map(\.firstExhaustionSecond) == [nil, 3, nil])
        #expect(hosts[0].portBudget == HostPortBudget(rangeLow: 32768, rangeHigh: 60999, rangeSize: 28_232, tuples: 1, reuseInEffect: false))
    }

    /// A host's record as a run writes it: `endedAt` to the whole second (it may lie before
    /// `startedAtMs`), the elapsed time in ms.
    private func shortRun(_ name: String, startMs: Int64, elapsed: Double, shard: Int) -> RunRecord {
        var r = hostRecord(name, startMs: startMs, perSecond: [[100]], shard: Shard(index: shard, count: 2))
        r.elapsedSeconds = elapsed
        r.startedAt = Date(timeIntervalSince1970: Double(startMs / 1000))
        r.endedAt = Date(timeIntervalSince1970: Double((startMs + Int64(elapsed * 1000)) / 1000))
        return r
    }

    @Test func theMergedSpanComesFromEachRecordsMillisecondEndNotFromItsWholeSecondEndedAt() throws {
        // Two sequential shards as measured: 18.771 + 0.03 s, 18.917 + 0.04 s; endedAt reads 18.000.
        let a = shortRun("a", startMs: 1_790_000_018_771, elapsed: 0.03, shard: 0)
        let b = shortRun("b", startMs: 1_790_000_018_917, elapsed: 0.04, shard: 1)
        let m = try reloaded(try RunRecord.merge([a, b], names: ["m0.json", "m1.json"]))
        #expect(m.elapsedSeconds == 0.186)
        #expect(m.startedAtMs == 1_790_000_018_771)
        #expect(m.endedAt >= m.startedAt)
        try m.validate()
        // --start-at: both began on the second and ran 2.005 s; the merged run is not shorter than either.
        let c = shortRun("c", startMs: 1_790_000_060_000, elapsed: 2.005, shard: 0)
        let d = shortRun("d", startMs: 1_790_000_060_001, elapsed: 2.005, shard: 1)
        let n = try RunRecord.merge([c, d], names: [])
        #expect(n.elapsedSeconds == 2.006)
    }

    @Test func hostsThatStartedAFewMsApartAcrossAWallClockSecondShareAMergedSecond() throws {
        // 18.990 and 19.010: 20 ms apart, one merged second (by the wall clock's second they were 1 s apart).
        let a = hostRecord("a", startMs: 1_790_000_018_990, perSecond: [[1], [2]], shard: Shard(index: 0, count: 2))
        let b = hostRecord("b", startMs: 1_790_000_019_010, perSecond: [[3], [4]], shard: Shard(index: 1, count: 2))
        let m = try RunRecord.merge([a, b], names: [])
        #expect(m.hosts?.map(\.offsetSeconds) == [0, 0])
        #expect(m.timeline.map(\.ok) == [2, 2])
        #expect(m.timeline.map(\.at) == [1_790_000_018, 1_790_000_019])
        // 18.010 and 18.990: 980 ms apart, so b's second 0 lies mostly in a's second 1.
        let c = hostRecord("c", startMs: 1_790_000_018_010, perSecond: [[1], [2]], shard: Shard(index: 0, count: 2))
        let d = hostRecord("d", startMs: 1_790_000_018_990, perSecond: [[3], [4]], shard: Shard(index: 1, count: 2))
        let n = try RunRecord.merge([c, d], names: [])
        #expect(n.hosts?.map(\.offsetSeconds) == [0, 1])
        #expect(n.timeline.map(\.ok) == [1, 2, 1])
    }

    @Test func recordsThatDoNotBelongTogetherAreRefusedWithASentence() throws {
        let a = hostRecord("a", startMs: 1_790_000_000_000, perSecond: [[1]], shard: Shard(index: 0, count: 2))
        let other = hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[1]], shard: Shard(index: 1, count: 2), target: "10.203.0.9:9000")
        #expect(throws: MergeError.differentTarget(name: "b.json", target: "10.203.0.9:9000", first: "10.203.0.1:9000 (a.json)")) {
            try RunRecord.merge([a, other], names: ["a.json", "b.json"])
        }
        var old = hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[1]], shard: Shard(index: 1, count: 2))
        old.schema = "portstorm.run/1"
        #expect(throws: MergeError.schema(name: "b.json", schema: "portstorm.run/1")) { try RunRecord.merge([a, old], names: ["a.json", "b.json"]) }
        let again = hostRecord("c", startMs: 1_790_000_005_000, perSecond: [[1]], shard: Shard(index: 0, count: 2))
        #expect(throws: MergeError.duplicate(name: "a.json", other: "c.json", why: "both ran shard 0/2")) {
            try RunRecord.merge([a, again], names: ["a.json", "c.json"])
        }
        let b = hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[1]], shard: Shard(index: 1, count: 2))
        let merged = try RunRecord.merge([a, b], names: [])
        #expect(throws: MergeError.alreadyMerged(name: "m.json")) { try RunRecord.merge([merged, b], names: ["m.json", "b.json"]) }
        #expect(throws: MergeError.tooFew) { try RunRecord.merge([a], names: []) }
        #expect(MergeError.differentTarget(name: "b.json", target: "x:1", first: "y:1 (a.json)").description
                == "b.json loaded x:1, not y:1 (a.json): records of different targets cannot be merged")
    }

    @Test func recordsOfDifferentDaysOrPastSixtyFourBitsAreRefused() throws {
        let a = hostRecord("a", startMs: 1_790_000_000_000, perSecond: [[1]], shard: Shard(index: 0, count: 2))
        let later = hostRecord("b", startMs: 1_790_000_000_000 + 2 * 86_400_000, perSecond: [[1]], shard: Shard(index: 1, count: 2))
        #expect(throws: MergeError.apart(name: "b.json", hours: 48)) { try RunRecord.merge([a, later], names: ["a.json", "b.json"]) }
        var huge = hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[1]], shard: Shard(index: 1, count: 2))
        huge.totals.attempted = .max
        #expect(throws: MergeError.tooLarge) { try RunRecord.merge([a, huge], names: []) }
    }

    @Test func aTimelineWhoseSecondsAreMisnumberedDoesNotTrap() throws {
        let a = hostRecord("a", startMs: 1_790_000_000_000, perSecond: [[1], [2]], shard: Shard(index: 0, count: 2))
        var b = hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[3], [4]], shard: Shard(index: 1, count: 2))
        b.timeline[1].t = 1_000_000
        b.timeline[0].connectBuckets = [[5, .max]]
        let m = try RunRecord.merge([a, b], names: [])
        #expect(m.timeline.map(\.ok) == [2, 2])
        #expect(m.timeline[0].connectLatencyUs == nil && m.timeline[1].connectLatencyUs != nil)
    }

    @Test func shardSharesAddUpExactly() {
        for n in 1...17 {
            for total in [0, 1, 2, 7, 16, 100, 999, 1_000_003] {
                let parts = (0..<n).map { Shard(index: $0, count: n).share(total) }
                #expect(parts.reduce(0, +) == total, "\(total) over \(n)")
                #expect(parts.max()! - parts.min()! <= 1)
            }
            for rate in [1.0, 100, 333.3, 2_500.125, 20_000] {
                let parts = (0..<n).map { Shard(index: $0, count: n).share(rate: rate) }
                // Thousandths: the parts add up to the rate to the thousandth.
                #expect(parts.map { Int(($0 * 1000).rounded()) }.reduce(0, +) == Int((rate * 1000).rounded()), "\(rate) over \(n)")
            }
        }
        #expect(Shard(parsing: "3/4") == Shard(index: 3, count: 4))
        #expect(Shard(parsing: "4/4") == nil && Shard(parsing: "1") == nil && Shard(parsing: "-1/2") == nil && Shard(parsing: "0/0") == nil)
    }
}
