/// Something that watches the kernel while a run goes on (the engine calls it from the thread that
/// watches the workers, never from a worker).
public protocol RunObserver: AnyObject {
    /// Called once, after limits are raised and before the run's clock starts: the system snapshot.
    func prepare() -> SystemSnapshot
    /// Called once as the run's clock starts.
    func begin(runStartNs: UInt64)
    /// Called about every 100 ms, and once more when the run is over.
    func sample(nowNs: UInt64, live: LiveStatus)
    /// Adds the latest observations to the status shown each second.
    func annotate(_ live: inout LiveStatus)
    /// What was seen, per second of the run (keyed by `t`).
    func finish() -> [Int: KernelSecond]
    /// What the kernel counted over the whole run; asked once, after `finish()`.
    func witness() -> KernelWitness?
}

extension RunObserver {
    public func witness() -> KernelWitness? { nil }
}
