import Glibc

/// Nanoseconds on CLOCK_MONOTONIC (clock_gettime): the engine's time base for schedules and latencies.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Converts nanoseconds to the `__kernel_timespec` that io_uring timeouts take.
@inline(__always)
func kernelTimespec(nanos: UInt64) -> (sec: Int64, nsec: Int64) {
    (Int64(nanos / 1_000_000_000), Int64(nanos % 1_000_000_000))
}
