import Foundation
import PortstormLab
import PortstormSystem
import Testing

/// A descriptor limit too low to start gets one sentence that blames the limit (not a crash in
/// libdispatch, not an io_uring message).
@Suite struct DescriptorLimitTests {
    static let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: prlimit != nil, "needs prlimit (util-linux)"), arguments: [4, 5, 8])
    func aLowDescriptorLimitGetsOneSentence(limit: Int) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.prlimit!)
        p.arguments = ["--nofile=\(limit):\(limit)", CLIProcess.binary.path, "run", "127.0.0.1:9", "-n", "10"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 69, "\(p.terminationReason) \(p.terminationStatus): \(text)")
        #expect(text.hasPrefix("portstorm: error: the open-file limit is too low: RLIMIT_NOFILE is \(limit)"), "\(text)")
        #expect(!text.contains("io_uring") && !text.contains("Signal"), "\(text)")
        #expect(text.split(separator: "\n").count == 1, "\(text)")
    }

    /// On the ring path sockets take no descriptor of the process: a limit of 256 gives tables of
    /// 256, so 600 held connections take 3 rings and none is capped away (before, -c was cut to
    /// the limit less 64, 192). The preflight says so before the run.
    @Test(.enabled(if: prlimit != nil && Ring.directSocketsUnsupported(bind: false) == nil,
                   "needs prlimit and sockets in the ring (IORING_OP_SOCKET into a fixed-file table, URING_CMD setsockopt: Linux 6.7+)"))
    func theRingPathHoldsMoreThanTheOpenFileLimit() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ps-ring-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = dir.appendingPathComponent("run.json")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.prlimit!)
        p.arguments = ["--nofile=256:256", CLIProcess.binary.path, "run", server.address.description, "-c", "600", "-n", "600",
                       "--hold", "2s", "--connect-timeout", "5s", "--progress", "none", "--no-observe", "-o", record.path]
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: record)) as? [String: Any])
        let engine = try #require(json["engine"] as? [String: Any])
        #expect(engine["path"] as? String == "ring-direct")
        #expect(engine["rings"] as? Int == 3)
        let process = try #require(json["process"] as? [String: Any])
        #expect(process["peakInFlight"] as? Int == 600)
        let outcomes = try #require((json["totals"] as? [String: Any])?["outcomes"] as? [String: Any])
        #expect(outcomes["ok"] as? Int == 600, "\(outcomes)")
        #expect(!((json["notes"] as? [String]) ?? []).contains { $0.contains("concurrency capped") })
        #expect(text.contains("portstorm: capacity: no limit stops 600 connections at once"), "\(text)")
        #expect(!text.contains("open-file hard limit caps"), "\(text)")
    }
}
