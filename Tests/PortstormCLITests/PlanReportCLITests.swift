import Foundation
import Testing

/// `portstorm report` reads what `portstorm plan -o` writes. The fixture is a real plan record:
/// `plan 127.0.0.1:P --from 100 --to 1600 --factor 2 --step-duration 2s --local-ports 40000-40999 -o`
/// against `serve --mode accept-close`, whose third step's p99 passed 3x the first's.
@Suite struct PlanReportCLITests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/plan-latency-knee.json")

    @Test func aPlanRecordIsReportedInEachFormat() throws {
        let html = try CLIProcess.run(["report", Self.fixture.path, "--format", "html"])
        #expect(html.status == 0, "\(html.stderr)")
        #expect(html.stdout.hasPrefix("<!doctype html>") && html.stdout.contains("portstorm capacity plan: 127.0.0.1:18931"))
        #expect(html.stdout.components(separatedBy: "<svg").count - 1 == 3)
        #expect(html.stdout.contains("<tr class=\"knee\"><td class=\"n\">3 (knee)</td>"))
        let text = try CLIProcess.run(["report", Self.fixture.path])
        #expect(text.status == 0 && text.stdout.contains("knee at step 3: connect p99 rose to 1.7 ms"), "\(text.stdout)\(text.stderr)")
        let md = try CLIProcess.run(["report", Self.fixture.path, "--format", "markdown"])
        #expect(md.stdout.contains("| 3 (knee) | 400 | 400 | 400 | 0.00% | - | 1.68ms |"), "\(md.stdout)")
        let csv = try CLIProcess.run(["report", Self.fixture.path, "--format", "csv"])
        #expect(csv.stdout.split(separator: "\n").count == 4, "a header and one row per step")
    }

    @Test func aPlanRecordWithAFieldMissingIsRefusedInOneLine() throws {
        let text = try String(contentsOf: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\"steps\"", with: "\"stepz\"")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-plan-\(getpid()).json")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLIProcess.run(["report", file.path, "--format", "html"])
        #expect(r.status == 64)
        #expect(r.stderr == "portstorm: error: \(file.path) is not a portstorm plan record (missing plan.steps)\n", "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func aPlanRecordIsNotMergedWithRunRecords() throws {
        let r = try CLIProcess.run(["merge", Self.fixture.path, Self.fixture.path])
        #expect(r.status == 64)
        #expect(r.stderr.contains("its schema is 'portstorm.plan/1', not a run record"), "\(r.stderr)")
    }
}
