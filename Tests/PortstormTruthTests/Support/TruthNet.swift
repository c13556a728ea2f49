import Foundation
import Glibc
import Synchronization

/// Two network namespaces made for one test, a client and a server, joined by a veth pair
/// (client 10.201.0.1/24, server 10.201.0.2/24; the addresses exist only inside them), with lo up
/// in both. `single()` makes one namespace that is both. `close()` removes everything it made:
/// processes, namespaces, /etc/netns/CLIENT, the temporary directory.
///
/// Names carry the pid and a counter, so parallel tests and other users of the machine never
/// collide; nothing here looks at the host's list of namespaces.
final class TruthNet: @unchecked Sendable {
    static let clientIP = "10.201.0.1"
    static let serverIP = "10.201.0.2"
    private static let counter = Atomic<Int>(0)

    let client: String
    let server: String
    /// A temporary directory for this test's configs, logs and records.
    let dir: URL
    private var servers: [Process] = []
    private var madeEtcNetns = false
    private var closed = false

    private init(paired: Bool) throws {
        let n = TruthNet.counter.add(1, ordering: .relaxed).newValue
        let base = "pst-truth-\(getpid())-\(n)"
        client = paired ? base + "-c" : base
        server = paired ? base + "-s" : base
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(base)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        do {
            try Command.must(["ip", "netns", "add", client])
            try Command.must(["ip", "-n", client, "link", "set", "lo", "up"])
            if paired {
                try Command.must(["ip", "netns", "add", server])
                try Command.must(["ip", "-n", server, "link", "set", "lo", "up"])
                // Created inside the client namespace, the far end moved straight into the server's:
                // the host's namespace never holds either end.
                try Command.must(["ip", "-n", client, "link", "add", "vc", "type", "veth", "peer", "name", "vs", "netns", server])
                try Command.must(["ip", "-n", client, "addr", "add", TruthNet.clientIP + "/24", "dev", "vc"])
                try Command.must(["ip", "-n", server, "addr", "add", TruthNet.serverIP + "/24", "dev", "vs"])
                try Command.must(["ip", "-n", client, "link", "set", "vc", "up"])
                try Command.must(["ip", "-n", server, "link", "set", "vs", "up"])
                try Command.must(["ip", "-n", server, "-6", "addr", "add", "fd00:201::2/64", "dev", "vs", "nodad"])
                try Command.must(["ip", "-n", client, "-6", "addr", "add", "fd00:201::1/64", "dev", "vc", "nodad"])
            }
        } catch {
            close()
            throw error
        }
    }

    /// A client and a server namespace joined by a veth pair.
    static func pair() throws -> TruthNet { try TruthNet(paired: true) }

    /// One namespace, client and server in it (the cases where the server is on the client's machine).
    static func single() throws -> TruthNet { try TruthNet(paired: false) }

    deinit { close() }

    // MARK: commands inside the namespaces

    /// Runs a command inside namespace `ns` (`ip netns exec`).
    func exec(_ ns: String, _ args: [String], timeout: Double = 60) throws -> CommandResult {
        try Command.run(["ip", "netns", "exec", ns] + args, timeout: timeout)
    }

    /// Runs a command inside `ns`; throws unless it exits 0.
    @discardableResult
    func must(_ ns: String, _ args: [String]) throws -> String {
        try Command.must(["ip", "netns", "exec", ns] + args)
    }

