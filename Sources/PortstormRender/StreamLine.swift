import Foundation
import PortstormRecord

/// `run --stream`: one JSON object per line each second while the run goes on, for jq, Vector or
/// a live plot. Field names follow the record's timeline entries where they mean the same
/// (`t`, `attempts`, `ok`, `failures`, `inFlight`, `delayed`, `timeWait`); the counts are over the
/// interval since the previous line, `attempted` and `outcomes` over the run so far. Connect
/// latency per second is given as the bucket bounds its p50/p90/p99 fall under (the exact
/// per-second percentiles are in the record's timeline); TLS runs give the handshakes the same way.
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
        /// TLS runs only: handshakes completed in this second, and the bounds of the buckets that
        /// hold their p50, p90 and p99 (the same bounds as connects).
        var handshakes: UInt64?
        var handshakeLatencyAtMostUs: LatencyBounds?
        /// On the last line only: written once the run is over, its totals are the record's.
        var final: Bool?
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

    /// The bounds of this second's p50, p90 and p99 from the cumulative bucket counts now and a
    /// second ago; nil when nothing completed in the second.
    static func bounds(now: [UInt64], before: [UInt64], count: UInt64) -> LatencyBounds? {
        guard count > 0, now.count == LiveStatus.connectBoundsUs.count else { return nil }
        let base = before.count == now.count ? before : Array(repeating: 0, count: now.count)
        let delta = zip(now, base).map { $0 - min($1, $0) }
        return LatencyBounds(p50: atMost(0.5, delta: delta, count: count), p90: atMost(0.9, delta: delta, count: count),
                             p99: atMost(0.99, delta: delta, count: count))
    }

    /// The last line, once the run is over: `attempted` and `outcomes` are the record's totals (the
    /// live counts lag the workers by up to their 200 ms publishing interval), the interval counts
    /// are what the run did since the previous line. Latency bounds are left out: the record's
    /// timeline has the last second's exact percentiles.
    public mutating func final(_ r: RunRecord) -> String {
        var s = previous
        s.elapsedSeconds = r.elapsedSeconds
        s.attempted = r.totals.attempted
        s.inFlight = r.totals.inFlightAtEnd
        s.outcomes = r.totals.outcomes
        s.delayed = r.totals.delayed
        s.connectCount = r.latency.connect.count
        if let h = r.latency.handshake { s.handshakeCount = h.count }
        return render(s, final: true)
    }

    /// The line for this status (ending in a newline), and the status remembered for the next.
    public mutating func render(_ s: LiveStatus) -> String { render(s, final: false) }

    private mutating func render(_ s: LiveStatus, final: Bool) -> String {
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
        entry.connectLatencyAtMostUs = final ? nil : Self.bounds(now: s.connectBuckets, before: previous.connectBuckets, count: entry.connects)
        if final { entry.final = true }
        if let handshakes = s.handshakeBuckets {
            entry.handshakes = s.handshakeCount - min(previous.handshakeCount, s.handshakeCount)
            entry.handshakeLatencyAtMostUs = final ? nil : Self.bounds(now: handshakes, before: previous.handshakeBuckets ?? [], count: entry.handshakes!)
        }
        previous = s
        lines += 1
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(entry) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
