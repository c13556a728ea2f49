import Foundation
import PortstormSystem

/// The HTTP status codes that count as `ok` (`--expect-status`, default 200-399); any other status
/// ends the attempt as `http_status`. A bitmap over 100-599: a lookup never allocates.
public struct HTTPStatusSet: Sendable, Equatable {
    private var words = [UInt64](repeating: 0, count: 10)

    /// 200-399: success and redirects, as a browser or curl -f would take them.
    public static let standard = try! HTTPStatusSet.parse("200-399")

    /// `LIST`: codes and ranges separated by commas, e.g. `200,204,300-399`; each within 100-599.
    public static func parse(_ text: String) throws(InputError) -> HTTPStatusSet {
        var set = HTTPStatusSet()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(parts.count), let lo = UInt16(parts[0]), let hi = UInt16(parts.last!),
                  (100...599).contains(lo), (100...599).contains(hi), lo <= hi else {
                throw InputError("--expect-status takes HTTP status codes (100-599) and ranges separated by commas, as in 200,204,300-399; '\(item)' is not one")
            }
            for code in lo...hi { set.words[Int(code) >> 6] |= 1 << UInt64(code & 63) }
        }
        return set
    }

    @inline(__always)
    public func contains(_ code: UInt16) -> Bool {
        code < 640 && words[Int(code) >> 6] & (1 << UInt64(code & 63)) != 0
    }
}
