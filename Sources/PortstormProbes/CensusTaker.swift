import PortstormRecord
import PortstormSystem

/// Counts the sockets toward one target per (source IP, destination IP, destination port) tuple,
/// by state on any local port and by state inside the effective range, with the local ports they
/// hold inside that range. One sock_diag dump.
public struct CensusTaker: Sendable {
    public let target: SocketAddress
    public let rangeLow: UInt16
    public let rangeHigh: UInt16
    public let rangeSize: Int
    public static let bucketCount = 64

    /// The local ports (inside the range) in use toward the target, per source address.
    public typealias HeldPorts = [IPBytes: Set<UInt16>]

    public init(target: SocketAddress, range: (low: UInt16, high: UInt16, size: Int)) {
        self.target = target
        rangeLow = range.low
        rangeHigh = range.high
        rangeSize = range.size
    }

    public func take(atMs: Int, trigger: String) throws(SystemError) -> Census {
        try take(atMs: atMs, trigger: trigger, heldAtStart: nil, collect: false).census
    }

    /// One census. With `heldAtStart` (the ports of the start census), each tuple also counts the
    /// ports in use that were already in use then (`TupleCensus.heldBefore`); with `collect`, the
    /// ports in use are returned too (for the start census).
    public func take(atMs: Int, trigger: String, heldAtStart: HeldPorts?, collect: Bool) throws(SystemError)
        -> (census: Census, held: HeldPorts) {
        let start = monotonicNanos()
        let targetIP = IPBytes(target)
        let span = Int(rangeHigh) - Int(rangeLow) + 1
        var groups: [IPBytes: Tally] = [:]
        var held: HeldPorts = [:]
        try SockDiag.dump(family: target.family, states: SockDiag.connectionStates, destinationPort: target.port) { s in
            guard s.destination == targetIP else { return }
            let inRange = s.sourcePort >= rangeLow && s.sourcePort <= rangeHigh
            // Counted in place (the dictionary's default subscript yields its value): a copy per
            // socket would allocate the two arrays again, two mallocs per socket of the census.
            groups[s.source, default: Tally()].count(
                state: Int(min(s.state, 11)),
                bucket: inRange ? (Int(s.sourcePort) - Int(rangeLow)) * Self.bucketCount / span : nil,
                heldBefore: inRange && heldAtStart?[s.source]?.contains(s.sourcePort) == true)
            if inRange && collect { held[s.source, default: []].insert(s.sourcePort) }
        }
        let tuples = groups.map { source, g in
            func named(_ counts: [Int]) -> [String: Int] {
                var out: [String: Int] = [:]
                for (i, n) in counts.enumerated() where n > 0 { out[SockDiag.stateNames[UInt8(i)] ?? "STATE_\(i)"] = n }
                return out
            }
            return TupleCensus(source: source.text, destination: target.ip, port: target.port, states: named(g.states),
                               portsInUse: g.inUse, rangeSize: rangeSize, rangeLow: rangeLow, rangeHigh: rangeHigh,
                               buckets: g.buckets, heldBefore: heldAtStart == nil ? nil : g.before,
                               statesInRange: named(g.statesInRange))
        }.sorted { $0.source < $1.source }
        return (Census(atMs: atMs, trigger: trigger, tookUs: Int((monotonicNanos() - start) / 1000), tuples: tuples), held)
    }

    /// One tuple's counts while a census runs: sockets by state number (on any local port, and
    /// inside the range), ports in use inside the range and in which slice of it, and how many of
    /// those were in use at the start census.
    struct Tally {
        var states = [Int](repeating: 0, count: 12)
        var statesInRange = [Int](repeating: 0, count: 12)
        var inUse = 0
        var before = 0
        var buckets = [Int](repeating: 0, count: CensusTaker.bucketCount)

        mutating func count(state: Int, bucket: Int?, heldBefore: Bool) {
            states[state] += 1
            guard let bucket else { return }
            statesInRange[state] += 1
            inUse += 1
            buckets[bucket] += 1
            if heldBefore { before += 1 }
        }
    }
}
