/// What the engine publishes while it runs, for the live line and the progress bar.
public struct LiveStatus: Sendable {
    public var elapsedSeconds: Double
    public var attempted: UInt64
    public var inFlight: UInt64
    public var outcomes: OutcomeCounts
    public var delayed: UInt64
    /// TIME_WAIT sockets in the namespace (sockstat), when the run is observed.
    public var timeWait: Int64?
    /// The busiest tuple's ports in use and effective range size, from the last census.
    public var portsInUse: Int?
    public var portRange: Int?

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
