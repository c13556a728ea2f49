import Foundation
import PortstormAnalysis
import PortstormRecord

/// The report formats, and the one dispatch from a record to text in each.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, markdown, html, csv, json

    /// The format a file name asks for by its extension (`.md`, `.html`, `.csv`, `.json`; else text).
    public static func forPath(_ path: String) -> ReportFormat {
        switch (path as NSString).pathExtension.lowercased() {
        case "md", "markdown": return .markdown
        case "html", "htm": return .html
        case "csv": return .csv
        case "json": return .json
        default: return .text
        }
    }

    public func render(_ record: RunRecord) -> String {
        let analysis = RunAnalysis.analyze(record)
        switch self {
        case .text: return ReportText.render(record, analysis)
        case .markdown: return ReportMarkdown.render(record, analysis)
        case .html: return ReportHTML.render(record, analysis)
        case .csv: return TimelineCSV.render(record)
        case .json: return FindingsJSON.render(analysis)
        }
    }
}

extension ReportFormat {
    /// A plan record in each format: text and Markdown as `plan --report` writes them, HTML with
    /// charts, CSV one row per step, JSON the record itself.
    public func render(_ plan: PlanRecord) -> String {
        switch self {
        case .text: return PlanText.render(plan.plan, target: plan.target)
        case .markdown: return PlanText.render(plan.plan, target: plan.target, markdown: true)
        case .html: return PlanHTML.render(plan)
        case .csv:
            // TLS plans add three columns at the end; a plain plan's columns are unchanged.
            let tls = plan.plan.steps.contains { $0.handshakes != nil }
            let rows = plan.plan.steps.map { s -> String in
                var cells: [String] = ["\(s.rate)", "\(s.achievedRate)", "\(s.attempted)", "\(s.ok)", String(format: "%.6f", s.failureShare),
                                       s.dominantFailure ?? "", "\(s.connectP99Us)", s.peakOccupancy.map { String(format: "%.4f", $0) } ?? "",
                                       s.timeWaitAtEnd.map { String($0) } ?? ""]
                if tls {
                    cells += [s.handshakes.map { String($0) } ?? "", s.resumed.map { String($0) } ?? "", s.handshakeP99Us.map { String($0) } ?? ""]
                }
                return cells.joined(separator: ",")
            }
            let header = "rate,achieved_rate,attempted,ok,failure_share,mostly,connect_p99_us,peak_occupancy,time_wait_at_end"
                + (tls ? ",tls_handshakes,tls_resumed,handshake_p99_us" : "")
            return ([header] + rows).joined(separator: "\n") + "\n"
        case .json:
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            return (try? String(decoding: e.encode(plan), as: UTF8.self)).map { $0 + "\n" } ?? "{}\n"
        }
    }
}

/// The terminal report: the run's summary, then what it means.
public enum ReportText {
    public static func render(_ r: RunRecord, _ a: Analysis) -> String {
        SummaryText.render(r) + "\n" + FindingsText.render(a.findings).joined(separator: "\n") + "\n"
    }
}

/// The findings and series, machine-readable.
public enum FindingsJSON {
    public static func render(_ a: Analysis) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: e.encode(a), as: UTF8.self)).map { $0 + "\n" } ?? "{}\n"
    }
}

/// The per-second timeline as CSV: one column per outcome present in the run; TLS runs add the
/// handshakes of each second and their latency after the connect latency.
public enum TimelineCSV {
    public static func render(_ r: RunRecord) -> String {
        let failures = r.totals.outcomes.nonZero.map(\.outcome).filter { !$0.isOK }.map(\.name)
        let tls = r.config.tls != nil
        var header = ["t", "attempts", "ok"] + failures
        header += ["in_flight", "delayed", "connect_p50_us", "connect_p90_us", "connect_p99_us", "connect_max_us"]
        if tls { header += ["handshakes", "handshake_p50_us", "handshake_p90_us", "handshake_p99_us", "handshake_max_us"] }
        header += ["time_wait", "ports_in_use", "port_range", "occupancy", "ports_held_before"]
        var rows = [header.joined(separator: ",")]
        for s in r.timeline {
            var row = ["\(s.t)", "\(s.attempts)", "\(s.ok)"] + failures.map { "\(s.failures[$0] ?? 0)" }
            row += ["\(s.inFlight)", "\(s.delayed)"]
            let l = s.connectLatencyUs
            row += [l?.p50, l?.p90, l?.p99, l?.max].map { $0.map(String.init) ?? "" }
            if tls {
                let h = s.handshakeLatencyUs
                row += [s.handshakes, h?.p50, h?.p90, h?.p99, h?.max].map { $0.map(String.init) ?? "" }
            }
            row.append(s.kernel?.sockstat.map { "\($0.tw)" } ?? "")
            let b = s.kernel?.census?.busiest
            row += [b.map { "\($0.portsInUse)" } ?? "", b.map { "\($0.rangeSize)" } ?? "",
                    b.map { String(format: "%.4f", $0.occupancy) } ?? "", b?.heldBefore.map(String.init) ?? ""]
            rows.append(row.joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }
}
