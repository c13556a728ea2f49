import Foundation
import Glibc
import Testing

/// The harness itself: what it makes, it removes, and the host's settings stay as they were.
@Suite(.serialized, .enabled(if: TruthEnvironment.ready, TruthEnvironment.reason))
struct HarnessTests {
    static let hostSysctls = ["net/ipv4/ip_local_port_range", "net/ipv4/tcp_tw_reuse", "net/ipv4/icmp_ratelimit"]

    static func readHost() -> [String] {
        hostSysctls.map { (try? String(contentsOfFile: "/proc/sys/" + $0, encoding: .utf8)) ?? "?" }
    }

    @Test(.timeLimit(.minutes(1)))
    func closeRemovesNamespacesServersAndFiles() throws {
        let before = Self.readHost()
        let hostsBefore = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)
        let net = try TruthNet.pair()
        try net.sysctl(net.client, "net.ipv4.ip_local_port_range", "40000 40049")
        try net.sysctl(net.client, "net.ipv4.tcp_tw_reuse", "0")
        try net.sysctl(net.server, "net.ipv4.icmp_ratelimit", "0")
        try net.clientHosts("10.201.0.2 harness.truth.test\n")
        let server = try net.serve("hold", listen: TruthNet.serverIP, port: 9000)
        // The two ends see each other, and only through the veth.
        #expect(try net.must(net.client, ["getent", "hosts", "harness.truth.test"]).contains("10.201.0.2"))
        #expect(try net.listening(9000, in: net.server))
        #expect(try !net.listening(9000, in: net.client))
        #expect(Self.readHost() == before, "a sysctl set in a test namespace changed the host's")
        net.close()
        #expect(!TruthNet.exists(net.client) && !TruthNet.exists(net.server), "a namespace was left behind")
        #expect(!server.process.isRunning, "the server still runs")
        #expect(!FileManager.default.fileExists(atPath: "/etc/netns/\(net.client)"), "/etc/netns/\(net.client) left behind")
        #expect(!FileManager.default.fileExists(atPath: net.dir.path), "the temporary directory was left behind")
        #expect((try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) == hostsBefore, "the host's /etc/hosts changed")
    }


    /// What a crashed run of the suite left (its pid no longer runs) is removed; what a live one
    /// holds is not.
    @Test(.timeLimit(.minutes(1)))
    func leftoversOfADeadRunAreSwept() throws {
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let stale = "pst-truth-\(dead)-1-c", live = "pst-truth-\(getpid())-999999-c"
        try Command.must(["ip", "netns", "add", stale])
        try Command.must(["ip", "netns", "add", live])
        defer { _ = try? Command.run(["ip", "netns", "del", live]) }
        TruthNet.sweepLeftovers()
        #expect(!TruthNet.exists(stale), "a dead run's namespace was not swept")
        #expect(TruthNet.exists(live), "a live run's namespace was swept")
    }
}

/// The parser of the kernel's tables needs no namespace.
struct KernelCountersTests {
    @Test func countersParseTheKernelsTables() throws {
        let text = """
            Tcp: RtoAlgorithm RtoMin ActiveOpens PassiveOpens
            Tcp: 1 200 17 4
            TcpExt: SyncookiesSent ListenOverflows
            TcpExt: 0 9
            TCP: inuse 3 orphan 0 tw 12 alloc 5 mem 1
            """
        let c = KernelCounters.parse(text)
        #expect(c["ActiveOpens"] == 17 && c["PassiveOpens"] == 4 && c["ListenOverflows"] == 9 && c["TIME_WAIT"] == 12)
        let d = KernelCounters.parse(text.replacingOccurrences(of: "1 200 17 4", with: "1 200 20 4")) - c
        #expect(d["ActiveOpens"] == 3 && d["PassiveOpens"] == 0)
    }
}
