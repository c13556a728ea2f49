import Glibc
import PortstormRecord
import PortstormRender
import PortstormSystem
import Synchronization

/// `run --metrics-listen ADDR:PORT`: a Prometheus text endpoint for the length of the run. One
/// thread accepts and answers each request with the last live status (updated once a second),
/// whatever the path; it never blocks the run, and stops with it.
final class MetricsEndpoint: Sendable {
    let address: SocketAddress
    private let listener: Int32
    private let latest: Mutex<LiveStatus>
    private let target: String
    private let stopping = Atomic<Bool>(false)
    private let thread: Mutex<OSThread?> = Mutex(nil)

    /// Binds before the run, so a taken port stops it before the first attempt.
    init(_ text: String, target: String) throws(CLIError) {
        let wanted: SocketAddress
        do { wanted = try InputParsing.listenAddress(text, option: "--metrics-listen") } catch { throw .usage(error.message) }
        do { listener = try Socket.listener(wanted, backlog: 16, nonBlocking: true) } catch {
            throw .unavailable("--metrics-listen \(text): cannot listen there: \(error)")
        }
        address = Socket.localAddress(listener) ?? wanted
        latest = Mutex(LiveStatus())
        self.target = target
    }

    func start() {
        thread.withLock { $0 = OSThread { [self] in serve() } }
    }

    func update(_ s: LiveStatus) { latest.withLock { $0 = s } }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        thread.withLock { $0?.join(); $0 = nil }
        close(listener)
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .relaxed) {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let fd = Socket.accept(listener)
            guard fd >= 0 else { continue }
            // A slow or silent client gets 2 s to send its request line.
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var got = 0
            while got < buffer.count {
                let n = buffer.withUnsafeMutableBytes { Socket.receive(fd, UnsafeMutableRawBufferPointer(rebasing: $0[got...]), wait: true) }
                if n <= 0 { break }
                got += n
                if buffer[..<got].windowsContain([13, 10, 13, 10]) { break }
            }
            let head = String(decoding: buffer[..<got], as: UTF8.self)
            let response: String
            if head.hasPrefix("GET ") || head.hasPrefix("HEAD ") {
                let body = PrometheusText.render(latest.withLock { $0 }, target: target)
                response = "HTTP/1.1 200 OK\r\nContent-Type: \(PrometheusText.contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
                    + "Connection: close\r\n\r\n" + (head.hasPrefix("HEAD ") ? "" : body)
            } else {
                response = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            }
            let bytes = Array(response.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { Socket.send(fd, UnsafeRawBufferPointer(rebasing: $0[off...])) }
                if n <= 0 { break }
                off += n
            }
            close(fd)
        }
    }
}

extension ArraySlice where Element == UInt8 {
    func windowsContain(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        var i = startIndex
        while i + needle.count <= endIndex {
            if Array(self[i..<i + needle.count]) == needle { return true }
            i += 1
        }
        return false
    }
}
