import PortstormRecord

/// How many connections one run can keep open at once, limit by limit, and the one sentence that
/// names the limit which stops it first. Pure: the values are read before the run (see
/// PortstormProbes.HostResources) and handed in.
public struct HoldCapacity: Sendable, Equatable {
    /// The limits a run holding many connections meets, in the order the sentence names them on a tie.
    public enum Limit: String, Sendable, CaseIterable {
        /// Descriptors: the process's table (RLIMIT_NOFILE) or, with sockets created in the ring,
        /// each ring's registered file table (at most RLIMIT_NOFILE slots each).
        case fileTables = "file tables"
        case memory
        case portsPerTuple = "ports per tuple"
        case server = "the server's limits"
    }

    /// One limit: how many connections it lets the run keep open at once, and how that is counted.
    public struct Bound: Sendable, Equatable {
        public var limit: Limit
        public var connections: Int
        public var why: String
    }

    /// What the run asks for and what the machine has, as read at start.
    public struct Inputs: Sendable, Equatable {
        /// Attempts the run keeps open at once: -c, or -n when smaller.
        public var wanted: Int
        public var threads: Int
        /// RLIMIT_NOFILE the run will have: the hard limit (the run raises its soft limit to it), or --open-files.
        public var openFiles: UInt64
        /// --open-files was given: the run does not cap its concurrency to fit (attempts fail with EMFILE).
        public var openFilesGiven: Bool
        /// Sockets are created in the ring as direct descriptors (one registered file table per
        /// worker ring, sized to the worker's share of -c and at most RLIMIT_NOFILE); false: one
        /// descriptor of the process's table per connection.
        public var socketsInRing: Bool
        /// The most rings the engine runs (it adds rings when a share of -c exceeds RLIMIT_NOFILE).
        public var maxRings: Int
        /// MemAvailable from /proc/meminfo, in bytes (nil when unreadable).
        public var memAvailableBytes: UInt64?
        /// The memory one held connection costs, in bytes (see `estimatedBytes`).
        public var bytesPerConnection: Int
        /// Local ports per (source, destination) tuple: the effective range less reserved ports.
        public var portsPerSource: Int
        public var sources: Int
        /// The destination as printed, e.g. 127.0.0.1:9000.
        public var destination: String
        /// portstorm's own hold servers listening on the target in this namespace, when they are the only listeners.
        public var server: LocalServerRoom?
        /// Whether connections stay open long enough for the ports they hold at once to be a limit:
        /// false for an open-loop run without --hold, whose attempts last their connect and exchange
        /// only (the rate sizes its ports, through TIME_WAIT: the preflight's port-budget finding).
        public var portsHeldAtOnce: Bool

        public init(wanted: Int, threads: Int = 1, openFiles: UInt64, openFilesGiven: Bool = false, socketsInRing: Bool = false,
                    maxRings: Int = 1024, memAvailableBytes: UInt64? = nil, bytesPerConnection: Int, portsPerSource: Int, sources: Int = 1,
                    destination: String, server: LocalServerRoom? = nil, portsHeldAtOnce: Bool = true) {
            self.portsHeldAtOnce = portsHeldAtOnce
            self.wanted = wanted
            self.threads = max(1, threads)
            self.openFiles = openFiles
            self.openFilesGiven = openFilesGiven
            self.socketsInRing = socketsInRing
            self.maxRings = max(1, maxRings)
            self.memAvailableBytes = memAvailableBytes
            self.bytesPerConnection = max(1, bytesPerConnection)
            self.portsPerSource = portsPerSource
            self.sources = max(1, sources)
            self.destination = destination
            self.server = server
        }
    }

    /// Memory per held connection on the client side: half the socket caches one loopback
    /// connection adds (TCP, sock_inode_cache, filp, dentry in /proc/slabinfo: 7,812 bytes for both
    /// sockets) plus the engine's 144 bytes of user space. Measured by Benchmarks/hold-million.sh
    /// holding 1,000,000 on Linux 6.18 (Benchmarks/RESULTS.md, "A million held in one process").
    public static let clientBytesPerConnection = 4_100
    /// The server's side of a loopback connection held by a server on this machine: its socket,
    /// file and epoll entry and its user space, so that both sides add up to the 8,462 bytes of
    /// MemAvailable that the same run took per connection.
    public static let serverBytesPerConnection = 4_400
    /// Descriptors the process keeps beyond its connections (rings, stdio, output files); the
    /// engine keeps the same headroom.
    public static let descriptorHeadroom = 64

    /// The estimate used for `Inputs.bytesPerConnection`: both sides when the server runs on this machine.
    public static func estimatedBytes(serverOnThisMachine: Bool) -> Int {
        clientBytesPerConnection + (serverOnThisMachine ? serverBytesPerConnection : 0)
    }

    public let inputs: Inputs
    /// Every limit that could be counted, smallest first.
    public let bounds: [Bound]

