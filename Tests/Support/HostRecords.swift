import Foundation
import PortstormRecord

/// One host's record: `perSecond[t]` are the latencies of the connects that ended in second t.
/// With `handshakesPerSecond` it is a TLS run (https) whose second t completed those handshakes.
public func hostRecord(_ name: String, startMs: Int64, perSecond: [[UInt64]], shard: Shard?, eaddrnotavailAt: Int? = nil,
                        target: String = "10.203.0.1:9000", portRange: [UInt16] = [32768, 60999],
                        close: CloseMode = .client, rate: Double = 100, handshakesPerSecond: [[UInt64]]? = nil) -> RunRecord {
    var all = LatencyHistogram(), allHandshakes = LatencyHistogram()
    var outcomes = OutcomeCounts()
    var timeline: [TimelineSecond] = []
    for (t, lat) in perSecond.enumerated() {
        var h = LatencyHistogram(significantDigits: .two)
        for v in lat { all.record(micros: v); h.record(micros: v) }
        outcomes.add(.ok, UInt64(lat.count))
        var failures: [String: UInt64] = [:]
        if t == eaddrnotavailAt { failures["eaddrnotavail"] = 5; outcomes.add(.eaddrnotavail, 5) }
        var s = TimelineSecond(t: t, attempts: UInt64(lat.count) + (failures["eaddrnotavail"] ?? 0), ok: UInt64(lat.count),
                               failures: failures, inFlight: 0, delayed: 0,
                               connectLatencyUs: lat.isEmpty ? nil : SecondLatency(p50: min(h.percentile(50), lat.max()!),
                                                                                   p90: min(h.percentile(90), lat.max()!),
                                                                                   p99: min(h.percentile(99), lat.max()!), max: lat.max()!))
        s.at = startMs / 1000 + Int64(t)
        s.connectBuckets = h.isEmpty ? nil : h.buckets
        if let handshakes = handshakesPerSecond {
            let lat = t < handshakes.count ? handshakes[t] : []
            var hh = LatencyHistogram(significantDigits: .two)
            for v in lat { allHandshakes.record(micros: v); hh.record(micros: v) }
            s.handshakes = UInt64(lat.count)
            s.handshakeLatencyUs = SecondLatency(hh, slowest: lat.max() ?? 0)
            s.handshakeBuckets = hh.isEmpty ? nil : hh.buckets
        }
        timeline.append(s)
    }
    let start = Date(timeIntervalSince1970: Double(startMs) / 1000)
    let parts = target.split(separator: ":")
    var config = RunConfig(target: target, rate: rate, concurrency: 10, durationSeconds: Double(perSecond.count), close: close)
    config.shard = shard
    if handshakesPerSecond != nil {
        config.tls = TLSConfig(insecure: true)
        config.wireProtocol = .http
    }
    var r = RunRecord(
        tool: ToolInfo(version: "test"), startedAt: start, endedAt: start.addingTimeInterval(Double(perSecond.count)),
        elapsedSeconds: Double(perSecond.count), stopReason: .duration, config: config,
        target: TargetInfo(host: String(parts[0]), port: UInt16(parts[1])!, resolved: [String(parts[0])], used: target),
        sources: [], system: SystemSnapshot(kernel: "6.18.0", ipLocalPortRange: portRange, openFilesSoft: 1024, openFilesHard: 1024),
        totals: Totals(attempted: outcomes.total, inFlightAtEnd: 0, outcomes: outcomes, requestedRate: rate, achievedRate: rate),
        latency: LatencyReport(connectHistogram: all), timeline: timeline, notes: [])
    r.hostName = name
    if handshakesPerSecond != nil {
        r.latency.setHandshake(allHandshakes)
        r.tls = TLSTotals(handshakes: allHandshakes.count, versions: allHandshakes.isEmpty ? [:] : ["TLSv1.3": allHandshakes.count])
    }
    r.startedAtMs = startMs
    return r
}

