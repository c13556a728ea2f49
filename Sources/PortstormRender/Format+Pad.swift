import PortstormRecord

extension Format {
    /// The text padded with spaces to `width` characters, on the left when `right` (numbers).
    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
