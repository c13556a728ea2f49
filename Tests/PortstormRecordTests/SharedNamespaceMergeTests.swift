import Foundation
import PortstormRecord
import PortstormTestSupport
import Testing

/// Records of runs that shared one network namespace (shards on one machine): one kernel, whose
/// counters a merge takes once, not once per run.
@Suite struct SharedNamespaceMergeTests {
    static let vm = NetworkNamespaceID(inode: 4_026_532_318, bootId: "138a3015-a1b5-46f6-893a-06604355dbf2")

    /// A 2 s shard that opened `opens` connections, whose kernel (shared or not) counted
    /// `kernelOpens` over its run, from `atStart` when given.
    static func shard(_ k: Int, startMs: Int64, elapsed: Double = 2, kernelOpens: Int64, atStart: Int64?,
                      namespace: NetworkNamespaceID? = vm, name: String = "vm") -> RunRecord {
        var r = hostRecord(name, startMs: startMs, perSecond: [[100, 100], [100, 100]], shard: Shard(index: k, count: 2))
        r.elapsedSeconds = elapsed
        r.networkNamespace = namespace
        var w = KernelWitness(counters: ["ActiveOpens": kernelOpens, "TW": kernelOpens], serverIsLocal: true, timeWaitAtStart: 0, timeWaitAtEnd: kernelOpens)
        w.countersAtStart = atStart.map { ["ActiveOpens": $0, "TW": $0] }
        r.kernelWitness = w
        return r
    }

    @Test func overlappingRunsInOneNamespaceCountItsKernelOnce() throws {
        // Both started on --start-at within 2 ms; each saw both runs' 8 opens (the audit's +800 each, +1,600 added).
        let a = Self.shard(0, startMs: 1_790_000_000_002, kernelOpens: 8, atStart: 1000)
        let b = Self.shard(1, startMs: 1_790_000_000_000, kernelOpens: 8, atStart: 1000)
        let m = try RunRecord.merge([a, b], names: ["s0.json", "s1.json"])
        #expect(m.kernelWitness?.counters["ActiveOpens"] == 8)
        #expect(m.kernelWitness?.counters["TW"] == 8)
        #expect(m.notes.contains("vm (shard 0/2), vm (shard 1/2) ran in one network namespace: its kernel counters and port budget are counted once, not once per run"))
        // The kernel's increase from the earliest start to the latest end, whatever the overlap.
        let c = Self.shard(0, startMs: 1_790_000_000_000, kernelOpens: 5, atStart: 1000)
        let d = Self.shard(1, startMs: 1_790_000_001_000, kernelOpens: 6, atStart: 1002)
        #expect(try RunRecord.merge([c, d], names: []).kernelWitness?.counters["ActiveOpens"] == 8)
    }

    @Test func withoutStartValuesTheyAreAddedApartTakenOnceWhenNestedAndElseNotGuessed() throws {
        // One after the other: the increases do not overlap, so they add up.
        let a = Self.shard(0, startMs: 1_790_000_000_000, elapsed: 0.5, kernelOpens: 4, atStart: nil)
        let b = Self.shard(1, startMs: 1_790_000_000_600, elapsed: 0.5, kernelOpens: 4, atStart: nil)
        #expect(try RunRecord.merge([a, b], names: []).kernelWitness?.counters["ActiveOpens"] == 8)
        // b within a: a's counters cover both.
        let outer = Self.shard(0, startMs: 1_790_000_000_000, elapsed: 3, kernelOpens: 8, atStart: nil)
        let inner = Self.shard(1, startMs: 1_790_000_000_500, elapsed: 1, kernelOpens: 4, atStart: nil)
        #expect(try RunRecord.merge([outer, inner], names: []).kernelWitness?.counters["ActiveOpens"] == 8)
        // Overlapping, neither within the other: no witness, and the note says why.
        let c = Self.shard(0, startMs: 1_790_000_000_002, kernelOpens: 8, atStart: nil)
        let d = Self.shard(1, startMs: 1_790_000_000_000, kernelOpens: 8, atStart: nil)
        let m = try RunRecord.merge([c, d], names: [])
        #expect(m.kernelWitness == nil)
        #expect(m.notes.contains { $0.contains("could not be separated, so this record has no kernel witness") })
    }

    @Test func runsInDifferentNamespacesStillAddEvenWithOneHostName() throws {
        let other = NetworkNamespaceID(inode: 4_026_532_400, bootId: Self.vm.bootId)
        let a = Self.shard(0, startMs: 1_790_000_000_000, kernelOpens: 4, atStart: 1000)
        let b = Self.shard(1, startMs: 1_790_000_000_001, kernelOpens: 4, atStart: 1000, namespace: other)
        let m = try RunRecord.merge([a, b], names: [])
        #expect(m.kernelWitness?.counters["ActiveOpens"] == 8)
        #expect(!m.notes.contains { $0.contains("namespace") })
        // Older records without a namespace: the same host name is taken as the same namespace.
        #expect(RunRecord.sharedNamespaces([(nil, "vm"), (nil, "vm"), (nil, "pod-1")]) == [[0, 1]])
        #expect(RunRecord.sharedNamespaces([(Self.vm, "a"), (Self.vm, "b"), (other, "a")]) == [[0, 1]])
    }

    @Test func theNamespaceIsOptionalInTheRecordAndSurvivesJSON() throws {
        let a = Self.shard(0, startMs: 1_790_000_000_000, kernelOpens: 4, atStart: 1000)
        let back = try RunRecord.load(from: try a.jsonData())
        #expect(back.networkNamespace == Self.vm)
        #expect(back.kernelWitness?.countersAtStart == ["ActiveOpens": 1000, "TW": 1000])
        var old = a
        old.networkNamespace = nil
        old.kernelWitness?.countersAtStart = nil
        let json = String(decoding: try old.jsonData(), as: UTF8.self)
        #expect(!json.contains("networkNamespace") && !json.contains("countersAtStart"))
        #expect(try RunRecord.load(from: Data(json.utf8)).networkNamespace == nil)
    }
}
