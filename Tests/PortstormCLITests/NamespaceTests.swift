import Foundation
import Glibc
import PortstormTestSupport
import Testing

/// A network namespace made by the test, removed afterwards even on failure. Needs root and iproute2.
struct TestNamespace {
    let name: String

    init() throws {
        name = "portstorm-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try TestNamespace.ip(["netns", "add", name])
        try TestNamespace.ip(["netns", "exec", name, "ip", "link", "set", "lo", "up"])
    }

    func remove() { try? TestNamespace.ip(["netns", "del", name]) }

    /// Writes a sysctl inside the namespace only (/proc/sys/net is per namespace).
    func sysctl(_ key: String, _ value: String) throws {
        try TestNamespace.ip(["netns", "exec", name, "sh", "-c", "echo '\(value)' > /proc/sys/\(key.replacingOccurrences(of: ".", with: "/"))"])
    }

    /// Runs a command inside the namespace and returns its output.
    func run(_ args: [String]) throws -> CLIProcess.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", name] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIProcess.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                                 stderr: String(decoding: e, as: UTF8.self))
    }

    static func ip(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip"] + args
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NamespaceError(message: "ip \(args.joined(separator: " ")) failed") }
    }

    /// The names `ip netns list` shows (each line is "NAME" or "NAME (id: N)").
    static func names() -> Set<String> {
        Set(list().split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    static func list() -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "list"]
        let out = Pipe()
        p.standardOutput = out
        try? p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: o, as: UTF8.self)
    }
}

struct NamespaceError: Error { let message: String }

@Suite(.serialized) struct NamespaceTests {
    @Test(.enabled(if: HostCapabilities.networkNamespaces, "needs root and iproute2 (network namespaces)"))
    func theSnapshotIsReadInsideTheRunsNamespace() throws {
        let hostRange = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let ns = try TestNamespace()
        defer {
            ns.remove()
            #expect(!TestNamespace.names().contains(ns.name), "namespace left behind")
        }
        try ns.sysctl("net.ipv4.ip_local_port_range", "40000 40099")
        try ns.sysctl("net.ipv4.tcp_tw_reuse", "0")
        let r = try ns.run([CLIProcess.binary.path, "doctor", "--json", "-c", "10"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let system = try #require(object["system"] as? [String: Any])
        #expect(system["ipLocalPortRange"] as? [Int] == [40000, 40099])
        #expect(system["tcpTwReuse"] as? Int == 0)
        let findings = try #require(object["findings"] as? [[String: Any]])
        let budget = try #require(findings.first { $0["topic"] as? String == "port-budget" })
        #expect((budget["evidence"] as? [String])?.first?.contains("40000-40099: 100 usable ports") == true)
        // The host is untouched.
        #expect(try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) == hostRange)
    }
}

@Suite(.serialized) struct PlanNamespaceTests {
    @Test(.enabled(if: HostCapabilities.networkNamespaces, "needs root and iproute2 (network namespaces)"))
    func aRampFindsThePortKneeInANarrowNamespace() throws {
        let ns = try TestNamespace()
        defer {
            ns.remove()
            #expect(!TestNamespace.names().contains(ns.name), "namespace left behind")
        }
        // 200 ports, no TIME_WAIT reuse: the client runs out of ports above a few hundred connections.
        try ns.sysctl("net.ipv4.ip_local_port_range", "40000 40199")
        try ns.sysctl("net.ipv4.tcp_tw_reuse", "0")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["ip", "netns", "exec", ns.name, CLIProcess.binary.path, "serve", "--mode", "hold", "--listen", "127.0.0.1:8080", "-d", "30s"]
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        usleep(300_000)
        let r = try ns.run([CLIProcess.binary.path, "plan", "127.0.0.1:8080", "--from", "25", "--to", "400", "--factor", "2",
                            "--step-duration", "2s", "--target-rate", "400"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("limit hit first: the client's ephemeral ports"), "\(r.stdout)")
        #expect(r.stdout.contains("mostly eaddrnotavail"))
        #expect(r.stdout.contains("highest sustainable rate: "))
        #expect(r.stdout.contains("400/s needs 120 source address(es) at 200 ports each"))
    }
}
