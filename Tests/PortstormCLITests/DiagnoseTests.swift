import Foundation
import Glibc
import PortstormLab
import PortstormSystem
import Testing

/// diagnose against the lab set-ups, on loopback.
@Suite(.serialized) struct DiagnoseTests {
    /// The finding topics, checking the exit status: 0 only when nothing is wrong.
    func topics(_ target: String, _ extra: [String] = [], status: Int32 = 1) throws -> [String] {
        let r = try CLIProcess.run(["diagnose", target, "--json", "--timeout", "500ms"] + extra)
        #expect(r.status == status, "\(r.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return (object["findings"] as? [[String: Any]] ?? []).compactMap { $0["topic"] as? String }
    }

    func serve(_ mode: ServerMode) throws -> TargetServer {
        try TargetServer.start(mode: mode, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
    }

    @Test func loopbackOnlyServer() throws {
        let s = try serve(.acceptClose)
        defer { s.stop() }
        #expect(try topics("127.0.0.2:\(s.address.port)").first == "bound-elsewhere")
    }

    @Test func nothingListening() throws {
        let fd = Socket.tcp(domain: AF_INET)
        defer { Socket.close(fd) }
        _ = Socket.bind(fd, SocketAddress(ip: "127.0.0.1", port: 0)!)
        let port = try #require(Socket.localAddress(fd)).port
        #expect(try topics("127.0.0.1:\(port)").first == "refused")
    }

    @Test func webSocketToPlainHTTPAndHTTPToRawTCP() throws {
        let http = try serve(.http), echo = try serve(.echo)
        defer { http.stop(); echo.stop() }
        let h = try topics(http.address.description, ["--protocol", "ws"])
        #expect(h.first == "protocol" && h.contains("speaks-http"))
        #expect(try topics(echo.address.description, ["--protocol", "http"]).first == "protocol")
        // Not asked: a healthy HTTP server gets no WebSocket warning, a raw TCP service no HTTP warning.
        #expect(try topics(http.address.description, status: 0) == ["speaks-http", "connects"])
        #expect(try topics(echo.address.description, status: 0).contains("connects"))
    }

    @Test func aFullAcceptQueue() throws {
        let s = try serve(.blackhole)
        defer { s.stop() }
        #expect(try topics(s.address.description).first == "accept-queue")
    }

    @Test func anUnresolvableName() throws {
        #expect(try topics("no-such-host.invalid:80") == ["resolve"])
    }
}
