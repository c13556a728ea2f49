/// What the engine publishes while it runs, for the live line and the progress bar.
public struct LiveStatus: Sendable {
    public var elapsedSeconds: Double
    public var attempted: UInt64
    public var inFlight: UInt64
    public var outcomes: OutcomeCounts
    public var delayed: UInt64

    public init(elapsedSeconds: Double = 0, attempted: UInt64 = 0, inFlight: UInt64 = 0,
                outcomes: OutcomeCounts = OutcomeCounts(), delayed: UInt64 = 0) {
        self.elapsedSeconds = elapsedSeconds
        self.attempted = attempted
        self.inFlight = inFlight
        self.outcomes = outcomes
        self.delayed = delayed
    }

    public mutating func merge(_ other: LiveStatus) {
        elapsedSeconds = max(elapsedSeconds, other.elapsedSeconds)
        attempted += other.attempted
        inFlight += other.inFlight
        outcomes.merge(other.outcomes)
        delayed += other.delayed
    }
}
