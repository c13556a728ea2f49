import PortstormRecord

/// A `--threshold` expression over a run's results, for CI: a measure, a comparison, a limit.
///
/// Measures: `failures` (attempts that did not end `ok`), any outcome by name (`eaddrnotavail`,
/// `http_status`, `errno_110`, ...), `http_status_5xx` / `http_status_404` (answers by status,
/// from `totals.httpStatuses`), `attempts`, `rate` (achieved new connections per second), and
/// `connect_p50` / `p90` / `p99` / `p999` / `min` / `mean` / `max` (connect latency). A count
/// followed by `%` is a share of the finished attempts; a latency takes `us`, `ms` (the default)
/// or `s`. Comparisons: `<`, `<=`, `>`, `>=`, `==`, `!=`.
public struct Threshold: Sendable, Equatable {
    public enum Measure: Sendable, Equatable {
        case failures
        case outcome(Outcome)
        /// HTTP answers whose status is in `first...first+99` (`http_status_5xx`).
        case httpClass(Int)
        case httpCode(Int)
        case attempts
        case rate
        /// Connect latency at a percentile (0-100), or the min / mean / max.
        case connectPercentile(Double)
        case connectMin, connectMean, connectMax

        var isCount: Bool {
            switch self {
            case .failures, .outcome, .httpClass, .httpCode, .attempts: return true
            default: return false
            }
        }

