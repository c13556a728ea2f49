import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

@Suite(.serialized) struct CLITests {
    @Test(arguments: [
        (["run", "nonsense"], "has no port"),
        (["run", "127.0.0.1:0"], "out of range"),
        (["run", "127.0.0.1:70000"], "out of range"),
        (["run", "no-such-host.invalid:80"], "cannot resolve 'no-such-host.invalid'"),
        (["run", "127.0.0.1:9", "--concurrency=-5"], "--concurrency '-5' is not a positive number"),
        (["run", "127.0.0.1:9", "--rate", "0"], "--rate '0' is not a positive number"),
        (["run", "127.0.0.1:9", "-c", "100m"], "must be a whole number no larger than 4000000"),
        (["run", "127.0.0.1:9", "-n", "1.5"], "must be a whole number"),
        (["run", "127.0.0.1:9", "-d", "1x"], "is not a positive duration"),
        (["run", "127.0.0.1:9", "--local-ports", "50000-40000"], "is reversed"),
        (["run", "127.0.0.1:9", "--local-ports", "0-10"], "outside 1-65535"),
        (["run", "127.0.0.1:9", "--local-ports", "70000"], "is not a range"),
        (["run", "127.0.0.1:9", "--source", "127.0.0.9-127.0.0.1"], "is reversed"),
        (["run", "127.0.0.1:9", "-o", "/no/such/folder/run.json"], "folder /no/such/folder does not exist"),
        (["serve", "--listen", "example.com:80"], "must be a numeric address"),
    ])
    func badInputGetsOneClearLineAndANonZeroExit(args: [String], fragment: String) throws {
        let r = try CLIProcess.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.hasPrefix("portstorm: error: "), "\(r.stderr)")
        #expect(r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && r.stdout.isEmpty)
    }

    @Test func anUnknownEnumValueIsRefused() throws {
        let r = try CLIProcess.run(["run", "127.0.0.1:9", "--close", "sometimes"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("'sometimes'") && r.stderr.contains("client"))
    }

    @Test func ctrlCWritesTheSummaryAndARecordWithNothingLost() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-int-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let (p, out, _) = try CLIProcess.start(["run", server.address.description, "--rate", "300", "-d", "60s",
                                                "--close", "server", "-o", file.path])
        usleep(1_500_000)
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        #expect(text.contains("interrupted (Ctrl-C)"))
        let record = try RunRecord.load(from: Data(contentsOf: file))
        #expect(record.stopReason == .interrupted)
        #expect(record.totals.isBalanced)
        #expect(record.totals.attempted >= 300 && record.totals.attempted < 1000, "\(record.totals.attempted)")
        #expect(record.totals.outcomes[.ok] == record.totals.attempted - record.totals.inFlightAtEnd)
        #expect(record.elapsedSeconds < 10)
    }

    @Test func recordHasTheDocumentedTopLevelFields() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-rec-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLIProcess.run(["run", server.address.description, "-n", "500", "-c", "20", "--close", "server",
                                    "--quiet", "-o", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "--quiet prints nothing on stderr: \(r.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        for key in ["schema", "config", "target", "totals", "latency", "timeline", "system"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["attempted"] as? Int == 500)
        #expect((totals["outcomes"] as? [String: Int])?["ok"] == 500)
        let timeline = try #require(object["timeline"] as? [[String: Any]])
        #expect(timeline.first?["t"] as? Int == 0)
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.contains { $0.starts(with: ["ok", "500", "100.00%"]) }, "\(r.stdout)")
    }

    @Test func helpTextIsPinned() throws {
        for (args, golden) in [(["--help"], "help-main.txt"), (["run", "--help"], "help-run.txt"), (["serve", "--help"], "help-serve.txt")] {
            let r = try CLIProcess.run(args)
            #expect(r.status == 0)
            try assertGolden(r.stdout, golden)
        }
    }

    @Test func versionIsPrinted() throws {
        for flag in ["--version", "-V"] {
            let r = try CLIProcess.run([flag])
            #expect(r.status == 0 && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == PortstormVersion.current, "\(flag)")
        }
    }
}

