import CLibURing
import Glibc

/// Socket calls the engine and the servers make directly (not through the ring).
public enum Socket {
    /// socket(2): a TCP socket of the address's family, close-on-exec. Returns the fd or -errno.
    @inline(__always)
    public static func tcp(domain: Int32, nonBlocking: Bool = false) -> Int32 {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = Glibc.socket(domain, type, 0)
        return fd >= 0 ? fd : -errno
    }

    /// setsockopt(2) with an Int32-sized or struct value. Returns 0 or -errno.
    @inline(__always)
    public static func setOption<T: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: T) -> Int32 {
        let rc = withUnsafeBytes(of: value) { setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) }
        return rc == 0 ? 0 : -errno
    }

    /// SO_LINGER {on, 0}: close() sends RST and leaves no TIME_WAIT.
    /// The socket's pending error, read and cleared: getsockopt(SOL_SOCKET, SO_ERROR). 0 when none;
    /// the errno of the getsockopt call itself when it fails.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 ? value : errno
    }

    public static func setAbortiveClose(_ fd: Int32) -> Int32 {
        setOption(fd, SOL_SOCKET, SO_LINGER, linger(l_onoff: 1, l_linger: 0))
    }

    /// IP_LOCAL_PORT_RANGE (Linux 6.3): the ephemeral ports this socket may use, inclusive.
    /// The value packs the upper bound in the high 16 bits and the lower bound in the low 16 bits.
    public static func setLocalPortRange(_ fd: Int32, _ range: ClosedRange<UInt16>) -> Int32 {
        setOption(fd, Int32(IPPROTO_IP), PS_IP_LOCAL_PORT_RANGE, UInt32(range.upperBound) << 16 | UInt32(range.lowerBound))
    }

    /// IP_BIND_ADDRESS_NO_PORT then bind(ip, 0): choose the source address but leave the port
    /// to connect(), so that ports stay shared across destinations (the 4-tuple budget).
    public static func bindSource(_ fd: Int32, _ source: SocketAddress) -> Int32 {
        let rc = setOption(fd, Int32(IPPROTO_IP), PS_IP_BIND_ADDRESS_NO_PORT, Int32(1))
        if rc != 0 { return rc }
        return bind(fd, source)
    }

    /// Whether `address` is one of this machine's (in this network namespace): bind(ip, 0) with
    /// IP_BIND_ADDRESS_NO_PORT, which takes no port, so a range full of TIME_WAIT cannot make a
    /// local address look foreign (plain bind(ip, 0) fails with EADDRINUSE then). 0 or -errno
    /// (-EADDRNOTAVAIL: not an address of this machine).
    public static func checkLocalAddress(_ address: SocketAddress) -> Int32 {
        let fd = tcp(domain: address.domain)
        guard fd >= 0 else { return fd }
        defer { close(fd) }
        var a = address
        a.port = 0
        return bindSource(fd, a)
    }

    /// bind(2). Returns 0 or -errno.
    public static func bind(_ fd: Int32, _ address: SocketAddress) -> Int32 {
        let rc = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        return rc == 0 ? 0 : -errno
    }

    /// close(2); errors are ignored (the descriptor is gone either way on Linux).
    @inline(__always)
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// getsockname(2): the local address a socket got.
    public static func localAddress(_ fd: Int32) -> SocketAddress? {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &ss) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                getsockname(fd, sa, &len) == 0 ? SocketAddress(sa, length: len) : nil
            }
        }
    }

    /// A listening TCP socket on `address` (SO_REUSEADDR, non-blocking when asked).
    public static func listener(_ address: SocketAddress, backlog: Int32, nonBlocking: Bool,
                                reusePort: Bool = false) throws(SystemError) -> Int32 {
        let fd = tcp(domain: address.domain, nonBlocking: nonBlocking)
        guard fd >= 0 else { throw SystemError("socket", errno: -fd) }
        _ = setOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1))
        // SO_REUSEPORT: several listeners (of one user) share the address; the kernel spreads
        // incoming connections over them by a hash of the 4-tuple.
        if reusePort { _ = setOption(fd, SOL_SOCKET, SO_REUSEPORT, Int32(1)) }
        if address.family == .ipv6 { _ = setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1)) }
        let b = bind(fd, address)
        if b != 0 { close(fd); throw SystemError("bind \(address)", errno: -b) }
        if Glibc.listen(fd, backlog) != 0 {
            let e = errno
            close(fd)
            throw SystemError("listen \(address)", errno: e)
        }
        return fd
    }
}
