import Foundation
import PortstormAnalysis
import Testing

/// Sockets made in the ring (IORING_OP_SOCKET into a fixed-file table, options and BIND through the
/// ring) and by system calls must give the same verdicts, each equal to what the kernels counted;
/// and the ring path must make no system call per attempt.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct SocketPathTruthTests {
    static let paths = ["ring-direct", "syscalls"]
    static let target = "\(TruthNet.serverIP):9000"

    func environment(_ path: String) -> [String] { path == "syscalls" ? ["PORTSTORM_SOCKET_PATH=syscalls"] : [] }

    func expectPath(_ run: TruthRun, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let engine = run.json["engine"] as? [String: Any] ?? [:]
        if path == "syscalls" || TruthEnvironment.kernelHasRingSockets {
            #expect(engine["path"] as? String == path, "engine \(engine)", sourceLocation: sourceLocation)
        }
    }

    /// SO_LINGER {1, 0} and the source address, set through the ring on the ring path: every close
    /// is an RST from the given source (no TIME_WAIT), as with the system calls.
    @Test(.timeLimit(.minutes(1)), arguments: paths)
    func abortiveClosesFromAGivenSourceOnBothPaths(path: String) throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run(Self.target, ["-n", "400", "-c", "20", "--close", "rst", "--source", TruthNet.clientIP],
                              environment: environment(path))
        expectTruthful(run)
        expectPath(run, path)
        #expect(run.nonZero == ["ok": 400])
        #expect(run.server["PassiveOpens"] == 400)
        #expect(run.client["OutRsts"] == 400, "client OutRsts +\(run.client["OutRsts"]) for 400 abortive closes")
        #expect(run.client["TIME_WAIT"] == 0, "TIME_WAIT +\(run.client["TIME_WAIT"]) after abortive closes")
    }

    /// IP_LOCAL_PORT_RANGE set per socket (--local-ports) limits the ports on both paths: 50 ports,
    /// client closes first, no TIME_WAIT reuse: at most 50 connects, the rest eaddrnotavail.
    @Test(.timeLimit(.minutes(1)), arguments: paths)
    func aPerSocketPortRangeRunsOutAtItsSizeOnBothPaths(path: String) throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.sysctl(net.client, "net.ipv4.tcp_tw_reuse", "0")
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run(Self.target, ["-n", "120", "-c", "10", "--close", "client", "--local-ports", "40000-40049"],
                              environment: environment(path))
        expectTruthful(run)
        expectPath(run, path)
        let ok = run["ok"]
        #expect((45...50).contains(ok), "ok \(ok) with 50 ports and no reuse")
        #expect(run["eaddrnotavail"] == 120 - ok, "\(run.nonZero)")
        #expect(run.server["PassiveOpens"] == Int64(ok))
    }

    /// bind(source, 0) choosing the port (--bind-before-connect) fails with EADDRINUSE once the
    /// namespace's 10 ports are held: an IORING_OP_BIND failure is named like the system call's.
    @Test(.timeLimit(.minutes(1)), arguments: paths)
    func aBindThatFindsNoPortIsNamedOnBothPaths(path: String) throws {
        let net = try TruthNet.pair()
        defer { net.close() }
        try net.sysctl(net.client, "net.ipv4.ip_local_port_range", "40000 40009")
        try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        let run = try net.run(Self.target, ["-n", "30", "-c", "30", "--hold", "2s", "--source", TruthNet.clientIP, "--bind-before-connect"],
                              environment: environment(path))
        expectTruthful(run)
        expectPath(run, path)
        let ok = run["ok"]
        #expect((1...10).contains(ok), "ok \(ok) with 10 ports held")
        #expect(run["eaddrinuse"] == 30 - ok, "\(run.nonZero)")
        #expect(run.causes["eaddrinuse"] == "local")
    }

    /// strace counts every system call of a 4,000-attempt run: on the ring path none is made per
    /// attempt (socket, setsockopt, bind, connect, close stay at start-up counts); on the
    /// system-call path socket() is made once per attempt.
    @Test(.timeLimit(.minutes(2)), .enabled(if: TruthEnvironment.straceMissing == nil, "strace is not installed"),
          .enabled(if: TruthEnvironment.kernelHasRingSockets, "the kernel is older than 6.11: no IORING_OP_BIND, sockets are made by system calls"),
          arguments: paths)
    func systemCallsPerAttempt(path: String) throws {
        let net = try TruthNet.single()
        defer { net.close() }
        try net.serve("accept-close", listen: "127.0.0.1", port: 9000)
        let counts = net.dir.appendingPathComponent("strace-\(path).txt")
        let record = net.dir.appendingPathComponent("strace-\(path).json")
        let r = try net.exec(net.client, ["env"] + environment(path) + ["strace", "-f", "-c", "-o", counts.path, Portstorm.binary.path, "run",
                                         "127.0.0.1:9000", "-n", "4000", "-c", "50", "--no-observe", "--quiet", "-o", record.path],
                             timeout: 90)
        #expect(r.succeeded, "\(r.stderr.prefix(400))")
        var calls: [String: Int] = [:]
        for line in try String(contentsOf: counts, encoding: .utf8).split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // % time, seconds, usecs/call, calls, [errors], syscall
            if f.count >= 5, let n = Int(f[3]), let name = f.last, name != "total" { calls[String(name)] = n }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: record)) as? [String: Any]
        let outcomes = (json?["totals"] as? [String: Any])?["outcomes"] as? [String: Any]
        #expect((outcomes?["ok"] as? NSNumber)?.intValue == 4000, "\(outcomes ?? [:])")
        if path == "ring-direct" {
            for name in ["socket", "setsockopt", "bind", "connect", "getsockopt", "close"] {
                #expect(calls[name, default: 0] < 200, "\(name): \(calls[name, default: 0]) calls for 4,000 attempts on the ring path")
            }
            #expect(calls["io_uring_enter", default: 0] < 4000, "io_uring_enter \(calls["io_uring_enter", default: 0]) for 4,000 attempts: not batched")
        } else {
            #expect(calls["socket", default: 0] >= 4000, "socket: \(calls["socket", default: 0]) calls for 4,000 attempts on the system-call path")
        }
    }
}
