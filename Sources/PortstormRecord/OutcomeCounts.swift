/// A dense counter per outcome code. Incrementing never allocates once the table exists.
public struct OutcomeCounts: Sendable, Equatable {
    public private(set) var counts: [UInt64]

    public init() { counts = [UInt64](repeating: 0, count: Outcome.codeCount) }

    @inline(__always)
    public mutating func add(_ outcome: Outcome, _ n: UInt64 = 1) { counts[Int(outcome.code)] &+= n }

    public subscript(_ outcome: Outcome) -> UInt64 { counts[Int(outcome.code)] }

    /// Sum over every outcome, stopping at 2^64-1 (a decoded record never gets there:
    /// `RunRecord.validate` refuses counts whose sum overflows).
    public var total: UInt64 { counts.reduce(0) { $0.addingSaturating($1) } }

    /// Sum over every outcome but `ok`.
    public var failures: UInt64 { counts.dropFirst().reduce(0) { $0.addingSaturating($1) } }

    /// Becomes a copy of `other`, element by element: no allocation while this table is not shared.
    @inline(__always)
    public mutating func assign(_ other: OutcomeCounts) {
        for i in counts.indices { counts[i] = other.counts[i] }
    }

    public mutating func merge(_ other: OutcomeCounts) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
    }

    /// Sum over the outcomes of one `Outcome.Reach`, stopping at 2^64-1.
    public func count(_ reach: Outcome.Reach) -> UInt64 {
        counts.indices.reduce(0) { Outcome(code: UInt16($1)).reach == reach ? $0.addingSaturating(counts[$1]) : $0 }
    }

    /// The outcomes with a non-zero count, in code order.
    public var nonZero: [(outcome: Outcome, count: UInt64)] {
        counts.indices.compactMap { counts[$0] > 0 ? (Outcome(code: UInt16($0)), counts[$0]) : nil }
    }

    /// `{name: count}` for the non-zero outcomes, as the record stores them.
    public var byName: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: nonZero.map { ($0.outcome.name, $0.count) })
    }

    /// Rebuilds counts from a `{name: count}` map; unknown names are reported back.
    public init(byName: [String: UInt64]) throws(UnknownOutcomeName) {
        self.init()
        for (name, n) in byName {
            guard let o = Outcome(name: name) else { throw UnknownOutcomeName(name: name) }
            add(o, n)
        }
    }
}

extension UInt64 {
    /// `self + other`, or 2^64-1 when the sum does not fit.
    @inline(__always)
    public func addingSaturating(_ other: UInt64) -> UInt64 {
        let (s, overflow) = addingReportingOverflow(other)
        return overflow ? .max : s
    }
}

public struct UnknownOutcomeName: Error, Sendable, CustomStringConvertible {
    public let name: String
    public var description: String { "unknown outcome name '\(name)'" }
}

extension OutcomeCounts: Codable {
    public init(from decoder: Decoder) throws {
        let map = try [String: UInt64](from: decoder)
        try self.init(byName: map)
    }

    public func encode(to encoder: Encoder) throws { try byName.encode(to: encoder) }
}
