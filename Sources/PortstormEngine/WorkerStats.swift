import Foundation
import PortstormRecord

/// One second of one worker, kept until the workers' timelines are merged.
struct WorkerSecond: Sendable {
    var t: Int
    var attempts: UInt64 = 0
    var delayed: UInt64 = 0
    var inFlight: UInt64 = 0
    var outcomes: [(code: UInt16, count: UInt64)] = []
    /// Sparse connect-latency buckets `[value, count]` of the connects completed in this second.
    var latency: [[UInt64]] = []
    /// The exact slowest connect of this second, in microseconds (the buckets round it).
    var latencyMax: UInt64 = 0
    /// HTTP status codes of the answers completed in this second.
    var statuses: [(code: UInt16, count: UInt64)] = []
    /// TLS: handshakes completed in this second, their latency buckets `[value, count]` and the
    /// exact slowest, in microseconds.
    var handshakes: UInt64 = 0
    var handshakeLatency: [[UInt64]] = []
    var handshakeMax: UInt64 = 0
}

/// Everything one worker counts. Recording an attempt's start or outcome never allocates.
struct WorkerStats: Sendable {
    var attempted: UInt64 = 0
    var inFlight: UInt64 = 0
    var peakInFlight: UInt64 = 0
    var delayed: UInt64 = 0
    var missed: UInt64 = 0
    var outcomes = OutcomeCounts()
    var connectLatency = LatencyHistogram()
    /// Connects per live bucket (`LiveStatus.connectBoundsUs`, then one above them), not
    /// cumulative, and the exact sum of their latencies: what --metrics-listen publishes.
    private var liveBuckets = [UInt64](repeating: 0, count: LiveStatus.connectBoundsUs.count + 1)
    private var connectSumUs: UInt64 = 0
    var timeline: [WorkerSecond] = []
    /// The first bytes of the first few answers judged a protocol mismatch (printable, escaped).
    var mismatchSamples: [String] = []
    /// HTTP status codes seen (index = code - 100, codes 100-599).
    var statuses = [UInt64](repeating: 0, count: 500)
    /// TLS: handshake latencies, resumed handshakes, handshakes by version (index: the minor
    /// version byte, 0x0303 TLS 1.2 -> 3; 0 for anything else), and failure sentences (rare: a
    /// dictionary is fine there).
    var handshakeLatency = LatencyHistogram()
    /// Time to the answer's first byte (see `Worker.requestSentNs`).
    var firstByteLatency = LatencyHistogram()
    var resumed: UInt64 = 0
    var versions = [UInt64](repeating: 0, count: 5)
    var tlsFailures: [String: (outcome: UInt16, count: UInt64)] = [:]
    /// Attempts whose server asked for a client certificate (counted once per attempt).
    var clientCertificateRequests: UInt64 = 0
    /// Whether the run speaks TLS: only then is handshake latency published live.
    let tls: Bool
    /// Handshakes per live bucket (as `liveBuckets`) and the exact sum of their latencies.
    private var liveHandshakeBuckets = [UInt64](repeating: 0, count: LiveStatus.connectBoundsUs.count + 1)
    private var handshakeSumUs: UInt64 = 0

    // The second being filled.
    private var currentT = 0
    private var secAttempts: UInt64 = 0
    private var secDelayed: UInt64 = 0
    private var secOutcomes = OutcomeCounts()
    private var secLatency = LatencyHistogram(significantDigits: .two)
    private var secLatencyMax: UInt64 = 0
    private var secStatuses = [UInt64](repeating: 0, count: 500)
    private var secStatusesSeen = false
    private var secHandshake = LatencyHistogram(significantDigits: .two)
    private var secHandshakeMax: UInt64 = 0

    init(expectedSeconds: Int, tls: Bool = false) {
        self.tls = tls
        timeline.reserveCapacity(expectedSeconds + 2)
    }

    @inline(__always)
    mutating func started(delayed late: Bool) {
        attempted &+= 1
        inFlight &+= 1
        if inFlight > peakInFlight { peakInFlight = inFlight }
        secAttempts &+= 1
        if late { delayed &+= 1; secDelayed &+= 1 }
    }

    @inline(__always)
    mutating func finished(_ outcome: Outcome) {
        inFlight &-= 1
        outcomes.add(outcome)
        secOutcomes.add(outcome)
    }

    @inline(__always)
    mutating func connected(latencyNanos: UInt64) {
        let us = latencyNanos / 1000
        connectLatency.record(micros: us)
        secLatency.record(micros: us)
        liveBuckets[LiveStatus.bucket(us)] &+= 1
        connectSumUs &+= us
        if us > secLatencyMax { secLatencyMax = us }
    }

    /// The answer's first byte arrived `latencyNanos` after the request went out.
    @inline(__always)
    mutating func firstByte(latencyNanos: UInt64) {
        firstByteLatency.record(micros: latencyNanos / 1000)
    }

