import Foundation
import PortstormTestSupport
import Testing

/// What a user whose machine blocks io_uring sees: one sentence and exit 69, never a crash.
@Suite struct IOUringUnavailableTests {
    @Test(.enabled(if: HostCapabilities.cCompiler, "no C compiler (cc) to build the seccomp wrapper"))
    func aSeccompBlockGetsOneSentenceNotACrash() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/no-io-uring.c")
        let wrapper = FileManager.default.temporaryDirectory.appendingPathComponent("no-io-uring-\(getpid())")
        defer { try? FileManager.default.removeItem(at: wrapper) }
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O1", "-o", wrapper.path, fixture.path]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0, "cc failed with \(cc.terminationStatus)")
        let p = Process()
        p.executableURL = wrapper
        p.arguments = [CLIProcess.binary.path, "run", "127.0.0.1:9", "-n", "1"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 69, "\(text)")
        #expect(text.hasPrefix("portstorm: error: io_uring is not available to this process"), "\(text)")
        #expect(text.contains("seccomp"))
        #expect(text.split(separator: "\n").count == 1)
    }
}
