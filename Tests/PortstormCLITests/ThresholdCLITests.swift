import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing

/// `--threshold` and `--json` through the real binary, against the built-in servers.
@Suite(.serialized) struct ThresholdCLITests {
    func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-thr-\(getpid())-\(name).json").path
    }

    /// A loopback port nothing listens on: a server's, once it has stopped.
    func closedPort() throws -> String {
        let s = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let address = s.address.description
        s.stop()
        return address
    }

    @Test func passingThresholdsExitZeroAndArePrintedWithTheirValues() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = temp("pass")
        defer { unlink(file) }
        let r = try CLIProcess.run(["run", server.address.description, "-n", "200", "-c", "10", "--close", "server",
                                    "--threshold", "failures<1%", "--threshold", "eaddrnotavail == 0", "--threshold", "attempts>=200",
                                    "-o", file])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("thresholds: all 3 passed"), "\(r.stdout)")
        // One aligned line each: verdict, expression as typed, measured value.
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  pass  ") }.map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines == ["pass failures<1% measured 0%", "pass eaddrnotavail == 0 measured 0", "pass attempts>=200 measured 200"], "\(r.stdout)")
        let record = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(record.thresholds?.count == 3 && record.thresholds?.allSatisfy(\.passed) == true)
    }

    @Test func aRefusedTargetFailsFailuresAndExits99() throws {
        let target = try closedPort()
        let file = temp("refused")
        defer { unlink(file) }
        let r = try CLIProcess.run(["run", target, "-n", "50", "-c", "5", "--threshold", "failures<1%", "--threshold", "ok>=0", "-o", file])
        #expect(r.status == 99, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("thresholds: 1 of 2 failed"), "\(r.stdout)")
        #expect(r.stdout.contains("FAIL  failures<1%  measured 100%"), "\(r.stdout)")
        let record = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: file)))
        let failed = try #require(record.thresholds?.first)
        #expect(!failed.passed && failed.measured == 100 && failed.unit == "percent")
        #expect(record.totals.outcomes[.econnrefused] == 50)
        // Without a threshold, the same run is data, not an error.
        #expect(try CLIProcess.run(["run", target, "-n", "5", "--quiet"]).status == 0)
    }

    @Test func portExhaustionFailsEaddrnotavailWithTheCount() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        // A 10-port window away from the server's port: 20 held connections need 20 ports.
        let low = server.address.port < 50000 ? 50_000 : 40_000
        let r = try CLIProcess.run(["run", server.address.description, "--local-ports", "\(low)-\(low + 9)", "-c", "20", "-n", "20",
                                    "--threshold", "eaddrnotavail==0", "--quiet"])
        #expect(r.status == 99, "\(r.stdout)\n\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("eaddrnotavail==0") }, "\(r.stdout)")
        // At least 10 of 20 cannot get a port (more when another program holds ports of the window).
        let measured = Int(line.split(separator: " ").last ?? "") ?? -1
        #expect(line.hasPrefix("  FAIL") && measured >= 10 && measured <= 20, "\(line)")
    }

    @Test func jsonPutsTheSummaryOnStdoutAndTheTextOnStderr() throws {
        let server = try TargetServer.start(mode: .http, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let r = try CLIProcess.run(["run", "http://\(server.address)/", "-n", "60", "-c", "6", "--json",
                                    "--threshold", "http_status_5xx<0.1%", "--threshold", "connect_p99<1ms"])
        #expect(r.status == 0 || r.status == 99, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        #expect(object["schema"] as? String == "portstorm.summary/1")
        #expect(object["attempted"] as? Int == 60 && object["protocol"] as? String == "http")
        let ok = try #require((object["outcomes"] as? [String: Any])?["ok"] as? [String: Any])
        #expect(ok["count"] as? Int == 60 && ok["percent"] as? Double == 100 && ok["cause"] as? String == "none")
        #expect((object["httpStatuses"] as? [String: Int])?["200"] == 60)
        let latency = try #require(object["connectLatency"] as? [String: Any])
        #expect((latency["p99Ms"] as? Double ?? -1) >= 0)
        let thresholds = try #require(object["thresholds"] as? [[String: Any]])
        #expect(thresholds.count == 2 && thresholds[0]["passed"] as? Bool == true && thresholds[0]["measured"] as? Double == 0)
        // The exit status follows the latency threshold, whatever this machine measured.
        let latencyPassed = try #require(thresholds[1]["passed"] as? Bool)
        #expect(r.status == (latencyPassed ? 0 : 99))
        #expect(object["findings"] is [Any])
        #expect(r.stderr.contains("attempted 60, ok 60"), "\(r.stderr)")
        #expect(r.stderr.contains("thresholds: "), "\(r.stderr)")
    }

    @Test(arguments: [
        (["--threshold", "speed<5"], "--threshold 'speed<5': unknown measure 'speed'"),
        (["--threshold", "failures<1ms"], "is a count (or a share with %)"),
        (["--json", "-o", "-"], "--json prints the summary on standard output, and -o - asks for it too"),
    ])
    func badThresholdsAndClashesAreRefusedBeforeTheRun(extra: [String], fragment: String) throws {
        let r = try CLIProcess.run(["run", "127.0.0.1:9", "-n", "1"] + extra)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stdout.isEmpty, "\(r.stdout)\(r.stderr)")
    }

    @Test func aRampScenarioRefusesThresholds() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-thr-\(getpid()).yaml").path
        try "name: r\nserve:\n  mode: accept-close\nramp:\n  to: 200\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let r = try CLIProcess.run(["run", "--scenario", path, "--threshold", "failures<1%"])
        #expect(r.status == 64 && r.stderr.contains("does not take --threshold"), "\(r.stderr)")
    }
}
