import PortstormRecord
import PortstormSystem

/// One worker on a real ring, driven turn by turn with no bound, for the benchmarks: what the loop
/// costs in steady state (raw churn: connect, close), apart from start-up and shutdown.
@_spi(Benchmarks)
public final class SteadyWorker {
    private let worker: Worker<Ring>

    /// Closed loop, `concurrency` in flight toward `target`; sockets in the ring where the kernel can.
    public init(target: SocketAddress, concurrency: Int) throws(RingUnavailable) {
        let ring = try Ring.forWorker(concurrency: concurrency)
        let direct = Ring.directSocketsUnsupported(bind: false) == nil
        let plan = WorkerPlan(index: 0, concurrency: concurrency, connections: nil, rate: nil, phase: 0, startNs: monotonicNanos(),
                              endNs: nil, target: target, sources: [], localPorts: nil, bindBeforeConnect: false, close: .client,
                              payload: nil, check: nil, statuses: nil, closeFrame: nil, holdNs: 0, connectTimeoutNs: 5_000_000_000,
                              responseTimeoutNs: 5_000_000_000, expectedSeconds: 3600,
                              connectCheck: Ring.supportsSocketGetsockopt() ? .ring : .syscall, socketPath: direct ? .ring : .syscalls)
        worker = try Worker(plan: plan, control: RunControl(), shared: WorkerShared(), ring: ring)
    }

    /// Attempts that have ended so far.
    public var ended: UInt64 { worker.stats.outcomes.total }
    /// Attempts that ended ok so far.
    public var ok: UInt64 { worker.stats.outcomes[.ok] }

    /// Runs turns until `attempts` more attempts have ended.
    public func churn(_ attempts: UInt64) {
        let goal = ended + attempts
        while ended < goal { worker.turn() }
    }
}
