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
        var result: Result<T, Error>?
        let failure: String? = withoutActuallyEscaping({ result = Result { try body() } }) { (work: @escaping () -> Void) -> String? in
            let box = Work(work)
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                Unmanaged<Work>.fromOpaque(raw!).takeUnretainedValue().runInNewNamespace()
                return nil
            }, Unmanaged.passUnretained(box).toOpaque())
            guard started == 0 else { return "pthread_create: errno \(started)" }
            pthread_join(thread, nil)
            return box.failure
        }
        if let failure { throw Failure(message: failure) }
        return try result!.get()
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// CLONE_NEWNET (sched.h declares it and unshare(2) only under _GNU_SOURCE, which the Glibc
    /// module is not built with).
    private static let cloneNewNet: Int32 = 0x4000_0000

    /// The body, run on the new thread (not generic: a C function pointer cannot capture a type).
    private final class Work {
        let body: () -> Void
        var failure: String?
        init(_ body: @escaping () -> Void) { self.body = body }

        func runInNewNamespace() {
            guard unshareNetwork(ThreadNetworkNamespace.cloneNewNet) == 0 else {
                failure = "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))"
                return
            }
            if let reason = ThreadNetworkNamespace.loopbackUp() {
                failure = reason
                return
            }
            body()
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

/// unshare(2), looked up in the C library at run time.
private func unshareNetwork(_ flags: Int32) -> Int32 {
    guard let symbol = dlsym(nil, "unshare") else { errno = ENOSYS; return -1 }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)(flags)
}