    /// A TLS handshake completed (SSL_version's value in `version`).
    @inline(__always)
    mutating func handshaked(latencyNanos: UInt64, resumed wasResumed: Bool, version: Int32) {
        let us = latencyNanos / 1000
        handshakeLatency.record(micros: us)
        secHandshake.record(micros: us)
        if us > secHandshakeMax { secHandshakeMax = us }
        liveHandshakeBuckets[LiveStatus.bucket(us)] &+= 1
        handshakeSumUs &+= us
        if wasResumed { resumed &+= 1 }
        let minor = Int(version) - 0x0300
        versions[minor >= 1 && minor <= 4 ? minor : 0] &+= 1
    }

    /// Why a TLS connection failed (at most 32 distinct sentences are kept; the outcome counts all).
    mutating func tlsFailed(_ outcome: Outcome, _ detail: String) {
        if let e = tlsFailures[detail] {
            tlsFailures[detail] = (e.outcome, e.count &+ 1)
        } else if tlsFailures.count < 32 {
            tlsFailures[detail] = (outcome.code, 1)
        }
    }

    /// One HTTP answer's status code (100-599, as the status line's three digits allow 000-999:
    /// others are not counted here; the answer is judged a mismatch).
    @inline(__always)
    mutating func answered(status: UInt16) {
        guard status >= 100 && status < 600 else { return }
        statuses[Int(status) - 100] &+= 1
        secStatuses[Int(status) - 100] &+= 1
        secStatusesSeen = true
    }

    /// Closes every second before `t` (empty seconds included) into the timeline.
    mutating func advance(toSecond t: Int) {
        while currentT < t {
            var s = WorkerSecond(t: currentT, attempts: secAttempts, delayed: secDelayed, inFlight: inFlight)
            s.outcomes = secOutcomes.nonZero.map { ($0.outcome.code, $0.count) }
            if !secLatency.isEmpty { s.latency = secLatency.buckets }
            s.latencyMax = secLatencyMax
            if secStatusesSeen {
                for k in secStatuses.indices where secStatuses[k] > 0 {
                    s.statuses.append((UInt16(k + 100), secStatuses[k]))
                    secStatuses[k] = 0
                }
                secStatusesSeen = false
            }
            secLatencyMax = 0
            if !secHandshake.isEmpty {
                s.handshakes = secHandshake.count
                s.handshakeLatency = secHandshake.buckets
                s.handshakeMax = secHandshakeMax
                secHandshake.reset()
                secHandshakeMax = 0
            }
            timeline.append(s)
            secAttempts = 0
            secDelayed = 0
            secOutcomes = OutcomeCounts()
            secLatency.reset()
            currentT += 1
        }
    }

    /// Keeps what a mismatched answer started with (rare: allocation here is fine).
    mutating func noteMismatch(_ head: UnsafeRawBufferPointer) {
        guard mismatchSamples.count < 3 else { return }
        let text = head.prefix(64).map { b -> String in
            switch b {
            case 0x0D: return "\\r"
            case 0x0A: return "\\n"
            case 0x20...0x7E: return String(UnicodeScalar(b))
            default: return String(format: "\\x%02x", b)
            }
        }.joined()
        keepSample(text.isEmpty ? Totals.silentClose : text)
    }

    /// A status line that marks a protocol mismatch although well formed (426, 101, Upgrade: websocket).
    mutating func noteMismatch(status: UInt16) {
        // Written as the status line it came from, so readers tell it from a non-HTTP answer.
        keepSample("HTTP/1.1 \(status) (the server asks for a WebSocket upgrade)")
    }

    /// A well-formed answer that still marks a mismatch, with the sentence that gives it away.
    mutating func noteMismatch(status: UInt16, text: String) {
        keepSample("HTTP/1.1 \(status) ... \(text)")
    }

    /// The first three distinct samples are kept.
    private mutating func keepSample(_ text: String) {
        if mismatchSamples.count < 3 && !mismatchSamples.contains(text) { mismatchSamples.append(text) }
    }

    /// Writes what the worker publishes (every 200 ms) into `s`, in place: counts and the live
    /// latency buckets made cumulative. Nothing is allocated once `s` has its tables, as long as
    /// no reader still holds a copy of them.
    func fill(_ s: inout LiveStatus) {
        s.attempted = attempted
        s.inFlight = inFlight
        s.delayed = delayed
        s.outcomes.assign(outcomes)
        let n = liveBuckets.count - 1
        if s.connectBuckets.count != n { s.connectBuckets = [UInt64](repeating: 0, count: n) }
        var running: UInt64 = 0
        for k in 0..<n {
            running &+= liveBuckets[k]
            s.connectBuckets[k] = running
        }
        s.connectCount = connectLatency.count
        s.connectSumUs = Double(connectSumUs)
        guard tls else { return }
        if s.handshakeBuckets?.count != n { s.handshakeBuckets = [UInt64](repeating: 0, count: n) }
        running = 0
        for k in 0..<n {
            running &+= liveHandshakeBuckets[k]
            s.handshakeBuckets![k] = running
        }
        s.handshakeCount = handshakeLatency.count
        s.handshakeSumUs = Double(handshakeSumUs)
    }

    /// What the worker would publish now, as a new value (tests).
    var live: LiveStatus {
        var s = LiveStatus(attempted: 0, inFlight: 0, outcomes: OutcomeCounts(), delayed: 0)
        fill(&s)
        return s
    }
}
