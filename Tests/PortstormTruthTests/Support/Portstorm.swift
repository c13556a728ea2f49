import Foundation
import PortstormAnalysis
import PortstormRecord

/// The built `portstorm` binary, run inside the test's namespaces as a user would run it.
enum Portstorm {
    /// The binary sits beside the test bundle in the build products folder.
    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("portstorm")
    }
}

/// One `portstorm run -o FILE` inside the client namespace, with what the kernels counted around it,
/// and what `portstorm report` made of its record.
struct TruthRun {
    /// What followed `portstorm run TARGET`.
    let arguments: [String]
    /// Whether client and server share one namespace (`TruthNet.single()`).
    let sameNamespace: Bool
    let command: CommandResult
    /// `totals.outcomes` as written (read as plain JSON, so that a name this build's `Outcome`
    /// does not know still shows up).
    let outcomes: [String: UInt64]
    /// The record as JSON, for fields the test reads directly (`totals.httpStatuses`, ...).
    let json: [String: Any]
    /// The record decoded by PortstormRecord (nil when it does not decode; `decodeError` says why).
    let record: RunRecord?
    let decodeError: String?
    /// Counter deltas over the run: the client's namespace and the server's (the same one in `single()`).
    let client: KernelCounters
    let server: KernelCounters
    /// `portstorm report FILE --format json`: the findings the user would be shown.
    let findings: [Finding]
    /// `portstorm report FILE` (text).
    let reportText: String

    subscript(_ outcome: String) -> UInt64 { outcomes[outcome] ?? 0 }

    var totals: [String: Any] { json["totals"] as? [String: Any] ?? [:] }
    var attempted: UInt64 { (totals["attempted"] as? NSNumber)?.uint64Value ?? 0 }
    var inFlightAtEnd: UInt64 { (totals["inFlightAtEnd"] as? NSNumber)?.uint64Value ?? 0 }
    var causes: [String: String] { totals["causes"] as? [String: String] ?? [:] }
    /// `totals.httpStatuses`: status code (as text) -> count.
    var httpStatuses: [String: UInt64] {
        (totals["httpStatuses"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.uint64Value }
    }
    var mismatchSamples: [String] { totals["mismatchSamples"] as? [String] ?? [] }
    /// `timeline[].httpStatuses` summed over the seconds.
    var timelineHTTPStatuses: [String: UInt64] {
        var sum: [String: UInt64] = [:]
        for second in json["timeline"] as? [[String: Any]] ?? [] {
            for (code, n) in second["httpStatuses"] as? [String: Any] ?? [:] { sum[code, default: 0] += (n as? NSNumber)?.uint64Value ?? 0 }
        }
        return sum
    }

    /// `kernelWitness.counters[name]`: the kernel's count over the run as the record keeps it.
    func witnessed(_ name: String) -> Int64? {
        ((json[witnessKey] as? [String: Any])?["counters"] as? [String: Any])?[name].flatMap { ($0 as? NSNumber)?.int64Value }
    }

    /// The outcomes without the zero ones, for exact comparisons.
    var nonZero: [String: UInt64] { outcomes.filter { $0.value > 0 } }

    /// Every finding's title, evidence and advice in one lowercased text, for "names the cause" checks.
    var findingsText: String { Self.text(findings) }

    static func text(_ findings: [Finding]) -> String {
        findings.map { ([$0.title] + $0.evidence + $0.advice).joined(separator: "\n") }.joined(separator: "\n").lowercased()
    }

    /// The findings at warning or above, the ones a reader acts on.
    var problems: [Finding] { findings.filter { $0.severity >= .warning } }
}

/// `portstorm diagnose --json` from the client namespace.
struct TruthDiagnosis {
    let command: CommandResult
    let findings: [Finding]
    let json: [String: Any]

    var text: String { TruthRun.text(findings) }
    var topics: [String] { findings.map(\.topic) }
    var problems: [Finding] { findings.filter { $0.severity >= .warning } }
}

extension TruthNet {
    /// Runs `portstorm run TARGET ARGS -o FILE --quiet` in the client namespace, reading both
    /// namespaces' counters just before and just after, then `portstorm report` on the record.
    /// `environment` adds variables for portstorm (e.g. PORTSTORM_CONNECT_CHECK).
    func run(_ target: String, _ args: [String], environment: [String] = [], timeout: Double = 60) throws -> TruthRun {
        let file = dir.appendingPathComponent("run-\(UUID().uuidString).json")
        let c0 = try counters(client), s0 = try counters(server)
        let r = try exec(client, (environment.isEmpty ? [] : ["env"] + environment)
                         + [Portstorm.binary.path, "run", target] + args + ["--quiet", "-o", file.path], timeout: timeout)
        let c1 = try counters(client), s1 = try counters(server)
        guard let data = try? Data(contentsOf: file),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CommandError(description: "portstorm run \(target) wrote no record (exit \(r.status)): \(r.stderr.prefix(600))\n\(r.stdout.prefix(600))")
        }
        let totals = json["totals"] as? [String: Any] ?? [:]
        let outcomes = (totals["outcomes"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.uint64Value }
        var record: RunRecord?
        var decodeError: String?
        do { record = try RunRecord.load(from: data) } catch { decodeError = "\(error)" }
        let report = try Command.run([Portstorm.binary.path, "report", file.path, "--format", "json"])
        struct Findings: Decodable { let findings: [Finding] }
        let findings = (try? JSONDecoder().decode(Findings.self, from: Data(report.stdout.utf8)))?.findings ?? []
        let text = try Command.run([Portstorm.binary.path, "report", file.path])
        return TruthRun(arguments: args, sameNamespace: client == server, command: r, outcomes: outcomes, json: json, record: record, decodeError: decodeError,
                        client: c1 - c0, server: s1 - s0, findings: findings,
                        reportText: text.stdout + (report.succeeded ? "" : "\n[report --format json exited \(report.status): \(report.stderr)]"))
    }

    /// `portstorm diagnose TARGET --json ARGS` in the client namespace.
    func diagnose(_ target: String, _ args: [String] = [], timeout: Double = 60) throws -> TruthDiagnosis {
        let r = try exec(client, [Portstorm.binary.path, "diagnose", target, "--json"] + args, timeout: timeout)
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        struct Findings: Decodable { let findings: [Finding] }
        let findings = (try? JSONDecoder().decode(Findings.self, from: Data(r.stdout.utf8)))?.findings ?? []
        return TruthDiagnosis(command: r, findings: findings, json: json)
    }
}
