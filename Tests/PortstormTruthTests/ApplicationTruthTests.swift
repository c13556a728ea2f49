import PortstormAnalysis
import Testing

/// Real servers that answer: what they said must decide the outcome, and the server's kernel
/// must have accepted exactly the connections the client counted as connected.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct ApplicationTruthTests {
    static let connectedOutcomes: Set<String> = ["ok", "http_status", "protocol_mismatch", "response_timeout", "econnreset"]

    /// Every attempt that connected is one the server's kernel accepted.
    func expectServerAccepted(_ run: TruthRun, sourceLocation: SourceLocation = #_sourceLocation) {
        let connected = run.outcomes.filter { Self.connectedOutcomes.contains($0.key) }.values.reduce(0, +)
        #expect(Int64(connected) == run.server["PassiveOpens"],
                "client counted \(connected) connected, the server's kernel PassiveOpens +\(run.server["PassiveOpens"])",
                sourceLocation: sourceLocation)
    }

    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.nginxPath != nil, "nginx is not installed (/usr/sbin/nginx)"))
    func nginxStatusCodesDecideTheOutcome() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.startNginx(TruthEnvironment.nginxPath!, port: 8080)
        let target = "\(TruthNet.serverIP):8080"

        let ok = try net.run(target, ["--protocol", "http", "--path", "/ok", "-n", "40", "-c", "10"])
        expectTruthful(ok)
        expectServerAccepted(ok)
        #expect(ok.nonZero == ["ok": 40])
        #expect(ok.httpStatuses == ["200": 40], "totals.httpStatuses: \(ok.httpStatuses)")

        for (path, code) in [("/missing", "404"), ("/down", "503")] {
            let run = try net.run(target, ["--protocol", "http", "--path", path, "-n", "40", "-c", "10"])
            expectTruthful(run)
            expectServerAccepted(run)
            #expect(run.nonZero == ["http_status": 40], "\(path): \(run.nonZero)")
            #expect(run.causes["http_status"] == "remote")
            #expect(run.httpStatuses == [code: 40], "\(path): totals.httpStatuses \(run.httpStatuses)")
            #expect(run.timelineHTTPStatuses == run.httpStatuses, "\(path): per second \(run.timelineHTTPStatuses)")
            let cause = try #require(mainCause(run.findings), "\(run.reportText)")
            #expect(TruthRun.text([cause]).contains(code), "the report's cause does not name \(code): \(run.reportText)")
            let d = try net.diagnose(target, ["--attempts", "1", "--timeout", "1s", "--protocol", "http", "--path", path])
            #expect(d.text.contains(code), "diagnose --path \(path) does not name \(code): \(d.command.stdout)")
            #expect(!d.topics.contains("connects") || d.problems.contains { TruthRun.text([$0]).contains(code) },
                    "diagnose calls \(path) healthy: \(d.command.stdout)")
        }

        // --expect-status changes the accepted set: 404 asked for is ok, and still recorded as 404.
        let accepted = try net.run(target, ["--protocol", "http", "--path", "/missing", "--expect-status", "404", "-n", "20", "-c", "5"])
        expectTruthful(accepted)
        expectServerAccepted(accepted)
        #expect(accepted.nonZero == ["ok": 20], "\(accepted.nonZero)")
        #expect(accepted.httpStatuses == ["404": 20], "totals.httpStatuses \(accepted.httpStatuses)")

        // A healthy HTTP server: no warning nobody asked for (a WebSocket one, say).
        let healthy = try net.diagnose(target, ["--attempts", "1", "--timeout", "1s", "--protocol", "http", "--path", "/ok"])
        #expect(healthy.problems.isEmpty, "warnings about a healthy HTTP server: \(healthy.command.stdout)")
    }

    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.websocketsPython != nil, "python3 with the websockets package is not installed"))
    func aRealWebSocketServer() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        let server = try net.startWebSocketServer(TruthEnvironment.websocketsPython!, port: 8765)
        let target = "\(TruthNet.serverIP):8765"

        let ws = try net.run(target, ["--protocol", "ws", "-n", "30", "-c", "5"])
        expectTruthful(ws)
        expectServerAccepted(ws)
        #expect(ws.nonZero == ["ok": 30])
        #expect(!ws.command.stdout.contains("tcp connect"), "the summary calls a WebSocket run 'tcp connect': \(ws.command.stdout.prefix(200))")
        // The server saw each connection end with a Close frame (a client that just closes the
        // socket makes a real server log a protocol error per connection).
        let closes = server.output.split(separator: "\n")
        #expect(closes.filter { $0 == "close-ok" }.count == 30 && !closes.contains { $0.hasPrefix("close-error") },
                "server side: \(closes.prefix(5).joined(separator: " | ")) (\(closes.count) lines)")

        // Plain HTTP to a WebSocket-only server: 426 Upgrade Required is a protocol mismatch.
        let http = try net.run(target, ["--protocol", "http", "-n", "20", "-c", "5"])
        expectTruthful(http)
        expectServerAccepted(http)
        #expect(http.nonZero == ["protocol_mismatch": 20], "\(http.nonZero)")
        #expect(http.mismatchSamples.contains { $0.contains("426") }, "mismatch samples: \(http.mismatchSamples)")
        #expect(http.httpStatuses == ["426": 20], "totals.httpStatuses \(http.httpStatuses)")
        let cause = try #require(mainCause(http.findings), "\(http.reportText)")
        #expect(cause.topic == "protocol", "\(http.reportText)")
        #expect(TruthRun.text([cause]).contains("websocket"), "the report does not say the server wants WebSocket: \(http.reportText)")
        let d = try net.diagnose(target, ["--attempts", "1", "--timeout", "1s"])
        #expect(d.text.contains("websocket"), "diagnose does not say the server speaks WebSocket: \(d.command.stdout)")
        #expect(!d.text.contains("invalid http response"), "diagnose calls a 426 answer invalid HTTP: \(d.command.stdout)")
    }

    /// `portstorm serve --mode echo`: a raw TCP service sends the request back, not an HTTP answer.
    @Test(.timeLimit(.minutes(1)))
    func aRawTCPServiceIsAProtocolMismatchForHTTP() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("echo", listen: TruthNet.serverIP, port: 7000)
        let target = "\(TruthNet.serverIP):7000"
        let run = try net.run(target, ["--protocol", "http", "-n", "20", "-c", "5", "--response-timeout", "2s"])
        expectTruthful(run)
        expectServerAccepted(run)
        #expect(run.nonZero == ["protocol_mismatch": 20], "\(run.nonZero)")
        #expect(mainCause(run.findings)?.topic == "protocol", "\(run.reportText)")
        let d = try net.diagnose(target, ["--attempts", "1", "--timeout", "1s"])
        #expect(d.topics.contains("protocol"), "\(d.command.stdout)")
        #expect(d.text.contains("does not speak http"), "\(d.command.stdout)")
    }

    /// A status line, then header lines that never end: not an answer, whatever its status.
    @Test(.timeLimit(.minutes(1)), .enabled(if: TruthEnvironment.python != nil, "python3 is not installed"))
    func headersThatNeverEndAreNotOK() throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.startEndlessHeaderServer(TruthEnvironment.python!, port: 8090)
        let run = try net.run("\(TruthNet.serverIP):8090", ["--protocol", "http", "-n", "10", "-c", "5", "--response-timeout", "3s"])
        expectTruthful(run)
        expectServerAccepted(run)
        #expect(run["ok"] == 0, "\(run["ok"]) answers without an end of headers counted ok")
        #expect(run["protocol_mismatch"] + run["response_timeout"] == 10, "\(run.nonZero)")
    }
}
