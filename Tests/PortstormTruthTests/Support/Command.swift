import Foundation
import Glibc

/// A command run to completion: its exit status and both streams.
struct CommandResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String

    var succeeded: Bool { status == 0 }
}

struct CommandError: Error, CustomStringConvertible {
    let description: String
}

/// Runs programs for the truth suite: bounded in time, output captured through files (no pipe can
/// fill up and stall a child), never through a shell unless the caller asks for one.
enum Command {
    /// Runs `args` (looked up in PATH) and waits at most `timeout` seconds; past it the child gets
    /// SIGKILL and the result says so in `stderr`.
    static func run(_ args: [String], timeout: Double = 60) throws -> CommandResult {
        let dir = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        let out = dir.appendingPathComponent("truth-\(id).out"), err = dir.appendingPathComponent("truth-\(id).err")
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let p = try start(args, stdout: out, stderr: err)
        let killed = wait(p, timeout: timeout)
        let o = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        var e = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        if killed { e += "\n[killed after \(timeout)s: \(args.joined(separator: " "))]" }
        return CommandResult(status: p.terminationStatus, stdout: o, stderr: e)
    }

    /// Runs and throws unless the command exits 0.
    @discardableResult
    static func must(_ args: [String], timeout: Double = 30) throws -> String {
        let r = try run(args, timeout: timeout)
        guard r.succeeded else {
            throw CommandError(description: "'\(args.joined(separator: " "))' exited \(r.status): \(r.stderr.prefix(400))")
        }
        return r.stdout
    }

    /// Starts a long-lived program with its output in files; the caller stops it.
    static func start(_ args: [String], stdout: URL, stderr: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = try FileHandle(forWritingTo: stdout), err = try FileHandle(forWritingTo: stderr)
        // The child has its own copies once started: close ours now, or every command leaves two
        // descriptors open in the test process (Foundation keeps them as long as the Process).
        defer {
            try? out.close()
            try? err.close()
        }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = out
        p.standardError = err
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        p.environment = env
        try p.run()
        return p
    }

    /// Waits for `p`; after `timeout` seconds kills it. Returns whether it had to be killed.
    @discardableResult
    static func wait(_ p: Process, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        guard p.isRunning else { return false }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return true
    }
}
