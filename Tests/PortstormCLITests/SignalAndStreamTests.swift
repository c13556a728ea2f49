import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing

/// What happens to the record when the terminal goes away: a closed stdout (`| true`),
/// SIGHUP (the terminal closed), SIGTERM. The record is the user's data and is always written.
@Suite(.serialized) struct SignalAndStreamTests {
    static func tempFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-\(name)-\(getpid())-\(Int.random(in: 0..<1_000_000)).json")
    }

    /// Runs the binary with its stdout a pipe whose reader is already gone; returns it and its stderr.
    static func runWithStdoutClosed(_ args: [String]) throws -> (Process, String) {
        let p = Process()
        p.executableURL = CLIProcess.binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try out.fileHandleForReading.close()
        try p.run()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p, errors)
    }

    @Test func aClosedStdoutStillGetsTheRecordWritten() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = Self.tempFile("pipe")
        defer { try? FileManager.default.removeItem(at: file) }
        // `portstorm run ... -o FILE | true`: the reader is gone before the first write.
        let (p, errors) = try Self.runWithStdoutClosed(["run", server.address.description, "-n", "200", "-c", "10", "-o", file.path])
        #expect(p.terminationReason == .exit, "not killed by SIGPIPE")
        #expect(p.terminationStatus == 74, "\(p.terminationStatus) \(errors)")
        let record = try RunRecord.load(from: Data(contentsOf: file))
        #expect(record.totals.attempted == 200 && record.totals.isBalanced)
    }

    @Test func aClosedStdoutWithDashLosesTheRecordAndSaysSo() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let (p, errors) = try Self.runWithStdoutClosed(["run", server.address.description, "-n", "20", "--quiet", "-o", "-"])
        #expect(p.terminationReason == .exit && p.terminationStatus == 73, "\(p.terminationStatus) \(errors)")
        #expect(errors.contains("cannot write the record to standard output: it was closed"), "\(errors)")
    }

    @Test(arguments: [SIGHUP, SIGTERM])
    func aStopSignalEndsTheRunWithTheRecordWritten(signal: Int32) throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = Self.tempFile("sig\(signal)")
        defer { try? FileManager.default.removeItem(at: file) }
        let (p, out, _) = try CLIProcess.start(["run", server.address.description, "--rate", "300", "-d", "60s", "-o", file.path])
        usleep(1_500_000)
        kill(p.processIdentifier, signal)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 130, "\(p.terminationReason) \(p.terminationStatus)")
        #expect(text.contains("record: \(file.path)"))
        let record = try RunRecord.load(from: Data(contentsOf: file))
        #expect(record.stopReason == .interrupted && record.totals.isBalanced)
        #expect(record.elapsedSeconds < 10)
    }
}
