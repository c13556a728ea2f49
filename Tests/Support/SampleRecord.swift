import Foundation
import PortstormRecord

/// A small literal record, shared by the record and render tests' expectations.
public func sampleRecord() -> RunRecord {
    var outcomes = OutcomeCounts()
    outcomes.add(.ok, 9_000)
    outcomes.add(.eaddrnotavail, 950)
    outcomes.add(.econnrefused, 40)
    var hist = LatencyHistogram()
    for i in 0..<9_000 { hist.record(micros: UInt64(200 + i % 800)) }
    let start = Date(timeIntervalSince1970: 1_790_000_000)
    return RunRecord(
        tool: ToolInfo(version: "0.1.0"), startedAt: start, endedAt: start.addingTimeInterval(10.5),
        elapsedSeconds: 10.5, stopReason: .duration,
        config: RunConfig(target: "localhost:8080", rate: 1000, concurrency: 200, durationSeconds: 10,
                          localPorts: PortRange(low: 40000, high: 40999)),
        target: TargetInfo(host: "localhost", port: 8080, resolved: ["127.0.0.1", "::1"], used: "127.0.0.1:8080"),
        sources: [], system: SystemSnapshot(kernel: "6.18.0", ipLocalPortRange: [32768, 60999], openFilesSoft: 1_048_576, openFilesHard: 1_048_576),
        totals: Totals(attempted: 10_000, inFlightAtEnd: 10, outcomes: outcomes, delayed: 3, requestedRate: 1000,
                       achievedRate: 1000, missed: 0),
        latency: LatencyReport(connectHistogram: hist),
        timeline: [TimelineSecond(t: 0, attempts: 1000, ok: 990, failures: ["econnrefused": 10], inFlight: 12,
                                  delayed: 0, connectLatencyUs: SecondLatency(p50: 600, p90: 900, p99: 990, max: 999))],
        notes: ["an example note"])
}

