import CLibURing
import Glibc

/// Why a ring could not be created, with the one sentence a user needs.
public struct RingUnavailable: Error, CustomStringConvertible, Sendable {
    public let errno: Int32
    public let explanation: String
    public var description: String { explanation }

    static func explain(_ code: Int32) -> RingUnavailable {
        let why = String(cString: strerror(code))
        let disabled = KernelInfo.sysctlInt("kernel/io_uring_disabled") ?? 0
        let text: String
        switch code {
        case EPERM where disabled != 0:
            text = "io_uring is disabled on this machine (kernel.io_uring_disabled = \(disabled), io_uring_setup: \(why)); set it to 0 as root, or run portstorm on a host that allows io_uring"
        case EPERM, ENOSYS:
            text = "io_uring is not available to this process (io_uring_setup: \(why)): a seccomp profile (Docker's default blocks it) or an old kernel; run with a profile that allows io_uring_setup/io_uring_enter (e.g. docker run --security-opt seccomp=unconfined) or on Linux 6.1 or newer"
        case ENOMEM:
            text = "io_uring could not allocate its rings (io_uring_setup: \(why)); lower --concurrency or raise the memory limit (ulimit -l on old kernels)"
        default:
            text = "io_uring could not be set up (io_uring_setup: \(why)); portstorm needs Linux 6.1 or newer with io_uring enabled"
        }
        return RingUnavailable(errno: code, explanation: text)
    }
}

/// One io_uring instance (liburing's `struct io_uring`), used from a single thread.
///
/// Set up with SINGLE_ISSUER and DEFER_TASKRUN where the kernel has them (6.1+), so completions
/// are posted only when this thread enters the kernel: reap right after every wait.
public final class Ring {
    public private(set) var ring = io_uring()
    public let sqEntries: UInt32
    public let cqEntries: UInt32
    private var cqeBatch: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
    private let batchSize = 256

    /// io_uring_queue_init_params. `cqEntries` is raised to at least twice `entries`.
    public init(entries: UInt32, cqEntries: UInt32) throws(RingUnavailable) {
        var params = io_uring_params()
        params.flags = PS_IORING_SETUP_CQSIZE | PS_IORING_SETUP_SUBMIT_ALL | PS_IORING_SETUP_SINGLE_ISSUER
            | PS_IORING_SETUP_DEFER_TASKRUN
        params.cq_entries = max(cqEntries, entries * 2)
        var rc = io_uring_queue_init_params(entries, &ring, &params)
        if rc == -EINVAL {
            // Older kernels lack SINGLE_ISSUER / DEFER_TASKRUN: fall back to COOP_TASKRUN.
            params = io_uring_params()
            params.flags = PS_IORING_SETUP_CQSIZE | PS_IORING_SETUP_SUBMIT_ALL | PS_IORING_SETUP_COOP_TASKRUN
            params.cq_entries = max(cqEntries, entries * 2)
            rc = io_uring_queue_init_params(entries, &ring, &params)
        }
        guard rc == 0 else { throw RingUnavailable.explain(-rc) }
        sqEntries = params.sq_entries
        self.cqEntries = params.cq_entries
        cqeBatch = .allocate(capacity: batchSize)
    }

    private var open = true

    deinit {
        close()
        cqeBatch.deallocate()
    }

    /// Tears the ring down (io_uring_queue_exit): the kernel cancels what is still in flight.
    /// Its owner calls this before freeing buffers that pending operations may still write to.
    public func close() {
        guard open else { return }
        open = false
        io_uring_queue_exit(&ring)
    }

    /// Checks once, before a run, that this process may create a ring at all.
    public static func probe() -> RingUnavailable? {
        do {
            _ = try Ring(entries: 8, cqEntries: 16)
            return nil
        } catch {
            return error
        }
    }

