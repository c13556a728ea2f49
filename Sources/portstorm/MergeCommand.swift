import ArgumentParser
import Foundation
import PortstormRecord
import PortstormRender

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the records of several generator hosts into one record.",
        discussion: """
        Each host ran its shard of one load (`run --shard I/N --start-at T -o host.json`). The merged
        record adds the counts, merges the connect histograms exactly, adds the timelines up second
        by second on the wall clock, and keeps each host's settings, sources and port budget in
        `hosts`. Records of different targets, of another schema, or of the same shard twice are
        refused.

        Examples:
          portstorm merge records/*.json -o merged.json
          portstorm merge a.json b.json -o merged.json --report merged.md
        """
    )

    @Argument(help: "The hosts' run records (JSON), two or more.")
    var records: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the merged record here (default: standard output).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Also write a report (format from the extension: .html, .md, .csv, .json, else text).", valueName: "file"))
    var report: String?

    func run() throws {
        guard records.count >= 2 else { Terminal.fail(MergeError.tooFew.description, code: ExitStatus.usage) }
        let merged = Self.load(records)
        if let output {
            do {
                try merged.jsonData().write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                Terminal.fail("cannot write the merged record to \(output): \((error as NSError).localizedDescription)", code: ExitStatus.cannotWrite)
            }
            Terminal.out(SummaryText.render(merged))
            Terminal.out("  merged record: \(output) (\(records.count) hosts)\n")
        } else {
            do {
                Terminal.out(String(decoding: try merged.jsonData(), as: UTF8.self) + "\n")
            } catch {
                Terminal.fail("cannot encode the merged record: \(error)", code: ExitStatus.cannotWrite)
            }
        }
        if let report {
            let format = ReportFormat.forPath(report)
            do {
                try format.render(merged).write(toFile: report, atomically: true, encoding: .utf8)
            } catch {
                Terminal.fail("cannot write the report to \(report): \((error as NSError).localizedDescription)", code: ExitStatus.cannotWrite)
            }
            if output != nil { Terminal.out("  report: \(report) (\(format.rawValue))\n") }
        }
    }

    /// Reads one record, or several and merges them; a file that cannot be read or merged ends
    /// the command with one sentence.
    static func load(_ paths: [String]) -> RunRecord {
        guard !paths.isEmpty else { Terminal.fail("give run records (JSON) to read", code: ExitStatus.usage) }
        let records = paths.map(read)
        if records.count == 1 { return records[0] }
        do throws(MergeError) {
            return try RunRecord.merge(records, names: paths)
        } catch {
            Terminal.fail(error.description, code: ExitStatus.usage)
        }
    }

    static func read(_ path: String) -> RunRecord {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            Terminal.fail("cannot read \(path): \((error as NSError).localizedDescription)", code: ExitStatus.usage)
        }
        do {
            return try RunRecord.load(from: data)
        } catch {
            Terminal.fail("\(path) is not a portstorm run record (\(Report.why(error)))", code: ExitStatus.usage)
        }
    }
}
