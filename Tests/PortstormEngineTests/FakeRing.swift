import CLibURing
import Glibc
@testable import PortstormEngine
import PortstormSystem

/// A ring without the kernel, for the worker's transitions: requests wait until `respond` gives
/// them a result (nil leaves one in flight), linked chains run one request at a time and a failure
/// cancels the rest (-ECANCELED), cancels find their target (or complete -ENOENT), timeouts fall
/// due on the real clock, a close completes only on failure. Everything submitted is in `log`.
final class FakeRing: AttemptRing {
    enum Kind: Equatable { case socket, option, bind, connect, verify, send, recv, timeout, close }

    struct Request {
        let kind: Kind
        let userData: UInt64
        let fd: Int32
        var length = 0
        var buffer: UnsafeMutableRawPointer?
        var soError: UnsafeMutablePointer<Int32>?
        var dueNs: UInt64 = 0
        /// The index in OpTag terms: the slot that owns it.
        var slot: Int { Int(truncatingIfNeeded: userData & 0xFFFF_FFFF) }
        var tag: UInt64 { userData >> 32 }
    }

    private(set) var fixedFiles = false
    /// Every request in submission order, and every cancel's target.
    private(set) var log: [Request] = []
    private(set) var cancelled: [UInt64] = []
    /// Requests in flight, as linked chains; each chain's first request is the one running.
    private var chains: [[Request]] = []
    private var linkOpen = false
    private var ready: [(UInt64, Int32)] = []
    private(set) var closedRing = false
    /// The result for a running request, or nil to keep it in flight. A test replaces it.
    var respond: (Request) -> Int32?
    /// Called before each cancel reaches the fake (a test completes its target first: the race).
    var beforeCancel: (() -> Void)?
    /// Called before each wait (a test raises the stop level there, as a Ctrl-C would).
    var beforeWait: (() -> Void)?

    init(respond: @escaping (Request) -> Int32? = FakeRing.everythingSucceeds) { self.respond = respond }

    /// Set-up, connect and SO_ERROR check succeed, sends send everything, recvs wait, holds time out.
    static func everythingSucceeds(_ r: Request) -> Int32? {
        switch r.kind {
        case .socket, .option, .bind, .connect: return 0
        case .verify: r.soError?.pointee = 0; return 4
        case .send: return Int32(r.length)
        case .recv: return nil
        case .timeout: return monotonicNanos() >= r.dueNs ? -ETIME : nil
        case .close: return 0
        }
    }

    private func add(_ r: Request, linked: Bool) {
        log.append(r)
        if linkOpen, !chains.isEmpty { chains[chains.count - 1].append(r) } else { chains.append([r]) }
        linkOpen = linked
    }

    func registerSparseFiles(_ count: Int) -> Int32 { fixedFiles = true; return 0 }
    func reserve(_ n: UInt32) {}
    func openSocket(domain: Int32, index: Int, userData: UInt64) { add(Request(kind: .socket, userData: userData, fd: Int32(index)), linked: true) }
    func setOption(fd: Int32, level: Int32, name: Int32, value: UnsafeRawPointer, length: Int32, userData: UInt64) {
        add(Request(kind: .option, userData: userData, fd: fd), linked: true)
    }
    func bind(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64) {
        add(Request(kind: .bind, userData: userData, fd: fd), linked: true)
    }
    func connect(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64) {
        add(Request(kind: .connect, userData: userData, fd: fd), linked: false)
    }
    func connectVerified(fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, userData: UInt64,
                         soError: UnsafeMutablePointer<Int32>, verifyUserData: UInt64) {
        add(Request(kind: .connect, userData: userData, fd: fd), linked: true)
        add(Request(kind: .verify, userData: verifyUserData, fd: fd, soError: soError), linked: false)
    }
    func send(fd: Int32, from buffer: UnsafeRawPointer, length: Int, userData: UInt64) {
        add(Request(kind: .send, userData: userData, fd: fd, length: length, buffer: UnsafeMutableRawPointer(mutating: buffer)), linked: false)
    }
    func recv(fd: Int32, into buffer: UnsafeMutableRawPointer, length: Int, userData: UInt64) {
        add(Request(kind: .recv, userData: userData, fd: fd, length: length, buffer: buffer), linked: false)
    }
    func timeout(_ ts: UnsafeMutablePointer<__kernel_timespec>, userData: UInt64) {
        let ns = UInt64(ts.pointee.tv_sec) * 1_000_000_000 + UInt64(ts.pointee.tv_nsec)
        add(Request(kind: .timeout, userData: userData, fd: -1, dueNs: monotonicNanos() + ns), linked: false)
    }
    func close(fd: Int32, userData: UInt64) {
        log.append(Request(kind: .close, userData: userData, fd: fd))
        linkOpen = false
    }

    func cancel(target: UInt64, userData: UInt64) {
        beforeCancel?()
        linkOpen = false
        cancelled.append(target)
        guard let c = chains.firstIndex(where: { $0.contains { $0.userData == target } }) else {
            ready.append((userData, -ENOENT))
            return
        }
        let k = chains[c].firstIndex { $0.userData == target }!
        // The target and everything linked after it end -ECANCELED; what ran before it is done.
        for r in chains[c][k...] { ready.append((r.userData, -ECANCELED)) }
        chains[c].removeSubrange(k...)
        if chains[c].isEmpty { chains.remove(at: c) }
    }

    func cancelAll(userData: UInt64) {
        linkOpen = false
        let n = chains.reduce(0) { $0 + $1.count }
        for chain in chains { for r in chain { ready.append((r.userData, -ECANCELED)) } }
        chains.removeAll()
        ready.append((userData, Int32(n)))
    }

    /// Runs the first request of every chain through `respond`, as long as any completes.
    private func step() {
        var progressed = true
        while progressed {
            progressed = false
            var c = 0
            while c < chains.count {
                let head = chains[c][0]
                guard let res = respond(head) else { c += 1; continue }
                progressed = true
                ready.append((head.userData, res))
                chains[c].removeFirst()
                // A failure cuts the chain (a short send or recv is not a failure).
                if res < 0 { for r in chains[c] { ready.append((r.userData, -ECANCELED)) }; chains[c].removeAll() }
                if chains[c].isEmpty { chains.remove(at: c) } else { c += 1 }
            }
        }
    }

    @discardableResult
    func submitAndWait(timeoutNanos: UInt64) -> Int32 {
        beforeWait?()
        linkOpen = false
        step()
        if ready.isEmpty {
            usleep(UInt32(min(timeoutNanos, 1_000_000) / 1000))
            step()
        }
        return ready.isEmpty ? -ETIME : 0
    }

    @discardableResult
    func submitAndGetEvents() -> Int32 { linkOpen = false; step(); return 0 }

    func drainCompletions(_ body: (UInt64, Int32) -> Void) -> Int {
        let batch = ready
        ready.removeAll()
        for (u, r) in batch { body(u, r) }
        return batch.count
    }

    func close() { closedRing = true }

    /// Requests of `kind` submitted so far.
    func count(_ kind: Kind) -> Int { log.filter { $0.kind == kind }.count }
    /// Requests still in flight.
    var inFlight: Int { chains.reduce(0) { $0 + $1.count } }
}
