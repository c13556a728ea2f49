/// How the engine confirms that a connect which completed with 0 really established a connection.
///
/// An io_uring CONNECT can complete with 0 although an ICMP error (port, host or network
/// unreachable, administratively prohibited) ended it: the socket never reached ESTABLISHED and its
/// pending error (SO_ERROR) holds the real errno. Every `ok` is therefore checked against SO_ERROR.
public enum ConnectCheck: String, Codable, Sendable, CaseIterable {
    /// getsockopt(SO_ERROR) linked to the CONNECT in the ring (SOCKET_URING_OP_GETSOCKOPT, Linux 6.7+).
    case ring = "ring-getsockopt"
    /// A getsockopt(SO_ERROR) system call after the CONNECT completes (older kernels).
    case syscall = "getsockopt"
    /// Not checked (only through PORTSTORM_CONNECT_CHECK=off, to measure what the check costs):
    /// an `ok` may then be a connect that an ICMP error ended.
    case off
}

/// Where each attempt's socket is made and set up.
public enum SocketPath: String, Codable, Sendable, CaseIterable {
    /// IORING_OP_SOCKET into the ring's fixed-file table, options through SOCKET_URING_OP_SETSOCKOPT,
    /// the source through IORING_OP_BIND, linked to the CONNECT: no system call per attempt, and no
    /// descriptor in the process's table (each ring's table is capped by RLIMIT_NOFILE instead).
    case ring = "ring-direct"
    /// socket(2), setsockopt(2) and bind(2) per attempt; the ring runs the connect onwards.
    case syscalls
}

/// What the engine ran with, as far as it changes what the counts mean.
public struct EngineInfo: Codable, Sendable, Equatable {
    public var connectCheck: ConnectCheck
    /// Where sockets were made (absent in records written before it was recorded).
    public var path: SocketPath?
    /// Why the system-call path ran although the ring path exists (the kernel lacks a feature, or
    /// the run asked for it).
    public var pathReason: String?
    /// Worker rings (threads), each with its own fixed-file table on the ring path.
    public var rings: Int?

    public init(connectCheck: ConnectCheck, path: SocketPath? = nil, pathReason: String? = nil, rings: Int? = nil) {
        self.connectCheck = connectCheck
        self.path = path
        self.pathReason = pathReason
        self.rings = rings
    }
}
