import Testing

/// `--close` must do what it says for every protocol, seen from both kernels: `client` leaves
/// TIME_WAIT in the client's namespace and sends no reset, `rst` leaves none there and sends one
/// RST per connection, `server` leaves TIME_WAIT on the server's side only.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct CloseModeTruthTests {
    static let modes = ["client", "rst", "server"]

    @Test(.timeLimit(.minutes(1)), arguments: modes)
    func tcpCloseModeDoesWhatItSays(close: String) throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        // The server closes first only when asked to: accept-close for --close server, else hold.
        try net.serve(close == "server" ? "accept-close" : "hold", listen: TruthNet.serverIP, port: 9000)
        try expectCloseMode(net, port: 9000, close: close, [])
    }

    /// nginx: for `client` the server that keeps connections open (port 8081), so the client can
    /// be first to close once it has read the whole answer; for `server` and `rst` the one that
    /// closes after answering (keepalive_timeout 0, port 8080).
    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.nginxPath != nil, "nginx is not installed (/usr/sbin/nginx)"),
          arguments: modes)
    func httpCloseModeDoesWhatItSays(close: String) throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.startNginx(TruthEnvironment.nginxPath!, port: 8080)
        try expectCloseMode(net, port: close == "client" ? 8081 : 8080, close: close, ["--protocol", "http", "--path", "/ok"])
    }

    func expectCloseMode(_ net: TruthNet, port: UInt16, close: String, _ extra: [String],
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try net.run("\(TruthNet.serverIP):\(port)", ["--close", close, "-n", "30", "-c", "5", "--response-timeout", "2s"] + extra)
        expectTruthful(run, sourceLocation: sourceLocation)
        #expect(run.nonZero == ["ok": 30], "\(run.nonZero)", sourceLocation: sourceLocation)
        #expect(run.server["PassiveOpens"] == 30, sourceLocation: sourceLocation)
        if close != "rst" {
            #expect(run.client["TCPAbortOnClose"] == 0, "closed with unread data: TCPAbortOnClose +\(run.client["TCPAbortOnClose"])",
                    sourceLocation: sourceLocation)
        }
        switch close {
        case "client":
            #expect(run.client["TIME_WAIT"] == 30, "TIME_WAIT in the client's namespace +\(run.client["TIME_WAIT"]) (want 30)",
                    sourceLocation: sourceLocation)
            #expect(run.client["OutRsts"] == 0, "the client sent resets: OutRsts +\(run.client["OutRsts"])", sourceLocation: sourceLocation)
        case "rst":
            #expect(run.client["TIME_WAIT"] == 0, "TIME_WAIT in the client's namespace +\(run.client["TIME_WAIT"]) (want 0)",
                    sourceLocation: sourceLocation)
            #expect(run.client["OutRsts"] == 30, "OutRsts +\(run.client["OutRsts"]) in the client's namespace (want one per connection)",
                    sourceLocation: sourceLocation)
        default:
            #expect(run.client["TIME_WAIT"] == 0,
                    "TIME_WAIT in the client's namespace +\(run.client["TIME_WAIT"]) (want 0: the server closed first)", sourceLocation: sourceLocation)
            #expect(run.server["TIME_WAIT"] == 30, "TIME_WAIT in the server's namespace +\(run.server["TIME_WAIT"]) (want 30)",
                    sourceLocation: sourceLocation)
            #expect(run.client["OutRsts"] == 0, "the client sent resets: OutRsts +\(run.client["OutRsts"])", sourceLocation: sourceLocation)
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
