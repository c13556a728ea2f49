import PortstormAnalysis
import PortstormRecord

/// One lab run judged from its record, with what the reporter says first about it.
public struct LabJudgement: Sendable {
    public var variant: LabResult.Variant
    /// The reporter's first warning (else its first finding): what a broken run is explained by.
    public var top: Finding?
    /// For a fix: whether the failures the broken runs reproduced are gone.
    public var fix: FixCheck?
}

/// What a fixed run shows of the failures the lab reproduced before it.
public struct FixCheck: Sendable, Equatable {
    /// The failures the broken runs reproduced, by name.
    public var reproduced: [String]
    /// Those still present in the fixed run, with their counts, by name.
    public var stillFailing: [OutcomeCount]
    /// Other failures of the fixed run (expected with some set-ups, e.g. response_timeout), by name.
    public var others: [OutcomeCount]

    public struct OutcomeCount: Sendable, Equatable {
        public var name: String
        public var count: UInt64
        public init(name: String, count: UInt64) {
            self.name = name
            self.count = count
        }
    }

    public var fixed: Bool { stillFailing.isEmpty }
}

/// Whether a lab run ended as the lab says it should. Pure: from the run's record only.
public enum LabVerdict {
    /// A broken run must fail mostly as the lab says; a fix must end mostly as expected (for
    /// `ok`: under 1% failures); a run that only prepares the namespace always passes.
    /// `reproduced`: the failures the lab's broken runs so far were meant to show.
    public static func judge(_ v: LabVariant, record: RunRecord, reproduced: Set<Outcome> = []) -> LabJudgement {
        let totals = record.totals
        let dominant = totals.outcomes.nonZero.max { $0.count < $1.count }?.outcome
        let dominantFailure = totals.outcomes.nonZero.filter { !$0.outcome.isOK }.max { $0.count < $1.count }?.outcome
        let share = Double(totals.outcomes.failures) / Double(max(1, totals.attempted))
        let asExpected: Bool
        switch v.role {
        case .prepare: asExpected = true
        case .broken: asExpected = dominantFailure == v.expected
        case .fix: asExpected = v.expected.isOK ? share < 0.01 : dominant == v.expected
        }
        let findings = RunAnalysis.analyze(record).findings
        let top = findings.first { $0.severity >= .warning } ?? findings.first
        let shown = v.role == .broken ? (dominantFailure ?? dominant) : dominant
        let variant = LabResult.Variant(
            role: v.role.rawValue, title: v.title, expected: v.expected.name, dominant: shown?.name ?? "none",
            attempted: totals.attempted, outcomes: totals.outcomes.byName, failureShare: share,
            topFinding: top?.topic, topFindingTitle: top?.title, asExpected: asExpected)
        var fix: FixCheck?
        if v.role == .fix {
            let failing = totals.outcomes.nonZero.filter { !$0.outcome.isOK }
            fix = FixCheck(
                reproduced: reproduced.map(\.name).sorted(),
                stillFailing: failing.filter { reproduced.contains($0.outcome) }.map { .init(name: $0.outcome.name, count: $0.count) }
                    .sorted { $0.name < $1.name },
                others: failing.filter { !reproduced.contains($0.outcome) }.map { .init(name: $0.outcome.name, count: $0.count) }
                    .sorted { $0.name < $1.name })
        }
        return LabJudgement(variant: variant, top: top, fix: fix)
    }

    /// The lab as a whole: every variant ran and each ended as expected.
    public static func allAsExpected(_ lab: Lab, _ variants: [LabResult.Variant]) -> Bool {
        variants.count == lab.variants.count && variants.allSatisfy(\.asExpected)
    }
}
