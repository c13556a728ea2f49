import Foundation

/// One run, as written by `portstorm run -o FILE`: versioned, documented by docs/run-record.schema.json.
public struct RunRecord: Codable, Sendable {
    public static let currentSchema = "portstorm.run/2"

    public var schema: String = RunRecord.currentSchema
    public var tool: ToolInfo
    /// Wall-clock start and end (ISO 8601), for aligning records of the same target.
    public var startedAt: Date
    public var endedAt: Date
    public var elapsedSeconds: Double
    /// Why the run stopped: `duration`, `connections`, `interrupted`.
    public var stopReason: StopReason
    public var config: RunConfig
    public var target: TargetInfo
    /// The source addresses attempts were spread over (empty: the kernel chose).
    public var sources: [String]
    public var system: SystemSnapshot
    public var totals: Totals
    public var latency: LatencyReport
    public var timeline: [TimelineSecond]
    /// Things the user should know about how the run was carried out (limits applied, caps).
    public var notes: [String]
    /// portstorm's own memory and CPU during the run (the generator's cost).
    public var process: ProcessStats?
    /// How the engine ran (how connects were confirmed).
    public var engine: EngineInfo?
    /// The `--source` addresses that a bind(2) probe at the start refused (empty: all were usable);
    /// absent when no source was given or the writer did not check.
    public var unusableSources: [SourceCheck]?
    /// The route and neighbour entry toward the target, taken after the run when attempts ended
    /// unreachable, `no_route` or timed out; absent otherwise.
    public var path: PathObservation?
    /// The kernel's counts over the whole run and the sockets toward the target before it
    /// (observed runs only; absent from older records and with --no-observe).
    public var kernelWitness: KernelWitness?
    /// The `--threshold` expressions and how the run measured against them; absent without any.
    public var thresholds: [ThresholdResult]?
    /// The host or pod that ran it: `--name`, else PORTSTORM_HOST_NAME, else gethostname(2).
    /// Absent from merged records (each host is in `hosts`) and from older records.
    public var hostName: String?
    /// The network namespace it ran in (its inode and the machine's boot id), so that a merge can
    /// tell runs that shared one kernel. Absent from merged records and from older records.
    public var networkNamespace: NetworkNamespaceID?
    /// `startedAt` as Unix time in milliseconds (startedAt itself is written to the second), for
    /// aligning records of several hosts.
    public var startedAtMs: Int64?
    /// How many milliseconds after `--start-at` the first attempt was due (0 when on time, or
    /// early by less than a millisecond); absent without --start-at.
    public var startLateMs: Int64?
    /// A merged record's generator hosts, one per merged record (absent from a single host's record).
    public var hosts: [HostRun]?
    /// TLS runs: handshakes completed and resumed, versions, and why handshakes failed (absent without TLS).
    public var tls: TLSTotals?

    public init(tool: ToolInfo, startedAt: Date, endedAt: Date, elapsedSeconds: Double, stopReason: StopReason,
                config: RunConfig, target: TargetInfo, sources: [String], system: SystemSnapshot, totals: Totals,
                latency: LatencyReport, timeline: [TimelineSecond], notes: [String]) {
        self.tool = tool
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.elapsedSeconds = elapsedSeconds
        self.stopReason = stopReason
        self.config = config
        self.target = target
        self.sources = sources
        self.system = system
        self.totals = totals
        self.latency = latency
        self.timeline = timeline
        self.notes = notes
    }
}

/// The generator's own cost: memory from /proc/self/status and getrusage(2), CPU during the run.
public struct ProcessStats: Codable, Sendable, Equatable {
    /// Resident memory when the run started and the process's peak, KiB.
    public var rssAtStartKiB: UInt64
    public var maxRssKiB: UInt64
    /// CPU seconds spent during the run, user and system.
    public var userSeconds: Double
    public var systemSeconds: Double
    /// Most attempts in flight at once (the sum of each worker's peak).
    public var peakInFlight: UInt64

    public init(rssAtStartKiB: UInt64, maxRssKiB: UInt64, userSeconds: Double, systemSeconds: Double, peakInFlight: UInt64) {
        self.rssAtStartKiB = rssAtStartKiB
        self.maxRssKiB = maxRssKiB
        self.userSeconds = userSeconds
        self.systemSeconds = systemSeconds
        self.peakInFlight = peakInFlight
    }

