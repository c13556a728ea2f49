import CLibURing
import Glibc
import Synchronization

/// Why a ring could not be created, with the one sentence a user needs.
public struct RingUnavailable: Error, CustomStringConvertible, Sendable {
    public let errno: Int32
    public let explanation: String
    public var description: String { explanation }

    public init(errno: Int32, explanation: String) {
        self.errno = errno
        self.explanation = explanation
    }

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

    /// What the kernel was found to offer, by question: it cannot change while the process runs, so
    /// the preflight, the run and doctor ask the kernel once.
    private static let features = Mutex<[String: String?]>([:])

    /// The cached answer to `question`, else `probe`'s, kept.
    private static func once(_ question: String, _ probe: () -> String?) -> String? {
        features.withLock { known in
            if let answer = known[question] { return answer }
            let answer = probe()
            known[question] = .some(answer)
            return answer
        }
    }

    /// Whether getsockopt through the ring (SOCKET_URING_OP_GETSOCKOPT, Linux 6.7+) works here: one
    /// SO_ERROR read of a fresh socket on a small ring, once per process.
    public static func supportsSocketGetsockopt() -> Bool {
        once("getsockopt") { probeSocketGetsockopt() ? nil : "no" } == nil
    }

    private static func probeSocketGetsockopt() -> Bool {
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

    /// Why sockets cannot be created in the ring here, or nil when they can: one SOCKET into a
    /// fixed-file table (IORING_OP_SOCKET, 5.19), a setsockopt and a getsockopt on it through
    /// IORING_OP_URING_CMD (6.7), all linked, on a small ring, once per process. With `bind`, also
    /// IORING_OP_BIND (6.11), from the kernel's opcode probe.
    public static func directSocketsUnsupported(bind: Bool) -> String? {
        once(bind ? "direct sockets with bind" : "direct sockets") { probeDirectSockets(bind: bind) }
    }

    private static func probeDirectSockets(bind: Bool) -> String? {
        guard let ring = try? Ring(entries: 8, cqEntries: 16) else { return "no ring" }
        let rc = ring.registerSparseFiles(1)
        guard rc == 0 else { return "registering a file table failed (io_uring_register_files_sparse: \(String(cString: strerror(-rc))))" }
        if let probe = io_uring_get_probe_ring(&ring.ring) {
            defer { io_uring_free_probe(probe) }
            if io_uring_opcode_supported(probe, PS_IORING_OP_SOCKET) == 0 { return "the kernel lacks IORING_OP_SOCKET (Linux 5.19)" }
            if bind && io_uring_opcode_supported(probe, Int32(PS_IORING_OP_BIND)) == 0 { return "the kernel lacks IORING_OP_BIND (Linux 6.11), needed with --source" }
        }
        let values = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
        defer { values.deallocate() }
        values[0] = 1
        values[1] = -1
        ring.reserve(4)
        ring.openSocket(domain: AF_INET, index: 0, userData: 1)
        ring.setOption(fd: 0, level: Int32(IPPROTO_IP), name: PS_IP_BIND_ADDRESS_NO_PORT, value: values, length: 4, userData: 2)
        let check = ring.nextSQE()
        ps_prep_getsockopt(check, 0, SOL_SOCKET, SO_ERROR, values + 1, 4)
        // Linked too: an unlinked close in the same submission would run before the chain's later links.
        check.pointee.flags |= PS_IOSQE_FIXED_FILE | PS_IOSQE_IO_LINK
        check.pointee.user_data = 3
        ring.close(fd: 0, userData: 4)
        var results: [UInt64: Int32] = [:]
        for _ in 0..<4 where results.count < 3 {
            ring.submitAndWait(timeoutNanos: 1_000_000_000)
            _ = ring.drainCompletions { results[$0] = $1 }
        }
        if results[1] != 0 { return "IORING_OP_SOCKET into a file table failed (\(results[1].map { String(cString: strerror(-$0)) } ?? "no completion"))" }
        if results[2] != 0 { return "setsockopt through the ring (SOCKET_URING_OP_SETSOCKOPT, Linux 6.7) failed (\(results[2].map { String(cString: strerror(-$0)) } ?? "no completion"))" }
        if results[3] != 4 || values[1] != 0 { return "getsockopt through the ring on a fixed file failed" }
        return nil
    }

    /// Registers an empty fixed-file table of `count` entries (io_uring_register_files_sparse); from
    /// then on every descriptor given to this ring is an index into it (IOSQE_FIXED_FILE). The kernel
    /// caps a table at RLIMIT_NOFILE (soft) entries. 0 or -errno.
    public func registerSparseFiles(_ count: Int) -> Int32 {
        let rc = io_uring_register_files_sparse(&ring, UInt32(count))
        if rc == 0 { fixedFiles = true }
        return rc
    }

    /// Descriptors are indexes into the ring's fixed-file table (registerSparseFiles).
    public private(set) var fixedFiles = false

    @inline(__always)
    private func onFile(_ sqe: UnsafeMutablePointer<io_uring_sqe>) {
        if fixedFiles { sqe.pointee.flags |= PS_IOSQE_FIXED_FILE }
    }

    /// Makes room for `n` submission entries now, so that a linked chain of `n` goes out in one
    /// submission (a link that straddles two submissions is cut at the boundary).
    @inline(__always)
    public func reserve(_ n: UInt32) {
        if io_uring_sq_space_left(&ring) < n { makeRoom(n) }
    }

    /// IORING_OP_SOCKET (TCP) into fixed-file slot `index`, linked to the next request.
    @inline(__always)
    public func openSocket(domain: Int32, index: Int, userData: UInt64) {
        let sqe = nextSQE()
        ps_prep_socket_direct(sqe, domain, Int32(SOCK_STREAM.rawValue), UInt32(index))
        sqe.pointee.flags |= PS_IOSQE_IO_LINK
        sqe.pointee.user_data = userData
    }

    /// setsockopt through the ring (SOCKET_URING_OP_SETSOCKOPT), linked to the next request. The
    /// kernel reads `value` when the request runs: it must outlive it.
    @inline(__always)
    public func setOption(fd: Int32, level: Int32, name: Int32, value: UnsafeRawPointer, length: Int32, userData: UInt64) {
        let sqe = nextSQE()
        ps_prep_setsockopt(sqe, fd, level, name, value, length)
        onFile(sqe)
        sqe.pointee.flags |= PS_IOSQE_IO_LINK
        sqe.pointee.user_data = userData
    }

    /// IORING_OP_BIND, linked to the next request; `address` must outlive the request.
    @inline(__always)
    public func bind(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64) {
        let sqe = nextSQE()
        ps_prep_bind(sqe, fd, address, length)
        onFile(sqe)
        sqe.pointee.flags |= PS_IOSQE_IO_LINK
        sqe.pointee.user_data = userData
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
        onFile(sqe)
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
        reserve(2)
        let sqe = nextSQE()
        io_uring_prep_connect(sqe, fd, address, length)
        onFile(sqe)
        sqe.pointee.flags |= PS_IOSQE_IO_LINK
        sqe.pointee.user_data = userData
        let check = nextSQE()
        ps_prep_getsockopt(check, fd, SOL_SOCKET, SO_ERROR, soError, Int32(MemoryLayout<Int32>.size))
        onFile(check)
        check.pointee.user_data = verifyUserData
    }

    /// io_uring_prep_recv.
    @inline(__always)
    public func recv(fd: Int32, into buffer: UnsafeMutableRawPointer, length: Int, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_recv(sqe, fd, buffer, length, 0)
        onFile(sqe)
        sqe.pointee.user_data = userData
    }

    /// io_uring_prep_send with MSG_NOSIGNAL.
    @inline(__always)
    public func send(fd: Int32, from buffer: UnsafeRawPointer, length: Int, userData: UInt64) {
        let sqe = nextSQE()
        io_uring_prep_send(sqe, fd, buffer, length, Int32(MSG_NOSIGNAL))
        onFile(sqe)
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

    /// io_uring_prep_close (or close_direct, on a fixed-file table) with CQE_SKIP_SUCCESS: a
    /// completion arrives only if close fails.
    @inline(__always)
    public func close(fd: Int32, userData: UInt64) {
        let sqe = nextSQE()
        if fixedFiles { io_uring_prep_close_direct(sqe, UInt32(fd)) } else { io_uring_prep_close(sqe, fd) }
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
