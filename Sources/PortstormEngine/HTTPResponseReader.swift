/// Reads one HTTP/1.x response as its bytes arrive, without keeping them: the status code, the
/// headers that decide what comes next (Content-Length, Transfer-Encoding: chunked, Upgrade), then
/// the body to its end, so the connection can be closed with nothing unread (a close with unread
/// data sends RST instead of FIN, and leaves no TIME_WAIT).
///
/// One per attempt in flight (a few dozen bytes); `consume` never allocates.
public struct HTTPResponseReader: Sendable {
    public enum Verdict: Equatable, Sendable {
        case needMore
        /// The response ended (headers, and the body when it has a length or chunks).
        case complete
        /// Not an HTTP/1.x response, headers longer than `maxHeaderBytes`, or broken chunks.
        case invalid
    }

    /// Headers longer than this are not a response any client would wait for.
    static let maxHeaderBytes: UInt32 = 64 * 1024

    private enum State: UInt8 {
        case statusLine, restOfStatusLine, lineStart, headerName, headerValue, skipLine
        case body, untilClose
        case chunkSize, chunkExtension, chunkData, chunkDataEnd, trailerLineStart, trailerLine
        case done
    }

    /// Headers whose value matters; matched case-insensitively while the name arrives.
    private enum Field: UInt8 { case none, contentLength, transferEncoding, upgrade }
    private static let names: [(Field, [UInt8])] = [
        (.contentLength, Array("content-length".utf8)),
        (.transferEncoding, Array("transfer-encoding".utf8)),
        (.upgrade, Array("upgrade".utf8)),
    ]
    private static let chunkedToken: [UInt8] = Array("chunked".utf8)
    private static let webSocketToken: [UInt8] = Array("websocket".utf8)

    private var state = State.statusLine
    /// Position in the status line (0-12), the current header name, or the "chunked" token.
    private var index: UInt16 = 0
    /// Bit k: the header name so far still matches `names[k]`.
    private var candidates: UInt8 = 0
    private var field = Field.none
    private var headerBytes: UInt32 = 0
    /// The three digits of the status line.
    public private(set) var status: UInt16 = 0
    /// An Upgrade header naming websocket: the server wants a WebSocket handshake.
    private(set) var upgradeWebSocket = false
    private var chunked = false
    private var contentLength: Int64 = -1
    /// Body bytes (or bytes of the current chunk) still to come.
    private(set) var remaining: Int64 = 0
    /// Whether this request was HEAD (no body follows whatever the headers say).
    private let bodyless: Bool

    public init(head: Bool = false) { bodyless = head }

    var isComplete: Bool { state == .done }
    /// In the body with a known number of bytes left: they can be read and discarded unseen.
    var countedBodyBytesLeft: Int64 { state == .body || state == .chunkData ? remaining : 0 }
    /// The body lasts until the server closes (no length, not chunked).
    var readsUntilClose: Bool { state == .untilClose }