    /// Writes /proc/sys/KEY inside `ns` only (net.* settings are per namespace).
    func sysctl(_ ns: String, _ key: String, _ value: String) throws {
        let path = "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")
        try must(ns, ["sh", "-c", "echo '\(value)' > \(path)"])
    }

    /// Loads an nftables ruleset (nft -f syntax) into `ns` (the server's by default).
    func nft(_ ruleset: String, in ns: String? = nil) throws {
        let file = dir.appendingPathComponent("rules-\(UUID().uuidString).nft")
        try ruleset.write(to: file, atomically: true, encoding: .utf8)
        try must(ns ?? server, ["nft", "-f", file.path])
    }

    /// A filter on the server's input hook with one rule (`tcp dport 9000 drop`, ...).
    func inputRule(_ rule: String, in ns: String? = nil) throws {
        try nft("""
            table inet truth {
              chain input {
                type filter hook input priority 0; policy accept;
                \(rule)
              }
            }
            """, in: ns)
    }

    /// Makes `ip netns exec CLIENT` see `text` as /etc/hosts (iproute2 bind-mounts
    /// /etc/netns/NAME/* over /etc in the command's own mount namespace; the host's file is untouched).
    func clientHosts(_ text: String) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: "/etc/netns") {
            try fm.createDirectory(atPath: "/etc/netns", withIntermediateDirectories: true)
            madeEtcNetns = true
        }
        try fm.createDirectory(atPath: "/etc/netns/\(client)", withIntermediateDirectories: true)
        try text.write(toFile: "/etc/netns/\(client)/hosts", atomically: true, encoding: .utf8)
    }

    // MARK: servers

    /// A server started inside `ns`, with its output in the test's directory.
    struct Server {
        let process: Process
        let stdout: URL
        let stderr: URL
        var output: String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
        var errors: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }
    }

    /// Starts `args` inside `ns` and waits until a TCP socket listens on `port` there (ss -ltn),
    /// at most 10 s; throws with the server's own error output if it exits or never listens.
    @discardableResult
    func startServer(_ args: [String], listeningOn port: UInt16, in ns: String? = nil) throws -> Server {
        let ns = ns ?? server
        let id = "server-\(servers.count)"
        let s = Server(process: try Command.start(["ip", "netns", "exec", ns] + args,
                                                  stdout: dir.appendingPathComponent(id + ".out"),
                                                  stderr: dir.appendingPathComponent(id + ".err")),
                       stdout: dir.appendingPathComponent(id + ".out"), stderr: dir.appendingPathComponent(id + ".err"))
        servers.append(s.process)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard s.process.isRunning else {
                throw CommandError(description: "\(args.joined(separator: " ")) exited \(s.process.terminationStatus): \(s.errors.prefix(600))")
            }
            if try listening(port, in: ns) { return s }
            usleep(50_000)
        }
        throw CommandError(description: "\(args.joined(separator: " ")) did not listen on port \(port) within 10 s: \(s.errors.prefix(600))")
    }

    /// Whether a TCP listener on `port` exists in `ns` (`ss -Hltn`).
    func listening(_ port: UInt16, in ns: String) throws -> Bool {
        let out = try must(ns, ["ss", "-Hltn"])
        return out.split(separator: "\n").contains { line in
            line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first?.hasSuffix(":\(port)") == true
        }
    }

    /// `portstorm serve --mode MODE --listen ADDR:PORT` inside the server namespace, for 120 s at most.
    @discardableResult
    func serve(_ mode: String, listen: String, port: UInt16, in ns: String? = nil) throws -> Server {
        try startServer([Portstorm.binary.path, "serve", "--mode", mode, "--listen", "\(listen):\(port)", "-d", "120s"],
                        listeningOn: port, in: ns)
    }

    // MARK: counters

    /// The namespace's TCP counters now (see `KernelCounters`).
    func counters(_ ns: String) throws -> KernelCounters {
        KernelCounters.parse(try must(ns, ["cat", "/proc/net/snmp", "/proc/net/netstat", "/proc/net/sockstat"]))
    }

    // MARK: cleanup

    /// Stops every server, kills what still runs in the namespaces, deletes them and the files made.
    /// Idempotent; also run at deinit.
    func close() {
        guard !closed else { return }
        closed = true
        for p in servers where p.isRunning { p.terminate() }
        for p in servers { Command.wait(p, timeout: 3) }
        for ns in Set([client, server]) {
            if let pids = try? Command.run(["ip", "netns", "pids", ns], timeout: 10) {
                for pid in pids.stdout.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? Command.run(["ip", "netns", "del", ns], timeout: 10)
        }
        let fm = FileManager.default
        try? fm.removeItem(atPath: "/etc/netns/\(client)")
        if madeEtcNetns { rmdir("/etc/netns") }
        try? fm.removeItem(at: dir)
    }

    /// Removes what an earlier run of the suite left when its process died before its cleanup
    /// (a crash runs no `defer`): namespaces, /etc/netns entries and temporary directories named
    /// `pst-truth-PID-...` whose PID no longer runs. Nothing of a live process is touched.
    static func sweepLeftovers() {
        let fm = FileManager.default
        func deadOwner(_ name: String) -> Bool {
            guard name.hasPrefix("pst-truth-"), let pid = Int32(name.dropFirst("pst-truth-".count).prefix { $0.isNumber }) else { return false }
            return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
        }
        for ns in (try? fm.contentsOfDirectory(atPath: "/run/netns")) ?? [] where deadOwner(ns) {
            _ = try? Command.run(["ip", "netns", "del", ns], timeout: 10)
        }
        var removedEtc = false
        for entry in (try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where deadOwner(entry) {
            try? fm.removeItem(atPath: "/etc/netns/\(entry)")
            removedEtc = true
        }
        if removedEtc { rmdir("/etc/netns") }  // fails, harmlessly, while anything else is in it
        let tmp = fm.temporaryDirectory
        for entry in (try? fm.contentsOfDirectory(atPath: tmp.path)) ?? [] where deadOwner(entry) {
            try? fm.removeItem(at: tmp.appendingPathComponent(entry))
        }
    }

    /// Whether namespace `name` still exists (its bind mount under /run/netns).
    static func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "/run/netns/\(name)") }
}
