import Foundation

/// Number formatting shared by the renderers (fixed, locale-independent: golden files depend on it).
public enum Format {
    /// 1234567 -> "1,234,567".
    public static func count<T: BinaryInteger>(_ n: T) -> String { n.grouped }

    /// A rate with no decimals past 100, one below.
    public static func rate(_ r: Double) -> String {
        r >= 100 ? whole(r) : String(format: "%.1f", r)
    }

    /// A whole number with thousands separators; past 10^15 (or not finite) in scientific notation,
    /// so that any Double a record holds prints without converting it to an integer type that traps.
    public static func whole(_ d: Double, _ rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> String {
        guard d.isFinite, d.magnitude < 1e15 else { return String(format: "%.3g", d) }
        return count(Int64(d.rounded(rule)))
    }

    /// A Double cut to a whole number, without separators ("12", "1e+20" past 10^15): chart ticks.
    public static func integer(_ d: Double) -> String {
        guard d.isFinite, d.magnitude < 1e15 else { return String(format: "%.3g", d) }
        return String(Int64(d.rounded(.towardZero)))
    }

    /// A share of a whole, as "99.96%".
    public static func percent(_ part: UInt64, of whole: UInt64) -> String {
        whole == 0 ? "-" : String(format: "%.2f%%", Double(part) * 100 / Double(whole))
    }

    /// Microseconds given as a Double (a chart tick), clamped to 0...2^64-1.
    public static func micros(tick us: Double) -> String {
        guard us.isFinite, us > 0 else { return micros(UInt64(0)) }
        return us >= 1.8e19 ? micros(UInt64.max) : micros(UInt64(us))
    }

    /// Microseconds as "850us", "12.3ms" or "1.25s".
    public static func micros(_ us: UInt64) -> String {
        if us < 1000 { return "\(us)us" }
        if us < 1_000_000 { return String(format: us < 10_000 ? "%.2fms" : "%.1fms", Double(us) / 1000) }
        return String(format: "%.2fs", Double(us) / 1e6)
    }

    /// Seconds as "10.00s" or "2m03s" (past 10^15 s, or not finite, as "1e+308s").
    public static func seconds(_ s: Double) -> String {
        if s < 120 { return String(format: "%.2fs", s) }
        guard s.isFinite, s < 1e15 else { return String(format: "%.3gs", s) }
        let whole = Int64(s)
        return "\(count(whole / 60))m" + String(format: "%02ds", Int32(whole % 60))
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
