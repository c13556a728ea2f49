import PortstormRecord
import PortstormSystem
import Synchronization

/// Stop requests shared by the signal handler and the workers: 1 = stop starting and drain,
/// 2 = cancel what is in flight now.
public final class RunControl: Sendable {
    private let state = Atomic<Int>(0)
    private let firstRequestNs = Atomic<UInt64>(0)
    public init() {}

    public var level: Int { state.load(ordering: .acquiring) }

    /// When the first stop request came (monotonic ns), so that attempts falling due after it
    /// are not counted as missed by a worker that noticed the request late.
    public var stopRequestedAtNs: UInt64? {
        let t = firstRequestNs.load(ordering: .acquiring)
        return t == 0 ? nil : t
    }

    private func noteRequestTime() {
        _ = firstRequestNs.compareExchange(expected: 0, desired: monotonicNanos(), ordering: .releasing)
    }

    /// Raises the stop level by one (a first Ctrl-C drains, a second cancels).
    public func escalate() {
        noteRequestTime()
        _ = state.wrappingAdd(1, ordering: .releasing)
    }

    /// Cancels what is in flight at once (stop level 2), e.g. when another worker could not start.
    public func cancelNow() {
        noteRequestTime()
        var current = state.load(ordering: .relaxed)
        while current < 2 {
            let (exchanged, original) = state.compareExchange(expected: current, desired: 2, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    public func requestStop() {
        noteRequestTime()
        _ = state.compareExchange(expected: 0, desired: 1, ordering: .relaxed)
    }
}

/// What a worker shares with the thread that watches the run.
final class WorkerShared: Sendable {
    private let liveStatus = Mutex(LiveStatus())
    private let finished = Atomic<Bool>(false)
    private let outcome = Mutex<WorkerOutcome?>(nil)

    /// Updates the published status in place, under the lock (see WorkerStats.fill).
    func publish(_ update: (inout LiveStatus) -> Void) { liveStatus.withLock { update(&$0) } }
    var live: LiveStatus { liveStatus.withLock { $0 } }

    /// Hands the worker's final counters (or why it could not run) to the watching thread.
    func finish(_ result: WorkerOutcome) {
        outcome.withLock { $0 = result }
        finished.store(true, ordering: .releasing)
    }

    var result: WorkerOutcome? { outcome.withLock { $0 } }
    var isFinished: Bool { finished.load(ordering: .acquiring) }
}

/// How a worker ended.
enum WorkerOutcome: Sendable {
    case ran(stats: WorkerStats, stopReason: StopReason, stoppedAtNs: UInt64)
    case couldNotStart(RingUnavailable)
}
