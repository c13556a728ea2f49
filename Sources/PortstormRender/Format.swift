import Foundation

/// Number formatting shared by the renderers (fixed, locale-independent: golden files depend on it).
public enum Format {
    /// 1234567 -> "1,234,567".
    public static func count<T: BinaryInteger>(_ n: T) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// A rate with no decimals past 100, one below.
    public static func rate(_ r: Double) -> String {
        r >= 100 ? count(Int(r.rounded())) : String(format: "%.1f", r)
    }

    /// A share of a whole, as "99.96%".
    public static func percent(_ part: UInt64, of whole: UInt64) -> String {
        whole == 0 ? "-" : String(format: "%.2f%%", Double(part) * 100 / Double(whole))
    }

    /// Microseconds as "850us", "12.3ms" or "1.25s".
    public static func micros(_ us: UInt64) -> String {
        if us < 1000 { return "\(us)us" }
        if us < 1_000_000 { return String(format: us < 10_000 ? "%.2fms" : "%.1fms", Double(us) / 1000) }
        return String(format: "%.2fs", Double(us) / 1e6)
    }

    /// Seconds as "10.00s" or "2m03s".
    public static func seconds(_ s: Double) -> String {
        s < 120 ? String(format: "%.2fs", s) : String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
