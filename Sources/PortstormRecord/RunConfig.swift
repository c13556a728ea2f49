/// Who closes a connection first, and how.
public enum CloseMode: String, Codable, Sendable, CaseIterable {
    /// The client closes first (FIN): TIME_WAIT stays on this side.
    case client
    /// Abortive close (SO_LINGER {on, 0}): RST, no TIME_WAIT on either side.
    case rst
    /// Wait for the server's FIN (bounded by --response-timeout), then close: TIME_WAIT on the server.
    case server
}

/// What is spoken on a connection once it is up.
public enum WireProtocol: String, Codable, Sendable, CaseIterable {
    /// Connect only, or `--send` / `--expect` raw text.
    case tcp
    /// One `GET` with `Connection: close`; the answer must start with a well-formed status line.
    case http
    /// A WebSocket opening handshake (RFC 6455); the answer must be `101` with the right
    /// Sec-WebSocket-Accept.
    case ws
}

/// An inclusive range of local ports, as `--local-ports LO-HI` gives it.
public struct PortRange: Codable, Sendable, Equatable, CustomStringConvertible {
    public var low: UInt16
    public var high: UInt16
    public init(low: UInt16, high: UInt16) { self.low = low; self.high = high }
    public var count: Int { Int(high) - Int(low) + 1 }
    public var description: String { "\(low)-\(high)" }
}

/// Everything that shapes a run, as given (after defaults), stored in the record.
public struct RunConfig: Codable, Sendable, Equatable {
    /// The target as the user typed it.
    public var target: String
    /// New connections per second (open loop); nil for closed loop at `concurrency`.
    public var rate: Double?
    /// Cap on attempts in flight, over all threads.
    public var concurrency: Int
    /// Stop after this many seconds (nil: no time bound).
    public var durationSeconds: Double?
    /// Stop after this many attempts (nil: no count bound).
    public var connections: Int?
    public var connectTimeoutMs: Int
    public var responseTimeoutMs: Int
    public var close: CloseMode
    public var wireProtocol: WireProtocol
    /// Raw text sent after connecting (tcp).
    public var send: String?
    /// Text the answer must contain within its first bytes (tcp).
    public var expect: String?
    /// Request path (http).
    public var path: String
    /// Source addresses, spread round-robin over attempts.
    public var sources: [String]
    /// Per-socket ephemeral range (IP_LOCAL_PORT_RANGE).
    public var localPorts: PortRange?
    /// Worker threads, one ring each.
    public var threads: Int
    /// Bind source addresses without IP_BIND_ADDRESS_NO_PORT (bind picks the port, exclusively):
    /// the old way, kept to reproduce EADDRINUSE.
    public var bindBeforeConnect: Bool = false
    /// Set RLIMIT_NOFILE to this for the run and do not cap the concurrency (to reproduce EMFILE).
    public var openFiles: Int?
    /// The Host header of http and ws requests (default: the target as given).
    public var hostHeader: String?
    /// Keep each connection open this long once connected (and answered), then close it.
    public var holdMs: Int?
    /// Leave the port choice to the kernel's default search (no IP_LOCAL_PORT_RANGE hint when
    /// --local-ports is not given).
    public var kernelPortSearch: Bool = false
    /// HTTP status codes that count as ok (`--expect-status`, as typed); nil: 200-399.
    public var expectStatus: String?
    /// This run's part of a load split over several generators (`--shard I/N`): rate, concurrency
    /// and connections above are already its share (Shard.share).
    public var shard: Shard?
    /// `--start-at`: Unix time in seconds at which the first attempt is due (the engine waits for it).
    public var startAt: Double?
    /// The run speaks TLS (`--protocol https|wss|tls`, an https:// or wss:// target) with these
    /// settings; `wireProtocol` is what goes inside it. nil: plain TCP.
    public var tls: TLSConfig?

    /// Whether attempts read an answer (http, ws, or --expect): then the record has first-byte latency.
    public var readsAnswer: Bool { wireProtocol != .tcp || expect != nil }

