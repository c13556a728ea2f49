/// The open-loop schedule of one worker: attempt `i` is due at `start + offset + i * interval`.
///
/// Attempts are started on schedule whether or not earlier ones finished (up to the concurrency
/// cap); one that starts late is counted as delayed, and one never started before the end as missed.
struct RateSchedule: Sendable {
    let startNs: UInt64
    let intervalNs: Double
    let offsetNs: UInt64

    /// `rate` attempts per second for this worker; `phase` in [0, 1) staggers workers.
    init(startNs: UInt64, rate: Double, phase: Double) {
        precondition(rate > 0)
        self.startNs = startNs
        self.intervalNs = 1e9 / rate
        self.offsetNs = UInt64(phase * 1e9 / rate)
    }

    /// How many attempts are due by `now` (attempt 0 is due at start + offset).
    @inline(__always)
    func due(at now: UInt64) -> UInt64 {
        let first = startNs &+ offsetNs
        guard now >= first else { return 0 }
        return UInt64(Double(now - first) / intervalNs) + 1
    }

    /// When attempt `index` is due.
    @inline(__always)
    func dueTime(of index: UInt64) -> UInt64 {
        startNs &+ offsetNs &+ UInt64(Double(index) * intervalNs)
    }
}
