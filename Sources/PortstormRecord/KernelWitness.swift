/// What the kernel of the run's network namespace saw over the whole run, to set beside
/// portstorm's own counts: counter increases from the read before the first attempt to the read
/// after the last attempt finished, and the sockets toward the target that were there before.
public struct KernelWitness: Codable, Sendable, Equatable {
    /// Increase over the run of the counters in `ProcCounters.witnessed` (/proc/net/snmp `Tcp`,
    /// /proc/net/netstat `TcpExt`), by name, zeros kept. Namespace-wide: every program in the
    /// namespace moves them, so they bound this run's share from above. Counters the kernel lacks
    /// are absent.
    public var counters: [String: Int64]
    /// The same counters' values at the start (absolute, since boot or since the namespace was
    /// made): with `counters` they give the values at the end, so that a merge of runs in one
    /// namespace takes the increase over all of them once. Absent from older records.
    public var countersAtStart: [String: Int64]?
    /// Whether something listens on the target port at the target address in this namespace
    /// (sock_diag LISTEN entries, the address bindable here): then PassiveOpens and
    /// ListenOverflows count the server's side too. nil when it could not be told.
    public var serverIsLocal: Bool?
    /// The sock_diag census toward the target before the first attempt (trigger `start`):
    /// sockets an earlier run or another program left, which hold ports of the same budget.
    public var startCensus: Census?
    /// /proc/net/sockstat `tw` (whole namespace) before the first attempt and at the end.
    public var timeWaitAtStart: Int64?
    public var timeWaitAtEnd: Int64?

    public init(counters: [String: Int64], serverIsLocal: Bool? = nil, startCensus: Census? = nil,
                timeWaitAtStart: Int64? = nil, timeWaitAtEnd: Int64? = nil) {
        self.counters = counters
        self.serverIsLocal = serverIsLocal
        self.startCensus = startCensus
        self.timeWaitAtStart = timeWaitAtStart
        self.timeWaitAtEnd = timeWaitAtEnd
    }
}
