/// A record is input from anywhere: these checks turn values that no run can produce into one
/// sentence naming the field, before analysis or rendering computes anything with them.
/// docs/run-record.schema.json states the same bounds (minimum 0, finite numbers); what JSON Schema
/// cannot say (sums that overflow) docs/validate-record.py checks too.
public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field, as a path from the top of the record (`totals.outcomes`, `timeline[3].t`).
    public let field: String
    public let reason: String
    public var description: String { "\(field) \(reason)" }
}

extension RunRecord {
    /// Throws the first value that no run can have produced: a negative or non-finite duration or
    /// rate, a negative count, counts whose sum passes 2^64-1, a port range upside down.
    /// (The histogram checks its own total while it is decoded: see `LatencyHistogram.maxCount`.)
    public func validate() throws(RecordError) {
        try Self.duration(elapsedSeconds, "elapsedSeconds")
        try Self.duration(totals.achievedRate, "totals.achievedRate")
        try Self.duration(totals.delayThresholdMs, "totals.delayThresholdMs")
        if let want = totals.requestedRate { try Self.duration(want, "totals.requestedRate") }
        if let want = config.rate { try Self.duration(want, "config.rate") }
        if let d = config.durationSeconds { try Self.duration(d, "config.durationSeconds") }
        for (value, name) in [(config.concurrency, "concurrency"), (config.threads, "threads"), (config.connections ?? 0, "connections"),
                              (config.connectTimeoutMs, "connectTimeoutMs"), (config.responseTimeoutMs, "responseTimeoutMs"),
                              (config.openFiles ?? 0, "openFiles"), (config.holdMs ?? 0, "holdMs")] {
            try Self.count(value, "config.\(name)")
        }
        if let lp = config.localPorts, lp.low > lp.high {
            throw RecordError(field: "config.localPorts", reason: "has its low port \(lp.low) above its high port \(lp.high)")
        }
        if let range = system.ipLocalPortRange, range.count != 2 || range[0] > range[1] {
            throw RecordError(field: "system.ipLocalPortRange", reason: "must be [low, high] with low <= high")
        }
        try Self.sum(totals.outcomes.counts + [totals.inFlightAtEnd], "totals.outcomes plus totals.inFlightAtEnd")
        try Self.sum([totals.attempted, totals.missed], "totals.attempted plus totals.missed")
        if let p = process {
            try Self.duration(p.userSeconds, "process.userSeconds")
            try Self.duration(p.systemSeconds, "process.systemSeconds")
        }
        try Self.sum(timeline.compactMap(\.handshakes), "timeline[].handshakes")
        for (i, s) in timeline.enumerated() {
            let at = "timeline[\(i)]"
            try Self.count(s.t, "\(at).t")
            try Self.sum([s.ok] + s.failures.values.sorted(), "\(at).ok plus \(at).failures")
            if let k = s.kernel {
                if let st = k.sockstat {
                    for (v, n) in [(st.inuse, "inuse"), (st.orphan, "orphan"), (st.tw, "tw"), (st.alloc, "alloc"), (st.mem, "mem")] {
                        try Self.count(v, "\(at).kernel.sockstat.\(n)")
                    }
                }
                if let c = k.census {
                    try Self.count(c.atMs, "\(at).kernel.census.atMs")
                    try Self.count(c.tookUs, "\(at).kernel.census.tookUs")
                    for (j, t) in c.tuples.enumerated() {
                        let tp = "\(at).kernel.census.tuples[\(j)]"
                        try Self.count(t.portsInUse, "\(tp).portsInUse")
                        try Self.count(t.rangeSize, "\(tp).rangeSize")
                        if t.rangeLow > t.rangeHigh { throw RecordError(field: "\(tp).rangeLow", reason: "is above rangeHigh") }
                        for (state, n) in t.states { try Self.count(n, "\(tp).states.\(state)") }
                        for (state, n) in t.statesInRange ?? [:] { try Self.count(n, "\(tp).statesInRange.\(state)") }
                        for (b, n) in t.buckets.enumerated() { try Self.count(n, "\(tp).buckets[\(b)]") }
                    }
                }
            }
        }
    }

    static func duration(_ v: Double, _ field: String) throws(RecordError) {
        guard v.isFinite else { throw RecordError(field: field, reason: "is not a finite number") }
        guard v >= 0 else { throw RecordError(field: field, reason: "is negative (\(v))") }
    }

    static func count<T: BinaryInteger>(_ v: T, _ field: String) throws(RecordError) {
        guard v >= 0 else { throw RecordError(field: field, reason: "is negative (\(v))") }
    }

    static func sum(_ values: [UInt64], _ what: String) throws(RecordError) {
        var total: UInt64 = 0
        for v in values {
            let (s, overflow) = total.addingReportingOverflow(v)
            if overflow { throw RecordError(field: what, reason: "add up past 2^64-1: no run counts that many") }
            total = s
        }
    }
}
