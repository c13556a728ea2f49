import PortstormRecord
import PortstormSystem

/// Samples the kernel beside a run: /proc/net/sockstat and the failure-explaining counters of
/// /proc/net/netstat and /proc/net/snmp every 100 ms, a sock_diag census about every second and
/// at once when eaddrnotavail/eaddrinuse start to grow. Lives on the engine's watching thread.
public final class KernelObserver: RunObserver {
    let target: SocketAddress
    let localPorts: PortRange?
    let censusEveryNs: UInt64 = 1_000_000_000
    let burstGapNs: UInt64 = 200_000_000

    private var startNs: UInt64 = 0
    private var census: CensusTaker?
    private var seconds: [Int: KernelSecond] = [:]
    /// Counter values when the current second began, and at the latest sample.
    private var baseline: [String: Int64] = [:]
    private var lastRead: [String: Int64] = [:]
    private var currentT = 0
    private var lastCensusNs: UInt64 = 0
    private var lastLocalFailures: UInt64 = 0
    private var latestSockstat: SockstatSample?
    private var latestCensus: Census?
    /// Set when a dump fails (e.g. sock_diag missing): the census is then skipped, said once.
    public private(set) var censusError: String?

    public init(target: SocketAddress, localPorts: PortRange?) {
        self.target = target
        self.localPorts = localPorts
    }

    public func prepare() -> SystemSnapshot {
        let snapshot = SystemProbe.snapshot()
        census = CensusTaker(target: target, range: PortBudget.effectiveRange(snapshot, perSocket: localPorts))
        return snapshot
    }

    public func begin(runStartNs: UInt64) {
        startNs = runStartNs
        baseline = readCounters()
        lastRead = baseline
    }

    public func sample(nowNs: UInt64, live: LiveStatus) {
        let t = nowNs > startNs ? Int((nowNs - startNs) / 1_000_000_000) : 0
        var second = seconds[t] ?? KernelSecond()

        if let v4 = KernelInfo.readSmallFile("/proc/net/sockstat") {
            latestSockstat = ProcCounters.sockstat(v4, KernelInfo.readSmallFile("/proc/net/sockstat6"))
            second.sockstat = latestSockstat
        }
        let counters = readCounters()
        if t != currentT {
            baseline = lastRead
            currentT = t
        }
        lastRead = counters
        second.counters = counters.reduce(into: [:]) { d, kv in
            let delta = kv.value - (baseline[kv.key] ?? kv.value)
            if delta != 0 { d[kv.key] = delta }
        }

        let localFailures = live.outcomes[.eaddrnotavail] + live.outcomes[.eaddrinuse]
        let burst = localFailures > lastLocalFailures && nowNs &- lastCensusNs >= burstGapNs
        lastLocalFailures = localFailures
        if censusError == nil, let taker = census, burst || nowNs &- lastCensusNs >= censusEveryNs {
            do {
                let c = try taker.take(atMs: Int((nowNs &- startNs) / 1_000_000), trigger: burst ? "burst" : "periodic")
                latestCensus = c
                second.census = c
            } catch {
                censusError = "\(error)"
            }
            lastCensusNs = nowNs
        }
        seconds[t] = second
    }

    public func annotate(_ live: inout LiveStatus) {
        live.timeWait = latestSockstat?.tw
        if let b = latestCensus?.busiest {
            live.portsInUse = b.portsInUse
            live.portRange = b.rangeSize
        }
    }

    public func finish() -> [Int: KernelSecond] { seconds }

    private func readCounters() -> [String: Int64] {
        var tables = ProcCounters.table(KernelInfo.readSmallFile("/proc/net/netstat") ?? "")
        tables.merge(ProcCounters.table(KernelInfo.readSmallFile("/proc/net/snmp") ?? "")) { a, _ in a }
        return ProcCounters.explainingCounters(tables)
    }
}
