import Foundation

/// Runs the built `portstorm` binary, as a user would.
struct CLIProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary sits beside the test bundle in the build products folder.
    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("portstorm")
    }

    /// Starts the binary (or `executable`); the caller waits (or signals) it.
    static func start(_ args: [String], environment: [String: String] = [:], executable: URL? = nil) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = executable ?? binary
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    /// Runs to completion and captures both streams.
    static func run(_ args: [String], executable: URL? = nil) throws -> Result {
        let (p, out, err) = try start(args, executable: executable)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }
}
