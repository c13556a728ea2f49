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
    /// Every tuple of the last census (sock_diag), when the run is observed.
    public var tuples: [TupleCensus]?
    /// Connects completed so far at or below each of `connectBoundsUs` (cumulative), their count
    /// and the exact sum of their latencies in microseconds.
    public var connectBuckets: [UInt64] = []
    public var connectCount: UInt64 = 0
    public var connectSumUs: Double = 0
    /// TLS runs: handshakes completed so far at or below each of `connectBoundsUs` (cumulative,
    /// the same bounds as connects), their count and the exact sum of their latencies in
    /// microseconds. Nil without TLS.
    public var handshakeBuckets: [UInt64]?
    public var handshakeCount: UInt64 = 0
    public var handshakeSumUs: Double = 0

    /// Bounds of the connect latency buckets published while a run goes on, in microseconds:
    /// 100 us to 10 s, as Prometheus' default buckets but starting lower (loopback connects take tens of us).
    public static let connectBoundsUs: [UInt64] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
                                                   250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000]

    /// The live bucket a latency falls in: the first bound it does not pass, or
    /// `connectBoundsUs.count` above them all.
    @inline(__always)
    public static func bucket(_ us: UInt64) -> Int {
        var b = 0
        while b < connectBoundsUs.count && us > connectBoundsUs[b] { b += 1 }
        return b
    }

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
        if connectBuckets.isEmpty { connectBuckets = other.connectBuckets }
        else if other.connectBuckets.count == connectBuckets.count {
            for i in connectBuckets.indices { connectBuckets[i] &+= other.connectBuckets[i] }
        }
        connectCount &+= other.connectCount
        connectSumUs += other.connectSumUs
        if let theirs = other.handshakeBuckets {
            if let mine = handshakeBuckets, mine.count == theirs.count {
                for i in mine.indices { handshakeBuckets![i] &+= theirs[i] }
            } else if handshakeBuckets == nil {
                handshakeBuckets = theirs
            }
            handshakeCount &+= other.handshakeCount
            handshakeSumUs += other.handshakeSumUs
        }
    }
}
