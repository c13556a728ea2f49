import Foundation

/// Number formatting shared by the analysis and the renderers: every finding, table and summary
/// prints its numbers through here, so one figure reads the same everywhere (fixed,
/// locale-independent: golden files depend on it).
public enum Format {
    /// 1234567 -> "1,234,567".
    public static func count<T: BinaryInteger>(_ n: T) -> String { n.grouped }

    /// A rate (per second): whole numbers as such ("50", "1,075"), others with no decimals from
    /// 100 up, one from 1 up, two below; a rate above 0 never prints as 0 ("<0.01").
    public static func rate(_ r: Double) -> String {
        guard r.isFinite, r.magnitude < 1e15 else { return String(format: "%.3g", r) }
        if r >= 100 || r == r.rounded() { return whole(r) }
        if r >= 1 { return String(format: "%.1f", r) }
        if r >= 0.005 || r < 0 { return String(format: "%.2f", r) }
        return "<0.01"
    }

    /// A fraction (0...1) as a percentage with one decimal; a share above 0 that would print as
    /// 0.0% prints "<0.1%".
    public static func share(_ x: Double) -> String {
        guard x.isFinite else { return "-" }
        return x > 0 && x < 0.0005 ? "<0.1%" : String(format: "%.1f%%", x * 100)
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
}
