import Foundation
import Glibc
import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// A generator cluster on one machine: N network namespaces as N hosts and one as the server, each
/// with its own address on a bridge that lives in a namespace of its own (10.203.0.0/24 exists
/// only inside them). Every host runs its shard with a common --start-at; the records are merged.
private struct SimulatedCluster {
    let prefix: String
    let hosts: Int
    var bridge: String { "\(prefix)-br" }
    var server: TestNamespace { TestNamespace(existing: "\(prefix)-srv") }
    func host(_ k: Int) -> TestNamespace { TestNamespace(existing: "\(prefix)-h\(k)") }
    static let serverIP = "10.203.0.1"
    static func hostIP(_ k: Int) -> String { "10.203.0.\(11 + k)" }

    var namespaces: [String] { [bridge, "\(prefix)-srv"] + (0..<hosts).map { "\(prefix)-h\($0)" } }

    /// Builds the bridge and the N + 1 namespaces; whatever was made is removed again if a step fails.
    init(hosts: Int) throws {
        prefix = "psc-\(getpid() % 100_000)"
        self.hosts = hosts
        do {
            try TestNamespace.ip(["netns", "add", bridge])
            try TestNamespace.ip(["-n", bridge, "link", "add", "br0", "type", "bridge"])
            try TestNamespace.ip(["-n", bridge, "link", "set", "br0", "up"])
            let members = [("\(prefix)-srv", Self.serverIP)] + (0..<hosts).map { ("\(prefix)-h\($0)", Self.hostIP($0)) }
            for (i, (ns, ip)) in members.enumerated() {
                try TestNamespace.ip(["netns", "add", ns])
                try TestNamespace.ip(["-n", ns, "link", "set", "lo", "up"])
                try TestNamespace.ip(["-n", bridge, "link", "add", "v\(i)", "type", "veth", "peer", "name", "eth0", "netns", ns])
                try TestNamespace.ip(["-n", bridge, "link", "set", "v\(i)", "master", "br0", "up"])
                try TestNamespace.ip(["-n", ns, "addr", "add", "\(ip)/24", "dev", "eth0"])
                try TestNamespace.ip(["-n", ns, "link", "set", "eth0", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    func remove() { for ns in namespaces { try? TestNamespace.ip(["netns", "del", ns]) } }
}

extension TestNamespace {
    init(existing name: String) { self.name = name }

    /// Starts portstorm inside the namespace, its output captured to files (not pipes, which could fill).
    func startPortstorm(_ args: [String], log: URL) throws -> Process {
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", name, CLIProcess.binary.path] + args
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }
}

@Suite(.serialized) struct ClusterSimulationTests {
    /// Four hosts share --rate 400 -n 2000 toward one server; host 3 has 200 local ports and no
    /// TIME_WAIT reuse, so after about 200 connects every attempt there fails with eaddrnotavail,
    /// while the others, with 28,232 ports each, never run short. The merged totals are the hosts'.
    @Test(.enabled(if: HostCapabilities.networkNamespaces, "network namespaces need root and iproute2's ip"), .timeLimit(.minutes(1)))
    func fourShardsInNamespacesMergeIntoOneExactRecord() throws {
        let n = 4
        let cluster = try SimulatedCluster(hosts: n)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-cluster-\(getpid())-\(Int.random(in: 0..<1_000_000))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var processes: [Process] = []
        defer {
            for p in processes where p.isRunning { p.terminate() }
            for p in processes { p.waitUntilExit() }
            cluster.remove()
            try? FileManager.default.removeItem(at: dir)
            for ns in cluster.namespaces { #expect(!TestNamespace.list().contains(ns), "namespace \(ns) left behind") }
        }
        let narrowed = cluster.host(3)
        try narrowed.sysctl("net.ipv4.ip_local_port_range", "40000 40199")
        try narrowed.sysctl("net.ipv4.tcp_tw_reuse", "0")

        let target = "\(SimulatedCluster.serverIP):9000"
        let server = try cluster.server.startPortstorm(["serve", "--mode", "hold", "--listen", target, "-d", "40s"],
                                                        log: dir.appendingPathComponent("server.log"))
        processes.append(server)
        try cluster.server.waitForListener(9000)

        let startAt = Int(Date().timeIntervalSince1970) + 3
        let runs = try (0..<n).map { k in
            try cluster.host(k).startPortstorm(
                ["run", target, "--rate", "400", "-n", "2000", "-c", "40", "-d", "15s", "--close", "client", "--connect-timeout", "1s",
                 "--shard", "\(k)/\(n)", "--start-at", "\(startAt)", "--name", "h\(k)", "--quiet",
                 "-o", dir.appendingPathComponent("h\(k).json").path],
                log: dir.appendingPathComponent("h\(k).log"))
        }
        processes += runs
        for p in runs { p.waitUntilExit() }
        for k in 0..<n {
            let log = (try? String(contentsOf: dir.appendingPathComponent("h\(k).log"), encoding: .utf8)) ?? ""
            #expect(runs[k].terminationStatus == 0, "h\(k): \(log)")
        }
        let records = try (0..<n).map { try RunRecord.load(from: Data(contentsOf: dir.appendingPathComponent("h\($0).json"))) }

        // Shares add up: 2000 over 4 is 500 each, 400/s is 100/s each, -c 40 is 10 each.
        for (k, r) in records.enumerated() {
            #expect(r.config.shard == Shard(index: k, count: n))
            #expect(r.totals.attempted == 500 && r.config.rate == 100 && r.config.concurrency == 10)
            #expect(r.hostName == "h\(k)")
            #expect(r.unixSecond(0) == Int64(startAt), "h\(k) began in another second than --start-at")
            #expect((r.startLateMs ?? -1) >= 0 && (r.startLateMs ?? 1000) < 1000)
        }
        // The narrowed host holds its 200 ports in TIME_WAIT, then runs out; the others never do. (Once
        // in several runs on a loaded machine it got 202: the kernel freed two of its tuples early.)
        let h3ok = records[3].totals.outcomes[.ok]
        #expect(h3ok >= 200 && h3ok <= 210 && records[3].totals.outcomes[.eaddrnotavail] == 500 - h3ok,
                "h3: \(records[3].totals.outcomes.byName), kernel: \(records[3].kernelWitness?.counters ?? [:]), notes: \(records[3].notes)")
        for r in records.prefix(3) { #expect(r.totals.outcomes[.ok] == 500 && r.totals.outcomes.failures == 0) }

        let merged = dir.appendingPathComponent("merged.json"), report = dir.appendingPathComponent("merged.md")
        let m = try CLIProcess.run(["merge"] + (0..<n).map { dir.appendingPathComponent("h\($0).json").path }
                                   + ["-o", merged.path, "--report", report.path])
        #expect(m.status == 0, "\(m.stderr)")
        let r = try RunRecord.load(from: Data(contentsOf: merged))

        // Exact totals.
        #expect(r.totals.attempted == 2000 && r.totals.outcomes[.ok] == 1500 + h3ok && r.totals.outcomes[.eaddrnotavail] == 500 - h3ok)
        for o in [Outcome.ok, .eaddrnotavail, .connectTimeout, .econnrefused] {
            #expect(r.totals.outcomes[o] == records.reduce(0) { $0 + $1.totals.outcomes[o] })
        }
        #expect(r.totals.isBalanced && r.config.rate == 400 && r.config.connections == 2000 && r.config.concurrency == 40)
        // The merged histogram is the hosts' histograms merged: same count, same percentiles.
        var all = records[0].latency.connectHistogram
        for h in records.dropFirst() { all.merge(h.latency.connectHistogram) }
        #expect(r.latency.connectHistogram.count == all.count)
        #expect(r.latency.connect == all.summary)
        for p in [50.0, 90, 99, 99.9, 100] { #expect(r.latency.connectHistogram.percentile(p) == all.percentile(p)) }
        // The timeline: one wall-clock second per entry, each the sum of the hosts' same second.
        let hosts = try #require(r.hosts)
        #expect(hosts.map(\.offsetSeconds) == [0, 0, 0, 0])
        for (t, s) in r.timeline.enumerated() {
            #expect(s.at == Int64(startAt + t))
            #expect(s.attempts == records.reduce(0) { $0 + (t < $1.timeline.count ? $1.timeline[t].attempts : 0) })
            #expect(s.ok == records.reduce(0) { $0 + (t < $1.timeline.count ? $1.timeline[t].ok : 0) })
        }
        #expect(r.timeline.reduce(0) { $0 + $1.attempts } == 2000)
        // Per-host port budgets, and who ran out first.
        #expect(hosts.map(\.portBudget.rangeSize) == [28_232, 28_232, 28_232, 200])
        #expect(hosts.map { $0.firstExhaustionSecond != nil } == [false, false, false, true])
        #expect(hosts[3].system.tcpTwReuse == 0 && hosts[3].peakOccupancy == 1.0)
        let md = try String(contentsOf: report, encoding: .utf8)
        #expect(md.contains("| port budget (hosts x sources x ports) | 3 hosts x 1 source x 28,232 ports + 1 host x 1 source x 200 ports |"))
        #expect(md.contains("| h3 | 3/4 | 1 x 200 | 40000-40199 | 0 | 500 | \(h3ok) | \(500 - h3ok) |"))
        #expect(md.contains("| h0 | 0/4 | 1 x 28,232 | 32768-60999 |"))
        #expect(md.contains("h3 ran out of local ports first, at second \(hosts[3].firstExhaustionSecond!) (1 source x 200 ports); 3 of 4 hosts did not"))
        #expect(md.contains("h3 ran out of ephemeral ports toward \(target)"))
        #expect(ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings) == [])
        if RecordSchemaTests.skipReason == nil {
            let v = try RecordSchemaTests.python([RecordSchemaTests.validator.path, "--strict", merged.path])
            #expect(v.status == 0, "\(v.stderr)")
        }
    }
}
