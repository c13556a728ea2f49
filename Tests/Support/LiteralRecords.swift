import Foundation
import PortstormRecord

/// One second of a literal record: outcomes, and optionally a census of one tuple.
public struct LiteralSecond {
    public var ok: UInt64
    public var failures: [String: UInt64]
    /// Ports in use of the single tuple (nil: no census this second).
    public var portsInUse: Int?
    public var timeWait: Int
    public var counters: [String: Int64]

    public init(ok: UInt64, failures: [String: UInt64] = [:], portsInUse: Int? = nil, timeWait: Int = 0,
                counters: [String: Int64] = [:]) {
        self.ok = ok
        self.failures = failures
        self.portsInUse = portsInUse
        self.timeWait = timeWait
        self.counters = counters
    }
}

/// A balanced record built from seconds, for analysis and renderer tests.
public func literalRecord(_ seconds: [LiteralSecond], config: RunConfig = RunConfig(target: "127.0.0.1:8080", rate: 1000, durationSeconds: 10),
                          rangeSize: Int = 1000, latenciesUs: [UInt64] = [200, 300, 400], system: SystemSnapshot? = nil,
                          resolved: [String] = ["127.0.0.1"]) -> RunRecord {
    var totals = OutcomeCounts()
    var timeline: [TimelineSecond] = []
    let low: UInt16 = 40000, high = UInt16(40000 + rangeSize - 1)
    for (t, s) in seconds.enumerated() {
        totals.add(.ok, s.ok)
        for (name, n) in s.failures { totals.add(Outcome(name: name)!, n) }
        var line = TimelineSecond(t: t, attempts: s.ok + s.failures.values.reduce(0, +), ok: s.ok, failures: s.failures,
                                  inFlight: 0, delayed: 0, connectLatencyUs: SecondLatency(p50: 300, p90: 400, p99: 400, max: 400))
        var k = KernelSecond(sockstat: SockstatSample(inuse: 10, orphan: 0, tw: Int64(s.timeWait), alloc: 10, mem: 1),
                             counters: s.counters)
        if let used = s.portsInUse {
            // The lowest `used` ports of the range, counted per slice as the census does.
            var buckets = [Int](repeating: 0, count: 64)
            for offset in 0..<min(max(0, used), rangeSize) { buckets[offset * 64 / rangeSize] += 1 }
            // Every socket of a literal census holds a port of the range: the states inside it are all of them.
            let states = s.timeWait > 0 ? ["TIME_WAIT": s.timeWait, "ESTABLISHED": used - s.timeWait] : ["ESTABLISHED": used]
            k.census = Census(atMs: t * 1000 + 500, trigger: "periodic", tookUs: 100, tuples: [
                TupleCensus(source: "127.0.0.1", destination: "127.0.0.1", port: 8080, states: states,
                            portsInUse: used, rangeSize: rangeSize, rangeLow: low, rangeHigh: high, buckets: buckets,
                            statesInRange: states.filter { $0.value > 0 })])
        }
        line.kernel = k
        timeline.append(line)
    }
    var hist = LatencyHistogram()
    for us in latenciesUs { hist.record(micros: us) }
    var snap = system ?? SystemSnapshot(kernel: "6.18.0", ipLocalPortRange: [low, high], openFilesSoft: 65536, openFilesHard: 65536)
    if system == nil {
        snap.tcpTwReuse = 0
        snap.tcpTimestamps = 1
        snap.ipLocalReservedPorts = ""
        snap.tcpSynRetries = 6
    }
    let attempted = totals.total
    let start = Date(timeIntervalSince1970: 1_790_000_000)
    return RunRecord(
        tool: ToolInfo(version: "0.1.0"), startedAt: start, endedAt: start.addingTimeInterval(Double(seconds.count)),
        elapsedSeconds: Double(seconds.count), stopReason: .duration, config: config,
        target: TargetInfo(host: "127.0.0.1", port: 8080, resolved: resolved, used: "127.0.0.1:8080"),
        sources: [], system: snap,
        totals: Totals(attempted: attempted, inFlightAtEnd: 0, outcomes: totals, requestedRate: config.rate,
                       achievedRate: Double(attempted) / Double(max(1, seconds.count))),
        latency: LatencyReport(connectHistogram: hist), timeline: timeline, notes: [])
}