    /// Memory the run added per attempt in flight at its peak, in bytes (nil without attempts).
    public var bytesPerConnection: Double? {
        peakInFlight > 0 ? Double(maxRssKiB > rssAtStartKiB ? maxRssKiB - rssAtStartKiB : 0) * 1024 / Double(peakInFlight) : nil
    }
}

public enum StopReason: String, Codable, Sendable {
    case duration, connections, interrupted
}

public struct ToolInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public init(name: String = "portstorm", version: String) { self.name = name; self.version = version }
}

/// The target: what was asked, every address it resolved to, and the one used.
public struct TargetInfo: Codable, Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var resolved: [String]
    public var used: String
    public init(host: String, port: UInt16, resolved: [String], used: String) {
        self.host = host
        self.port = port
        self.resolved = resolved
        self.used = used
    }
}

/// The kernel and process settings in force for the run, read once before the first attempt from
/// inside the network namespace the run is in (most net.* settings are per namespace).
/// Values the kernel does not offer (an older kernel, a module not loaded) are absent.
public struct SystemSnapshot: Codable, Sendable, Equatable {
    /// uname(2) release.
    public var kernel: String
    /// net.ipv4.ip_local_port_range, `[low, high]`.
    public var ipLocalPortRange: [UInt16]?
    /// RLIMIT_NOFILE after portstorm raised it (getrlimit).
    public var openFilesSoft: UInt64
    public var openFilesHard: UInt64
    /// net.ipv4.ip_local_reserved_ports as written by the kernel (e.g. "8080,40000-40009").
    public var ipLocalReservedPorts: String?
    /// net.ipv4.tcp_tw_reuse: 0 off, 1 on, 2 loopback only.
    public var tcpTwReuse: Int?
    /// net.ipv4.tcp_tw_reuse_delay in ms (Linux 6.12+).
    public var tcpTwReuseDelayMs: Int?
    public var tcpMaxTwBuckets: Int?
    public var tcpFinTimeout: Int?
    public var tcpTimestamps: Int?
    public var tcpSynRetries: Int?
    /// net.core.somaxconn.
    public var somaxconn: Int?
    public var tcpMaxSynBacklog: Int?
    /// fs.file-max and fs.nr_open.
    public var fileMax: Int?
    public var nrOpen: Int?
    /// net.netfilter.nf_conntrack_max, when the conntrack module is loaded.
    public var nfConntrackMax: Int?
    /// net.netfilter.nf_conntrack_count at start: entries tracked in this network namespace. 0 where
    /// the module is loaded but no rule hooks tracking into this namespace (a fresh one).
    public var nfConntrackCount: Int?
    /// kernel.io_uring_disabled: 0 allowed, 1 restricted to a group, 2 disabled.
    public var ioUringDisabled: Int?

    public init(kernel: String, ipLocalPortRange: [UInt16]?, openFilesSoft: UInt64, openFilesHard: UInt64) {
        self.kernel = kernel
        self.ipLocalPortRange = ipLocalPortRange
        self.openFilesSoft = openFilesSoft
        self.openFilesHard = openFilesHard
    }
}

/// Counts over the whole run. Invariant: attempted = sum(outcomes) + inFlightAtEnd.
public struct Totals: Codable, Sendable, Equatable {
    public var attempted: UInt64
    public var inFlightAtEnd: UInt64
    public var outcomes: OutcomeCounts
    /// Attempts that started more than `delayThresholdMs` after their scheduled time (--rate only).
    public var delayed: UInt64
    public var delayThresholdMs: Double
    /// --rate as asked (nil in closed loop), and attempts per second achieved while attempts were
    /// being started (from the start until the run stopped starting them; the drain is excluded).
    public var requestedRate: Double?
    public var achievedRate: Double
    /// Attempts the schedule called for before the run stopped (its time bound, or when a stop was
    /// requested) but that never started: the concurrency cap was full, or the generator could not
    /// keep the schedule (--rate only).
    public var missed: UInt64
    /// How the first few answers judged `protocol_mismatch` began (escaped text, at most 64 bytes
    /// each); `silentClose` for a server that closed without sending a byte.
    public var mismatchSamples: [String] = []
    /// The sample written for an answer that was only the server's close (recv returned 0 first).
    public static let silentClose = "(nothing before the close)"
    /// HTTP answers by status code (`{"200": n, "404": m}`), every answer whose status line was
    /// read, whatever its outcome (--protocol http and ws). Empty for raw TCP.
    public var httpStatuses: [String: UInt64] = [:]

