import PortstormRecord
import PortstormSystem
import Synchronization

/// Stop requests shared by the signal handler and the workers: 1 = stop starting and drain,
/// 2 = cancel what is in flight now.
public final class RunControl: Sendable {
    private let state = Atomic<Int>(0)
    public init() {}

    public var level: Int { state.load(ordering: .relaxed) }

    /// Raises the stop level by one (a first Ctrl-C drains, a second cancels).
    public func escalate() { _ = state.wrappingAdd(1, ordering: .relaxed) }

    /// Cancels what is in flight at once (stop level 2), e.g. when another worker could not start.
    public func cancelNow() {
        var current = state.load(ordering: .relaxed)
        while current < 2 {
            let (exchanged, original) = state.compareExchange(expected: current, desired: 2, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    public func requestStop() {
        _ = state.compareExchange(expected: 0, desired: 1, ordering: .relaxed)
    }
}

/// What a worker shares with the thread that watches the run.
final class WorkerShared: Sendable {
    private let liveStatus = Mutex(LiveStatus())
    private let finished = Atomic<Bool>(false)
    private let outcome = Mutex<WorkerOutcome?>(nil)

    func publish(_ s: LiveStatus) { liveStatus.withLock { $0 = s } }
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
