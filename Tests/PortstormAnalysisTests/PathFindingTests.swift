import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// The run report's local-vs-remote path findings, on literal records.
@Suite struct PathFindingTests {
    func record(_ failures: [String: UInt64], target: String = "10.77.0.9:80") -> RunRecord {
        var r = literalRecord([LiteralSecond(ok: 0, failures: failures)],
                              config: RunConfig(target: target, concurrency: 2, durationSeconds: 1), resolved: [String(target.split(separator: ":")[0])])
        r.target.used = target
        r.target.host = String(target.split(separator: ":")[0])
        return r
    }

    @Test func aNonLocalSourceIsNamedInsteadOfPortExhaustion() {
        var r = record(["eaddrnotavail": 5], target: "127.0.0.1:9000")
        #expect(RunAnalysis.analyze(r).findings.first?.title.contains("ephemeral ports") == true)   // without the check
        r.unusableSources = [SourceCheck(address: "192.0.2.1", local: false, error: "Cannot assign requested address")]
        let f = RunAnalysis.analyze(r).findings
        #expect(f.first?.title == "192.0.2.1 is not an address of this machine")
        #expect(!f.contains { $0.title.contains("ephemeral ports") })
    }

    @Test func noRouteIsLocal() {
        let f = RunAnalysis.analyze(record(["no_route": 4], target: "198.51.100.7:80")).findings.first
        #expect(f?.title == "this machine has no route to 198.51.100.7")
        #expect(f?.evidence.contains { $0.contains("no SYN left this machine") } == true)
        #expect(Outcome.noRoute.cause == .local && Outcome(name: "no_route") == .noRoute)
    }

    @Test func anOnLinkTargetWithoutNeighbourIsNotAFirewall() {
        var r = record(["connect_timeout": 2])
        #expect(RunAnalysis.analyze(r).findings.first?.advice.contains { $0.contains("firewall") } == true)   // without the path
        r.path = PathObservation(destination: "10.77.0.9", route: .found, device: "pst0", source: "10.77.0.1",
                                 neighbourAddress: "10.77.0.9", neighbourState: "FAILED")
        let f = RunAnalysis.analyze(r).findings.first
        #expect(f?.title == "no host answers ARP/ND for 10.77.0.9 on dev pst0")
        #expect(f?.advice.contains { $0.contains("firewall") } == false)
    }

    @Test func anICMPUnreachableWithAGoodRouteIsRemote() {
        var r = record(["ehostunreach": 3])
        r.path = PathObservation(destination: "10.77.0.9", route: .found, gateway: "10.77.0.254", device: "pst0",
                                 neighbourAddress: "10.77.0.254", neighbourState: "REACHABLE")
        #expect(RunAnalysis.analyze(r).findings.first?.title == "a router or firewall on the path reports 10.77.0.9 unreachable")
    }
}
