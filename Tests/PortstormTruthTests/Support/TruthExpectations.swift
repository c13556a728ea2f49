import Foundation
import PortstormAnalysis
import Testing

/// Outcomes that end before connect() sends a SYN: the kernel's ActiveOpens does not count them.
let outcomesWithoutSYN: Set<String> = ["eaddrnotavail", "eaddrinuse", "emfile", "enfile", "enobufs", "no_route"]

/// What every run of the suite must satisfy, whatever the case: the record decodes and balances,
/// the client kernel's ActiveOpens equals the attempts that sent a SYN, `report` produced findings,
/// and those findings are consistent with each other and the record.
func expectTruthful(_ run: TruthRun, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.decodeError == nil, "the record does not decode: \(run.decodeError ?? "")", sourceLocation: sourceLocation)
    let sum = run.outcomes.values.reduce(0, +)
    #expect(run.attempted > 0 && run.attempted == sum + run.inFlightAtEnd,
            "attempted \(run.attempted) != outcomes \(sum) + in flight \(run.inFlightAtEnd)", sourceLocation: sourceLocation)
    #expect(run.inFlightAtEnd == 0, "\(run.inFlightAtEnd) attempts in flight at the end", sourceLocation: sourceLocation)
    // Attempts left in flight are already reported above; their SYNs cannot be told apart here.
    if run.inFlightAtEnd == 0 {
        let sentSYN = run.outcomes.filter { !outcomesWithoutSYN.contains($0.key) }.values.reduce(0, +)
        #expect(Int64(sentSYN) == run.client["ActiveOpens"],
                "portstorm's outcomes \(run.nonZero) imply \(sentSYN) SYNs sent; the client's kernel counted ActiveOpens +\(run.client["ActiveOpens"])",
                sourceLocation: sourceLocation)
    }
    expectWitnessAgrees(run, sourceLocation: sourceLocation)
    // portstorm's own witness: its classification of the outcomes gives the kernel's exact count
    // here (portstorm alone in the namespace), and it claims no disagreement.
    if let record = run.record, let w = RunAnalysis.analyze(record).witness, w.maybeSentSYN == 0 {
        #expect(Int64(w.sentSYN) == run.client["ActiveOpens"],
                "the report counts \(w.sentSYN) attempts that sent a SYN; the client's kernel counted ActiveOpens +\(run.client["ActiveOpens"])",
                sourceLocation: sourceLocation)
        let claims = run.findings.filter { $0.topic == "kernel-witness" && $0.severity != .ok }
        #expect(claims.isEmpty, "the kernel witness disagrees: \(claims.map(\.title))", sourceLocation: sourceLocation)
    }
    #expect(!run.findings.isEmpty, "portstorm report --format json gave no findings: \(run.reportText.prefix(300))", sourceLocation: sourceLocation)
    if let record = run.record {
        let problems = ConsistencyGate.problems(record: record, findings: run.findings)
        #expect(problems.isEmpty, "report inconsistent: \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
    }
}

/// The cause a reader is shown first: the first finding of the highest severity, at warning or above
/// (the report lists findings most severe first).
func mainCause(_ findings: [Finding]) -> Finding? {
    findings.filter { $0.severity >= .warning }.max { $0.severity < $1.severity }
}

/// Where the record keeps the kernel's counts over the run (`kernelWitness.counters`, by counter name).
let witnessKey = "kernelWitness"

/// The record's own kernel counts must be the ones the suite read around the run: ActiveOpens
/// exactly (only portstorm opens connections in the client namespace, and only while it runs),
/// PassiveOpens (at most the suite's later read) when the server shares the client's namespace.
/// Unobserved runs keep none.
func expectWitnessAgrees(_ run: TruthRun, sourceLocation: SourceLocation = #_sourceLocation) {
    let config = run.json["config"] as? [String: Any] ?? [:]
    if (config["observe"] as? Bool) == false || run.arguments.contains("--no-observe") { return }
    guard let witness = run.json[witnessKey] as? [String: Any], let counters = witness["counters"] as? [String: Any] else {
        Issue.record("the record keeps no kernel counts over the run (\(witnessKey).counters)", sourceLocation: sourceLocation)
        return
    }
    let recorded = counters.compactMapValues { ($0 as? NSNumber)?.int64Value }
    #expect(recorded["ActiveOpens"] == run.client["ActiveOpens"],
            "the record says ActiveOpens +\(recorded["ActiveOpens"].map(String.init) ?? "absent"), the kernel +\(run.client["ActiveOpens"])",
            sourceLocation: sourceLocation)
    if run.sameNamespace {
        // The server can go on accepting queued connections after portstorm's last read (a slow
        // accept loop), so the suite's later read may be higher, never lower.
        let passive = recorded["PassiveOpens"]
        #expect(passive != nil && passive! <= run.server["PassiveOpens"] && passive! >= 0,
                "the record says PassiveOpens +\(passive.map(String.init) ?? "absent"), the kernel +\(run.server["PassiveOpens"]) by the end",
                sourceLocation: sourceLocation)
    }
}