    public init(_ i: Inputs) {
        inputs = i
        var b: [Bound] = []
        let limit = Int(clamping: i.openFiles)
        if i.socketsInRing {
            // Each ring's fixed-file table holds its share of -c, and the kernel refuses a table
            // larger than RLIMIT_NOFILE (io_uring_register_files: EMFILE); the engine then runs
            // more rings (one per RLIMIT_NOFILE sockets), up to `maxRings`.
            let table = max(1, limit)
            let rings = Self.rings(i)
            b.append(Bound(limit: .fileTables, connections: i.maxRings * table,
                           why: "\(i.maxRings.grouped) rings at most, each with a fixed-file table of at most \(table.grouped) sockets (RLIMIT_NOFILE); this run takes \(rings) ring\(rings == 1 ? "" : "s")"))
        } else {
            let room = max(0, limit - Self.descriptorHeadroom)
            let past = i.openFilesGiven ? "attempts past it fail with EMFILE" : "the run caps -c to fit"
            b.append(Bound(limit: .fileTables, connections: room,
                           why: "one descriptor per connection in the process's table, RLIMIT_NOFILE \(limit.grouped) less \(Self.descriptorHeadroom) kept for the rest; \(past)"))
        }
        if let avail = i.memAvailableBytes {
            let n = Int(clamping: avail / UInt64(i.bytesPerConnection))
            b.append(Bound(limit: .memory, connections: n,
                           why: "MemAvailable \(Self.gib(avail)) at about \(i.bytesPerConnection.grouped) bytes per connection"))
        }
        let ports = i.portsPerSource * i.sources
        if i.portsHeldAtOnce { b.append(Bound(limit: .portsPerTuple, connections: ports,
                       why: "\(i.sources.grouped) source address\(i.sources == 1 ? "" : "es") x \(i.portsPerSource.grouped) ports toward \(i.destination); the rest fail with EADDRNOTAVAIL")) }
        if let s = i.server {
            b.append(Bound(limit: .server, connections: s.room,
                           why: "\(s.processes) portstorm serve process\(s.processes == 1 ? "" : "es") on \(i.destination) can accept \(s.room.grouped) more (their RLIMIT_NOFILE less descriptors open); the rest wait in the accept queue"))
        }
        // Stable: on a tie the order of `Limit` decides.
        bounds = b.enumerated().sorted { ($0.element.connections, $0.offset) < ($1.element.connections, $1.offset) }.map(\.element)
    }

    /// Rings on the ring path: --threads, or one per RLIMIT_NOFILE sockets when a share would not fit a table.
    static func rings(_ i: Inputs) -> Int {
        let table = max(1, Int(clamping: i.openFiles))
        let perRing = (i.wanted + i.threads - 1) / i.threads
        return perRing <= table ? i.threads : min(i.maxRings, (i.wanted + table - 1) / table)
    }

    /// The limit that stops the run before it holds `wanted` connections at once; nil when none does.
    public var stopping: Bound? {
        bounds.first.flatMap { $0.connections < inputs.wanted ? $0 : nil }
    }

    /// One sentence: which limit stops the run and near how many connections, or that none does.
    public var sentence: String {
        if let s = stopping {
            return "\(s.limit.rawValue) will stop this run near \(s.connections.grouped) of the \(inputs.wanted.grouped) connections it keeps open at once: \(s.why)"
        }
        guard let first = bounds.first else { return "no limit was counted" }
        return "no limit stops \(inputs.wanted.grouped) connections at once; the nearest is \(first.limit.rawValue), at \(first.connections.grouped) (\(first.why))"
    }

    /// What lifts the stopping limit.
    var advice: [String] {
        guard let s = stopping else { return [] }
        let i = inputs
        switch s.limit {
        case .fileTables where i.socketsInRing:
            return ["raise the open-file limit (ulimit -n; the hard limit needs root): it sizes each ring's table",
                    "split the load over processes (--shard)"]
        case .fileTables:
            return ["raise the open-file hard limit (ulimit -Hn, LimitNOFILE=), or split the load over processes (--shard)"]
        case .memory:
            return ["lower -c, or free memory: each held connection costs the kernel a socket on each side"]
        case .portsPerTuple:
            let perSource = max(1, i.portsPerSource)
            return ["use \(((i.wanted + perSource - 1) / perSource).grouped) source addresses or more (--source A.B.C.D-A.B.C.E)",
                    "widen net.ipv4.ip_local_port_range (1024 65535 at most)"]
        case .server:
            return ["start more servers on the same address (portstorm serve --reuse-port), each holding up to its own open-file limit"]
        }
    }

    /// The preflight finding: a warning naming the stopping limit, else ok; every limit as evidence.
    public var finding: Finding {
        Finding(stopping == nil ? .ok : .warning, "hold-capacity", sentence,
                evidence: bounds.map { "\($0.limit.rawValue): \($0.connections.grouped) (\($0.why))" }
                    + ["memory estimate: \(inputs.bytesPerConnection.grouped) bytes per connection (client side \(Self.clientBytesPerConnection.grouped), server side on this machine \(Self.serverBytesPerConnection.grouped)), measured holding 1,000,000 on loopback with Linux 6.18"],
                advice: advice)
    }

    static func gib(_ bytes: UInt64) -> String {
        let g = Double(bytes) / Double(1 << 30)
        return g >= 10 ? "\(Int(g.rounded())) GiB" : "\((g * 10).rounded() / 10) GiB"
    }
}

/// portstorm serve processes listening on a run's target in this namespace: how many more
/// connections they can accept before their open-file limits (read from /proc/PID/limits and
/// /proc/PID/fd).
public struct LocalServerRoom: Sendable, Equatable {
    public var processes: Int
    /// Sum over the processes of (RLIMIT_NOFILE soft limit - descriptors open).
    public var room: Int

    public init(processes: Int, room: Int) {
        self.processes = processes
        self.room = room
    }
}
