import Foundation
import Glibc

/// A network namespace this process creates (iproute2's `ip netns`), and removes: its sysctls are
/// its own, so labs change them without touching the host's.
public final class NetworkNamespace: @unchecked Sendable {
    public let name: String
    private var children: [Process] = []
    private var removed = false

    /// Why namespaces cannot be made here, or nil when they can.
    public static var unavailable: String? {
        if geteuid() != 0 { return "labs need root: they create a network namespace and set its sysctls" }
        if !["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].contains(where: FileManager.default.isExecutableFile) {
            return "labs need iproute2's ip command (apt-get install iproute2)"
        }
        return nil
    }

    public init(prefix: String) throws {
        name = "\(prefix)-\(getpid())"
        try NetworkNamespace.run(["ip", "netns", "add", name])
        try exec(["ip", "link", "set", "lo", "up"])
    }

    deinit { remove() }

    /// Writes /proc/sys/KEY inside the namespace only.
    public func sysctl(_ key: String, _ value: String) throws {
        try exec(["sh", "-c", "echo '\(value)' > /proc/sys/\(key.replacingOccurrences(of: ".", with: "/"))"])
    }

    /// Runs a command inside the namespace to completion; throws when it fails.
    public func exec(_ args: [String]) throws { try NetworkNamespace.run(["ip", "netns", "exec", name] + args) }

    /// Runs a command inside the namespace and returns its exit status, output discarded.
    @discardableResult
    public func status(_ args: [String]) throws -> Int32 {
        let p = try NetworkNamespace.start(["ip", "netns", "exec", name] + args, quiet: true)
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Starts a long-lived command inside the namespace (a server); stopped by `stopChildren`.
    public func spawn(_ args: [String]) throws {
        children.append(try NetworkNamespace.start(["ip", "netns", "exec", name] + args, quiet: true))
    }

    public func stopChildren() {
        for c in children where c.isRunning { c.interrupt() }
        for c in children { c.waitUntilExit() }
        children.removeAll()
    }

    /// Stops what runs inside and deletes the namespace (idempotent; also at deinit).
    public func remove() {
        guard !removed else { return }
        removed = true
        stopChildren()
        if let pids = try? NetworkNamespace.output(["ip", "netns", "pids", name]) {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        try? NetworkNamespace.run(["ip", "netns", "del", name])
    }

    static func start(_ args: [String], quiet: Bool) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        if quiet {
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        }
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func run(_ args: [String]) throws {
        let p = try start(args, quiet: true)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw LabError("'\(args.joined(separator: " "))' failed (\(p.terminationStatus))") }
    }

    static func output(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

public struct LabError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
