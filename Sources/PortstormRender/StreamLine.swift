import Foundation
import PortstormRecord

/// `run --stream`: one JSON object per line each second while the run goes on, for jq, Vector or
/// a live plot. Field names follow the record's timeline entries where they mean the same
/// (`t`, `attempts`, `ok`, `failures`, `inFlight`, `delayed`, `timeWait`); the counts are over the
/// interval since the previous line, `attempted` and `outcomes` over the run so far. Connect
/// latency per second is given as the bucket bounds its p50/p90/p99 fall under (the exact
/// per-second percentiles are in the record's timeline).
public struct StreamLine {
    private var previous = LiveStatus()
    /// Lines written so far: the second each line closes (0 for the first).
    private var lines = 0

    public init() {}

    struct Entry: Encodable {
        var t: Int
        var elapsedSeconds: Double
        var attempts: UInt64
        var ok: UInt64
        var failures: [String: UInt64]
        var inFlight: UInt64
        var delayed: UInt64
        var attempted: UInt64
        var outcomes: [String: UInt64]
        var timeWait: Int64?
        var portsInUse: Int?
        var portRange: Int?
        /// Connects completed in this second.
        var connects: UInt64
        /// Upper bounds (us) of the live latency buckets holding this second's p50, p90 and p99
        /// connect: "at most", to the buckets' resolution (50, 100, 250, 500 us, 1 ms, ... 10 s).
        var connectLatencyAtMostUs: LatencyBounds?
    }

    struct LatencyBounds: Encodable {
        var p50: UInt64?
        var p90: UInt64?
        var p99: UInt64?
    }

    /// The bound of the first bucket that holds the given share of this second's connects; nil
    /// past the last bound (slower than 10 s).
    static func atMost(_ share: Double, delta: [UInt64], count: UInt64) -> UInt64? {
        let needed = UInt64((Double(count) * share).rounded(.up))
        for (i, n) in delta.enumerated() where n >= needed { return LiveStatus.connectBoundsUs[i] }
        return nil
    }

    /// The line for this status (ending in a newline), and the status remembered for the next.
    public mutating func render(_ s: LiveStatus) -> String {
        var failures: [String: UInt64] = [:]
        for (o, n) in s.outcomes.nonZero where !o.isOK {
            let delta = n - min(previous.outcomes[o], n)
            if delta > 0 { failures[o.name] = delta }
        }
        var entry = Entry(t: lines, elapsedSeconds: (s.elapsedSeconds * 1000).rounded() / 1000,
                          attempts: s.attempted - min(previous.attempted, s.attempted),
                          ok: s.outcomes[.ok] - min(previous.outcomes[.ok], s.outcomes[.ok]), failures: failures,
                          inFlight: s.inFlight, delayed: s.delayed - min(previous.delayed, s.delayed), attempted: s.attempted,
                          outcomes: Dictionary(uniqueKeysWithValues: s.outcomes.nonZero.map { ($0.outcome.name, $0.count) }),
                          timeWait: s.timeWait, portsInUse: s.portsInUse, portRange: s.portRange,
                          connects: s.connectCount - min(previous.connectCount, s.connectCount), connectLatencyAtMostUs: nil)
        // This second's connects by bucket: the cumulative counts now less those a second ago.
        if entry.connects > 0, s.connectBuckets.count == LiveStatus.connectBoundsUs.count {
            let before = previous.connectBuckets.count == s.connectBuckets.count ? previous.connectBuckets : Array(repeating: 0, count: s.connectBuckets.count)
            let delta = zip(s.connectBuckets, before).map { $0 - min($1, $0) }
            entry.connectLatencyAtMostUs = LatencyBounds(p50: Self.atMost(0.5, delta: delta, count: entry.connects),
                                                         p90: Self.atMost(0.9, delta: delta, count: entry.connects),
                                                         p99: Self.atMost(0.99, delta: delta, count: entry.connects))
        }
        previous = s
        lines += 1
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(entry) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
