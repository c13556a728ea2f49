import Glibc

// unshare(2) and CLONE_NEWNET sit behind _GNU_SOURCE in <sched.h>, which Swift's Glibc module
// does not define: declared here (the flag's value is from <linux/sched.h>).
@_silgen_name("unshare") private func unshareCall(_ flags: Int32) -> Int32
private let cloneNewNet: Int32 = 0x4000_0000

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
        let started = withoutActuallyEscaping(body) { body -> Int32 in
            onThreadOfItsOwn(Job { result = inNewNamespace(body) })
        }
        guard started == 0 else { throw Failure(message: "pthread_create: errno \(started)") }
        return try result!.get()
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private final class Job {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }

    /// Runs the job on a new thread and waits for it; pthread_create's result.
    private static func onThreadOfItsOwn(_ job: Job) -> Int32 {
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<Job>.fromOpaque(raw!).takeUnretainedValue().work()
            return nil
        }, Unmanaged.passUnretained(job).toOpaque())
        if started == 0 { pthread_join(thread, nil) }
        return withExtendedLifetime(job) { started }
    }

    private static func inNewNamespace<T>(_ body: () throws -> T) -> Result<T, Error> {
        guard unshareCall(cloneNewNet) == 0 else {
            return .failure(Failure(message: "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))"))
        }
        if let reason = loopbackUp() { return .failure(Failure(message: reason)) }
        return Result { try body() }
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
