import Histogram

/// Connect latencies in microseconds (an HDR histogram: 3 significant digits, 1 us to 1 hour).
///
/// Recording never allocates. In JSON it is stored sparsely, as `[value, count]` pairs of its
/// non-empty buckets (each bucket's highest equivalent value) plus the exact smallest and largest
/// value recorded: decoding restores the same buckets, total, minimum and maximum, so percentiles
/// of a decoded histogram, and of several merged, equal those of one histogram of every sample.
public struct LatencyHistogram: Sendable {
    public private(set) var hdr: Histogram<UInt64>
    public static let highestMicros: UInt64 = 3_600_000_000
    /// The most connects a decoded histogram may hold: percentiles and the mean are computed in
    /// Double, exact for integers up to 2^53 (about 9e15 connects, 285 years at a million a second).
    public static let maxCount: UInt64 = 1 << 53

    public init(significantDigits: SignificantDigits = .three) {
        hdr = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: Self.highestMicros,
                        numberOfSignificantValueDigits: significantDigits)
    }

    /// Records one latency; values past one hour are clamped to it.
    @inline(__always)
    public mutating func record(micros: UInt64) {
        _ = hdr.record(Swift.min(Swift.max(micros, 1), Self.highestMicros))
    }

    public mutating func record(micros: UInt64, count: UInt64) {
        _ = hdr.record(Swift.min(Swift.max(micros, 1), Self.highestMicros), count: count)
    }

    public mutating func merge(_ other: LatencyHistogram) { hdr.add(other.hdr) }
    public mutating func reset() { hdr.reset() }

    public var count: UInt64 { hdr.totalCount }
    public var isEmpty: Bool { hdr.totalCount == 0 }

    /// The value at a percentile (0-100), in microseconds; 0 when empty.
    public func percentile(_ p: Double) -> UInt64 { isEmpty ? 0 : hdr.valueAtPercentile(p) }

    public var max: UInt64 { isEmpty ? 0 : hdr.max }
    public var min: UInt64 { isEmpty ? 0 : hdr.min }
    /// The exact largest value recorded (`max` is its bucket's highest equivalent value).
    public var maxRecorded: UInt64 { isEmpty ? 0 : hdr.maxRecorded }
    public var significantDigits: SignificantDigits { hdr.numberOfSignificantValueDigits }
    public var mean: Double { isEmpty ? 0 : hdr.mean }

    /// The non-empty buckets as (highest equivalent value, count), ascending.
    public var buckets: [[UInt64]] {
        hdr.recordedValues().map { [$0.value, UInt64($0.count)] }
    }

    /// The usual summary: p50/p90/p99/p99.9/max.
    public var summary: LatencySummary {
        LatencySummary(count: count, min: min, mean: (mean * 10).rounded() / 10,
                       p50: percentile(50), p90: percentile(90), p99: percentile(99),
                       p999: percentile(99.9), max: max)
    }
}

extension LatencyHistogram: Codable {
    private enum CodingKeys: String, CodingKey { case unit, significantDigits, buckets, minRecorded, maxRecorded }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let digits = try c.decodeIfPresent(Int8.self, forKey: .significantDigits) ?? 3
        // Checked before recording: the histogram's own sums (its count, and count x latency for the
        // mean) trap on overflow.
        let pairs = try c.decode([[UInt64]].self, forKey: .buckets).filter { $0.count == 2 && $0[1] > 0 }
        let probe = LatencyHistogram(significantDigits: SignificantDigits(rawValue: digits) ?? .three)
        switch probe.sums(pairs.map { ($0[0], $0[1]) }) {
        case .tooManyConnects:
            throw DecodingError.dataCorruptedError(forKey: .buckets, in: c, debugDescription:
                "the buckets hold more than \(Self.maxCount) connects (2^53), past what the histogram's arithmetic holds exactly")
        case .latenciesOverflow:
            throw DecodingError.dataCorruptedError(forKey: .buckets, in: c, debugDescription:
                "the buckets' latencies add up past 2^64-1 us (about 585,000 years of connecting)")
        case .fits:
            break
        }
        self.init(significantDigits: SignificantDigits(rawValue: digits) ?? .three,
                  buckets: pairs.map { ($0[0], $0[1]) },
                  minRecorded: try c.decodeIfPresent(UInt64.self, forKey: .minRecorded),
                  maxRecorded: try c.decodeIfPresent(UInt64.self, forKey: .maxRecorded))
    }

    /// Whether buckets (added to this histogram's own) stay within what its arithmetic holds:
    /// at most `maxCount` connects, and count x latency summed within 64 bits.
    public enum Sums: Sendable { case fits, tooManyConnects, latenciesOverflow }

    public func sums(_ more: [(value: UInt64, count: UInt64)]) -> Sums {
        var total: UInt64 = 0, latencySum: UInt64 = 0
        for (value, n) in buckets.map({ ($0[0], $0[1]) }) + more {
            let (sum, overflow) = total.addingReportingOverflow(n)
            guard !overflow, sum <= Self.maxCount else { return .tooManyConnects }
            let top = hdr.highestEquivalentForValue(Swift.min(Swift.max(value, 1), Self.highestMicros))
            let (product, o1) = n.multipliedReportingOverflow(by: top)
            let (latencies, o2) = latencySum.addingReportingOverflow(product)
            guard !o1, !o2 else { return .latenciesOverflow }
            total = sum
            latencySum = latencies
        }
        return .fits
    }

    /// Rebuilds a histogram from its buckets. The exact smallest value is recorded once in place of
    /// one count of its bucket, and the top bucket's counts at the exact largest value: every
    /// bucket's count stays the same and the histogram's exact min and max come back (older
    /// records without them give each bucket's highest value).
    public init(significantDigits: SignificantDigits, buckets: [(value: UInt64, count: UInt64)],
                minRecorded: UInt64? = nil, maxRecorded: UInt64? = nil) {
        self.init(significantDigits: significantDigits)
        let sorted = buckets.sorted { $0.value < $1.value }
        for (i, b) in sorted.enumerated() {
            var rest = b.count
            if i == 0, let lo = minRecorded, hdr.valuesAreEquivalent(lo, b.value) {
                record(micros: lo)
                rest -= 1
            }
            // The rest of the top bucket at the exact maximum (no higher value is recorded then).
            var value = b.value
            if i == sorted.count - 1, let hi = maxRecorded, hdr.valuesAreEquivalent(hi, b.value) { value = hi }
            if rest > 0 { record(micros: value, count: rest) }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("us", forKey: .unit)
        try c.encode(hdr.numberOfSignificantValueDigits.rawValue, forKey: .significantDigits)
        try c.encode(buckets, forKey: .buckets)
        if !isEmpty {
            try c.encode(min, forKey: .minRecorded)
            try c.encode(maxRecorded, forKey: .maxRecorded)
        }
    }
}

/// Latency percentiles in microseconds.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: UInt64
    public var min: UInt64
    public var mean: Double
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
}
