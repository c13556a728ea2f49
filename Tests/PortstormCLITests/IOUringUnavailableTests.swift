import Foundation
import Testing

/// What a user whose machine blocks io_uring sees: one sentence and exit 69, never a crash.
@Suite struct IOUringUnavailableTests {
    /// Builds the seccomp wrapper (Fixtures/no-io-uring.c); nil when no C compiler works.
    static let wrapper: URL? = {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/no-io-uring.c")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("no-io-uring-\(getpid())")
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O1", "-o", out.path, fixture.path]
        cc.standardError = FileHandle.nullDevice
        guard (try? cc.run()) != nil else { return nil }
        cc.waitUntilExit()
        return cc.terminationStatus == 0 ? out : nil
    }()

    static func underSeccomp(_ args: [String]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = wrapper!
        p.arguments = [CLIProcess.binary.path] + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    @Test(.enabled(if: wrapper != nil, "no C compiler to build the seccomp wrapper"),
          arguments: [["run", "127.0.0.1:9", "-n", "1"], ["lab", "refused"], ["diagnose", "127.0.0.1:9"]])
    func aSeccompBlockGetsOneSentenceNotACrash(args: [String]) throws {
        let (status, text) = try Self.underSeccomp(args)
        #expect(status == 69, "\(text)")
        #expect(text.hasPrefix("portstorm: error: io_uring is not available to this process"), "\(text)")
        #expect(text.contains("seccomp"))
        #expect(text.split(separator: "\n").count == 1)
    }
}
