/// One `--threshold` as the run judged it: the expression as typed, the value measured over the
/// whole run (in the threshold's unit) and whether it held.
public struct ThresholdResult: Codable, Sendable, Equatable {
    /// As typed: `failures<1%`, `connect_p99<50ms`.
    public var expression: String
    /// The measured value in `unit`; nil when the run gave nothing to measure (no connect
    /// latency without a connection), which fails the threshold.
    public var measured: Double?
    /// The limit in `unit` (`1%` is 1 with unit `percent`).
    public var limit: Double
    /// `percent` (of finished attempts), `count`, `ms`, or `per_second`.
    public var unit: String
    public var passed: Bool

    public init(expression: String, measured: Double?, limit: Double, unit: String, passed: Bool) {
        self.expression = expression
        self.measured = measured
        self.limit = limit
        self.unit = unit
        self.passed = passed
    }
}