    public init(target: String, rate: Double? = nil, concurrency: Int = 100, durationSeconds: Double? = 10,
                connections: Int? = nil, connectTimeoutMs: Int = 2000, responseTimeoutMs: Int = 5000,
                close: CloseMode = .client, wireProtocol: WireProtocol = .tcp, send: String? = nil,
                expect: String? = nil, path: String = "/", sources: [String] = [], localPorts: PortRange? = nil,
                threads: Int = 1) {
        self.target = target
        self.rate = rate
        self.concurrency = concurrency
        self.durationSeconds = durationSeconds
        self.connections = connections
        self.connectTimeoutMs = connectTimeoutMs
        self.responseTimeoutMs = responseTimeoutMs
        self.close = close
        self.wireProtocol = wireProtocol
        self.send = send
        self.expect = expect
        self.path = path
        self.sources = sources
        self.localPorts = localPorts
        self.threads = threads
    }

    private enum CodingKeys: String, CodingKey {
        case target, rate, concurrency, durationSeconds, connections, connectTimeoutMs, responseTimeoutMs
        case close, wireProtocol = "protocol", send, expect, path, sources, localPorts, threads, bindBeforeConnect, openFiles
        case hostHeader = "host"
        case holdMs, kernelPortSearch, expectStatus, shard, startAt, tls
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        target = try c.decode(String.self, forKey: .target)
        rate = try c.decodeIfPresent(Double.self, forKey: .rate)
        concurrency = try c.decode(Int.self, forKey: .concurrency)
        durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds)
        connections = try c.decodeIfPresent(Int.self, forKey: .connections)
        connectTimeoutMs = try c.decode(Int.self, forKey: .connectTimeoutMs)
        responseTimeoutMs = try c.decode(Int.self, forKey: .responseTimeoutMs)
        close = try c.decode(CloseMode.self, forKey: .close)
        wireProtocol = try c.decode(WireProtocol.self, forKey: .wireProtocol)
        send = try c.decodeIfPresent(String.self, forKey: .send)
        expect = try c.decodeIfPresent(String.self, forKey: .expect)
        path = try c.decode(String.self, forKey: .path)
        sources = try c.decode([String].self, forKey: .sources)
        localPorts = try c.decodeIfPresent(PortRange.self, forKey: .localPorts)
        threads = try c.decode(Int.self, forKey: .threads)
        bindBeforeConnect = try c.decodeIfPresent(Bool.self, forKey: .bindBeforeConnect) ?? false
        openFiles = try c.decodeIfPresent(Int.self, forKey: .openFiles)
        hostHeader = try c.decodeIfPresent(String.self, forKey: .hostHeader)
        holdMs = try c.decodeIfPresent(Int.self, forKey: .holdMs)
        kernelPortSearch = try c.decodeIfPresent(Bool.self, forKey: .kernelPortSearch) ?? false
        expectStatus = try c.decodeIfPresent(String.self, forKey: .expectStatus)
        shard = try c.decodeIfPresent(Shard.self, forKey: .shard)
        startAt = try c.decodeIfPresent(Double.self, forKey: .startAt)
        tls = try c.decodeIfPresent(TLSConfig.self, forKey: .tls)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encodeIfPresent(rate, forKey: .rate)
        try c.encode(concurrency, forKey: .concurrency)
        try c.encodeIfPresent(durationSeconds, forKey: .durationSeconds)
        try c.encodeIfPresent(connections, forKey: .connections)
        try c.encode(connectTimeoutMs, forKey: .connectTimeoutMs)
        try c.encode(responseTimeoutMs, forKey: .responseTimeoutMs)
        try c.encode(close, forKey: .close)
        try c.encode(wireProtocol, forKey: .wireProtocol)
        try c.encodeIfPresent(send, forKey: .send)
        try c.encodeIfPresent(expect, forKey: .expect)
        try c.encode(path, forKey: .path)
        try c.encode(sources, forKey: .sources)
        try c.encodeIfPresent(localPorts, forKey: .localPorts)
        try c.encode(threads, forKey: .threads)
        if bindBeforeConnect { try c.encode(true, forKey: .bindBeforeConnect) }
        try c.encodeIfPresent(openFiles, forKey: .openFiles)
        try c.encodeIfPresent(hostHeader, forKey: .hostHeader)
        try c.encodeIfPresent(holdMs, forKey: .holdMs)
        if kernelPortSearch { try c.encode(true, forKey: .kernelPortSearch) }
        try c.encodeIfPresent(expectStatus, forKey: .expectStatus)
        try c.encodeIfPresent(shard, forKey: .shard)
        try c.encodeIfPresent(startAt, forKey: .startAt)
        try c.encodeIfPresent(tls, forKey: .tls)
    }
}
