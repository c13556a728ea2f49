import Foundation
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
}
