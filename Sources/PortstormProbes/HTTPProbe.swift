import Foundation
import Glibc
import PortstormSystem

/// One plain HTTP/1.1 GET with blocking calls and a deadline, to read the status and the headers
/// (which the engine does not keep): how diagnose sees a proxy or CDN answering.
public enum HTTPProbe {
    public struct Answer: Sendable, Equatable {
        /// `ok` (an HTTP status line came back), `protocol_mismatch` (something else, or a close
        /// without a byte), `response_timeout`, or the connect's outcome name.
        public var outcome: String
        public var status: Int?
        /// Header lines as received (`Name: value`).
        public var headers: [String]
        /// The first bytes, escaped, when the answer was not HTTP.
        public var sample: String?
    }

    /// GET `path` from `address` with `Host: host` and `Connection: close`, each step within `timeoutMs`.
    public static func get(_ address: SocketAddress, host: String, path: String, source: SocketAddress?, timeoutMs: Int) -> Answer {
        let fd = Socket.tcp(domain: address.domain)
        guard fd >= 0 else { return Answer(outcome: "errno_\(-fd)", headers: []) }
        defer { Socket.close(fd) }
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let s = source, Socket.bind(fd, s) != 0 { return Answer(outcome: "eaddrnotavail", headers: []) }
        let c = Socket.connectBlocking(fd, address)   // SO_SNDTIMEO bounds a blocking connect (EINPROGRESS on expiry)
        if c != 0 { return Answer(outcome: c == -EINPROGRESS ? "connect_timeout" : "errno_\(-c)", headers: []) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: portstorm-diagnose\r\nAccept: */*\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { Socket.send(fd, $0) }
        if sent < 0 { return Answer(outcome: "errno_\(-sent)", headers: []) }
        var answer: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
        defer { buffer.deallocate() }
        while answer.count < 16384 && !containsHeaderEnd(answer) {
            let n = Socket.receive(fd, buffer, wait: true)
            if n == -Int(EAGAIN) {
                if answer.isEmpty { return Answer(outcome: "response_timeout", headers: []) }
                break
            }
            if n < 0 { return Answer(outcome: n == -Int(ECONNRESET) ? "econnreset" : "errno_\(-n)", headers: []) }
            if n == 0 { break }
            answer += buffer.prefix(n)
        }
        return judge(answer)
    }

    /// Parses a status line and headers; pure.
    public static func judge(_ bytes: [UInt8]) -> Answer {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let first = lines.first ?? ""
        let parts = first.split(separator: " ", maxSplits: 2)
        guard first.hasPrefix("HTTP/1."), parts.count >= 2, let code = Int(parts[1]), (100...999).contains(code) else {
            return Answer(outcome: "protocol_mismatch", headers: [], sample: bytes.isEmpty ? nil : escaped(bytes.prefix(64)))
        }
        var headers: [String] = []
        for line in lines.dropFirst() {
            if line.isEmpty { break }
            headers.append(line)
        }
        return Answer(outcome: "ok", status: code, headers: headers)
    }

    /// Header lines that show a proxy or a CDN answered: Via, X-Cache, CF-RAY, X-Served-By and the
    /// like, and a Server header naming a CDN or proxy.
    public static func proxyHeaders(_ headers: [String]) -> [String] {
        let names: Set<String> = ["via", "x-cache", "x-cache-hits", "cf-ray", "x-served-by", "x-amz-cf-id", "x-amz-cf-pop",
                                  "x-fastly-request-id", "x-varnish", "x-akamai-transformed", "x-azure-ref", "x-envoy-upstream-service-time"]
        let servers = ["cloudflare", "cloudfront", "akamai", "varnish", "fastly", "envoy", "squid", "google frontend", "awselb", "haproxy", "traefik"]
        return headers.filter { line in
            guard let colon = line.firstIndex(of: ":") else { return false }
            let name = line[..<colon].lowercased()
            if names.contains(name) { return true }
            let value = line[line.index(after: colon)...].lowercased()
            return name == "server" && servers.contains { value.contains($0) }
        }
    }

    static func containsHeaderEnd(_ b: [UInt8]) -> Bool {
        guard b.count >= 4 else { return false }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return true }
        return false
    }

    static func escaped<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = ""
        for b in bytes {
            switch b {
            case 13: s += "\\r"
            case 10: s += "\\n"
            case 32..<127: s.append(Character(Unicode.Scalar(b)))
            default: s += "\\x" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return s
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
