import Foundation
import PortstormTestSupport
import Testing

/// `portstorm report` on records with extreme values: refused in one sentence naming the field, or
/// rendered in every format. Before records were checked, eight of these died with SIGILL.
@Suite struct ExtremeReportTests {
    @Test(arguments: ExtremeRecord.allCases)
    func reportRefusesOrRenders(_ extreme: ExtremeRecord) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-extreme-\(getpid())-\(extreme.rawValue).json")
        try extreme.json.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        if let field = extreme.refusedField {
            let r = try CLIProcess.run(["report", file.path])
            #expect(r.status == 64, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.contains(field), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
            return
        }
        for format in ["text", "markdown", "html", "csv", "json"] {
            let r = try CLIProcess.run(["report", file.path, "--format", format])
            #expect(r.status == 0, "\(format): \(r.stderr)")
            #expect(r.stderr.isEmpty && r.stdout.count > 40, "\(format): \(r.stderr)")
        }
    }
}
