import Foundation

/// One generator host's part of a merged record (`RunRecord.hosts`, written by `portstorm merge`):
/// what its own record said about itself, kept because the hosts' settings and port budgets differ.
public struct HostRun: Codable, Sendable {
    /// The host or pod name its record carried (`RunRecord.hostName`).
    public var hostName: String
    /// Its record's `networkNamespace` (absent when that record had none).
    public var networkNamespace: NetworkNamespaceID?
    public var shard: Shard?
    public var startedAt: Date
    /// Unix time in milliseconds at which its first attempt was due.
    public var startedAtMs: Int64
    /// How long after `--start-at` it began, ms (nil without --start-at).
    public var startLateMs: Int64?
    /// Where its second 0 lies on the merged timeline.
    public var offsetSeconds: Int
    public var elapsedSeconds: Double
    public var stopReason: StopReason
    /// Its share of the load: --rate, --concurrency and --connections as it ran them.
    public var rate: Double?
    public var concurrency: Int
    public var connections: Int?
    /// The target address it connected to.
    public var targetUsed: String
    public var sources: [String]
    public var system: SystemSnapshot
    public var portBudget: HostPortBudget
    public var totals: Totals
    public var latency: LatencySummary
    /// The merged second (`t`) of its first eaddrnotavail or eaddrinuse (nil: it never ran out).
    public var firstExhaustionSecond: Int?
    /// The highest occupancy of its busiest tuple in its censuses (nil when not observed).
    public var peakOccupancy: Double?
    public var notes: [String]
    public var kernelWitness: KernelWitness?
    public var process: ProcessStats?

    public init(hostName: String, shard: Shard?, startedAt: Date, startedAtMs: Int64, startLateMs: Int64?, offsetSeconds: Int,
                elapsedSeconds: Double, stopReason: StopReason, rate: Double?, concurrency: Int, connections: Int?,
                targetUsed: String, sources: [String], system: SystemSnapshot, portBudget: HostPortBudget, totals: Totals,
                latency: LatencySummary, firstExhaustionSecond: Int?, peakOccupancy: Double?, notes: [String],
                kernelWitness: KernelWitness?, process: ProcessStats?) {
        self.hostName = hostName
        self.shard = shard
        self.startedAt = startedAt
        self.startedAtMs = startedAtMs
        self.startLateMs = startLateMs
        self.offsetSeconds = offsetSeconds
        self.elapsedSeconds = elapsedSeconds
        self.stopReason = stopReason
        self.rate = rate
        self.concurrency = concurrency
        self.connections = connections
        self.targetUsed = targetUsed
        self.sources = sources
        self.system = system
        self.portBudget = portBudget
        self.totals = totals
        self.latency = latency
        self.firstExhaustionSecond = firstExhaustionSecond
        self.peakOccupancy = peakOccupancy
        self.notes = notes
        self.kernelWitness = kernelWitness
        self.process = process
    }
}

extension HostRun {
    /// The hosts' names for a sentence, each with its shard (or its place) when a name repeats.
    public static func names(_ hosts: [HostRun]) -> [String] {
        hosts.enumerated().map { i, h in
            guard hosts.filter({ $0.hostName == h.hostName }).count > 1 else { return h.hostName }
            return h.hostName + (h.shard.map { " (shard \($0))" } ?? " (#\(i + 1))")
        }
    }
}

/// A host's ephemeral-port budget toward the target: its effective range (PortBudget.effectiveRange
/// over its own system snapshot and --local-ports) times its source addresses (1 when the kernel chose).
public struct HostPortBudget: Codable, Sendable, Equatable {
    public var rangeLow: UInt16
    public var rangeHigh: UInt16
    public var rangeSize: Int
    /// (source, destination, port) tuples: its --source addresses, or 1.
    public var tuples: Int
    /// Whether tcp_tw_reuse applied toward the target on that host.
    public var reuseInEffect: Bool

    public init(rangeLow: UInt16, rangeHigh: UInt16, rangeSize: Int, tuples: Int, reuseInEffect: Bool) {
        self.rangeLow = rangeLow
        self.rangeHigh = rangeHigh
        self.rangeSize = rangeSize
        self.tuples = tuples
        self.reuseInEffect = reuseInEffect
    }

    /// Ports the host can hold toward the target at once.
    public var ports: Int {
        let (p, overflow) = rangeSize.multipliedReportingOverflow(by: tuples)
        return overflow ? .max : p
    }
}
