import PortstormAnalysis
import PortstormRecord

/// portstorm's counts beside the kernel's, as table rows for the Markdown and HTML reports
/// (nil when the record has no `kernelWitness`). Formats only: the figures come from the analysis.
enum WitnessTable {
    static let caption = "The kernel's counters cover every program in the run's network namespace: where portstorm runs alone they equal its counts; other programs can only add to them."

    static func rows(_ r: RunRecord, _ a: Analysis) -> [(what: String, portstorm: String, kernel: String)]? {
        guard let w = a.witness, let k = r.kernelWitness else { return nil }
        func kernel(_ name: String) -> String { k.counters[name].map { "\(name) +\(Format.count(Int(clamping: $0)))" } ?? "-" }
        var rows: [(what: String, portstorm: String, kernel: String)] = [
            ("attempts that sent a SYN", Format.count(Int(clamping: w.sentSYN))
                + (w.maybeSentSYN > 0 ? " to \(Format.count(Int(clamping: w.sentSYNAtMost)))" : ""), kernel("ActiveOpens")),
            ("connected (client's side)", Format.count(Int(clamping: w.connected)),
             k.serverIsLocal == true ? "\(kernel("PassiveOpens")) (local server)" : "server not in this namespace"),
            ("connects refused or timed out by the kernel", Format.count(Int(clamping: r.totals.outcomes[.econnrefused].addingSaturating(r.totals.outcomes[.etimedout]))),
             k.counters["LockDroppedIcmps"] == nil ? kernel("AttemptFails") : "\(kernel("AttemptFails")), \(kernel("LockDroppedIcmps"))"),
            ("accept queue overflows", "-", kernel("ListenOverflows")),
            ("TIME_WAIT entered", "-", w.timeWaitEntered.map { "TW + TWKilled +\(Format.count(Int(clamping: $0)))" } ?? "-"),
            ("TIME_WAIT reused", "-", kernel("TWRecycled")),
            ("closes with unread data (RST)", "-", kernel("TCPAbortOnClose")),
            ("RSTs sent", "-", kernel("OutRsts")),
        ]
        if k.counters["InDestUnreachs"] != nil {
            rows.append(("ICMP destination unreachable received", "-", kernel("InDestUnreachs")))
        }
        return rows
    }
}