    public init(attempted: UInt64, inFlightAtEnd: UInt64, outcomes: OutcomeCounts, delayed: UInt64 = 0,
                delayThresholdMs: Double = 10, requestedRate: Double? = nil, achievedRate: Double, missed: UInt64 = 0) {
        self.attempted = attempted
        self.inFlightAtEnd = inFlightAtEnd
        self.outcomes = outcomes
        self.delayed = delayed
        self.delayThresholdMs = delayThresholdMs
        self.requestedRate = requestedRate
        self.achievedRate = achievedRate
        self.missed = missed
    }

    /// Whether every attempt is accounted for.
    public var isBalanced: Bool { attempted == outcomes.total + inFlightAtEnd }

    /// Each outcome's cause, for the outcomes present (the record carries it so readers need no table).
    public var causes: [String: Outcome.Cause] {
        Dictionary(uniqueKeysWithValues: outcomes.nonZero.map { ($0.outcome.name, $0.outcome.cause) })
    }

    private enum CodingKeys: String, CodingKey {
        case attempted, inFlightAtEnd, outcomes, causes, delayed, delayThresholdMs, requestedRate, achievedRate, missed
        case mismatchSamples, httpStatuses
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attempted = try c.decode(UInt64.self, forKey: .attempted)
        inFlightAtEnd = try c.decode(UInt64.self, forKey: .inFlightAtEnd)
        outcomes = try c.decode(OutcomeCounts.self, forKey: .outcomes)
        delayed = try c.decodeIfPresent(UInt64.self, forKey: .delayed) ?? 0
        delayThresholdMs = try c.decodeIfPresent(Double.self, forKey: .delayThresholdMs) ?? 10
        requestedRate = try c.decodeIfPresent(Double.self, forKey: .requestedRate)
        achievedRate = try c.decode(Double.self, forKey: .achievedRate)
        missed = try c.decodeIfPresent(UInt64.self, forKey: .missed) ?? 0
        mismatchSamples = try c.decodeIfPresent([String].self, forKey: .mismatchSamples) ?? []
        httpStatuses = try c.decodeIfPresent([String: UInt64].self, forKey: .httpStatuses) ?? [:]
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attempted, forKey: .attempted)
        try c.encode(inFlightAtEnd, forKey: .inFlightAtEnd)
        try c.encode(outcomes, forKey: .outcomes)
        try c.encode(causes, forKey: .causes)
        try c.encode(delayed, forKey: .delayed)
        try c.encode(delayThresholdMs, forKey: .delayThresholdMs)
        try c.encodeIfPresent(requestedRate, forKey: .requestedRate)
        try c.encode(achievedRate, forKey: .achievedRate)
        try c.encode(missed, forKey: .missed)
        if !mismatchSamples.isEmpty { try c.encode(mismatchSamples, forKey: .mismatchSamples) }
        if !httpStatuses.isEmpty { try c.encode(httpStatuses, forKey: .httpStatuses) }
    }
}

/// Connect latency (from submitting connect to its completion), in microseconds.
public struct LatencyReport: Codable, Sendable {
    public var connect: LatencySummary
    public var connectHistogram: LatencyHistogram
    /// TLS runs: handshake latency (connect confirmed to handshake complete, the ciphertext moved
    /// by the ring), microseconds, of the handshakes that completed. Absent without TLS.
    public var handshake: LatencySummary?
    public var handshakeHistogram: LatencyHistogram?
    /// Runs that read an answer (http, https, ws, wss, --send/--expect): time to the answer's
    /// first byte, microseconds, from the request's last byte accepted by the kernel (or by TLS)
    /// to the first byte read back; without --send, from the connection being ready (a banner).
    /// Of the answers whose first byte arrived. Absent when the run reads no answer.
    public var firstByte: LatencySummary?
    public var firstByteHistogram: LatencyHistogram?
    public init(connectHistogram: LatencyHistogram) {
        self.connect = connectHistogram.summary
        self.connectHistogram = connectHistogram
    }

