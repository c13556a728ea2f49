import Foundation
import PortstormRecord

/// The thresholds at the end of a run: each with its measured value and pass or FAIL.
public enum ThresholdText {
    /// "thresholds: 1 of 2 failed" and one aligned line per threshold.
    public static func render(_ results: [ThresholdResult], color: Bool = false) -> String {
        guard !results.isEmpty else { return "" }
        let failed = results.filter { !$0.passed }.count
        var out = "thresholds: " + (failed == 0 ? "all \(results.count) passed" : "\(failed) of \(results.count) failed") + "\n"
        let width = results.map(\.expression.count).max() ?? 0
        for r in results {
            let verdict = r.passed ? "pass" : "FAIL"
            out += "  \(color ? "\u{1B}[\(r.passed ? 32 : 31)m\(verdict)\u{1B}[0m" : verdict)  \(Format.pad(r.expression, width))  measured \(value(r.measured, unit: r.unit))\n"
        }
        return out
    }

    /// A measured value in its unit: "0.85%", "12.30ms", "5,012/s", "28,232"; "nothing to measure" for nil.
    public static func value(_ v: Double?, unit: String) -> String {
        guard let v else { return "nothing (no data for it in this run)" }
        switch unit {
        case "percent": return String(format: "%.3g%%", v)
        case "ms": return v < 10 ? String(format: "%.3fms", v) : String(format: "%.1fms", v)
        case "per_second": return Format.rate(v) + "/s"
        default: return Format.whole(v)
        }
    }
}
