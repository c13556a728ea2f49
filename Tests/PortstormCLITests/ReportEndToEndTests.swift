import Foundation
import Glibc
import PortstormAnalysis
import PortstormLab
import PortstormSystem
import PortstormTestSupport
import Testing

/// run -o, then report --format json, through the binary: what a user gets.
@Suite(.serialized) struct ReportEndToEndTests {
    func runThenAnalyze(_ args: [String]) throws -> (Analysis, String) {
        let dir = FileManager.default.temporaryDirectory
        let record = dir.appendingPathComponent("portstorm-e2e-\(getpid())-\(Int.random(in: 0..<1_000_000)).json")
        let html = record.deletingPathExtension().appendingPathExtension("html")
        defer {
            try? FileManager.default.removeItem(at: record)
            try? FileManager.default.removeItem(at: html)
        }
        let run = try CLIProcess.run(["run"] + args + ["--quiet", "-o", record.path, "--report", html.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: html.path))
        let report = try CLIProcess.run(["report", record.path, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let text = try CLIProcess.run(["report", record.path]).stdout
        return (try JSONDecoder().decode(Analysis.self, from: Data(report.stdout.utf8)), text)
    }

    @Test func aTenPortWindowIsAttributedToThePortBudget() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let w = try #require(ProcNetTCP.freeWindow(size: 10, avoiding: server.address.port))
        let (a, text) = try runThenAnalyze([server.address.description, "-c", "20", "-n", "20",
                                            "--local-ports", "\(w.lowerBound)-\(w.upperBound)"])
        let onset = try #require(a.onsets.first { $0.outcome == "eaddrnotavail" })
        #expect(onset.count == 10)
        #expect((onset.occupancyAtOnset ?? 0) >= 0.9, "\(String(describing: onset.occupancyAtOnset))")
        let f = try #require(a.findings.first)
        #expect(f.topic == "port-exhaustion" && f.severity == .problem)
        #expect(text.contains("the client ran out of ephemeral ports"))
    }

    @Test func aRefusedRunIsReportedAsUnrelatedToPorts() throws {
        let fd = Socket.tcp(domain: AF_INET)
        defer { Socket.close(fd) }
        #expect(Socket.bind(fd, SocketAddress(ip: "127.0.0.1", port: 0)!) == 0)
        let port = try #require(Socket.localAddress(fd)).port
        let (a, text) = try runThenAnalyze(["127.0.0.1:\(port)", "-c", "10", "-n", "200"])
        let f = try #require(a.findings.first { $0.topic == "refused" })
        #expect(f.evidence.contains { $0.hasPrefix("not related to the local port range") }, "\(f.evidence)")
        #expect(!a.findings.contains { $0.topic == "port-exhaustion" })
        #expect(text.contains("connections refused by 127.0.0.1:\(port)"))
    }

    @Test func aBrokenRecordGetsOneClearLine() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-bad-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: bad) }
        try Data("{\"schema\": \"portstorm.run/2\"}".utf8).write(to: bad)
        let r = try CLIProcess.run(["report", bad.path])
        #expect(r.status == 64)
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains("is not a portstorm run record (missing"), "\(r.stderr)")
        let missing = try CLIProcess.run(["report", "/no/such/run.json"])
        #expect(missing.status == 64 && missing.stderr.contains("cannot read the record /no/such/run.json: no such file"), "\(missing.stderr)")
    }
}
