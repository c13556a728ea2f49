/// The HTTP status codes that count as `ok` (`--expect-status`, default 200-399); any other status
/// ends the attempt as `http_status`. A bitmap over 100-599: a lookup never allocates. The engine
/// judges answers with it and the analysis reads a record's `config.expectStatus` back with it.
public struct HTTPStatusSet: Sendable, Equatable {
    private var words = [UInt64](repeating: 0, count: 10)

    /// 200-399: success and redirects, as a browser or curl -f would take them.
    public static let standard = HTTPStatusSet.parse("200-399")!

    /// `LIST`: codes and ranges separated by commas, e.g. `200,204,300-399`, each within 100-599;
    /// nil when `text` is not one (`badItem` says which item).
    public static func parse(_ text: String) -> HTTPStatusSet? { parseOrBadItem(text).set }

    /// The set, or the first item of `text` that is not a code or a range.
    public static func parseOrBadItem(_ text: String) -> (set: HTTPStatusSet?, badItem: String?) {
        var set = HTTPStatusSet()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "-", omittingEmptySubsequences: false).map(trimmed)
            guard (1...2).contains(parts.count), let lo = UInt16(parts[0]), let hi = UInt16(parts.last!),
                  (100...599).contains(lo), (100...599).contains(hi), lo <= hi else {
                return (nil, String(item))
            }
            for code in lo...hi { set.words[Int(code) >> 6] |= 1 << UInt64(code & 63) }
        }
        return (set, nil)
    }

    @inline(__always)
    public func contains(_ code: UInt16) -> Bool {
        code < 640 && words[Int(code) >> 6] & (1 << UInt64(code & 63)) != 0
    }

    private static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