        var isLatency: Bool {
            switch self {
            case .connectPercentile, .connectMin, .connectMean, .connectMax: return true
            default: return false
            }
        }
    }

    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", notEqual = "!=", less = "<", greater = ">"

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .equal: return a == b
            case .notEqual: return a != b
            }
        }
    }

    public enum Unit: String, Sendable {
        case percent, count, ms, perSecond = "per_second"
    }

    public let expression: String
    public let measure: Measure
    public let comparison: Comparison
    /// In `unit`: 1 for `1%`, 50 for `50ms`, 5000 for `rate>=5k`.
    public let limit: Double
    public let unit: Unit

    /// Why an expression cannot be read: one sentence for the user.
    public struct ParseError: Error, Sendable, Equatable {
        public let message: String
    }

    static let measureNames = "failures, an outcome (eaddrnotavail, econnrefused, http_status, ...), http_status_5xx, http_status_404, "
        + "attempts, rate, connect_p50, connect_p90, connect_p99, connect_p999, connect_min, connect_mean, connect_max"

    /// Parses `NAME OP VALUE[UNIT]`, spaces allowed.
    public static func parse(_ text: String) -> Result<Threshold, ParseError> {
        func fail(_ why: String) -> Result<Threshold, ParseError> { .failure(ParseError(message: "--threshold '\(text)': \(why)")) }
        let s = String(text.filter { $0 != " " && $0 != "\t" })
        guard let opStart = s.firstIndex(where: { "<>=!".contains($0) }) else {
            return fail("no comparison: write a measure, <, <=, >, >=, == or !=, and a limit, as in failures<1% or connect_p99<50ms")
        }
        let name = String(s[..<opStart]).lowercased()
        let rest = s[opStart...]
        guard let comparison = Comparison.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            return fail("'\(rest.prefix(2))' is not a comparison: use <, <=, >, >=, == or !=")
        }
        let valueText = String(rest.dropFirst(comparison.rawValue.count)).lowercased()
        guard let measure = Self.measure(name) else {
            return fail(name.isEmpty ? "no measure before \(comparison.rawValue): known are \(measureNames)"
                                     : "unknown measure '\(name)': known are \(measureNames)")
        }
        // The number, then its unit.
        let numberEnd = valueText.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? valueText.endIndex
        let suffix = String(valueText[numberEnd...])
        guard let number = Double(valueText[..<numberEnd]), number.isFinite else {
            return fail("'\(valueText)' is not a number with a unit, as in 1%, 50ms, 5000 or 0")
        }
        let unit: Unit, limit: Double
        if measure.isLatency {
            let scale: [String: Double] = ["": 1, "ms": 1, "us": 0.001, "µs": 0.001, "s": 1000]
            guard let f = scale[suffix] else { return fail("a latency limit takes us, ms or s, as in \(name)<50ms") }
            (unit, limit) = (.ms, number * f)
        } else if measure == .rate {
            let scale: [String: Double] = ["": 1, "/s": 1, "k": 1000, "k/s": 1000]
            guard let f = scale[suffix] else { return fail("a rate limit is new connections per second, as in rate>=5000 or rate>=5k") }
            (unit, limit) = (.perSecond, number * f)
        } else if suffix == "%" {
            guard measure != .attempts else { return fail("attempts is a count, not a share: write attempts>=1000") }
            guard number <= 100 else { return fail("a share is at most 100%") }
            (unit, limit) = (.percent, number)
        } else {
            let scale: [String: Double] = ["": 1, "k": 1000]
            guard let f = scale[suffix] else {
                return fail("\(name) is a count (or a share with %): write \(name)\(comparison.rawValue)0 or \(name)\(comparison.rawValue)1%")
            }
            (unit, limit) = (.count, number * f)
        }
        return .success(Threshold(expression: text, measure: measure, comparison: comparison, limit: limit, unit: unit))
    }

    static func measure(_ name: String) -> Measure? {
        switch name {
        case "failures", "failed": return .failures
        case "attempts", "attempted": return .attempts
        case "rate": return .rate
        case "connect_min": return .connectMin
        case "connect_mean", "connect_avg": return .connectMean
        case "connect_max": return .connectMax
        default: break
        }
        if name.hasPrefix("connect_p") {
            let digits = name.dropFirst("connect_p".count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
            // p99.9 as written, and p999 / p9999 read as 99.9 / 99.99.
            let p: Double?
            if digits.contains(".") || digits.count <= 2 || digits == "100" { p = Double(digits) }
            else { p = Double(digits.prefix(2) + "." + digits.dropFirst(2)) }
            guard let p, p > 0, p <= 100 else { return nil }
            return .connectPercentile(p)
        }
        if name.hasPrefix("http_status_") {
            let code = name.dropFirst("http_status_".count)
            if code.count == 3, code.hasSuffix("xx"), let d = Int(code.prefix(1)), (1...5).contains(d) { return .httpClass(d * 100) }
            if code.count == 3, let n = Int(code), (100...599).contains(n) { return .httpCode(n) }
            return nil
        }
        return Outcome(name: name).map { .outcome($0) }
    }

    /// The value of the measure over the whole run, in `unit`; nil when there is nothing to
    /// measure (no finished attempt for a share, no connect latency).
    public func measured(_ record: RunRecord) -> Double? {
        let t = record.totals
        var count: UInt64
        switch measure {
        case .failures: count = t.outcomes.failures
        case .outcome(let o): count = t.outcomes[o]
        case .httpClass(let first):
            count = 0
            for (code, n) in t.httpStatuses where Int(code).map({ (first..<first + 100).contains($0) }) == true {
                let (sum, overflow) = count.addingReportingOverflow(n)
                count = overflow ? .max : sum
            }
        case .httpCode(let code): count = t.httpStatuses[String(code)] ?? 0
        case .attempts: return Double(t.attempted)
        case .rate: return t.achievedRate
        case .connectPercentile(let p):
            let h = record.latency.connectHistogram
            return h.isEmpty ? nil : Double(h.percentile(p)) / 1000
        case .connectMin: return record.latency.connectHistogram.isEmpty ? nil : Double(record.latency.connectHistogram.min) / 1000
        case .connectMean: return record.latency.connectHistogram.isEmpty ? nil : record.latency.connectHistogram.mean / 1000
        case .connectMax: return record.latency.connectHistogram.isEmpty ? nil : Double(record.latency.connectHistogram.max) / 1000
        }
        guard unit == .percent else { return Double(count) }
        let finished = t.outcomes.total
        return finished == 0 ? nil : Double(count) / Double(finished) * 100
    }

    /// Measures the run and judges the limit; nothing to measure fails.
    public func evaluate(_ record: RunRecord) -> ThresholdResult {
        let value = measured(record)
        return ThresholdResult(expression: expression, measured: value, limit: limit, unit: unit.rawValue,
                               passed: value.map { comparison.holds($0, limit) } ?? false)
    }
}