    /// Whether getsockopt through the ring (SOCKET_URING_OP_GETSOCKOPT, Linux 6.7+) works here: one
    /// SO_ERROR read of a fresh socket on a small ring, once per run.
    public static func supportsSocketGetsockopt() -> Bool {
        guard let ring = try? Ring(entries: 4, cqEntries: 8) else { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        let value = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { value.deallocate() }
        value.pointee = -1
        ps_prep_getsockopt(ring.nextSQE(), fd, SOL_SOCKET, SO_ERROR, value, Int32(MemoryLayout<Int32>.size))
        ring.submitAndWait(timeoutNanos: 1_000_000_000)
        var res: Int32 = -1
        _ = ring.drainCompletions { _, r in res = r }
        return res == Int32(MemoryLayout<Int32>.size) && value.pointee == 0
    }

    /// The next free submission entry, submitting what is queued when the SQ is full.
    @inline(__always)
    public func nextSQE() -> UnsafeMutablePointer<io_uring_sqe> {
        if let sqe = io_uring_get_sqe(&ring) { return sqe }
        makeRoom(1)
        return io_uring_get_sqe(&ring)!
    }

    /// Submits until `n` submission entries are free. A full SQ empties on submit; a kernel that
    /// keeps refusing (-EBUSY with a completion backlog) gets a bounded number of tries, then the
    /// run stops with the reason instead of spinning forever.
    private func makeRoom(_ n: UInt32) {
        var rc: Int32 = 0
        for _ in 0..<100_000 {
            rc = io_uring_submit(&ring)
            if io_uring_sq_space_left(&ring) >= n { return }
            sched_yield()
        }
        fatalError("io_uring_submit kept failing (\(String(cString: strerror(-rc)))): the submission queue never drained")
    }

    /// io_uring_prep_connect. Deadlines are the caller's (the engine cancels overdue operations).
    @inline(__always)
    public func connect(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_connect(sqe, fd, address, length)
        sqe.pointee.user_data = userData
    }

    /// CONNECT linked to a getsockopt(SOL_SOCKET, SO_ERROR) into `soError` (SOCKET_URING_OP_GETSOCKOPT,
    /// Linux 6.7+): two completions, the connect's (`userData`) then the check's (`verifyUserData`,
    /// -ECANCELED when the connect failed). A connect can complete with 0 although an ICMP error
    /// ended it; the socket's pending error then says what really happened.
    @inline(__always)
    public func connectVerified(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64,
                                soError: UnsafeMutablePointer<Int32>, verifyUserData: UInt64) {
        // Both in one submission: a link that straddles two submissions is cut at the boundary.
        if io_uring_sq_space_left(&ring) < 2 { makeRoom(2) }
        let sqe = nextSQE()
        io_uring_prep_connect(sqe, fd, address, length)
        sqe.pointee.flags |= PS_IOSQE_IO_LINK
        sqe.pointee.user_data = userData
        let check = nextSQE()
        ps_prep_getsockopt(check, fd, SOL_SOCKET, SO_ERROR, soError, Int32(MemoryLayout<Int32>.size))
        check.pointee.user_data = verifyUserData
    }

    /// io_uring_prep_recv.
    @inline(__always)
    public func recv(fd: Int32, into buffer: UnsafeMutableRawPointer, length: Int, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_recv(sqe, fd, buffer, length, 0)
        sqe.pointee.user_data = userData
    }

    /// io_uring_prep_send with MSG_NOSIGNAL.
    @inline(__always)
    public func send(fd: Int32, from buffer: UnsafeRawPointer, length: Int, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_send(sqe, fd, buffer, length, Int32(MSG_NOSIGNAL))
        sqe.pointee.user_data = userData
    }

    /// IORING_OP_ASYNC_CANCEL of the request carrying `target` user_data; its own completion
    /// (skipped on success) carries `userData`.
    @inline(__always)
    public func cancel(target: UInt64, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_cancel64(sqe, target, 0)
        sqe.pointee.flags |= PS_IOSQE_CQE_SKIP_SUCCESS
        sqe.pointee.user_data = userData
    }

    /// IORING_OP_TIMEOUT (not linked): completes with -ETIME after `timeout`.
    @inline(__always)
    public func timeout(_ ts: UnsafeMutablePointer<__kernel_timespec>, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_timeout(sqe, ts, 0, 0)
        sqe.pointee.user_data = userData
    }

    /// IORING_OP_ASYNC_CANCEL with IORING_ASYNC_CANCEL_ANY: cancels every request in flight.
    /// Its own completion carries `userData`.
    public func cancelAll(userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_cancel64(sqe, 0, Int32(bitPattern: PS_IORING_ASYNC_CANCEL_ANY))
        sqe.pointee.user_data = userData
    }

    /// Submits what is queued and waits up to `timeoutNanos` for at least one completion
    /// (io_uring_submit_and_wait_timeout). Returns 0, -ETIME or another -errno.
    @inline(__always)
    @discardableResult
    public func submitAndWait(timeoutNanos: UInt64) -> Int32 {
        var ts = __kernel_timespec()
        let (s, ns) = kernelTimespec(nanos: timeoutNanos)
        ts.tv_sec = s
        ts.tv_nsec = ns
        var cqe: UnsafeMutablePointer<io_uring_cqe>?
        return io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nil)
    }

    /// Submits what is queued and runs deferred completion work without waiting
    /// (io_uring_submit_and_get_events).
    @inline(__always)
    @discardableResult
    public func submitAndGetEvents() -> Int32 { io_uring_submit_and_get_events(&ring) }

    /// io_uring_prep_close with CQE_SKIP_SUCCESS: a completion arrives only if close fails.
    @inline(__always)
    public func close(fd: Int32, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_close(sqe, fd)
        sqe.pointee.flags |= PS_IOSQE_CQE_SKIP_SUCCESS
        sqe.pointee.user_data = userData
    }

    /// Submits what is queued without waiting.
    @inline(__always)
    @discardableResult
    public func submit() -> Int32 { io_uring_submit(&ring) }

    /// Hands every ready completion (user_data, res) to `body`, in batches, and marks them seen.
    @inline(__always)
    public func drainCompletions(_ body: (UInt64, Int32) -> Void) -> Int {
        var total = 0
        while true {
            let n = Int(io_uring_peek_batch_cqe(&ring, cqeBatch, UInt32(batchSize)))
            if n == 0 { return total }
            for i in 0..<n {
                let cqe = cqeBatch[i]!
                body(cqe.pointee.user_data, cqe.pointee.res)
            }
            io_uring_cq_advance(&ring, UInt32(n))
            total += n
        }
    }
}
