/// The kernel's side of one second of a run: socket counts, failure-explaining counters, and the
/// census of the run's 4-tuples.
public struct KernelSecond: Codable, Sendable, Equatable {
    /// /proc/net/sockstat (TCP line, plus TCP6 inuse), last sample of the second.
    public var sockstat: SockstatSample?
    /// Increase during the second of the counters that explain failures, from /proc/net/netstat
    /// (TcpExt) and /proc/net/snmp (Tcp), by name; absent counters are left out.
    public var counters: [String: Int64]
    /// The last sock_diag census taken during the second (nil when none was).
    public var census: Census?

    public init(sockstat: SockstatSample? = nil, counters: [String: Int64] = [:], census: Census? = nil) {
        self.sockstat = sockstat
        self.counters = counters
        self.census = census
    }
}

/// One read of /proc/net/sockstat(6): TCP sockets of the namespace.
public struct SockstatSample: Codable, Sendable, Equatable {
    /// Sockets in use (TCP inuse + TCP6 inuse).
    public var inuse: Int64
    public var orphan: Int64
    /// TIME_WAIT sockets, IPv4 and IPv6 together (the kernel counts them in one `tw`).
    public var tw: Int64
    public var alloc: Int64
    /// Pages of TCP buffer memory.
    public var mem: Int64

    public init(inuse: Int64, orphan: Int64, tw: Int64, alloc: Int64, mem: Int64) {
        self.inuse = inuse
        self.orphan = orphan
        self.tw = tw
        self.alloc = alloc
        self.mem = mem
    }
}

/// A NETLINK_SOCK_DIAG census of the sockets toward the target, per 4-tuple budget.
public struct Census: Codable, Sendable, Equatable {
    /// Milliseconds since the start of the run when the census was taken.
    public var atMs: Int
    /// Why it was taken: `periodic` (about every second), `burst` (eaddrnotavail/eaddrinuse
    /// started to grow), `final` (when the run was over), or `start` (before the first attempt:
    /// `KernelWitness.startCensus`).
    public var trigger: String
    /// How long the dump took, in microseconds.
    public var tookUs: Int
    public var tuples: [TupleCensus]

    public init(atMs: Int, trigger: String, tookUs: Int, tuples: [TupleCensus]) {
        self.atMs = atMs
        self.trigger = trigger
        self.tookUs = tookUs
        self.tuples = tuples
    }

    /// The tuple with the largest share of its range in use (within one host every tuple has the
    /// same range, so it is also the one with the most ports in use; a merged record's census holds
    /// several hosts' tuples, whose ranges differ).
    public var busiest: TupleCensus? {
        tuples.max { ($0.occupancy, $0.portsInUse) < ($1.occupancy, $1.portsInUse) }
    }
}

/// Sockets of one (source IP, destination IP, destination port) tuple: the unit of the ephemeral
/// port budget (connect() may reuse a local port as long as the whole 4-tuple is unique).
public struct TupleCensus: Codable, Sendable, Equatable {
    public var source: String
    public var destination: String
    public var port: UInt16
    /// Sockets toward the tuple per TCP state name (`ESTABLISHED`, `TIME_WAIT`, `SYN_SENT`, ...),
    /// on any local port: sockets outside the effective range (an earlier run's, another
    /// program's) count here too. What holds this run's budget is `statesInRange`.
    public var states: [String: Int]
    /// Local ports held inside the effective range (any state).
    public var portsInUse: Int
    /// Size of the effective range: the per-socket range when one was set, else
    /// ip_local_port_range, minus ip_local_reserved_ports.
    public var rangeSize: Int
    /// Lowest and highest port of the effective range.
    public var rangeLow: UInt16
    public var rangeHigh: UInt16
    /// Ports in use per equal slice of the range, low ports first (for a heatmap).
    public var buckets: [Int]
    /// Of `portsInUse`, the ports that were already in use toward this tuple at the start census
    /// (sockets left from before the run, or new ones that took over their tuple). nil in the
    /// start census itself and when there was none.
    public var heldBefore: Int?
    /// The same counts as `states`, for the sockets whose local port lies inside the effective
    /// range only: the ones that hold ports of this tuple's budget (they add up to `portsInUse`).
    /// nil in records written before it was counted.
    public var statesInRange: [String: Int]?

    public init(source: String, destination: String, port: UInt16, states: [String: Int], portsInUse: Int,
                rangeSize: Int, rangeLow: UInt16, rangeHigh: UInt16, buckets: [Int], heldBefore: Int? = nil,
                statesInRange: [String: Int]? = nil) {
        self.heldBefore = heldBefore
        self.statesInRange = statesInRange
        self.source = source
        self.destination = destination
        self.port = port
        self.states = states
        self.portsInUse = portsInUse
        self.rangeSize = rangeSize
        self.rangeLow = rangeLow
        self.rangeHigh = rangeHigh
        self.buckets = buckets
    }

    /// Sockets in TIME_WAIT holding a port of the range (nil: a record without `statesInRange`).
    public var timeWaitInRange: Int? { statesInRange.map { $0["TIME_WAIT"] ?? 0 } }

    /// portsInUse / rangeSize, 0 when the range is empty.
    public var occupancy: Double { rangeSize > 0 ? Double(portsInUse) / Double(rangeSize) : 0 }
}
