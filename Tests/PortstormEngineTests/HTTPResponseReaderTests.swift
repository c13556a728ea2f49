@testable import PortstormEngine
import PortstormRecord
import Testing

/// The streaming HTTP response reader: fed in pieces of every size, it must give the same verdict.
@Suite struct HTTPResponseReaderTests {
    /// Feeds `text` in pieces of `step` bytes; returns the verdict, the reader, and how many bytes
    /// were fed before it said complete or invalid.
    func read(_ text: String, step: Int = 1, eof: Bool = false, head: Bool = false) -> (HTTPResponseReader.Verdict, HTTPResponseReader) {
        var r = HTTPResponseReader(head: head)
        let bytes = Array(text.utf8)
        var i = 0
        var v = HTTPResponseReader.Verdict.needMore
        while i < bytes.count {
            let piece = Array(bytes[i..<min(bytes.count, i + step)])
            v = piece.withUnsafeBytes { r.consume($0, eof: false) }
            if v != .needMore { return (v, r) }
            i += step
        }
        if eof { v = [UInt8]().withUnsafeBytes { r.consume($0, eof: true) } }
        return (v, r)
    }

    @Test(arguments: [1, 3, 7, 64, 4096])
    func contentLengthBodiesEndAtTheirLength(step: Int) {
        let (v, r) = read("HTTP/1.1 404 Not Found\r\nServer: nginx\r\ncontent-LENGTH: 12\r\n\r\nhello world!", step: step)
        #expect(v == .complete)
        #expect(r.status == 404)
        let (short, _) = read("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello", step: step)
        #expect(short == .needMore)
        let (cut, _) = read("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello", step: step, eof: true)
        #expect(cut == .invalid)
    }

    @Test(arguments: [1, 2, 5, 4096])
    func chunkedBodiesEndAtTheLastChunk(step: Int) {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n"
        let (v, r) = read(text, step: step)
        #expect(v == .complete)
        #expect(r.status == 200)
        let (partial, _) = read(String(text.dropLast(2)), step: step)
        #expect(partial == .needMore)
        let (bad, _) = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", step: step)
        #expect(bad == .invalid)
    }

    @Test func bodilessAnswersEndWithTheHeaders() {
        #expect(read("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n").0 == .complete)
        #expect(read("HTTP/1.1 304 Not Modified\r\n\r\n").0 == .complete)
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", head: true).0 == .complete)
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").0 == .complete)
    }

    @Test func aBodyWithoutLengthLastsUntilTheClose() {
        let (open, r) = read("HTTP/1.0 200 OK\r\n\r\nsome bytes")
        #expect(open == .needMore)
        #expect(r.readsUntilClose)
        #expect(read("HTTP/1.0 200 OK\r\n\r\nsome bytes", eof: true).0 == .complete)
    }

    @Test func aWebSocketOnlyServerIsRecognised() {
        let (v, r) = read("HTTP/1.1 426 Upgrade Required\r\nUpgrade: WebSocket\r\nContent-Length: 0\r\n\r\n")
        #expect(v == .complete)
        #expect(r.status == 426 && r.upgradeWebSocket)
        // An offer to upgrade to HTTP/2 is not a WebSocket server.
        #expect(!read("HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nContent-Length: 0\r\n\r\n").1.upgradeWebSocket)
    }

    @Test func notHTTPAndEndlessHeadersAreInvalid() {
        #expect(read("SSH-2.0-OpenSSH_9.2\r\n").0 == .invalid)
        #expect(read("HTTP/2 200\r\n").0 == .invalid)
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n").0 == .invalid)
        let endless = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 2000)
        #expect(read(endless, step: 4096).0 == .invalid)
        #expect(read("HTTP/1.1 200 OK\r\nServer: x\r\n", eof: true).0 == .invalid)
    }

    @Test func countedBodyBytesCanBeSkippedUnseen() {
        var (v, r) = read("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        #expect(v == .needMore)
        #expect(r.countedBodyBytesLeft == 100_000)
        #expect(r.skipped(65_536) == .needMore)
        v = r.skipped(100_000 - 65_536)
        #expect(v == .complete)
    }
}

@Suite struct HTTPStatusSetTests {
    @Test func theDefaultAcceptsSuccessAndRedirects() {
        let s = HTTPStatusSet.standard
        #expect(s.contains(200) && s.contains(204) && s.contains(301) && s.contains(399))
        #expect(!s.contains(199) && !s.contains(404) && !s.contains(503) && !s.contains(426) && !s.contains(999))
    }

    @Test func listsAndRangesParse() throws {
        let s = try #require(HTTPStatusSet.parse("200, 404,500-503"))
        #expect(s.contains(200) && s.contains(404) && s.contains(501) && s.contains(503))
        #expect(!s.contains(201) && !s.contains(504))
        for bad in ["", "abc", "99", "600", "300-200", "200-", "2OO"] {
            #expect(HTTPStatusSet.parse(bad) == nil, "'\(bad)' parsed")
        }
    }
}
