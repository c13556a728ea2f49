/// One thing the analysis has to say: what it found, the figures behind it, and what to do.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable, Comparable {
        case ok, info, warning, problem
        private var rank: Int { [.ok: 0, .info: 1, .warning: 2, .problem: 3][self]! }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var severity: Severity
    /// A stable identifier of the check (`port-budget`, `tw-reuse`, ...), for tests and tooling.
    public var topic: String
    public var title: String
    /// Figures from the system or the record that support the finding.
    public var evidence: [String]
    /// What to change, most useful first. Never tcp_tw_recycle; never tcp_fin_timeout for TIME_WAIT.
    public var advice: [String]

    public init(_ severity: Severity, _ topic: String, _ title: String, evidence: [String] = [], advice: [String] = []) {
        self.severity = severity
        self.topic = topic
        self.title = title
        self.evidence = evidence
        self.advice = advice
    }
}
