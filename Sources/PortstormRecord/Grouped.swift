extension BinaryInteger {
    /// The number with thousands separators, as every report prints counts: 28232 -> "28,232".
    /// Port numbers, ranges and sysctl values are printed as typed, without this.
    public var grouped: String {
        let s = String(magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return self < 0 ? "-" + out : out
    }
}
