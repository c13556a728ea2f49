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

/// What the engine ran with, as far as it changes what the counts mean.
public struct EngineInfo: Codable, Sendable, Equatable {
    public var connectCheck: ConnectCheck

    public init(connectCheck: ConnectCheck) { self.connectCheck = connectCheck }
}
