import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing
@testable import portstorm

/// URL targets, compound durations and the options run, plan and doctor share.
@Suite(.serialized) struct TargetAndDurationTests {
    @Test(arguments: [
        ("1m30s", 90.0), ("1h5m", 3900), ("2s500ms", 2.5), ("1.5s", 1.5), ("90", 90), ("500ms", 0.5),
        ("250us", 0.000_25), ("1H", 3600), ("0s1ms", 0.001),
    ])
    func compoundDurationsAreSummed(text: String, seconds: Double) throws {
        #expect(abs(try InputParsing.duration(text, option: "-d") - seconds) < 1e-9)
    }

    @Test(arguments: ["1m30", "1x", "m", "", "1s1s", "-1m30s", "1m-30s", "0s", "1..5s", "1e3s", "inf", "nan", "1 m"])
    func badDurationsAreRefused(text: String) {
        #expect(throws: InputError.self) { try InputParsing.duration(text, option: "-d") }
    }

    @Test(arguments: [
        (["run", "https://127.0.0.1:9/", "--protocol", "http"], "says https but --protocol says http"),
        (["run", "127.0.0.1:9", "--insecure"], "go with --protocol https, wss or tls"),
        (["run", "wss://127.0.0.1:9/", "--tls-min", "1.1"], "--tls-min takes 1.2 or 1.3, not '1.1'"),
        (["run", "https://127.0.0.1:9/", "--cacert", "/nonexistent/ca.pem"], "--cacert /nonexistent/ca.pem: cannot read it (No such file or directory)"),
        (["run", "gopher://127.0.0.1:9/"], "it speaks tcp://, http://, ws://"),
        (["run", "http://127.0.0.1:9/a", "--protocol", "ws"], "says http but --protocol says ws"),
        (["run", "http://127.0.0.1:9/a", "--path", "/b"], "has the path /a but --path says /b"),
        (["plan", "127.0.0.1:9", "--to", "100", "--report", "plan.html"], "plan writes its report as Markdown (.md) or text"),
        (["diagnose", "https://127.0.0.1:9", "--protocol", "http"], "says https but --protocol says http"),
        (["diagnose", "ftp://127.0.0.1:9"], "portstorm does not speak 'ftp://'"),
        (["run", "127.0.0.1:9", "-d", "1m30"], "--duration '1m30' is not a positive duration: write 500ms, 10s, 2m, 1m30s or 1h"),
        (["run", "127.0.0.1:9", "--connect-timeout", "1s1s"], "--connect-timeout '1s1s' is not a positive duration"),
    ])
    func badTargetsGetOneSentence(args: [String], fragment: String) throws {
        let r = try CLIProcess.run(args)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    func tempFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-url-\(getpid())-\(name).json").path
    }

    func config(_ args: [String]) throws -> (RunRecord, CLIProcess.Result) {
        let file = tempFile(String(Int.random(in: 0..<1_000_000)))
        defer { unlink(file) }
        let r = try CLIProcess.run(args + ["--quiet", "-o", file])
        #expect(r.status == 0, "\(r.stderr)")
        return (try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: file))), r)
    }

    @Test func anHTTPURLSetsProtocolPathAndClose() throws {
        let server = try TargetServer.start(mode: .http, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let (record, _) = try config(["run", "http://\(server.address)/health?x=1", "-n", "40", "-c", "4"])
        #expect(record.config.wireProtocol == .http)
        #expect(record.config.path == "/health?x=1")
        #expect(record.config.close == .server)
        #expect(record.config.target == server.address.description)
        #expect(record.totals.outcomes[.ok] == 40, "\(record.totals.outcomes)")
        #expect(record.totals.httpStatuses["200"] == 40, "\(record.totals.httpStatuses)")
    }

    @Test func aWebSocketURLHandshakesAndATCPURLOnlyConnects() throws {
        let ws = try TargetServer.start(mode: .ws, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { ws.stop() }
        let (wsRecord, _) = try config(["run", "ws://\(ws.address)/chat", "-n", "20", "-c", "2"])
        #expect(wsRecord.config.wireProtocol == .ws && wsRecord.config.path == "/chat")
        #expect(wsRecord.totals.outcomes[.ok] == 20, "\(wsRecord.totals.outcomes)")
        // The same ws server spoken to in plain TCP: connects, nothing checked.
        let (tcpRecord, _) = try config(["run", "tcp://\(ws.address)", "-n", "20", "-c", "2", "--close", "rst"])
        #expect(tcpRecord.config.wireProtocol == .tcp && tcpRecord.config.path == "/")
        #expect(tcpRecord.totals.outcomes[.ok] == 20)
    }

    @Test func runPlanAndDoctorShareTheConcurrencyDefault() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let (closed, _) = try config(["run", server.address.description, "-n", "10", "--close", "server"])
        #expect(closed.config.concurrency == 100)
        let (openLoop, _) = try config(["run", server.address.description, "-n", "10", "--rate", "200", "--close", "server"])
        #expect(openLoop.config.concurrency == 1000)
        for command in ["run", "plan", "doctor"] {
            let help = try CLIProcess.run([command, "--help"]).stdout
            #expect(help.contains("(default: 100; 1000 with --rate and in plan"), "\(command): \(help)")
        }
        // doctor's verdicts use the same rule: 1,000 in flight with a rate, 100 without.
        let open = try CLIProcess.run(["doctor", "--rate", "100"]).stdout
        #expect(open.contains("1,000 attempts in flight need about"), "\(open)")
        let closedDoctor = try CLIProcess.run(["doctor"]).stdout
        #expect(closedDoctor.contains("; 100 attempts in flight need about"), "\(closedDoctor)")
    }

    @Test func aScenarioPrintsTheSettingsInForceWithDefaults() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-url-\(getpid()).yaml").path
        try "name: s\nserve:\n  mode: http\nrun:\n  connections: 30\n  duration: 1m30s\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let r = try CLIProcess.run(["run", "--scenario", path, "--protocol", "http", "-c", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("settings: run ") }, "\(r.stdout)")
        for part in ["-c 3", "-d 90s", "-n 30", "--connect-timeout 2s", "--response-timeout 5s", "--close server", "--protocol http",
                     "--path /", "(from the command line: -c, --protocol)"] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
    }
}
