import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing

/// What a run shows while it goes on: plain lines for logs, the live line on a terminal (a pty
/// from script(1)), colours, and --stream.
@Suite(.serialized) struct ProgressAndStreamTests {
    func server() throws -> TargetServer {
        try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
    }

    @Test func withoutATerminalAPlainLineGoesToStderrEveryFiveSeconds() throws {
        let s = try server()
        defer { s.stop() }
        let r = try CLIProcess.run(["run", s.address.description, "--rate", "100", "-d", "5.6s", "--close", "server"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("attempts ") && $0.contains("/s") }
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(lines.first?.contains("% ") == true && lines.first?.contains("s left") == true, "a bounded run says how far: \(r.stderr)")
        #expect(!r.stderr.contains("\r") && !r.stderr.contains("\u{1B}["), "no terminal codes in a log: \(r.stderr)")
        let none = try CLIProcess.run(["run", s.address.description, "--rate", "100", "-d", "5.6s", "--close", "server", "--progress", "none"])
        #expect(none.status == 0 && none.stderr.isEmpty, "\(none.stderr)")
    }

    /// Runs portstorm on a pseudo-terminal of `columns` columns (script(1)); returns what it printed.
    func onTerminal(_ args: [String], columns: Int, environment: [String: String] = [:]) throws -> String {
        let command = "stty cols \(columns) rows 24; exec " + ([CLIProcess.binary.path] + args).joined(separator: " ")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NO_COLOR")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static let scriptMissing = !FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

    @Test(.enabled(if: !scriptMissing, "needs script(1) from util-linux for a pseudo-terminal"), arguments: [60, 132])
    func theLiveLineFitsTheTerminalAndIsColoured(columns: Int) throws {
        let s = try server()
        defer { s.stop() }
        let text = try onTerminal(["run", s.address.description, "--rate", "200", "-d", "2.5s", "--close", "server"], columns: columns)
        // Each live line is drawn after "\r ESC[2K"; the summary follows the last one.
        let drawn = text.components(separatedBy: "\r\u{1B}[2K").dropFirst().map { $0.components(separatedBy: "\r\n")[0] }
            .filter { $0.contains("attempts") }
        #expect(drawn.count >= 2, "\(text)")
        for line in drawn {
            let visible = line.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            #expect(visible.count < columns, "\(visible.count) columns on a \(columns)-column terminal: \(visible)")
            #expect(visible.contains("s left"), "\(visible)")
        }
        #expect(drawn.contains { $0.contains("\u{1B}[32mok ") }, "ok is green on a terminal: \(drawn)")
        guard columns == 60 else { return }
        let plain = try onTerminal(["run", s.address.description, "--rate", "200", "-d", "2.5s", "--close", "server"], columns: columns,
                                   environment: ["NO_COLOR": "1"])
        #expect(plain.contains("attempts") && !plain.contains("\u{1B}[32m"), "NO_COLOR: \(plain)")
        let flag = try onTerminal(["run", s.address.description, "--rate", "200", "-d", "2.5s", "--close", "server", "--no-color"],
                                  columns: columns)
        #expect(flag.contains("attempts") && !flag.contains("\u{1B}[32m"), "--no-color: \(flag)")
    }

    @Test func streamWritesOneJSONLinePerSecondAsTheRunGoes() throws {
        let s = try server()
        defer { s.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-stream-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let stream = dir.appendingPathComponent("live.jsonl").path, record = dir.appendingPathComponent("run.json").path
        let (p, out, err) = try CLIProcess.start(["run", s.address.description, "--rate", "300", "-d", "4s", "--close", "server",
                                                  "--stream", stream, "-o", record, "--quiet"])
        // Lines are there while the run goes on, not only at its end (polled: a loaded machine may
        // take a while to start the run).
        var early = "", running = true
        let t0 = Date()
        repeat {
            usleep(100_000)
            early = (try? String(contentsOfFile: stream, encoding: .utf8)) ?? ""
            running = p.isRunning
        } while early.split(separator: "\n").count < 2 && running && Date().timeIntervalSince(t0) < 3.9
        #expect(early.split(separator: "\n").count >= 2 && running, "running \(running) after \(Date().timeIntervalSince(t0)) s: \(early)")
        _ = out.fileHandleForReading.readDataToEndOfFile()
        _ = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let lines = try String(contentsOfFile: stream, encoding: .utf8).split(separator: "\n")
        // A line each second, and a last one once the run is over.
        #expect((4...5).contains(lines.count), "\(lines)")
        var attempts: UInt64 = 0, last: [String: Any] = [:]
        for (i, line) in lines.enumerated() {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(o["t"] as? Int == i, "\(line)")
            for key in ["attempts", "ok", "failures", "inFlight", "attempted", "outcomes", "elapsedSeconds", "connects"] { #expect(o[key] != nil, "\(key): \(line)") }
            #expect((o["final"] as? Bool == true) == (i == lines.count - 1), "only the last line is final: \(line)")
            if (o["connects"] as? Int ?? 0) > 0 && o["final"] == nil {
                let p99 = (o["connectLatencyAtMostUs"] as? [String: Int])?["p99"]
                #expect(p99 != nil && p99! >= 50, "a connect latency bound each second with connects: \(line)")
            }
            attempts += UInt64(o["attempts"] as? Int ?? 0)
            last = o
        }
        // The per-second counts add up to the running total, which the record never undercuts.
        #expect(attempts == UInt64(last["attempted"] as? Int ?? -1))
        let r = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: record)))
        #expect(attempts <= r.totals.attempted && attempts >= 600, "\(attempts) streamed, \(r.totals.attempted) in the record")
        // The last line's totals are the record's.
        #expect(last["attempted"] as? Int == Int(r.totals.attempted), "\(last)")
        let outcomes = (last["outcomes"] as? [String: Int]) ?? [:]
        #expect(outcomes == Dictionary(uniqueKeysWithValues: r.totals.outcomes.nonZero.map { ($0.outcome.name, Int($0.count)) }), "\(last)")
    }

    @Test func streamToStandardOutputCannotShareIt() throws {
        let r = try CLIProcess.run(["run", "127.0.0.1:9", "-n", "1", "--stream", "-", "--json"])
        #expect(r.status == 64 && r.stderr.contains("--stream - asks for standard output"), "\(r.stderr)")
        let dir = try CLIProcess.run(["run", "127.0.0.1:9", "-n", "1", "--stream", "/"])
        #expect(dir.status == 73 && dir.stderr.contains("cannot write the stream to /"), "\(dir.stderr)")
    }
}
