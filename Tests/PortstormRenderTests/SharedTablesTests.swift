import Foundation
import PortstormAnalysis
import PortstormRecord
@testable import PortstormRender
import PortstormTestSupport
import Testing

/// The Markdown and the HTML report show the same tables, built once (ReportTables).
@Suite struct SharedTablesTests {
    static func mergedRecord() throws -> RunRecord {
        let records = (0..<2).map { k in
            hostRecord("pod-\(k)", startMs: 1_790_000_000_000 + Int64(k) * 10, perSecond: [[100, 200], [300]], shard: Shard(index: k, count: 2),
                       eaddrnotavailAt: k == 1 ? 1 : nil, portRange: k == 1 ? [40000, 40199] : [32768, 60999])
        }
        return try RunRecord.merge(records, names: [])
    }

    @Test(arguments: [0, 1])
    func everyCellOfTheSharedTablesIsInBothReports(which: Int) throws {
        let r = which == 0 ? exhaustionRecord() : try Self.mergedRecord()
        let a = RunAnalysis.analyze(r)
        let md = ReportMarkdown.render(r, a), html = ReportHTML.render(r, a)
        var tables = [ReportTables.outcomes(r, a), ReportTables.capacity(r, a), ReportTables.configuration(r)]
        if let t = ReportTables.portBudget(a) { tables.append(t) }
        if let hosts = r.hosts { tables.append(ReportTables.hosts(hosts)) }
        #expect(tables.count == 4, "exhaustion: a tuple table; merged: a hosts table, no census")
        for t in tables {
            for row in t.rows {
                #expect(md.contains(ReportTables.markdown(ReportTables.Table(header: t.header, numeric: t.numeric, rows: [row]))[2]), "\(row)")
                #expect(html.contains("<tr>" + row.enumerated().map { "<td\(t.numeric[$0.offset] ? " class=\"n\"" : "")>\(HTML.escape($0.element))</td>" }.joined() + "</tr>"), "\(row)")
            }
        }
        #expect(html.contains("<h2>Configuration</h2>") && md.contains("## Configuration"))
        #expect(html.contains("<div class=\"scroll\"><table"), "tables scroll in their own box on a narrow screen")
        if which == 1 { #expect(html.contains("<h2>Hosts</h2>") && html.contains(">pod-1<")) }
    }
}
