import CLibURing
import Glibc
import PortstormSystem

/// The ring operations a worker uses: the real `Ring` (io_uring), or a fake in the engine's unit
/// tests that completes requests as a test scripts them, so that every transition of an attempt
/// (see docs/engine.md) can be checked without the kernel.
///
/// Requests prepared by `openSocket`, `setOption` and `bind` are linked to the next one; a failure
/// in a chain completes the rest with -ECANCELED. `connectVerified` links the CONNECT to a read of
/// SO_ERROR into `soError`. `close(fd:)` completes only on failure.
protocol AttemptRing: AnyObject {
    var fixedFiles: Bool { get }
    func registerSparseFiles(_ count: Int) -> Int32
    func reserve(_ n: UInt32)
    func openSocket(domain: Int32, index: Int, userData: UInt64)
    func setOption(fd: Int32, level: Int32, name: Int32, value: UnsafeRawPointer, length: Int32, userData: UInt64)
    func bind(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64)
    func connect(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64)
    func connectVerified(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64,
                         soError: UnsafeMutablePointer<Int32>, verifyUserData: UInt64)
    func send(fd: Int32, from buffer: UnsafeRawPointer, length: Int, userData: UInt64)
    func recv(fd: Int32, into buffer: UnsafeMutableRawPointer, length: Int, userData: UInt64)
    func timeout(_ ts: UnsafeMutablePointer<__kernel_timespec>, userData: UInt64)
    func cancel(target: UInt64, userData: UInt64)
    func cancelAll(userData: UInt64)
    func close(fd: Int32, userData: UInt64)
    @discardableResult func submitAndWait(timeoutNanos: UInt64) -> Int32
    @discardableResult func submitAndGetEvents() -> Int32
    func drainCompletions(_ body: (UInt64, Int32) -> Void) -> Int
    /// Tears the ring down: nothing in flight may write into the worker's buffers afterwards.
    func close()
}

extension Ring: AttemptRing {}

extension Ring {
    /// A ring sized for a worker with `concurrency` attempts in flight: SQ up to 4,096 entries, CQ
    /// four per attempt up to 65,536 (the kernel's cap, 2 x IORING_MAX_ENTRIES; past it completions
    /// wait in the kernel's overflow list, IORING_FEAT_NODROP, instead of being lost).
    static func forWorker(concurrency: Int) throws(RingUnavailable) -> Ring {
        let n = max(1, concurrency)
        var sq: UInt32 = 64
        while sq < UInt32(min(4096, n * 2)) { sq <<= 1 }
        return try Ring(entries: sq, cqEntries: UInt32(min(65_536, max(Int(sq) * 2, n * 4))))
    }
}
