import Foundation
import PortstormEngine
import PortstormLab
import PortstormRecord
import PortstormTestSupport
import Testing

/// The lab runner in-process, in a stand-in site (no root, no namespace): what it sets up, in
/// which order, what it runs, and how it judges the records the runs write.
@Suite struct LabRunnerTests {
    /// Records each call; a run writes the record `records` gives for its target to its `-o` file.
    final class FakeSite: LabSite, @unchecked Sendable {
        let name = "fake-site"
        var calls: [String] = []
        var removed = 0
        var status: Int32 = 0
        let records: (String) -> RunRecord?
        var onRun: () -> Void = {}
        init(records: @escaping (String) -> RunRecord?) { self.records = records }

        func sysctl(_ key: String, _ value: String) throws { calls.append("sysctl \(key)=\(value)") }
        func exec(_ args: [String]) throws { calls.append("exec " + args.joined(separator: " ")) }
        func spawn(_ args: [String]) throws { calls.append("spawn " + args.dropFirst().joined(separator: " ")) }
        func status(_ args: [String]) throws -> Int32 {
            calls.append("status " + args.dropFirst().prefix(2).joined(separator: " "))
            onRun()
            let i = try #require(args.firstIndex(of: "-o"))
            #expect(args.suffix(3).first == "--quiet", "a lab's runs print nothing of their own")
            if let r = records(args[2]) { try r.jsonData().write(to: URL(fileURLWithPath: args[i + 1])) }
            return status
        }
        func remove() { removed += 1 }
    }

    static let lab = Lab(
        name: "fake", summary: "a narrow range", sysctls: [("net.ipv4.ip_local_port_range", "40000 40299")], setup: [["ip", "addr"]],
        variants: [
            LabVariant(role: .broken, title: "narrow", servers: [(.hold, "127.0.0.1:8080")], runArguments: ["127.0.0.1:8080", "-n", "9"],
                       expected: .eaddrnotavail),
            LabVariant(role: .fix, title: "wide", sysctls: [("net.ipv4.ip_local_port_range", "20000 60999")],
                       servers: [(.hold, "127.0.0.1:8081")], runArguments: ["127.0.0.1:8081", "-n", "9"], expected: .ok),
        ])

    static func records(_ target: String) -> RunRecord? {
        switch target {
        case "127.0.0.1:8080": return LabVerdictTests.exhausted()
        case "127.0.0.1:8081": return LabVerdictTests.seconds(ok: 100)
        default: return nil
        }
    }

    func runner() -> LabRunner {
        var r = LabRunner(lab: Self.lab, executable: "/bin/portstorm")
        r.serverStartMicros = 0
        return r
    }

    @Test func eachVariantIsSetUpRunAndJudgedInOrder() throws {
        let site = FakeSite(records: Self.records)
        var events: [String] = []
        let result = try runner().run(in: site, control: RunControl()) { event in
            switch event {
            case .started(let lab, let name): events.append("started \(lab.name) \(name)")
            case .running(let v, _): events.append("running \(v.title)")
            case .judged(let j): events.append("judged \(j.variant.title) \(j.variant.asExpected)")
            case .finished(let r): events.append("finished \(r.asExpected)")
            }
        }
        #expect(site.calls == [
            "sysctl net.ipv4.ip_local_port_range=40000 40299", "exec ip addr",
            "spawn serve --mode hold --listen 127.0.0.1:8080 -d 300s", "status run 127.0.0.1:8080",
            "sysctl net.ipv4.ip_local_port_range=20000 60999",
            "spawn serve --mode hold --listen 127.0.0.1:8081 -d 300s", "status run 127.0.0.1:8081",
        ])
        #expect(events == ["started fake fake-site", "running narrow", "judged narrow true", "running wide", "judged wide true", "finished true"])
        #expect(result.asExpected && !result.interrupted && result.namespace == "fake-site")
        #expect(result.variants.map(\.dominant) == ["eaddrnotavail", "ok"])
        #expect(result.variants[0].topFinding == "port-exhaustion")
        #expect(site.removed >= 1, "the site is removed at the end")
    }

    @Test func aFixThatStillFailsMakesTheLabNotAsExpected() throws {
        let site = FakeSite { $0 == "127.0.0.1:8081" ? LabVerdictTests.seconds(ok: 100, ["eaddrnotavail": 50]) : Self.records($0) }
        var fix: FixCheck?
        let result = try runner().run(in: site, control: RunControl()) { if case .judged(let j) = $0, j.fix != nil { fix = j.fix } }
        #expect(!result.asExpected && result.variants.map(\.asExpected) == [true, false])
        #expect(fix?.stillFailing == [FixCheck.OutcomeCount(name: "eaddrnotavail", count: 150)])
    }

    @Test func aStopRequestEndsTheLabBetweenVariants() throws {
        let control = RunControl()
        let site = FakeSite(records: Self.records)
        site.onRun = { control.escalate() }
        let result = try runner().run(in: site, control: control)
        #expect(result.interrupted && !result.asExpected && result.variants.count == 1)
        #expect(!site.calls.contains("status run 127.0.0.1:8081"))
        #expect(site.removed >= 1)
    }

    @Test func aRunThatWritesNoRecordOrCannotStartIsAnErrorAndTheSiteIsStillRemoved() throws {
        let silent = FakeSite { _ in nil }
        #expect(throws: LabError.self) { try runner().run(in: silent, control: RunControl()) }
        #expect(silent.removed >= 1)
        let unavailable = FakeSite(records: Self.records)
        unavailable.status = 69
        #expect(throws: LabRunUnavailable.self) { try runner().run(in: unavailable, control: RunControl()) }
        #expect(unavailable.removed >= 1)
    }
}
