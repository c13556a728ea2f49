import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

/// `run --shard/--start-at` input checks, `portstorm merge` and `report` with several records.
@Suite struct MergeCommandTests {
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-merge-\(getpid())-\(Int.random(in: 0..<1_000_000))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ r: RunRecord, _ dir: URL, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try r.jsonData().write(to: url)
        return url.path
    }

    static func expectOneLine(_ r: CLIProcess.Result, _ fragment: String) {
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test(arguments: [
        (["--shard", "4/4"], "--shard wants I/N with 0 <= I < N"),
        (["--shard", "x"], "--shard wants I/N"),
        (["--shard", "0/8", "-c", "4"], "--concurrency 4 cannot be split over 8 shards"),
        (["--shard", "0/8", "-n", "5"], "--connections 5 cannot be split over 8 shards"),
        (["--start-at", "tomorrow"], "--start-at wants an RFC 3339 time"),
        (["--start-at", "2999-01-01T00:00:00Z"], "is more than a day away"),
    ])
    func badShardInputGetsOneLine(extra: [String], fragment: String) throws {
        Self.expectOneLine(try CLIProcess.run(["run", "127.0.0.1:9"] + extra), fragment)
    }

    @Test func aShardThatStartsLateSaysByHowMuch() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("late.json").path
        let at = Int(Date().timeIntervalSince1970) - 3
        let r = try CLIProcess.run(["run", "127.0.0.1:\(server.address.port)", "-n", "20", "-c", "4", "--close", "rst", "--quiet",
                                    "--shard", "1/2", "--start-at", "\(at)", "--name", "late-pod", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(record.totals.attempted == 10 && record.config.concurrency == 2 && record.config.shard == Shard(index: 1, count: 2))
        #expect(record.hostName == "late-pod")
        let late = try #require(record.startLateMs)
        #expect(late >= 3000 && late < 10_000)
        #expect(record.notes.contains { $0.hasPrefix(String(format: "started %.1f s after --start-at", Double(late) / 1000)) }, "\(record.notes)")
    }

    @Test func recordsThatDoNotBelongTogetherAreRefused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.write(hostRecord("a", startMs: 1_790_000_000_000, perSecond: [[100]], shard: Shard(index: 0, count: 2)), dir, "a.json")
        let b = try Self.write(hostRecord("b", startMs: 1_790_000_000_000, perSecond: [[100]], shard: Shard(index: 1, count: 2),
                                          target: "10.203.0.2:9000"), dir, "b.json")
        Self.expectOneLine(try CLIProcess.run(["merge", a, b]), "\(b) loaded 10.203.0.2:9000, not 10.203.0.1:9000 (\(a)): records of different targets cannot be merged")
        Self.expectOneLine(try CLIProcess.run(["report", a, b]), "records of different targets cannot be merged")
        Self.expectOneLine(try CLIProcess.run(["merge", a]), "give at least two run records to merge")
        Self.expectOneLine(try CLIProcess.run(["merge", a, a]), "are the same run")
    }

    @Test func reportMergesSeveralRecords() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.write(hostRecord("a", startMs: 1_790_000_000_000, perSecond: [[100], [200]], shard: Shard(index: 0, count: 2)), dir, "a.json")
        let b = try Self.write(hostRecord("b", startMs: 1_790_000_000_400, perSecond: [[300], [400]], shard: Shard(index: 1, count: 2),
                                          eaddrnotavailAt: 1, portRange: [40000, 40009]), dir, "b.json")
        let r = try CLIProcess.run(["report", a, b])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("  2 hosts: a, b (out of ports from second 1)"))
        #expect(r.stdout.contains("b ran out of local ports first, at second 1 (1 source x 10 ports); 1 of 2 hosts did not"))
        let out = dir.appendingPathComponent("m.json").path
        let m = try CLIProcess.run(["merge", a, b, "-o", out])
        #expect(m.status == 0 && m.stdout.contains("merged record: \(out) (2 hosts)"), "\(m.stderr)")
        let merged = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(merged.totals.attempted == 9 && merged.hosts?.count == 2)
    }

    @Test(.enabled(if: RecordSchemaTests.skipReason == nil, "\(RecordSchemaTests.skipReason ?? "")"))
    func aMergedRecordIsValid() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = hostRecord("a", startMs: 1_790_000_000_900, perSecond: [[100], [200, 300]], shard: Shard(index: 0, count: 2))
        var b = hostRecord("b", startMs: 1_790_000_001_100, perSecond: [[300], [400]], shard: Shard(index: 1, count: 2), eaddrnotavailAt: 0)
        b.startLateMs = 1_100
        let path = try Self.write(try RunRecord.merge([a, b], names: ["a", "b"]), dir, "m.json")
        let v = try RecordSchemaTests.python([RecordSchemaTests.validator.path, "--strict", path])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }
}
