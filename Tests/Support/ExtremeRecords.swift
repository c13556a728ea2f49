import Foundation
import PortstormRecord

/// Records with extreme but well-typed values, each once as the JSON a reader would be handed.
/// `portstorm report` crashed (SIGILL) on the first eight before records were checked as they load.
public enum ExtremeRecord: String, CaseIterable, Sendable {
    // Refused as they load: no run can produce them.
    case outcomeCountOverflows, missedOverflows, histogramBucketOverflows, negativeElapsed, negativeRate, negativeSecond,
         negativePortsInUse, secondOverflows
    case histogramLatenciesOverflow
    // Valid, and rendered.
    case hugeElapsed, hugeAchievedRate, hugeRequestedRate, hugeDelayThreshold, maxTimelineLatency, maxOkAlone,
         maxMissedNoneAttempted, histogramOf2To53Fast, histogramOfLongConnects, maxTimeWait, lastSecondNearIntMax


    static let max = UInt64.max
    /// A count no real record holds, so that text substitution hits exactly one place.
    static let marker: UInt64 = 987_654_321_123

    /// The field the refusal names, or nil when the record is valid.
    public var refusedField: String? {
        switch self {
        case .outcomeCountOverflows: return "totals.outcomes"
        case .missedOverflows: return "totals.missed"
        case .histogramBucketOverflows, .histogramLatenciesOverflow: return "latency.connectHistogram.buckets"
        case .negativeElapsed: return "elapsedSeconds"
        case .negativeRate: return "totals.achievedRate"
        case .negativeSecond: return "timeline[1].t"
        case .negativePortsInUse: return "timeline[1].kernel.census.tuples[0].portsInUse"
        case .secondOverflows: return "timeline[0].ok"
        default: return nil
        }
    }

    /// The record in memory, where a RunRecord can hold it (not the histogram past 2^64-1).
    public var record: RunRecord {
        var r = literalRecord([LiteralSecond(ok: 100), LiteralSecond(ok: 50, failures: ["eaddrnotavail": 50], portsInUse: 1000, timeWait: 900),
                               LiteralSecond(ok: 10, failures: ["econnrefused": 5], portsInUse: 1000, timeWait: 1000)])
        let M = Self.max
        switch self {
        case .outcomeCountOverflows:
            var o = OutcomeCounts()
            o.add(.ok, M)
            o.add(.econnrefused, 5)
            r.totals.outcomes = o
            r.totals.attempted = M
        case .missedOverflows: r.totals.missed = M
        case .histogramBucketOverflows:
            var h = LatencyHistogram()
            h.record(micros: 777, count: Self.marker)
            r.latency = LatencyReport(connectHistogram: h)
        case .negativeElapsed: r.elapsedSeconds = -1
        case .negativeRate: r.totals.achievedRate = -5
        case .negativeSecond: r.timeline[1].t = -3
        case .negativePortsInUse: r.timeline[1].kernel?.census?.tuples[0].portsInUse = -1
        case .secondOverflows: r.timeline[0].ok = M; r.timeline[0].failures = ["econnrefused": 1]
        case .hugeElapsed: r.elapsedSeconds = 1e308
        case .hugeAchievedRate: r.totals.achievedRate = 1e308
        case .hugeRequestedRate: r.totals.requestedRate = 1e308; r.config.rate = 1e308
        case .hugeDelayThreshold: r.totals.delayThresholdMs = 1e308
        case .maxTimelineLatency:
            for i in r.timeline.indices { r.timeline[i].connectLatencyUs = SecondLatency(p50: M, p90: M, p99: M, max: M) }
        case .maxOkAlone:
            var o = OutcomeCounts()
            o.add(.ok, M)
            r.totals.outcomes = o
            r.totals.attempted = M
            r.timeline[0].ok = M
        case .maxMissedNoneAttempted:
            r.totals = Totals(attempted: 0, inFlightAtEnd: 0, outcomes: OutcomeCounts(), requestedRate: 1000, achievedRate: 0, missed: M)
        case .histogramOf2To53Fast:
            var h = LatencyHistogram()
            h.record(micros: 1, count: 1 << 52)
            h.record(micros: 2, count: 1 << 52)
            r.latency = LatencyReport(connectHistogram: h)
        case .histogramOfLongConnects:
            var h = LatencyHistogram()
            h.record(micros: 3_600_000_000, count: 5_000_000_000)
            r.latency = LatencyReport(connectHistogram: h)
        case .histogramLatenciesOverflow:
            // 1e6 x 1 s and 1e9 x 1 h: each fits, their latencies together do not.
            var h = LatencyHistogram()
            h.record(micros: 1_000_000, count: 1_000_000)
            h.record(micros: 777, count: Self.marker)
            r.latency = LatencyReport(connectHistogram: h)
        case .maxTimeWait:
            for i in r.timeline.indices { r.timeline[i].kernel?.sockstat?.tw = Int64.max }
        case .lastSecondNearIntMax:
            for i in r.timeline.indices { r.timeline[i].t = Int.max - 2 + i }
        }
        return r
    }

    /// The record as JSON (the histogram past 2^64-1 by substitution: no histogram can hold it).
    public var json: Data {
        let text = String(decoding: try! record.jsonData(), as: UTF8.self)
        switch self {
        case .histogramBucketOverflows: return Data(text.replacingOccurrences(of: "\(Self.marker)", with: "\(Self.max)").utf8)
        case .histogramLatenciesOverflow:
            return Data(text.replacingOccurrences(of: "[777,\(Self.marker)]", with: "[3600000000,5200000000]")
                .replacingOccurrences(of: "[\n          777,\n          \(Self.marker)\n        ]", with: "[3600000000, 5200000000]").utf8)
        default: break
        }
        return Data(text.utf8)
    }
}
