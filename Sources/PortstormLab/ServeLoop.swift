import Glibc
import PortstormSystem
import PortstormTLS

/// The epoll loop behind a `TargetServer`; it lives on the server's thread only.
final class ServeLoop: @unchecked Sendable {
    let mode: ServerMode
    let listener: Int32
    let poller: Poller
    let state: ServerState
    let filler: Int32
    /// TLS modes: the server context, and each connection's TLS state by fd.
    let tls: TLSServerContext?
    private var sessions: [Int32: TLSServerConnection] = [:]
    /// What is served (inside TLS for the TLS modes).
    private let served: ServerMode
    /// Per connection (by fd): progress toward the blank line that ends an HTTP request's headers.
    private var headerProgress: [UInt8] = []
    private var connections = Set<Int32>()
    /// Per connection (by fd), the request bytes of a WebSocket handshake read so far.
    private var handshakes: [Int32: [UInt8]] = [:]
    private var lastSlowAccept: UInt64 = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private static let response: [UInt8] = Array(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n".utf8)
    /// The answer to a request without `Connection: close`: the connection stays open until the
    /// client closes it (the client then closes first, as HTTP/1.1 keep-alive allows).
    private static let keepAliveResponse: [UInt8] = Array(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n".utf8)
    private static let badRequest: [UInt8] = Array(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nbad request\n".utf8)
    private static let connectionClose: [UInt8] = Array("connection: close".utf8)

    init(mode: ServerMode, listener: Int32, poller: Poller, state: ServerState, filler: Int32, tls: TLSServerContext? = nil) {
        self.mode = mode
        self.served = mode.inner
        self.tls = tls
        self.listener = listener
        self.poller = poller
        self.state = state
        self.filler = filler
    }

    func run() {
        if mode != .blackhole { poller.watch(listener) }
        while !state.stopping.load(ordering: .relaxed) {
            if mode == .slowAccept {
                slowAccept()
                poller.wait(timeoutMs: 10) { _ in }
                continue
            }
            poller.wait(timeoutMs: 50) { fd in
                if fd == listener { acceptAll() } else { readable(fd) }
            }
        }
        sessions.removeAll()
        for fd in connections { Socket.close(fd) }
        Socket.close(listener)
        if filler >= 0 { Socket.close(filler) }
        buffer.deallocate()
    }

    private func acceptAll() {
        for _ in 0..<256 {
            let fd = Socket.accept(listener)
            if fd < 0 { return }  // EAGAIN, or out of descriptors: epoll reports the listener again
            state.accepted.add(1, ordering: .relaxed)
            if let tls { sessions[fd] = tls.connection(fd: fd) }
            switch served {
            case .acceptClose, .blackhole:
                Socket.close(fd)
            case .http:
                track(fd)
                // The request is often there already: answer without a trip through epoll.
                if !serveHTTP(fd) { poller.watch(fd) }
            case .hold, .echo, .ws:
                track(fd)
                poller.watch(fd)
            case .slowAccept, .https, .wss, .tls:
                Socket.close(fd)
            }
        }
    }

    /// A non-blocking read, through TLS when the mode speaks it (-EAGAIN also while the handshake
    /// goes on). Plain HTTP sent to a TLS mode gets the answer nginx gives, then the close.
    private func receive(_ fd: Int32) -> Int {
        guard let session = sessions[fd] else { return Socket.receive(fd, buffer, wait: false) }
        let n = session.read(into: buffer)
        if n < 0 && n != -Int(EAGAIN) && session.plainHTTPSeen {
            ServeLoop.plainToTLSAnswer.withUnsafeBytes { _ = Socket.send(fd, $0) }
        }
        return n
    }

    private func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        if let session = sessions[fd] { session.write(bytes) } else { _ = Socket.send(fd, bytes) }
    }

    /// nginx's answer to a plain HTTP request on an ssl port (what clients recognise).
    static let plainToTLSAnswer: [UInt8] = Array((
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 94\r\nConnection: close\r\n\r\n"
        + "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>\r\n").utf8)

    /// One accept every 50 ms at most, closed at once: the queue behind it overflows under load.
    private func slowAccept() {
        let now = monotonicNanos()
        guard now &- lastSlowAccept >= 50_000_000 else { return }
        let fd = Socket.accept(listener)
        if fd >= 0 {
            state.accepted.add(1, ordering: .relaxed)
            Socket.close(fd)
            lastSlowAccept = now
        }
    }

    private func track(_ fd: Int32) {
        connections.insert(fd)
        state.open.add(1, ordering: .relaxed)
        if served == .http {
            if Int(fd) >= headerProgress.count { headerProgress += [UInt8](repeating: 0, count: Int(fd) + 1024 - headerProgress.count) }
            headerProgress[Int(fd)] = 0
        }
    }

    private func drop(_ fd: Int32) {
        connections.remove(fd)
        handshakes[fd] = nil
        if let session = sessions.removeValue(forKey: fd) { session.shutdown() }
        state.open.subtract(1, ordering: .relaxed)
        Socket.close(fd)
    }

    private func readable(_ fd: Int32) {
        switch served {
        case .http:
            _ = serveHTTP(fd)
        case .hold:
            let n = receive(fd)
            if n == 0 || (n < 0 && n != -Int(EAGAIN)) { drop(fd) }
        case .echo:
            let n = receive(fd)
            if n > 0 {
                send(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            } else if n == 0 || n != -Int(EAGAIN) {
                drop(fd)
            }
        case .ws:
            serveWebSocket(fd)
        case .acceptClose, .blackhole, .slowAccept, .https, .wss, .tls:
            drop(fd)
        }
    }

    /// Reads the handshake; once the headers are in, answers 101 with Sec-WebSocket-Accept (or 400
    /// without a key) and then holds the connection until the client closes it or sends a Close
    /// frame, which is answered with a Close frame before the server closes (RFC 6455 7.1.1).
    private func serveWebSocket(_ fd: Int32) {
        let n = receive(fd)
        if n == -Int(EAGAIN) { return }
        if n <= 0 { drop(fd); return }
        guard var request = handshakes[fd] ?? (connections.contains(fd) ? [] : nil) else { return }
        if WebSocketServerSide.answered(request) {
            if buffer[0] & 0x0F == 0x08 {
                WebSocketServerSide.closeFrame.withUnsafeBytes { send(fd, $0) }
                drop(fd)
            }
            return
        }
        if request.count < 8192 {
            request += buffer[0..<n]
            handshakes[fd] = request
            guard let reply = WebSocketServerSide.reply(to: request) else { return }
            reply.withUnsafeBytes { send(fd, $0) }
            guard reply[9] == 0x31 else { drop(fd); return }  // not 101: the answer says Connection: close
            handshakes[fd] = [0x01]  // answered: later bytes (frames) are read and ignored
        }
    }

    /// Reads what is there; when the headers are complete, answers and closes. Returns whether
    /// the connection is finished (answered or gone).
    private func serveHTTP(_ fd: Int32) -> Bool {
        let n = receive(fd)
        if n == -Int(EAGAIN) { return false }
        if n <= 0 { drop(fd); return true }
        var progress = headerProgress[Int(fd)]
        // A request starts with a method (GET, POST...): anything else, a TLS ClientHello say, gets
        // 400 and the close, as nginx answers it.
        if progress == 0 && !(0x41...0x5A).contains(buffer[0]) {
            ServeLoop.badRequest.withUnsafeBytes { send(fd, $0) }
            drop(fd)
            return true
        }
        for i in 0..<n {
            let c = buffer[i]
            switch (progress, c) {
            case (0, 0x0D), (2, 0x0D): progress += 1
            case (1, 0x0A), (3, 0x0A): progress += 1
            case (_, 0x0D): progress = 1
            default: progress = 0
            }
            if progress == 4 { break }
        }
        headerProgress[Int(fd)] = progress
        guard progress == 4 else { return false }
        // Requests fit in one read here; a client that did not ask to close keeps the connection.
        if ServeLoop.closesAfterAnswer(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) {
            ServeLoop.response.withUnsafeBytes { send(fd, $0) }
            drop(fd)
            return true
        }
        ServeLoop.keepAliveResponse.withUnsafeBytes { send(fd, $0) }
        headerProgress[Int(fd)] = 0
        return false
    }

    /// Whether the connection ends with the answer: the request says `Connection: close`, or it is
    /// HTTP/1.0 without `Connection: keep-alive` (HTTP/1.0 closes by default, RFC 9112 9.3).
    static func closesAfterAnswer(_ request: UnsafeRawBufferPointer) -> Bool {
        if contains(connectionClose, request) { return true }
        // The request line: "METHOD target HTTP/1.0" before the first CR.
        var end = 0
        while end < request.count && request[end] != 0x0D && request[end] != 0x0A { end += 1 }
        let line = UnsafeRawBufferPointer(rebasing: request[0..<end])
        return line.count >= 8 && line.suffix(8).elementsEqual(http10) && !contains(keepAlive, request)
    }

    private static let http10: [UInt8] = Array("HTTP/1.0".utf8)
    private static let keepAlive: [UInt8] = Array("connection: keep-alive".utf8)

    /// Whether `needle` (lower case) appears in `request`, ignoring the case of ASCII letters.
    private static func contains(_ needle: [UInt8], _ request: UnsafeRawBufferPointer) -> Bool {
        guard request.count >= needle.count else { return false }
        for start in 0...(request.count - needle.count) {
            var k = 0
            while k < needle.count, (request[start + k] >= 0x41 && request[start + k] <= 0x5A ? request[start + k] | 0x20 : request[start + k]) == needle[k] { k += 1 }
            if k == needle.count { return true }
        }
        return false
    }
}
