/// One generator's part of a load split over several (`run --shard I/N`): shard `index` of
/// `count`, numbered from 0 as Kubernetes' JOB_COMPLETION_INDEX is.
public struct Shard: Codable, Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// Parses `I/N` (0 <= I < N); nil when malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    /// This shard's part of a whole number: the quotient, plus one for the first `total % count`
    /// shards, so the parts of all shards add up to `total` exactly.
    public func share(_ total: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }

    /// This shard's part of a rate, split in thousandths of a connection per second like `share`
    /// (a rate is kept to three decimals), so the parts add up to the rate to the thousandth.
    public func share(rate: Double) -> Double {
        let thousandths = (rate * 1000).rounded()
        // Past 2^53 thousandths a Double no longer holds whole numbers: a plain division then.
        guard thousandths.isFinite, thousandths < 9e15 else { return rate / Double(count) }
        return Double(share(Int(thousandths))) / 1000
    }
}
