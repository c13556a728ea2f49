import Foundation
import PortstormAnalysis
import PortstormRecord

/// A capacity-planning report to paste into a ticket.
public enum ReportMarkdown {
    public static func render(_ r: RunRecord, _ a: Analysis) -> String {
        let c = r.config, t = r.totals
        var md: [String] = []
        md.append("# portstorm report: \(c.target)")
        md.append("")
        md.append("- target: `\(r.target.host):\(r.target.port)`, resolved to \(r.target.resolved.map { "`\($0)`" }.joined(separator: ", ")), used `\(r.target.used)`")
        md.append("- run: \(Format.seconds(r.elapsedSeconds)), \(c.wireProtocol.rawValue), close=\(c.close.rawValue), concurrency \(Format.count(c.concurrency)), threads \(c.threads), \(SummaryText.ended(r.stopReason))")
        md.append("- started \(ISO8601DateFormatter().string(from: r.startedAt)), portstorm \(r.tool.version), kernel \(r.system.kernel)")
        if let want = t.requestedRate {
            md.append("- rate: requested \(Format.rate(want))/s, achieved \(Format.rate(t.achievedRate))/s (delayed \(Format.count(t.delayed)), missed \(Format.count(t.missed)))")
        } else {
            md.append("- rate: achieved \(Format.rate(t.achievedRate)) attempts/s (closed loop)")
        }
        md.append("")
        md.append("## Verdict")
        md.append("")
        for f in a.findings where f.severity >= .warning { md.append("- **\(f.title)**") }
        if !a.findings.contains(where: { $0.severity >= .warning }) { md.append("- no failure worth a warning") }
        md.append("")
        md.append("## Outcomes")
        md.append("")
        md += ReportTables.markdown(ReportTables.outcomes(r, a))
        md.append("")
        md.append("Attempted \(Format.count(t.attempted)), in flight at the end \(Format.count(t.inFlightAtEnd)).")
        md.append("")
        let l = r.latency.connect
        md.append("## Connect latency")
        md.append("")
        if l.count > 0 {
            md.append("| p50 | p90 | p99 | p99.9 | max | connects |")
            md.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
            md.append("| \(percentileCells(l)) | \(Format.count(l.count)) |")
        } else {
            md.append("No connection completed: no connect latency to show.")
        }
        md.append("")
        if c.tls != nil, let h = r.latency.handshake, h.count == 0 {
            md.append("## TLS handshake latency")
            md.append("")
            md.append("No handshake completed: no handshake latency to show.")
            md.append("")
        } else if c.tls != nil, let h = r.latency.handshake {
            md.append("## TLS handshake latency")
            md.append("")
            md.append("| p50 | p90 | p99 | p99.9 | max | handshakes | resumed |")
            md.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            md.append("| \(percentileCells(h)) | \(Format.count(h.count)) | \(Format.count(r.tls?.resumed ?? 0)) |")
            md.append("")
        }
        if let f = r.latency.firstByte {
            md.append("## Time to first byte")
            md.append("")
            if f.count > 0 {
                md.append("From the request sent to the answer's first byte.")
                md.append("")
                md.append("| p50 | p90 | p99 | p99.9 | max | answers |")
                md.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
                md.append("| \(percentileCells(f)) | \(Format.count(f.count)) |")
            } else {
                md.append("No answer arrived.")
            }
            md.append("")
        }
        md.append("## Capacity")
        md.append("")
        md += ReportTables.markdown(ReportTables.capacity(r, a))
        md.append("")
        if let hosts = r.hosts {
            md.append("## Hosts")
            md.append("")
            md += ReportTables.markdown(ReportTables.hosts(hosts))
            md.append("")
        }
        if let rows = WitnessTable.rows(r, a) {
            md.append("## portstorm's counts and the kernel's")
            md.append("")
            md.append(WitnessTable.caption)
            md.append("")
            md.append("| | portstorm | \(r.hosts == nil ? "this namespace's kernel" : "the hosts' kernels, added"), over the run |")
            md.append("| --- | ---: | ---: |")
            for row in rows { md.append("| \(row.what) | \(row.portstorm) | \(row.kernel) |") }
            md.append("")
        }
        if let tuples = ReportTables.portBudget(a) {
            md.append("## Port budget per tuple")
            md.append("")
            md += ReportTables.markdown(tuples)
            md.append("")
        }
        md.append("## Findings")
        md.append("")
        for f in a.findings {
            md.append("### \(f.severity.rawValue): \(f.title)")
            md.append("")
            for e in f.evidence { md.append("- \(e)") }
            if !f.advice.isEmpty {
                md.append("")
                md.append("What to do:")
                md.append("")
                for adv in f.advice { md.append("- \(adv)") }
            }
            md.append("")
        }
        md.append("## Configuration")
        md.append("")
        md += ReportTables.markdown(ReportTables.configuration(r))
        md.append("")
        if !r.notes.isEmpty {
            md.append("## Notes")
            md.append("")
            for n in r.notes { md.append("- \(n)") }
            md.append("")
        }
        return md.joined(separator: "\n")
    }

    /// "404us | 661us | 3.31ms | 3.84ms | 3.85ms": a latency table row's p50 to max cells.
    static func percentileCells(_ l: LatencySummary) -> String {
        [l.p50, l.p90, l.p99, l.p999, l.max].map(Format.micros).joined(separator: " | ")
    }
}
