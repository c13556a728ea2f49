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
    let sentSYN = run.outcomes.filter { !outcomesWithoutSYN.contains($0.key) }.values.reduce(0, +)
    #expect(Int64(sentSYN) == run.client["ActiveOpens"],
            "portstorm's outcomes \(run.nonZero) imply \(sentSYN) SYNs sent; the client's kernel counted ActiveOpens +\(run.client["ActiveOpens"])",
            sourceLocation: sourceLocation)
    #expect(!run.findings.isEmpty, "portstorm report --format json gave no findings: \(run.reportText.prefix(300))", sourceLocation: sourceLocation)
    if let record = run.record {
        let problems = ConsistencyGate.problems(record: record, findings: run.findings)
        #expect(problems.isEmpty, "report inconsistent: \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
    }
}

/// The main problem finding's topic: the most severe finding that is not about the generator or capacity.
func mainCause(_ findings: [Finding]) -> Finding? {
    findings.filter { $0.severity >= .warning }.max { $0.severity < $1.severity }
}
