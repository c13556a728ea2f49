import PortstormTLS

/// Plain HTTP or WebSocket sent to a TLS port: what the answer looks like. Allocation-free.
enum PlainToTLS {
    /// What nginx writes (title and body of its 400 page) when a plain request reaches an ssl port.
    static let nginxSentence = "The plain HTTP request was sent to HTTPS port"
    private static let sentence = Array(nginxSentence.utf8)

    /// The answer starts with a TLS record (an alert, or a handshake record): a TLS server.
    @inline(__always)
    static func answersWithTLS(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && TLSRecordSniff.looksLikeTLS(bytes)
    }

    /// The answer holds nginx's sentence (in the part of it read so far).
    static func saysHTTPSPort(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = sentence.count
        guard bytes.count >= n else { return false }
        let first = sentence[0]
        var k = 0
        while k <= bytes.count - n {
            if bytes[k] == first {
                var j = 1
                while j < n && bytes[k + j] == sentence[j] { j += 1 }
                if j == n { return true }
            }
            k += 1
        }
        return false
    }
}
