/// Deterministic latencies for tests: a 64-bit linear congruential generator (Knuth's MMIX
/// constants), so a seed gives the same samples on every run and machine.
public struct LatencySamples {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The generator's next 64-bit value.
    public mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }

    /// `n` microsecond values from `low` up to `low + span - 1`.
    public static func uniform(_ n: Int, seed: UInt64, from low: UInt64, span: UInt64) -> [UInt64] {
        var g = LatencySamples(seed: seed)
        return (0..<n).map { _ in low + (g.next() >> 33) % span }
    }
}
