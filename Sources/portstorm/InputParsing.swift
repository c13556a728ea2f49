import PortstormRecord
import PortstormSystem

/// Parsers for the values the command line takes; each failure is one sentence for the user.
enum InputParsing {
    /// `500ms`, `10s`, `2m`, `1h`, `1.5s`, and compounds as Go and k6 write them (`1m30s`,
    /// `1h5m`, `2s500ms`); a bare number is seconds. Returns seconds.
    static func duration(_ text: String, option: String) throws(InputError) -> Double {
        let bad = InputError("\(option) '\(text)' is not a positive duration: write 500ms, 10s, 2m, 1m30s or 1h")
        let units: [String: Double] = ["us": 0.000_001, "µs": 0.000_001, "ms": 0.001, "s": 1, "m": 60, "h": 3600]
        let chars = Array(text.lowercased())
        var i = 0, total = 0.0, parts = 0, seen: Set<String> = []
        while i < chars.count {
            var number = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." { number.append(chars[i]); i += 1 }
            var unit = ""
            while i < chars.count, chars[i].isLetter { unit.append(chars[i]); i += 1 }
            guard let v = Double(number), v.isFinite else { throw bad }
            if unit.isEmpty {
                // A bare number is seconds, and only on its own ("1m30" is refused).
                guard parts == 0, i == chars.count else { throw bad }
                unit = "s"
            }
            guard let scale = units[unit], seen.insert(unit == "µs" ? "us" : unit).inserted else { throw bad }
            total += v * scale
            parts += 1
        }
        guard parts > 0, total.isFinite, total > 0 else { throw bad }
        return total
    }

    /// `20000`, `20k`, `1.5m` (k = 1,000, m = 1,000,000). Returns the number.
    static func amount(_ text: String, option: String) throws(InputError) -> Double {
        let s = text.lowercased().replacingOccurrences(of: "_", with: "")
        var number = Substring(s), scale = 1.0
        if s.hasSuffix("k") { number = s.dropLast(); scale = 1e3 }
        if s.hasSuffix("m") { number = s.dropLast(); scale = 1e6 }
        // Decimal only: Double() also takes hexadecimal ("0x10") and "infinity".
        let decimal = !number.isEmpty && number.allSatisfy { $0.isASCII && ($0.isNumber || ".e+-".contains($0)) }
        guard decimal, let v = Double(number), v.isFinite, v > 0 else {
            throw InputError("\(option) '\(text)' is not a positive number: write 500, 20k or 1m")
        }
        return v * scale
    }

    /// A whole count (`20k`), at most `max`.
    static func count(_ text: String, option: String, max: Double = 1e12) throws(InputError) -> Int {
        let v = try amount(text, option: option)
        guard v == v.rounded(), v <= max else {
            throw InputError("\(option) '\(text)' must be a whole number no larger than \(Int(max))")
        }
        return Int(v)
    }

    /// `LO-HI`, inclusive, within 1-65535.
    static func portRange(_ text: String) throws(InputError) -> PortRange {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]) else {
            throw InputError("--local-ports '\(text)' is not a range: write LO-HI, as in 40000-40009")
        }
        guard (1...65535).contains(lo), (1...65535).contains(hi) else {
            throw InputError("--local-ports '\(text)' is outside 1-65535")
        }
        guard lo <= hi else { throw InputError("--local-ports '\(text)' is reversed: write the lower port first") }
        return PortRange(low: UInt16(lo), high: UInt16(hi))
    }

    /// `ADDR:PORT` for a listener: a numeric IPv4 or bracketed IPv6 address; port 0 picks one.
    static func listenAddress(_ text: String, option: String = "--listen") throws(InputError) -> SocketAddress {
        if let colon = text.lastIndex(of: ":"), text[text.index(after: colon)...] == "0" {
            var host = String(text[..<colon]).trimmingCharacters(in: ["[", "]"])
            if host == "localhost" { host = "127.0.0.1" }
            if let a = SocketAddress(ip: host, port: 0) { return a }
            throw InputError("\(option) '\(text)' must be a numeric address, as in 127.0.0.1:0 or [::1]:0")
        }
        let hp = try HostPort.parse(text).get()
        let host = hp.host == "localhost" ? "127.0.0.1" : hp.host
        guard let a = SocketAddress(ip: host, port: hp.port) else {
            throw InputError("\(option) '\(text)' must be a numeric address, as in 127.0.0.1:8080 or [::1]:8080")
        }
        return a
    }
}
