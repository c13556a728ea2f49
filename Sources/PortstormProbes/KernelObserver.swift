import PortstormRecord
import PortstormSystem

/// Samples the kernel beside a run: /proc/net/sockstat and the failure-explaining counters of
/// /proc/net/netstat and /proc/net/snmp every 100 ms, a sock_diag census about every second and
/// at once when eaddrnotavail/eaddrinuse start to grow. Lives on the engine's watching thread.
public final class KernelObserver: RunObserver {
    let target: SocketAddress
    let localPorts: PortRange?
    let censusEveryNs: UInt64 = 1_000_000_000

    private var startNs: UInt64 = 0
    private var census: CensusTaker?
    private var seconds: [Int: KernelSecond] = [:]
    /// Counter values when the current second began, and at the latest sample.
    private var baseline: [String: Int64] = [:]
    private var lastRead: [String: Int64] = [:]
    private var currentT = 0
    private var lastCensusNs: UInt64 = 0
    private var lastLocalFailures: UInt64 = 0
    private var localFailuresGrowing = false
    private var lastNs: UInt64 = 0
    private var latestSockstat: SockstatSample?
    private var latestCensus: Census?
    /// Set when a dump fails (e.g. sock_diag missing): the census is then skipped, said once.
    public private(set) var censusError: String?
    /// The whole-run view: the start census and the ports it found, the witnessed counters at
    /// the start, the sockstat TIME_WAIT count at the start, whether the server is local.
    private var startCensus: Census?
    private var heldAtStart: CensusTaker.HeldPorts?
    private var witnessAtStart: [String: Int64] = [:]
    private var timeWaitAtStart: Int64?
    private var serverIsLocal: Bool?
    private var witnessed: KernelWitness?

    public init(target: SocketAddress, localPorts: PortRange?) {
        self.target = target
        self.localPorts = localPorts
    }

    /// Also takes the start census (before the run's clock starts, so its cost delays no attempt)
    /// and tells whether the server listens in this namespace.
    public func prepare() -> SystemSnapshot {
        let snapshot = SystemProbe.snapshot()
        let taker = CensusTaker(target: target, range: PortBudget.effectiveRange(snapshot, perSocket: localPorts))
        census = taker
        do {
            let (c, held) = try taker.take(atMs: 0, trigger: "start", heldAtStart: nil, collect: true)
            startCensus = c
            heldAtStart = held
        } catch {
            censusError = "\(error)"
        }
        serverIsLocal = Self.listensHere(target)
        return snapshot
    }

    public func begin(runStartNs: UInt64) {
        startNs = runStartNs
        let tables = readTables()
        baseline = ProcCounters.explainingCounters(tables)
        lastRead = baseline
        witnessAtStart = ProcCounters.counters(ProcCounters.witnessed, tables)
        timeWaitAtStart = readSockstat()?.tw
    }

    public func sample(nowNs: UInt64, live: LiveStatus) {
        let t = nowNs > startNs ? Int((nowNs - startNs) / 1_000_000_000) : 0
        var second = seconds[t] ?? KernelSecond()

        if let sample = readSockstat() {
            latestSockstat = sample
            second.sockstat = sample
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

        // A burst begins when eaddrnotavail/eaddrinuse grow after a sample where they did not:
        // census at once, to see the ports at the onset. While they keep growing, once a second.
        let localFailures = live.outcomes[.eaddrnotavail] + live.outcomes[.eaddrinuse]
        let growing = localFailures > lastLocalFailures
        let burst = growing && !localFailuresGrowing
        lastLocalFailures = localFailures
        localFailuresGrowing = growing
        if burst || nowNs &- lastCensusNs >= censusEveryNs {
            takeCensus(into: &second, nowNs: nowNs, trigger: burst ? "burst" : "periodic")
        }
        seconds[t] = second
        lastNs = nowNs
    }

    private func takeCensus(into second: inout KernelSecond, nowNs: UInt64, trigger: String) {
        guard censusError == nil, let taker = census else { return }
        do {
            let c = try taker.take(atMs: Int((nowNs &- startNs) / 1_000_000), trigger: trigger, heldAtStart: heldAtStart, collect: false).census
            latestCensus = c
            second.census = c
        } catch {
            censusError = "\(error)"
        }
        lastCensusNs = nowNs
    }

    public func annotate(_ live: inout LiveStatus) {
        live.timeWait = latestSockstat?.tw
        if let b = latestCensus?.busiest {
            live.portsInUse = b.portsInUse
            live.portRange = b.rangeSize
        }
        live.tuples = latestCensus?.tuples
    }

    /// Ends with a census of what the run left behind (TIME_WAIT stays 60 s), unless one was just taken.
    public func finish() -> [Int: KernelSecond] {
        let t = lastNs > startNs ? Int((lastNs - startNs) / 1_000_000_000) : 0
        if lastNs &- lastCensusNs >= 100_000_000 || seconds[t]?.census == nil {
            var second = seconds[t] ?? KernelSecond()
            takeCensus(into: &second, nowNs: lastNs, trigger: "final")
            seconds[t] = second
        }
        let atEnd = ProcCounters.counters(ProcCounters.witnessed, readTables())
        var increase: [String: Int64] = [:]
        for (name, start) in witnessAtStart {
            if let end = atEnd[name] { increase[name] = end - start }
        }
        witnessed = KernelWitness(counters: increase, serverIsLocal: serverIsLocal, startCensus: startCensus,
                                  timeWaitAtStart: timeWaitAtStart, timeWaitAtEnd: readSockstat()?.tw)
        witnessed?.countersAtStart = witnessAtStart.filter { increase[$0.key] != nil }
        return seconds
    }

    public func witness() -> KernelWitness? { witnessed }

    /// /proc/net/netstat and /proc/net/snmp; with `snmp6`, /proc/net/snmp6 too (the witness's ICMPv6 count).
    private func readTables(snmp6: Bool = true) -> [String: [String: Int64]] {
        var tables = ProcCounters.table(KernelInfo.readSmallFile("/proc/net/netstat") ?? "")
        tables.merge(ProcCounters.table(KernelInfo.readSmallFile("/proc/net/snmp") ?? "")) { a, _ in a }
        if snmp6 { tables.merge(ProcCounters.snmp6(KernelInfo.readSmallFile("/proc/net/snmp6") ?? "")) { a, _ in a } }
        return tables
    }

    private func readCounters() -> [String: Int64] { ProcCounters.explainingCounters(readTables(snmp6: false)) }

    private func readSockstat() -> SockstatSample? {
        KernelInfo.readSmallFile("/proc/net/sockstat").flatMap { ProcCounters.sockstat($0, KernelInfo.readSmallFile("/proc/net/sockstat6")) }
    }

    /// Whether a listener in this namespace covers the target: one on its port, at its address or
    /// the wildcard of its family, and the address is this namespace's own (bind() to it works).
    static func listensHere(_ target: SocketAddress) -> Bool {
        let listeners = Listeners.on(port: target.port)
        let wildcard = target.family == .ipv4 ? "0.0.0.0" : "::"
        guard listeners.contains(where: { $0 == target.ip || $0 == wildcard || ($0 == "::" && target.family == .ipv4) }) else { return false }
        return Socket.checkLocalAddress(target) == 0
    }
}
