import Foundation
import PortstormRecord
import PortstormSystem

/// Merges the workers' counters into one run record.
struct RecordBuilder {
    let config: RunConfig
    let plan: RunPlan
    let startedAt: Date
    let startNs: UInt64
    let endNs: UInt64
    let notes: [String]
    let system: SystemSnapshot

    func build(_ results: [(stats: WorkerStats, reason: StopReason, stoppedAtNs: UInt64)],
               kernel: [Int: KernelSecond]) -> RunRecord {
        var outcomes = OutcomeCounts()
        var latency = LatencyHistogram()
        var attempted: UInt64 = 0, inFlight: UInt64 = 0, delayed: UInt64 = 0, missed: UInt64 = 0
        for r in results {
            outcomes.merge(r.stats.outcomes)
            latency.merge(r.stats.connectLatency)
            attempted += r.stats.attempted
            inFlight += r.stats.inFlight
            delayed += r.stats.delayed
            missed += r.stats.missed
        }
        let stoppedAt = results.map(\.stoppedAtNs).max() ?? endNs
        let activeSeconds = max(Double(stoppedAt &- startNs) / 1e9, 1e-3)
        let reason: StopReason = results.contains { $0.reason == .interrupted } ? .interrupted
            : results.contains { $0.reason == .duration } ? .duration : .connections
        var samples: [String] = []
        for r in results { for m in r.stats.mismatchSamples where !samples.contains(m) && samples.count < 5 { samples.append(m) } }
        var totals = Totals(attempted: attempted, inFlightAtEnd: inFlight, outcomes: outcomes, delayed: delayed,
                            delayThresholdMs: Double(WorkerPlan.delayThresholdNs) / 1e6, requestedRate: config.rate,
                            achievedRate: (Double(attempted) / activeSeconds * 10).rounded() / 10, missed: missed)
        totals.mismatchSamples = samples
        var statuses = [UInt64](repeating: 0, count: 500)
        for r in results { for k in statuses.indices { statuses[k] += r.stats.statuses[k] } }
        for k in statuses.indices where statuses[k] > 0 { totals.httpStatuses[String(k + 100)] = statuses[k] }
        let elapsed = Double(endNs &- startNs) / 1e9
        let startMs = Int64((startedAt.timeIntervalSince1970 * 1000).rounded(.down))
        var record = RunRecord(
            tool: ToolInfo(version: PortstormVersion.current),
            startedAt: startedAt, endedAt: startedAt.addingTimeInterval(elapsed),
            elapsedSeconds: (elapsed * 1000).rounded() / 1000, stopReason: reason, config: config,
            target: TargetInfo(host: plan.host, port: plan.port, resolved: plan.resolved.map(\.ip), used: plan.target.description),
            sources: plan.sources.map(\.ip), system: system, totals: totals,
            latency: LatencyReport(connectHistogram: latency),
            timeline: Self.mergeTimelines(results.map(\.stats.timeline), tls: config.tls != nil).map { s in
                var s = s
                s.kernel = kernel[s.t]
                s.at = startMs / 1000 + Int64(s.t)
                return s
            }, notes: notes)
        record.startedAtMs = startMs
        if config.tls != nil { Self.addTLS(results.map(\.stats), to: &record) }
        var firstByte = LatencyHistogram()
        for s in results.map(\.stats) { firstByte.merge(s.firstByteLatency) }
        if config.readsAnswer { record.latency.setFirstByte(firstByte) }
        return record
    }

    /// The workers' handshake counts, latencies and failure sentences, merged.
    static func addTLS(_ stats: [WorkerStats], to record: inout RunRecord) {
        var latency = LatencyHistogram()
        var tls = TLSTotals()
        let names = ["other", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        for s in stats {
            latency.merge(s.handshakeLatency)
            tls.resumed += s.resumed
            tls.clientCertificateRequests += s.clientCertificateRequests
            for (k, n) in s.versions.enumerated() where n > 0 { tls.versions[names[k], default: 0] += n }
            for (detail, e) in s.tlsFailures {
                tls.failures[detail, default: 0] += e.count
                tls.failureOutcomes[detail] = Outcome(code: e.outcome).name
            }
        }
        tls.handshakes = latency.count
        record.latency.setHandshake(latency)
        record.tls = tls
    }

    /// Adds the workers' seconds together, aligned on `t` (all workers share one start time). In a
    /// TLS run every second carries its handshake count, 0 included.
    static func mergeTimelines(_ timelines: [[WorkerSecond]], tls: Bool = false) -> [TimelineSecond] {
        let length = timelines.map(\.count).max() ?? 0
        return (0..<length).map { t in
            var attempts: UInt64 = 0, delayed: UInt64 = 0, inFlight: UInt64 = 0, slowest: UInt64 = 0
            var counts = OutcomeCounts()
            var statuses: [String: UInt64] = [:]
            var hist = LatencyHistogram(significantDigits: .two), handshakeHist = LatencyHistogram(significantDigits: .two)
            var handshakes: UInt64 = 0, slowestHandshake: UInt64 = 0
            for tl in timelines where t < tl.count {
                let s = tl[t]
                attempts += s.attempts
                delayed += s.delayed
                inFlight += s.inFlight
                for (code, n) in s.outcomes { counts.add(Outcome(code: code), n) }
                for pair in s.latency { hist.record(micros: pair[0], count: pair[1]) }
                slowest = max(slowest, s.latencyMax)
                handshakes += s.handshakes
                for pair in s.handshakeLatency { handshakeHist.record(micros: pair[0], count: pair[1]) }
                slowestHandshake = max(slowestHandshake, s.handshakeMax)
                for (code, n) in s.statuses { statuses[String(code), default: 0] += n }
            }
            var failures = counts.byName
            failures["ok"] = nil
            // Percentiles capped by the exact slowest (SecondLatency.init), so p50 <= p90 <= p99 <= max.
            var second = TimelineSecond(t: t, attempts: attempts, ok: counts[.ok], failures: failures, inFlight: inFlight,
                                        delayed: delayed, connectLatencyUs: SecondLatency(hist, slowest: slowest))
            second.httpStatuses = statuses.isEmpty ? nil : statuses
            second.connectBuckets = hist.isEmpty ? nil : hist.buckets
            if tls {
                second.handshakes = handshakes
                second.handshakeLatencyUs = SecondLatency(handshakeHist, slowest: slowestHandshake)
                second.handshakeBuckets = handshakeHist.isEmpty ? nil : handshakeHist.buckets
            }
            return second
        }
    }
}
