import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing
@testable import portstorm

/// Bad input a hostile or hurried user gives: each gets one sentence with the real reason.
@Suite(.serialized) struct BadInputTests {
    static let negatives: [([String], String)] = [
        (["run", "127.0.0.1:9", "-c", "-5"], "--concurrency '-5' is not a positive number"),
        (["run", "127.0.0.1:9", "--rate", "-1"], "--rate '-1' is not a positive number"),
        (["run", "127.0.0.1:9", "--local-ports", "-5"], "--local-ports '-5' is not a range"),
        (["run", "127.0.0.1:9", "-n", "-3"], "--connections '-3' is not a positive number"),
        (["run", "127.0.0.1:9", "-d", "-1s"], "--duration '-1s' is not a positive duration"),
        (["run", "127.0.0.1:9", "--threads", "-2"], "--threads '-2' is not a positive number"),
        (["run", "127.0.0.1:9", "--hold", "-1s"], "--hold '-1s' is not a positive duration"),
        (["plan", "127.0.0.1:9", "--to", "-100"], "--to '-100' is not a positive number"),
        (["serve", "-d", "-1s"], "--duration '-1s' is not a positive duration"),
        (["diagnose", "127.0.0.1:9", "--attempts", "-1"], "--attempts must be between 1 and 10, got -1"),
        (["doctor", "--rate", "-5"], "--rate '-5' is not a positive number"),
    ]

    @Test(arguments: negatives)
    func aNegativeNumberGetsTheRealMessage(args: [String], fragment: String) throws {
        let r = try CLIProcess.run(args)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(!r.stderr.contains("Missing value"))
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test func serveOnLocalhostPortZeroPicksAPort() throws {
        let r = try CLIProcess.run(["serve", "--listen", "localhost:0", "-d", "200ms"])
        #expect(r.status == 0, "\(r.stderr)")
        let port = r.stdout.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.flatMap { Int($0.split(separator: ":")[1]) }
        #expect((port ?? 0) > 0, "\(r.stdout)")
    }

    static func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-in-\(getpid())-\(Int.random(in: 0..<1_000_000)).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test(arguments: [
        ("portstorm.run/9", "it is a portstorm.run/9 record (a newer version"),
        ("portstorm.run/1", "it is a portstorm.run/1 record (an older version"),
        ("portstorm.dig/1", "its schema is 'portstorm.dig/1', not a run record"),
    ])
    func aRecordOfAnotherSchemaIsRefused(schema: String, fragment: String) throws {
        // A valid current record with only its schema changed: decoding would otherwise succeed.
        let current = try RecordFixture.currentRecordJSON()
        let file = try Self.write(current.replacingOccurrences(of: "\"portstorm.run/2\"", with: "\"\(schema)\""))
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLIProcess.run(["report", file.path])
        #expect(r.status == 64, "\(r.stdout)")
        #expect(r.stderr.contains("cannot report \(file.path): \(fragment)"), "\(r.stderr)")
        #expect(r.stderr.contains("reads portstorm.run/2"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: [
        ("/dev/null", "cannot read the record /dev/null: it is empty"),
        ("/tmp", "cannot read the record /tmp: it is a folder"),
        ("/no/such/run.json", "cannot read the record /no/such/run.json: no such file or folder"),
        ("/proc/self/mem", "cannot read the record /proc/self/mem: an input/output error on the device"),
        ("", "cannot read the record '': the file name is empty"),
    ])
    func anUnreadableRecordIsNamedWithTheReason(path: String, expected: String) throws {
        let r = try CLIProcess.run(["report", path])
        #expect(r.status == 64)
        #expect(r.stderr == "portstorm: error: \(expected)\n", "\(r.stderr)")
    }

    @Test func aTruncatedRecordSaysItIsNotValidJSON() throws {
        let current = try RecordFixture.currentRecordJSON()
        let file = try Self.write(String(current.prefix(current.count / 2)))
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLIProcess.run(["report", file.path])
        #expect(r.status == 64 && r.stderr.contains("is not a portstorm run record (not valid JSON)"), "\(r.stderr)")
    }

    @Test func everyExitStatusIsListedInTheHelpAndTheReadme() throws {
        let help = try CLIProcess.run(["--help"]).stdout
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../README.md").standardized, encoding: .utf8)
        for (code, _) in ExitStatus.table {
            #expect(help.contains("\n  \(code) "), "help lists \(code)")
            #expect(readme.contains("| \(code) |"), "README lists \(code)")
        }
    }
}

/// A current record, written by the real binary once per test process.
enum RecordFixture {
    nonisolated(unsafe) static var cached: String?

    static func currentRecordJSON() throws -> String {
        if let cached { return cached }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-fixture-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let r = try CLIProcess.run(["run", server.address.description, "-n", "5", "--quiet", "--no-observe", "-o", file.path])
        guard r.status == 0 else { throw RecordFixtureError(message: r.stderr) }
        let text = try String(contentsOf: file, encoding: .utf8)
        cached = text
        return text
    }
}

struct RecordFixtureError: Error { let message: String }
