/// What a lab did, variant by variant: what `portstorm lab NAME --json` prints.
public struct LabResult: Codable, Sendable, Equatable {
    /// One run of the lab, judged from its record.
    public struct Variant: Codable, Sendable, Equatable {
        public var role: String
        public var title: String
        /// The outcome the run should mostly end in (an outcome name).
        public var expected: String
        /// The most frequent outcome; for a broken run, the most frequent failure.
        public var dominant: String
        public var attempted: UInt64
        public var outcomes: [String: UInt64]
        public var failureShare: Double
        /// The topic and title of the reporter's first warning (else its first finding).
        public var topFinding: String?
        public var topFindingTitle: String?
        public var asExpected: Bool

        public init(role: String, title: String, expected: String, dominant: String, attempted: UInt64, outcomes: [String: UInt64],
                    failureShare: Double, topFinding: String?, topFindingTitle: String?, asExpected: Bool) {
            self.role = role
            self.title = title
            self.expected = expected
            self.dominant = dominant
            self.attempted = attempted
            self.outcomes = outcomes
            self.failureShare = failureShare
            self.topFinding = topFinding
            self.topFindingTitle = topFindingTitle
            self.asExpected = asExpected
        }
    }

    public var lab: String
    public var namespace: String
    public var variants: [Variant]
    public var interrupted: Bool
    public var asExpected: Bool

    public init(lab: String, namespace: String, variants: [Variant], interrupted: Bool, asExpected: Bool) {
        self.lab = lab
        self.namespace = namespace
        self.variants = variants
        self.interrupted = interrupted
        self.asExpected = asExpected
    }
}
