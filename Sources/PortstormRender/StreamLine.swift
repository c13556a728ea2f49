import Foundation
import PortstormRecord

/// `run --stream`: one JSON object per line each second while the run goes on, for jq, Vector or
/// a live plot. Field names follow the record's timeline entries where they mean the same
/// (`t`, `attempts`, `ok`, `failures`, `inFlight`, `delayed`, `timeWait`); the counts are over the
/// interval since the previous line, `attempted` and `outcomes` over the run so far.
public struct StreamLine {
    private var previous = LiveStatus()
    /// Lines written so far: the second each line closes (0 for the first).
    private var lines = 0

    public init() {}

    struct Entry: Encodable {
        var t: Int
        var elapsedSeconds: Double
        var attempts: UInt64
        var ok: UInt64
        var failures: [String: UInt64]
        var inFlight: UInt64
        var delayed: UInt64
        var attempted: UInt64
        var outcomes: [String: UInt64]
        var timeWait: Int64?
        var portsInUse: Int?
        var portRange: Int?
    }

    /// The line for this status (ending in a newline), and the status remembered for the next.
    public mutating func render(_ s: LiveStatus) -> String {
        var failures: [String: UInt64] = [:]
        for (o, n) in s.outcomes.nonZero where !o.isOK {
            let delta = n - min(previous.outcomes[o], n)
            if delta > 0 { failures[o.name] = delta }
        }
        let entry = Entry(t: lines, elapsedSeconds: (s.elapsedSeconds * 1000).rounded() / 1000,
                          attempts: s.attempted - min(previous.attempted, s.attempted),
                          ok: s.outcomes[.ok] - min(previous.outcomes[.ok], s.outcomes[.ok]), failures: failures,
                          inFlight: s.inFlight, delayed: s.delayed - min(previous.delayed, s.delayed), attempted: s.attempted,
                          outcomes: Dictionary(uniqueKeysWithValues: s.outcomes.nonZero.map { ($0.outcome.name, $0.count) }),
                          timeWait: s.timeWait, portsInUse: s.portsInUse, portRange: s.portRange)
        previous = s
        lines += 1
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(entry) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
