import PortstormRecord

/// Parsers for the /proc/net text tables the observer samples.
public enum ProcCounters {
    /// /proc/net/netstat and /proc/net/snmp: pairs of lines `Prefix: Name Name ...` then
    /// `Prefix: value value ...`. Returns `Prefix` -> name -> value. Lines that do not pair up
    /// (different counts, or a values line whose prefix differs) are skipped.
    public static func table(_ text: String) -> [String: [String: Int64]] {
        var out: [String: [String: Int64]] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        var i = 0
        while i + 1 < lines.count {
            let head = lines[i].split(separator: " ", omittingEmptySubsequences: true)
            let vals = lines[i + 1].split(separator: " ", omittingEmptySubsequences: true)
            guard let hp = head.first, hp.hasSuffix(":"), vals.first == hp, head.count == vals.count else {
                i += 1
                continue
            }
            let prefix = String(hp.dropLast())
            var row = out[prefix] ?? [:]
            for k in 1..<head.count {
                if let v = Int64(vals[k]) { row[String(head[k])] = v }
            }
            out[prefix] = row
            i += 2
        }
        return out
    }

    /// The counters that explain connection failures: `(table prefix, counter name)`.
    public static let explaining: [(String, String)] = [
        ("TcpExt", "TCPTimeWaitOverflow"), ("TcpExt", "ListenOverflows"), ("TcpExt", "ListenDrops"),
        ("TcpExt", "TCPSynRetrans"), ("TcpExt", "TWRecycled"), ("TcpExt", "TWKilled"),
        ("Tcp", "ActiveOpens"), ("Tcp", "AttemptFails"), ("Tcp", "EstabResets"), ("Tcp", "OutRsts"),
    ]

    /// The counters kept over the whole run (`KernelWitness.counters`): the explaining ones, plus
    /// the server side's completed handshakes (PassiveOpens), closes with unread data that sent RST
    /// instead of FIN (TCPAbortOnClose), TIME_WAIT sockets entered (TW; the kernel counts a
    /// socket in TW when it arms its TIME_WAIT timer, in TWKilled when that timer is under 4 s),
    /// ICMP errors that reached a TCP socket while its owner held it (LockDroppedIcmps: the error
    /// is kept as the socket's soft error, and the socket is not counted in AttemptFails), and the
    /// ICMP destination-unreachable messages received (/proc/net/snmp `Icmp`, /proc/net/snmp6).
    public static let witnessed: [(String, String)] = explaining + [
        ("Tcp", "PassiveOpens"), ("TcpExt", "TCPAbortOnClose"), ("TcpExt", "TW"),
        ("TcpExt", "LockDroppedIcmps"), ("Icmp", "InDestUnreachs"), (snmp6Table, "Icmp6InDestUnreachs"),
    ]

    /// The table name `snmp6` gives /proc/net/snmp6's counters in the parsed tables.
    public static let snmp6Table = "snmp6"

    /// /proc/net/snmp6: one `Name value` pair a line (`Icmp6InDestUnreachs 3`), as table `snmp6`.
    public static func snmp6(_ text: String) -> [String: [String: Int64]] {
        var row: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count == 2, let v = Int64(parts[1]) { row[String(parts[0])] = v }
        }
        return row.isEmpty ? [:] : [snmp6Table: row]
    }

    /// Picks the explaining counters out of parsed netstat + snmp tables.
    public static func explainingCounters(_ tables: [String: [String: Int64]]) -> [String: Int64] {
        counters(explaining, tables)
    }

    /// Picks `names` out of parsed netstat + snmp tables; counters the tables lack are left out.
    public static func counters(_ names: [(String, String)], _ tables: [String: [String: Int64]]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (prefix, name) in names {
            if let v = tables[prefix]?[name] { out[name] = v }
        }
        return out
    }

    /// /proc/net/sockstat (+ sockstat6): the `TCP:` line's fields and `TCP6: inuse`.
    /// Returns nil when there is no TCP line.
    public static func sockstat(_ v4: String, _ v6: String?) -> SockstatSample? {
        func fields(_ text: String, _ prefix: String) -> [String: Int64]? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix + " ") }) else { return nil }
            let parts = line.split(separator: " ").dropFirst()
            var out: [String: Int64] = [:]
            var it = parts.makeIterator()
            while let k = it.next(), let v = it.next() { if let n = Int64(v) { out[String(k)] = n } }
            return out
        }
        guard let tcp = fields(v4, "TCP:") else { return nil }
        let tcp6 = v6.flatMap { fields($0, "TCP6:") }
        return SockstatSample(inuse: (tcp["inuse"] ?? 0) + (tcp6?["inuse"] ?? 0), orphan: tcp["orphan"] ?? 0,
                              tw: tcp["tw"] ?? 0, alloc: tcp["alloc"] ?? 0, mem: tcp["mem"] ?? 0)
    }
}
