import Foundation
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing

/// Records with extreme values, loaded as `portstorm report` loads them and rendered in every format.
@Suite struct ExtremeRecordTests {
    @Test(arguments: ExtremeRecord.allCases)
    func loadsThenRendersEveryFormatOrIsRefusedNamingTheField(_ extreme: ExtremeRecord) throws {
        do {
            let r = try RunRecord.load(from: extreme.json)
            #expect(extreme.refusedField == nil, "\(extreme) loaded, but no run can produce it")
            for format in ReportFormat.allCases {
                let text = format.render(r)
                #expect(text.count > 40, "\(format): \(text)")
            }
            #expect(ReportFormat.text.render(r).contains("attempted \(Format.count(r.totals.attempted))"))
        } catch {
            let field = try #require(extreme.refusedField, "\(extreme) is valid but was refused: \(error)")
            let sentence = "\(error)"
            #expect(sentence.contains(field) || "\(error)".contains(field.split(separator: ".").last!), "\(sentence)")
            #expect(!sentence.contains("\n"))
        }
    }

    /// Even unchecked (built in memory, never loaded), analysis and rendering do not trap.
    @Test(arguments: ExtremeRecord.allCases)
    func rendersInMemoryWithoutTrapping(_ extreme: ExtremeRecord) {
        let r = extreme.record
        for format in ReportFormat.allCases { #expect(!format.render(r).isEmpty) }
    }

    @Test func hugeValuesPrintAsNumbersNotCrashes() {
        #expect(Format.seconds(1e308) == "1e+308s")
        #expect(Format.seconds(125) == "2m05s" && Format.seconds(7_200_000) == "120,000m00s")
        #expect(Format.rate(1e308) == "1e+308" && Format.rate(12_345.4) == "12,345" && Format.rate(12.34) == "12.3")
        #expect(Format.micros(tick: 1e20) == Format.micros(UInt64.max) && Format.micros(tick: -5) == "0us")
        #expect(Format.integer(1e20) == "1e+20" && Format.integer(12.9) == "12")
    }

    @Test func outcomeSumsSaturateInsteadOfTrapping() {
        var o = OutcomeCounts()
        o.add(.ok, UInt64.max)
        o.add(.econnrefused, 5)
        o.add(.eaddrnotavail, UInt64.max)
        #expect(o.total == UInt64.max && o.failures == UInt64.max)
    }
}