    /// Feeds the next bytes; `eof` when the server closed after them.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, eof: Bool) -> Verdict {
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            switch state {
            case .statusLine:
                // "HTTP/1." digit, space, three digits, then space or CR.
                let k = Int(index)
                let fits: Bool
                switch k {
                case 0: fits = c == 0x48
                case 1, 2: fits = c == 0x54
                case 3: fits = c == 0x50
                case 4: fits = c == 0x2F
                case 5: fits = c == 0x31
                case 6: fits = c == 0x2E
                case 8: fits = c == 0x20
                case 12: fits = c == 0x20 || c == 0x0D
                default: fits = c >= 0x30 && c <= 0x39
                }
                guard fits else { return .invalid }
                if k >= 9 && k <= 11 { status = status * 10 + UInt16(c - 0x30) }
                index += 1
                if k == 12 { state = c == 0x0D ? .skipLine : .restOfStatusLine }
            case .restOfStatusLine, .skipLine:
                if c == 0x0A { state = .lineStart }
            case .lineStart:
                if c == 0x0D { break }
                if c == 0x0A {
                    if let v = headersEnded() { return v }
                    break
                }
                index = 0
                candidates = (1 << UInt8(Self.names.count)) - 1
                field = .none
                state = .headerName
                matchName(c)
            case .headerName:
                if c == 0x3A {  // ':'
                    field = .none
                    for (k, entry) in Self.names.enumerated() where candidates & (1 << UInt8(k)) != 0 && Int(index) == entry.1.count {
                        field = entry.0
                    }
                    if field == .contentLength { contentLength = 0 }
                    index = 0
                    state = .headerValue
                } else if c == 0x0A {
                    state = .lineStart
                } else {
                    matchName(c)
                }
            case .headerValue:
                if c == 0x0A { state = .lineStart; break }
                switch field {
                case .contentLength:
                    if c >= 0x30 && c <= 0x39 {
                        guard contentLength < Int64.max / 10 - 10 else { return .invalid }
                        contentLength = contentLength * 10 + Int64(c - 0x30)
                    } else if c != 0x20 && c != 0x09 && c != 0x0D {
                        return .invalid
                    }
                case .transferEncoding, .upgrade:
                    // Looks for the token ("chunked", "websocket") anywhere in the value.
                    let token = field == .upgrade ? Self.webSocketToken : Self.chunkedToken
                    let lower = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
                    if Int(index) < token.count && lower == token[Int(index)] {
                        index += 1
                        if Int(index) == token.count {
                            if field == .upgrade { upgradeWebSocket = true } else { chunked = true }
                        }
                    } else {
                        index = lower == token[0] ? 1 : 0
                    }
                default: break
                }
            case .body:
                let take = Int64(min(n - i, Int(clamping: remaining)))
                remaining -= take
                i += Int(take)
                if remaining == 0 { state = .done; return .complete }
                continue
            case .untilClose:
                i = n
                continue
            case .chunkSize:
                if let d = hexValue(c) {
                    guard remaining < Int64.max / 16 - 16 else { return .invalid }
                    remaining = remaining * 16 + Int64(d)
                    index += 1
                } else if c == 0x3B || c == 0x20 || c == 0x09 {
                    state = .chunkExtension
                } else if c == 0x0D {
                    break
                } else if c == 0x0A {
                    guard index > 0 else { return .invalid }
                    chunkSizeEnded()
                } else {
                    return .invalid
                }
            case .chunkExtension:
                if c == 0x0A {
                    guard index > 0 else { return .invalid }
                    chunkSizeEnded()
                }
            case .chunkData:
                let take = Int64(min(n - i, Int(clamping: remaining)))
                remaining -= take
                i += Int(take)
                if remaining == 0 { state = .chunkDataEnd }
                continue
            case .chunkDataEnd:
                if c == 0x0A { state = .chunkSize; index = 0; remaining = 0 }
                else if c != 0x0D { return .invalid }
            case .trailerLineStart:
                if c == 0x0A { state = .done; return .complete }
                if c != 0x0D { state = .trailerLine }
            case .trailerLine:
                if c == 0x0A { state = .trailerLineStart }
            case .done:
                return .complete
            }
            if state.rawValue <= State.skipLine.rawValue {
                headerBytes &+= 1
                if headerBytes > Self.maxHeaderBytes { return .invalid }
            }
            i += 1
        }
        if state == .done { return .complete }
        if eof {
            // A close ends a body that lasts until the close; anywhere else it cuts the answer short.
            if state == .untilClose { state = .done; return .complete }
            return .invalid
        }
        return .needMore
    }

    /// The bytes of a counted body (or chunk) were read elsewhere, unseen.
    mutating func skipped(_ count: Int) -> Verdict {
        remaining -= Int64(count)
        if remaining > 0 { return .needMore }
        remaining = 0
        if state == .body { state = .done; return .complete }
        state = .chunkDataEnd
        return .needMore
    }

    private mutating func matchName(_ c: UInt8) {
        let lower = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
        for (k, entry) in Self.names.enumerated() where candidates & (1 << UInt8(k)) != 0 {
            if Int(index) >= entry.1.count || entry.1[Int(index)] != lower { candidates &= ~(1 << UInt8(k)) }
        }
        index &+= 1
    }

    /// The blank line after the headers: what follows depends on the status and the framing.
    private mutating func headersEnded() -> Verdict? {
        if bodyless || (status >= 100 && status < 200) || status == 204 || status == 304 {
            state = .done
            return .complete
        }
        if chunked {
            state = .chunkSize
            index = 0
            remaining = 0
        } else if contentLength >= 0 {
            remaining = contentLength
            state = remaining == 0 ? .done : .body
            if remaining == 0 { return .complete }
        } else {
            state = .untilClose
        }
        return nil
    }

    private mutating func chunkSizeEnded() {
        if remaining == 0 {
            state = .trailerLineStart
        } else {
            state = .chunkData
        }
        index = 0
    }

    private func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