    /// Adds the first-byte latencies of a run that reads answers.
    public mutating func setFirstByte(_ histogram: LatencyHistogram) {
        firstByte = histogram.summary
        firstByteHistogram = histogram
    }

    /// Adds the handshake latencies of a TLS run.
    public mutating func setHandshake(_ histogram: LatencyHistogram) {
        handshake = histogram.summary
        handshakeHistogram = histogram
    }
}

/// One second of the run. Attempts count where they started; outcomes where they ended.
public struct TimelineSecond: Codable, Sendable, Equatable {
    /// Seconds since the start of the run (0 is the first second).
    public var t: Int
    public var attempts: UInt64
    public var ok: UInt64
    /// Failures by outcome name (ok excluded).
    public var failures: [String: UInt64]
    /// Attempts in flight when the second ended.
    public var inFlight: UInt64
    public var delayed: UInt64
    /// Connect latency percentiles of the connects that completed in this second (nil when none).
    public var connectLatencyUs: SecondLatency?
    /// What the kernel showed during this second (nil when the run was not observed).
    public var kernel: KernelSecond?
    /// HTTP answers completed in this second by status code (absent when none).
    public var httpStatuses: [String: UInt64]?
    /// Unix time (whole seconds) in which this second began: `startedAtMs / 1000 + t`, rounded
    /// down. A merged record's second `t` begins `t` s after its earliest host's start, and `at` is
    /// that start's second plus `t`. Absent from older records.
    public var at: Int64?
    /// The connect latencies of this second as `[value, count]` buckets (2 significant digits, each
    /// bucket's highest value), from which `connectLatencyUs` was computed: merging adds them.
    public var connectBuckets: [[UInt64]]?
    /// TLS runs: handshakes completed in this second (0 when none; absent without TLS and from
    /// older records). Over the timeline they add up to `tls.handshakes`.
    public var handshakes: UInt64?
    /// TLS runs: handshake latency percentiles of the handshakes completed in this second (nil
    /// when none), measured as `latency.handshake` is.
    public var handshakeLatencyUs: SecondLatency?
    /// The handshake latencies of this second as `[value, count]` buckets (2 significant digits),
    /// from which `handshakeLatencyUs` was computed: merging adds them.
    public var handshakeBuckets: [[UInt64]]?

    public init(t: Int, attempts: UInt64, ok: UInt64, failures: [String: UInt64], inFlight: UInt64, delayed: UInt64,
                connectLatencyUs: SecondLatency?) {
        self.t = t
        self.attempts = attempts
        self.ok = ok
        self.failures = failures
        self.inFlight = inFlight
        self.delayed = delayed
        self.connectLatencyUs = connectLatencyUs
    }
}

public struct SecondLatency: Codable, Sendable, Equatable {
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var max: UInt64
    public init(p50: UInt64, p90: UInt64, p99: UInt64, max: UInt64) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
    }

    /// The percentiles of one second's histogram (2 significant digits), each capped by the exact
    /// slowest value: a bucket reports its highest value, which can pass it, so capping keeps
    /// p50 <= p90 <= p99 <= max. Nil when the histogram is empty.
    public init?(_ h: LatencyHistogram, slowest: UInt64) {
        guard !h.isEmpty else { return nil }
        self.init(p50: Swift.min(h.percentile(50), slowest), p90: Swift.min(h.percentile(90), slowest),
                  p99: Swift.min(h.percentile(99), slowest), max: slowest)
    }
}

extension RunRecord {
    /// The JSON encoder records are written with: sorted keys, ISO 8601 dates, pretty-printed.
    public static func makeEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    public static func makeDecoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    public func jsonData() throws -> Data { try RunRecord.makeEncoder().encode(self) }

    /// Decodes a record of the current schema (another schema throws `UnsupportedSchema`) and checks
    /// its values (`validate()`): what loads is safe to analyse and render.
    public static func load(from data: Data) throws -> RunRecord {
        try checkSchema(of: data)
        let r = try makeDecoder().decode(RunRecord.self, from: data)
        try r.validate()
        return r
    }
}
