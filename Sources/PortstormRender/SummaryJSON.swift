import Foundation
import PortstormAnalysis
import PortstormRecord

/// `run --json`: the end-of-run summary as one JSON document for scripts (the record, `-o`, has
/// everything; this has what the terminal summary shows). Latencies in milliseconds, shares in
/// percent of finished attempts.
public struct SummaryJSON: Encodable {
    public struct OutcomeLine: Encodable {
        var count: UInt64
        var percent: Double
        var cause: String
    }
    public struct Latency: Encodable {
        var count: UInt64
        var minMs, meanMs, p50Ms, p90Ms, p99Ms, p999Ms, maxMs: Double

        /// The summary in milliseconds; nil when it counts nothing.
        init?(_ l: LatencySummary) {
            guard l.count > 0 else { return nil }
            count = l.count
            (minMs, meanMs, p50Ms, p90Ms) = (Double(l.min) / 1000, l.mean / 1000, Double(l.p50) / 1000, Double(l.p90) / 1000)
            (p99Ms, p999Ms, maxMs) = (Double(l.p99) / 1000, Double(l.p999) / 1000, Double(l.max) / 1000)
        }
    }

    var schema = "portstorm.summary/1"
    var target: String
    var used: String
    var protocolName: String
    var close: String
    var elapsedSeconds: Double
    var stopReason: String
    var attempted: UInt64
    var ok: UInt64
    var failed: UInt64
    var inFlightAtEnd: UInt64
    var requestedRate: Double?
    var achievedRate: Double
    var delayed: UInt64
    var missed: UInt64
    var outcomes: [String: OutcomeLine]
    var httpStatuses: [String: UInt64]
    /// nil when no connection completed.
    var connectLatency: Latency?
    /// TLS runs: the handshakes' latency (latency.handshake); nil without TLS or when none completed.
    var handshakeLatency: Latency?
    /// Runs that read answers: time to the answer's first byte (latency.firstByte); nil otherwise or when none arrived.
    var firstByteLatency: Latency?
    var thresholds: [ThresholdResult]
    var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case schema, target, used, protocolName = "protocol", close, elapsedSeconds, stopReason, attempted, ok, failed, inFlightAtEnd
        case requestedRate, achievedRate, delayed, missed, outcomes, httpStatuses, connectLatency, handshakeLatency, firstByteLatency, thresholds, findings
    }

    public init(_ r: RunRecord, findings: [Finding]) {
        let t = r.totals
        target = r.config.target
        used = r.target.used
        protocolName = r.config.wireProtocol.rawValue
        close = r.config.close.rawValue
        elapsedSeconds = r.elapsedSeconds
        stopReason = r.stopReason.rawValue
        attempted = t.attempted
        ok = t.outcomes[.ok]
        failed = t.outcomes.failures
        inFlightAtEnd = t.inFlightAtEnd
        requestedRate = t.requestedRate
        achievedRate = t.achievedRate
        delayed = t.delayed
        missed = t.missed
        let finished = t.outcomes.total
        outcomes = Dictionary(uniqueKeysWithValues: t.outcomes.nonZero.map {
            ($0.outcome.name, OutcomeLine(count: $0.count, percent: finished == 0 ? 0 : Double($0.count) * 100 / Double(finished),
                                          cause: $0.outcome.cause.rawValue))
        })
        httpStatuses = t.httpStatuses
        connectLatency = Latency(r.latency.connect)
        handshakeLatency = r.config.tls == nil ? nil : r.latency.handshake.flatMap(Latency.init)
        firstByteLatency = r.latency.firstByte.flatMap(Latency.init)
        thresholds = r.thresholds ?? []
        self.findings = findings
    }

    /// Pretty-printed with sorted keys, ending in a newline.
    public func data() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self) + Data("\n".utf8)
    }
}
