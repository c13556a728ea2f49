/// Judges the first bytes a server sent back, for `--protocol ws` and `--expect` (HTTP answers are
/// read whole by HTTPResponseReader).
public enum AnswerCheck: Sendable {
    /// The answer must contain these bytes within the first `headCapacity` bytes.
    case contains([UInt8])
    /// A WebSocket opening handshake answer: `HTTP/1.1 101` and this header line
    /// (`Sec-WebSocket-Accept: VALUE`), before the blank line that ends the headers.
    case webSocket(acceptLine: [UInt8])

    /// The header line a WebSocket answer must carry for `accept`, built once per run.
    public static func webSocket(accept: String) -> AnswerCheck { .webSocket(acceptLine: Array("Sec-WebSocket-Accept: \(accept)".utf8)) }

    static let endOfHeaders: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    public enum Verdict: Equatable, Sendable { case needMore, valid, invalid }

    /// The bytes kept per attempt for judging.
    public var headCapacity: Int {
        switch self {
        case .contains(let needle): return max(1024, needle.count)
        case .webSocket: return 1024
        }
    }

    /// The verdict on `head` (everything received so far); `eof` when the server closed.
    public func judge(_ head: UnsafeRawBufferPointer, eof: Bool) -> Verdict {
        switch self {
        case .contains(let needle):
            if AnswerCheck.find(needle, in: head) { return .valid }
            return eof || head.count >= headCapacity ? .invalid : .needMore
        case .webSocket(let acceptLine):
            let status = AnswerCheck.statusLine(head)
            if status != .valid { return status == .needMore && !eof ? .needMore : .invalid }
            // "HTTP/1.x 101": anything else (200, 400, 426...) is not an upgrade.
            if !(head[9] == 0x31 && head[10] == 0x30 && head[11] == 0x31) { return .invalid }
            if !AnswerCheck.find(AnswerCheck.endOfHeaders, in: head) { return eof || head.count >= headCapacity ? .invalid : .needMore }
            return AnswerCheck.find(acceptLine, in: head) ? .valid : .invalid
        }
    }

    /// `HTTP/1.x DDD` followed by a space or CR: valid; anything that diverges from it: invalid.
    /// Allocates nothing (checked by the AnswerCheck microbenchmark): it runs once or twice per answer.
    static func statusLine(_ b: UnsafeRawBufferPointer) -> Verdict {
        // "HTTP/1." then: minor digit, space, three digits, space or CR.
        for i in 0..<13 {
            guard i < b.count else { return .needMore }
            let c = b[i]
            let fits: Bool
            switch i {
            case 0: fits = c == 0x48  // H
            case 1, 2: fits = c == 0x54  // T T
            case 3: fits = c == 0x50  // P
            case 4: fits = c == 0x2F  // /
            case 5: fits = c == 0x31  // 1
            case 6: fits = c == 0x2E  // .
            case 8: fits = c == 0x20
            case 12: fits = c == 0x20 || c == 0x0D
            default: fits = isDigit(c)  // 7, 9, 10, 11
            }
            if !fits { return .invalid }
        }
        return .valid
    }

    /// The three digits of a well-formed status line, if `b` starts with one.
    static func statusCode(_ b: UnsafeRawBufferPointer) -> UInt16? {
        guard statusLine(b) == .valid else { return nil }
        return UInt16(b[9] - 0x30) * 100 + UInt16(b[10] - 0x30) * 10 + UInt16(b[11] - 0x30)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func find(_ needle: [UInt8], in hay: UnsafeRawBufferPointer) -> Bool {
        guard !needle.isEmpty else { return true }
        guard hay.count >= needle.count else { return false }
        for start in 0...(hay.count - needle.count) {
            var k = 0
            while k < needle.count && hay[start + k] == needle[k] { k += 1 }
            if k == needle.count { return true }
        }
        return false
    }
}

/// The bytes sent after connecting, if any.
enum Payload {
    /// `GET path HTTP/1.1`, with `Connection: close` when the server is to close first.
    static func httpGet(path: String, host: String, port: UInt16, hostHeader override: String? = nil,
                        connectionClose: Bool = true) -> [UInt8] {
        let hostHeader = override ?? hostValue(host, port)
        let text = "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: portstorm\r\nAccept: */*\r\n"
            + (connectionClose ? "Connection: close\r\n\r\n" : "\r\n")
        return Array(text.utf8)
    }

    /// `host:port` as a Host header writes it (no port for 80, brackets for IPv6).
    static func hostValue(_ host: String, _ port: UInt16) -> String {
        port == 80 ? host : (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }

    /// `--send TEXT`, with the escapes \r, \n, \t and \\ turned into their bytes.
    static func unescaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var escaping = false
        for c in text.utf8 {
            if escaping {
                switch c {
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "\\"): out.append(0x5C)
                default: out.append(0x5C); out.append(c)
                }
                escaping = false
            } else if c == 0x5C {
                escaping = true
            } else {
                out.append(c)
            }
        }
        if escaping { out.append(0x5C) }
        return out
    }
}
