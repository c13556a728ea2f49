import PortstormRecord

/// What the reporter concludes from one run record: findings with evidence and advice, plus the
/// series the charts draw. `RunAnalysis.analyze` is pure.
public struct Analysis: Codable, Sendable {
    public var findings: [Finding]
    public var onsets: [Onset]
    public var tuples: [TupleSeries]
    public var capacity: CapacityModel
    public var health: GeneratorHealth
    /// portstorm's counts beside the kernel's (nil for a record without `kernelWitness`).
    public var witness: WitnessCheck?
}

/// When one failure class began and ended, and how it relates to the local port budget.
public struct Onset: Codable, Sendable, Equatable {
    public var outcome: String
    public var cause: Outcome.Cause
    public var count: UInt64
    /// First and last second (timeline `t`) with at least one such failure.
    public var firstSecond: Int
    public var lastSecond: Int
    public var peakPerSecond: UInt64
    /// Busiest tuple's ports in use / range at the onset (the census nearest after it); nil unobserved.
    public var occupancyAtOnset: Double?
    /// Of the busiest tuple's ports in use at the onset, those already in use before the run.
    public var heldBeforeAtOnset: Int?
    /// Pearson correlation, over the seconds with a census, of this failure's count per second and
    /// the busiest tuple's occupancy; nil when there are too few points, no variation, or an
    /// occupancy that moved by less than `RunAnalysis.minOccupancySpread`.
    public var correlationWithOccupancy: Double?
    /// Seconds (with a census) behind that correlation.
    public var correlationPoints: Int = 0
}

/// One (source, destination, port) tuple over the run, from the censuses.
public struct TupleSeries: Codable, Sendable, Equatable {
    public var source: String
    public var destination: String
    public var port: UInt16
    public var rangeSize: Int
    /// Lowest and highest port of the effective range, from the first census of the tuple: the
    /// `buckets` of each point are equal slices of rangeLow...rangeHigh.
    public var rangeLow: UInt16
    public var rangeHigh: UInt16
    public var points: [TuplePoint]
    public var peakPortsInUse: Int
    public var peakOccupancy: Double
    /// Ports in use toward this tuple in the start census, before the first attempt (nil: no start
    /// census); they hold ports of the same budget.
    public var portsInUseAtStart: Int?
    /// The most ports in use at once that were not already in use at the start: this run's own.
    public var peakPortsMadeByRun: Int?
}

public struct TuplePoint: Codable, Sendable, Equatable {
    /// Milliseconds since the start of the run.
    public var atMs: Int
    public var portsInUse: Int
    /// Sockets in TIME_WAIT on a port of the range (`TupleCensus.statesInRange`); nil for a
    /// record that did not count states inside the range.
    public var timeWait: Int?
    public var established: Int
    public var buckets: [Int]
    /// Of `portsInUse`, those already in use at the start census (nil without one).
    public var heldBefore: Int?
}

/// The sustainable-rate model against what the run achieved.
public struct CapacityModel: Codable, Sendable, Equatable {
    public var rangeSize: Int
    public var tuples: Int
    /// Whether tcp_tw_reuse applied to this target (1, or 2 with a loopback target).
    public var reuseInEffect: Bool
    /// range / 60 s per tuple; nil when the client did not close first (no TIME_WAIT here).
    public var modelRatePerTuple: Double?
    public var modelRate: Double?
    /// Successful connections per second over the time attempts were being started.
    public var achievedOkRate: Double
    public var requestedRate: Double?
    /// Each host's budget, for a merged record (`RunRecord.hosts`); then `rangeSize` is the
    /// smallest host's range and `tuples` all hosts' tuples.
    public var hosts: [HostCapacity]?
}

/// Whether portstorm itself kept the requested schedule.
public struct GeneratorHealth: Codable, Sendable, Equatable {
    public var requestedRate: Double?
    public var achievedRate: Double
    public var delayed: UInt64
    public var missed: UInt64
    /// The generator (or its concurrency cap) held the rate back: over 1% delayed or missed.
    public var generatorLimited: Bool
}
