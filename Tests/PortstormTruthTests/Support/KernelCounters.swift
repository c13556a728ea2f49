import Foundation

/// TCP counters of one network namespace, read by the suite itself (not through portstorm's own
/// probes) so that they can witness against portstorm's counts.
///
/// From /proc/net/snmp (`Tcp:` ActiveOpens, PassiveOpens, AttemptFails, EstabResets, OutRsts),
/// /proc/net/netstat (`TcpExt:` ListenOverflows, ListenDrops, TCPAbortOnClose, TWRecycled ...) and
/// the `tw` field of /proc/net/sockstat (TIME_WAIT sockets now).
struct KernelCounters: Sendable {
    var values: [String: Int64]

    subscript(_ name: String) -> Int64 { values[name] ?? 0 }

    /// `after - before` for every counter (TIME_WAIT included, though it is a level, not a counter).
    static func - (after: KernelCounters, before: KernelCounters) -> KernelCounters {
        var d: [String: Int64] = [:]
        for (k, v) in after.values { d[k] = v - (before.values[k] ?? 0) }
        return KernelCounters(values: d)
    }

    /// Parses the text of /proc/net/snmp, /proc/net/netstat and /proc/net/sockstat, concatenated.
    /// Lines come in pairs (`Tcp: Name Name ...`, `Tcp: 1 2 ...`); only `Tcp` and `TcpExt` are kept.
    static func parse(_ text: String) -> KernelCounters {
        var out: [String: Int64] = [:]
        let lines = text.split(separator: "\n").map { $0.split(separator: " ") }
        var i = 0
        while i < lines.count {
            let head = lines[i]
            if let p = head.first, p == "Tcp:" || p == "TcpExt:", i + 1 < lines.count, lines[i + 1].first == p,
               lines[i + 1].count == head.count, Int64(lines[i + 1].dropFirst().first ?? "") != nil {
                for k in 1..<head.count { out[String(head[k])] = Int64(lines[i + 1][k]) }
                i += 2
                continue
            }
            if head.first == "TCP:" {
                var it = head.dropFirst().makeIterator()
                while let k = it.next(), let v = it.next() { if k == "tw" { out["TIME_WAIT"] = Int64(v) } }
            }
            i += 1
        }
        return KernelCounters(values: out)
    }
}
