import Glibc

/// Runs a test body on a thread of its own that first enters a new, empty network namespace
/// (unshare(CLONE_NEWNET) moves only the calling thread), with loopback brought up (SIOCSIFFLAGS).
/// The sockets the body opens, the threads it starts (they inherit the namespace) and what
/// sock_diag shows it are then its own: no other connect can take over its TIME_WAIT tuples
/// (tcp_tw_reuse=2 allows that on loopback), and nothing earlier tests left behind is counted.
/// /proc/self/net still shows the process's first namespace (the product's /proc readers see that
/// one): use sock_diag, or /proc/thread-self/net, inside.
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
        let failure = withoutActuallyEscaping({ result = Result { try body() } }) { work in onNewThread(work) }
        if let failure { throw Failure(message: failure) }
        return try result!.get()
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Runs `work` on a new thread once it is in a new namespace with loopback up, and waits for
    /// it; returns why the namespace could not be made (work then did not run), or nil.
    private static func onNewThread(_ work: @escaping () -> Void) -> String? {
        let job = NamespaceJob(work)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, namespaceThreadMain, Unmanaged.passUnretained(job).toOpaque())
        guard started == 0 else { return "pthread_create: \(String(cString: strerror(started)))" }
        pthread_join(thread, nil)
        return job.failure
    }

    /// unshare(2) with CLONE_NEWNET (0x40000000, linux/sched.h). Glibc declares unshare only under
    /// _GNU_SOURCE, which Swift's Glibc module does not see: the symbol is looked up at run time.
    static func unshareNetwork() -> Int32 {
        typealias Unshare = @convention(c) (Int32) -> Int32
        guard let symbol = dlsym(nil, "unshare") else { errno = ENOSYS; return -1 }
        return unsafeBitCast(symbol, to: Unshare.self)(0x4000_0000)
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

/// What the namespace's thread runs, and why it could not (written by that thread before it ends,
/// read after pthread_join).
private final class NamespaceJob: @unchecked Sendable {
    let work: () -> Void
    var failure: String?
    init(_ work: @escaping () -> Void) { self.work = work }
}

/// The namespace thread's start routine: unshare, loopback up, then the job's work.
private func namespaceThreadMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let job = Unmanaged<NamespaceJob>.fromOpaque(raw!).takeUnretainedValue()
    if ThreadNetworkNamespace.unshareNetwork() != 0 {
        job.failure = "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))"
    } else if let reason = ThreadNetworkNamespace.loopbackUp() {
        job.failure = reason
    } else {
        job.work()
    }
    return nil
}
