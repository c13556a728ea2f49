import PortstormAnalysis
import PortstormRecord

/// The one place the truth suite calls the report consistency checker
/// (`ReportConsistency.problems(record:findings:)`, empty when no finding contradicts another or
/// the record), so that a change to its signature is a change here only.
enum ConsistencyGate {
    static func problems(record: RunRecord, findings: [Finding]) -> [String] {
        ReportConsistency.problems(record: record, findings: findings)
    }
}
