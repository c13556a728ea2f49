import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// The kernel as a witness, live: runs in a namespace of the test's own (so the namespace-wide
/// counters hold only this test's traffic), then the record's witness against its counts.
@Suite(.serialized, .enabled(if: HostCapabilities.networkNamespaces, "needs root and iproute2 (network namespaces)"))
struct KernelWitnessLiveTests {
    /// Starts `portstorm serve` inside the namespace.
    func serve(_ ns: TestNamespace, _ mode: String, _ listen: String) throws -> Process {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["ip", "netns", "exec", ns.name, CLIProcess.binary.path, "serve", "--mode", mode, "--listen", listen, "-d", "30s"]
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        usleep(300_000)
        return server
    }

    func run(_ ns: TestNamespace, _ args: [String]) throws -> RunRecord {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("witness-\(getpid())-\(Int.random(in: 0..<1_000_000)).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try ns.run([CLIProcess.binary.path, "run"] + args + ["-o", file.path])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        return try RunRecord.load(from: Data(contentsOf: file))
    }

    @Test func countsAgreeAndASecondRunSeesTheFirstOnesSockets() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // The server holds until the client closes: the client closes first and keeps TIME_WAIT.
        let server = try serve(ns, "hold", "127.0.0.1:9000")
        defer { server.terminate(); server.waitUntilExit() }

        let first = try run(ns, ["127.0.0.1:9000", "-n", "200", "-c", "20"])
        let w = try #require(first.kernelWitness)
        #expect(first.totals.outcomes[.ok] == 200)
        #expect(w.serverIsLocal == true)
        #expect(w.counters["ActiveOpens"] == 200 && w.counters["PassiveOpens"] == 200, "\(w.counters)")
        #expect(w.startCensus?.trigger == "start" && w.startCensus?.tuples.isEmpty == true)
        let a = RunAnalysis.analyze(first)
        #expect(ReportConsistency.problems(record: first, findings: a.findings).isEmpty)
        #expect(a.findings.contains { $0.topic == "kernel-witness" && $0.severity == .ok })

        // The first run's TIME_WAIT is still there: the second one counts it as from before.
        let second = try run(ns, ["127.0.0.1:9000", "-n", "100", "-c", "10"])
        let start = try #require(second.kernelWitness?.startCensus?.busiest)
        #expect(start.states["TIME_WAIT", default: 0] > 0, "\(start)")
        let later = try #require(second.timeline.compactMap { $0.kernel?.census }.last?.busiest)
        #expect(later.heldBefore != nil && later.heldBefore! <= later.portsInUse)
        let b = RunAnalysis.analyze(second)
        #expect(ReportConsistency.problems(record: second, findings: b.findings).isEmpty)
        #expect(b.findings.contains { $0.topic == "before-run" && $0.title.hasPrefix("\(start.portsInUse) ports toward 127.0.0.1:9000") })
    }

    @Test func aFullAcceptQueueIsNamedWithTheKernelsNumbers() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // Accepts 20 a second from a backlog of 4: most handshakes of 100 at once overflow it.
        let server = try serve(ns, "slow-accept", "127.0.0.1:9001")
        defer { server.terminate(); server.waitUntilExit() }
        let r = try run(ns, ["127.0.0.1:9001", "-n", "200", "-c", "100", "--connect-timeout", "3s", "--response-timeout", "1500ms",
                             "--send", "x", "--expect", "y"])
        let w = try #require(r.kernelWitness)
        let a = RunAnalysis.analyze(r)
        #expect(ReportConsistency.problems(record: r, findings: a.findings).isEmpty)
        let check = try #require(a.witness)
        let accepted = try #require(w.counters["PassiveOpens"])
        #expect(w.counters["ActiveOpens"] == Int64(r.totals.attempted), "only this test's traffic in the namespace")
        #expect((w.counters["ListenOverflows"] ?? 0) > 0)
        if accepted < Int64(check.connected) {
            let f = try #require(a.findings.first { $0.topic == "accept-queue" })
            #expect(f.title == "the server's accept queue overflowed: at least \(Int64(check.connected) - accepted) connections the client counted were never accepted")
            #expect(!a.findings.contains { $0.title.contains("accepted but did not answer") })
        } else {
            #expect(!a.findings.contains { $0.topic == "accept-queue" })
        }
    }
}
