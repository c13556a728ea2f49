import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// The analysis of merged records: every host's port budget in the capacity model, the per-host
/// view (who ran out first), late starts, and what a target rate needs.
@Suite struct HostsAnalysisTests {
    static func fourHosts(narrowed: Bool, rate: Double = 100, lateMs: Int64? = nil) throws -> RunRecord {
        let records = (0..<4).map { k in
            var r = hostRecord("pod-\(k)", startMs: 1_790_000_000_000 + Int64(k) * 10, perSecond: [[100, 200], [300], [400]],
                               shard: Shard(index: k, count: 4), eaddrnotavailAt: narrowed && k == 3 ? 1 : nil,
                               portRange: narrowed && k == 3 ? [40000, 40199] : [32768, 60999], rate: rate)
            r.startLateMs = k == 2 ? lateMs : 3
            return r
        }
        return try RunRecord.merge(records, names: [])
    }

    @Test func theCapacityModelCountsEveryHostsSources() throws {
        let a = RunAnalysis.analyze(try Self.fourHosts(narrowed: false))
        #expect(a.capacity.budgetText == "4 hosts x 1 source x 28,232 ports")
        #expect(a.capacity.ports == 4 * 28_232)
        #expect(a.capacity.modelRate == 4 * 28_232 / 60.0)
        let cap = try #require(a.findings.first { $0.topic == "capacity" })
        #expect(cap.evidence.contains("model without TIME_WAIT reuse: 4 hosts x 1 source x 28,232 ports / 60 s = about 1,882 new connections/s"))
        let hosts = try #require(a.findings.first { $0.topic == "hosts" })
        #expect(hosts.title == "4 hosts, none ran out of local ports")
        #expect(!a.findings.contains { $0.topic == "late-start" })
    }

    @Test func theHostWithTheNarrowRangeIsNamedFirst() throws {
        let r = try Self.fourHosts(narrowed: true)
        let a = RunAnalysis.analyze(r)
        #expect(a.capacity.budgetText == "3 hosts x 1 source x 28,232 ports + 1 host x 1 source x 200 ports")
        let hosts = try #require(a.findings.first { $0.topic == "hosts" })
        #expect(hosts.severity == .warning)
        #expect(hosts.title == "pod-3 ran out of local ports first, at second 1 (1 source x 200 ports); 3 of 4 hosts did not")
        #expect(hosts.evidence[3].hasPrefix("pod-3 (shard 3/4): 1 source x 200 ports (40000-40199)"))
        let ports = try #require(a.findings.first { $0.topic == "port-exhaustion" })
        #expect(ports.evidence.contains("on pod-3: effective port range 40000-40199, 200 ports per tuple, 1 tuple(s)"))
        #expect(ReportConsistency.problems(record: r, findings: a.findings) == [])
    }

    @Test func aTargetRateBeyondTheBudgetIsSaidInHostsAndAddresses() throws {
        let a = RunAnalysis.analyze(try Self.fourHosts(narrowed: false, rate: 1000))
        // 4 x 1,000/s asked; each host holds 28,232 / 60 = 470.5/s.
        let cap = try #require(a.findings.first { $0.topic == "capacity" })
        #expect(cap.evidence.contains("4,000/s without TIME_WAIT reuse needs 9 hosts like pod-2 (471/s each), or 9 source addresses of 28,232 ports in all (3 per host on 4 hosts)"))
    }

    @Test func aLateHostIsReported() throws {
        let r = try Self.fourHosts(narrowed: false, lateMs: 2_400)
        let late = try #require(RunAnalysis.analyze(r).findings.first { $0.topic == "late-start" })
        #expect(late.title == "1 of 4 hosts started late: the merged first seconds lack their load")
        #expect(late.evidence == ["pod-2 started 2.4 s after --start-at (merged seconds from 0)"])
    }
}

/// Shards that shared one network namespace: one port budget and one kernel in the report.
@Suite struct SharedNamespaceAnalysisTests {
    @Test func oneNamespaceIsOnePortBudgetAndOneKernel() throws {
        let vm = NetworkNamespaceID(inode: 4_026_532_318, bootId: "boot")
        let records = (0..<2).map { k in
            var r = hostRecord(k == 0 ? "a" : "b", startMs: 1_790_000_000_000 + Int64(k) * 2, perSecond: [[100, 200], [300]],
                               shard: Shard(index: k, count: 2), rate: 400)
            r.networkNamespace = vm
            var w = KernelWitness(counters: ["ActiveOpens": 6], serverIsLocal: false)
            w.countersAtStart = ["ActiveOpens": 10]
            r.kernelWitness = w
            return r
        }
        let r = try RunRecord.merge(records, names: [])
        let a = RunAnalysis.analyze(r)
        #expect(a.capacity.ports == 28_232)
        #expect(a.capacity.budgetText == "1 namespace shared by 2 runs x 1 source x 28,232 ports")
        let cap = try #require(a.findings.first { $0.topic == "capacity" })
        #expect(cap.evidence.contains("model without TIME_WAIT reuse: 1 namespace shared by 2 runs x 1 source x 28,232 ports / 60 s = about 471 new connections/s"))
        let shared = try #require(a.findings.first { $0.topic == "hosts" && $0.title.contains("namespace") })
        #expect(shared.title == "a, b ran in one network namespace: counted as one kernel and one port budget")
        let witness = try #require(a.findings.first { $0.topic == "kernel-witness" })
        #expect(witness.evidence.contains { $0.hasPrefix("the merged runs' one network namespace, counted once: ActiveOpens +6") })
        #expect(ReportConsistency.problems(record: r, findings: a.findings) == [])
    }
}
