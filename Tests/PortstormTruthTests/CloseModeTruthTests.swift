import PortstormAnalysis
import Testing

/// `--close` must do what it says for every protocol, seen from both kernels: `client` leaves
/// TIME_WAIT in the client's namespace and sends no reset, `rst` leaves none there and sends one
/// RST per connection, `server` leaves TIME_WAIT on the server's side only.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct CloseModeTruthTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let proto: String
        let close: String
        var testDescription: String { "--protocol \(proto) --close \(close)" }
    }

    static let cases = ["client", "rst", "server"].flatMap { c in ["tcp", "http"].map { Case(proto: $0, close: c) } }

    @Test(.timeLimit(.minutes(1)), arguments: cases)
    func closeModeDoesWhatItSays(_ c: Case) throws {
        if c.proto == "http" { try #require(TruthEnvironment.nginxPath != nil, "nginx is not installed (/usr/sbin/nginx)") }
        let net = try TruthNet.pair()
        defer { net.close() }
        var args = ["--close", c.close, "-n", "30", "-c", "5", "--response-timeout", "2s"]
        let port: UInt16
        if c.proto == "http" {
            port = 8080
            try net.startNginx(TruthEnvironment.nginxPath!, port: port)  // answers, then closes (keepalive_timeout 0)
            args += ["--protocol", "http", "--path", "/ok"]
        } else {
            port = 9000
            // The server closes first only when asked to: accept-close for --close server, else hold.
            try net.serve(c.close == "server" ? "accept-close" : "hold", listen: TruthNet.serverIP, port: port)
        }
        let run = try net.run("\(TruthNet.serverIP):\(port)", args)
        expectTruthful(run)
        #expect(run.nonZero == ["ok": 30], "\(run.nonZero)")
        #expect(run.server["PassiveOpens"] == 30)
        #expect(run.client["TCPAbortOnClose"] == 0 || c.close == "rst",
                "closed with unread data: TCPAbortOnClose +\(run.client["TCPAbortOnClose"])")
        switch c.close {
        case "client":
            #expect(run.client["TIME_WAIT"] == 30, "TIME_WAIT in the client's namespace +\(run.client["TIME_WAIT"]) (want 30)")
            #expect(run.client["OutRsts"] == 0, "the client sent resets: OutRsts +\(run.client["OutRsts"])")
        case "rst":
            #expect(run.client["TIME_WAIT"] == 0, "TIME_WAIT in the client's namespace +\(run.client["TIME_WAIT"]) (want 0)")
            #expect(run.client["OutRsts"] == 30, "OutRsts +\(run.client["OutRsts"]) in the client's namespace (want one per connection)")
        default:
            #expect(run.client["TIME_WAIT"] == 0, "TIME_WAIT in the client's namespace +\(run.client["TIME_WAIT"]) (want 0: the server closed first)")
            #expect(run.server["TIME_WAIT"] == 30, "TIME_WAIT in the server's namespace +\(run.server["TIME_WAIT"]) (want 30)")
            #expect(run.client["OutRsts"] == 0, "the client sent resets: OutRsts +\(run.client["OutRsts"])")
        }
    }

    /// `--hold` with `--close server` still waits for the server's FIN after the hold: a server that
    /// never closes ends each attempt as response_timeout, not ok.
    @Test(.timeLimit(.minutes(1)))
    func holdKeepsCloseServer() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run("\(TruthNet.serverIP):9000", ["--hold", "300ms", "--close", "server", "--response-timeout", "700ms", "-n", "5", "-c", "5"])
        expectTruthful(run)
        #expect(run.nonZero == ["response_timeout": 5], "\(run.nonZero)")
        #expect(run.server["PassiveOpens"] == 5)
    }

    /// `--expect` without `--send` against a server that never writes: the run's duration ends
    /// while every attempt waits for its answer; each must still end (response_timeout, 5 s
    /// after its connect), none left "in flight at end" (today: 5 in flight, none finished).
    @Test(.timeLimit(.minutes(1)))
    func expectWithoutSendEndsEveryAttempt() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run("\(TruthNet.serverIP):9000", ["-d", "1s", "-c", "5", "--expect", "banner", "--response-timeout", "5s"])
        expectTruthful(run)
        #expect(run.attempted == 5, "attempted \(run.attempted)")
        #expect(run.nonZero == ["response_timeout": 5], "\(run.nonZero), in flight at end \(run.inFlightAtEnd)")
        #expect(run.server["PassiveOpens"] == 5)
    }
}
