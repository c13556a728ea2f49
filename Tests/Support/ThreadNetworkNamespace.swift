import Glibc

/// Runs a test body on a thread of its own that first enters a new, empty network namespace
/// (unshare(CLONE_NEWNET) moves only the calling thread), with loopback brought up (SIOCSIFFLAGS).
/// The sockets the body opens, the threads it starts (they inherit the namespace) and what
/// sock_diag shows it are then its own: sockets that earlier tests left in TIME_WAIT, and the
/// namespace's TIME_WAIT cap (tcp_max_tw_buckets) that their churn may have reached, cannot touch
/// its counts. /proc/self/net still shows the process's first namespace; use sock_diag, or
/// /proc/thread-self/net, inside.
public enum ThreadNetworkNamespace {
    /// Why a namespace cannot be made here (unshare needs CAP_SYS_ADMIN), or nil when it can.
    public static let unavailable: String? = geteuid() == 0 ? nil : "a network namespace of the test's own needs root"

    /// Runs `body` in a fresh namespace where one can be made, passing `true`; otherwise runs it
    /// here, passing `false`, so that the test can say what it may expect in a shared namespace.
    public static func whereAvailable<T>(_ body: (_ isolated: Bool) throws -> T) throws -> T {
        if unavailable != nil { return try body(false) }
        return try run { try body(true) }
    }

    /// Runs `body` inside a fresh namespace; throws what `body` throws, or why the namespace failed.
    public static func run<T>(_ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            let box = Box(body)
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<Box<T>>.fromOpaque(raw!).takeUnretainedValue()
                box.runInNewNamespace()
                return nil
            }, Unmanaged.passUnretained(box).toOpaque())
            guard started == 0 else { throw Failure(message: "pthread_create: errno \(started)") }
            pthread_join(thread, nil)
            return try box.result!.get()
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private final class Box<T> {
        let body: () throws -> T
        var result: Result<T, Error>?
        init(_ body: @escaping () throws -> T) { self.body = body }

        func runInNewNamespace() {
            guard unshare(CLONE_NEWNET) == 0 else {
                result = .failure(Failure(message: "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))"))
                return
            }
            if let reason = ThreadNetworkNamespace.loopbackUp() {
                result = .failure(Failure(message: reason))
                return
            }
            result = Result { try body() }
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
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP.rawValue)
        guard withUnsafeMutablePointer(to: &request, { ioctl(fd, UInt(SIOCSIFFLAGS), $0) }) == 0 else {
            return "SIOCSIFFLAGS lo: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
