import Glibc

/// Moves the calling thread into a new, empty network namespace for the length of a test body
/// (unshare(CLONE_NEWNET) moves only the calling thread), with loopback brought up (SIOCSIFFLAGS),
/// then back (setns to the namespace it came from). The body stays on the test's thread, so its
/// expectations are the test's. The sockets it opens, the threads it starts (they inherit the
/// namespace) and what sock_diag shows it are then its own: no other connect can take over its
/// TIME_WAIT tuples (tcp_tw_reuse=2 allows that on loopback), and nothing earlier tests left
/// behind is counted. /proc/self/net still shows the process's first namespace (the product's
/// /proc readers see that one): use sock_diag, or /proc/thread-self/net, inside.
public enum ThreadNetworkNamespace {
    /// Why a namespace cannot be made here (unshare and setns need CAP_SYS_ADMIN), or nil when it can.
    public static let unavailable: String? = geteuid() == 0 ? nil : "a network namespace of the test's own needs root"

    /// Runs `body` in a fresh namespace where one can be made, passing `true`; otherwise runs it
    /// here, passing `false`, so that the test can say what it may expect in a shared namespace.
    public static func whereAvailable<T>(_ body: (_ isolated: Bool) throws -> T) throws -> T {
        if unavailable != nil { return try body(false) }
        return try run { try body(true) }
    }

    /// Runs `body` inside a fresh namespace; throws what `body` throws, or why the namespace failed.
    /// Threads that `body` starts must have ended when it returns (they stay in the namespace).
    public static func run<T>(_ body: () throws -> T) throws -> T {
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw Failure(message: "open /proc/thread-self/ns/net: \(String(cString: strerror(errno)))") }
        defer { close(home) }
        guard call("unshare", 0x4000_0000) == 0 else {  // CLONE_NEWNET
            throw Failure(message: "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))")
        }
        // A thread left in the test's namespace would run later tests there: stop instead.
        defer { precondition(call("setns", home, 0x4000_0000) == 0, "setns back to the test's namespace: errno \(errno)") }
        if let reason = loopbackUp() { throw Failure(message: reason) }
        return try body()
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// unshare(2) and setns(2): glibc declares them only under _GNU_SOURCE, which Swift's Glibc
    /// module does not see, so the symbols are looked up at run time.
    private static func call(_ name: String, _ arguments: Int32...) -> Int32 {
        guard let symbol = dlsym(nil, name) else { errno = ENOSYS; return -1 }
        switch arguments.count {
        case 1: return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)(arguments[0])
        default: return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)(arguments[0], arguments[1])
        }
    }

    /// Sets IFF_UP on `lo` in the calling thread's namespace; nil on success, else why not.
    static func loopbackUp() -> String? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (i, byte) in "lo".utf8.enumerated() { name[i] = byte }
        }
        guard withUnsafeMutablePointer(to: &request, { ioctl(fd, UInt(SIOCGIFFLAGS), $0) }) == 0 else {
            return "SIOCGIFFLAGS lo: \(String(cString: strerror(errno)))"
        }
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP)
        guard withUnsafeMutablePointer(to: &request, { ioctl(fd, UInt(SIOCSIFFLAGS), $0) }) == 0 else {
            return "SIOCSIFFLAGS lo: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}

