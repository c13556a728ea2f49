import ArgumentParser
import Foundation
import PortstormRecord
import PortstormRender

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the records of several generator hosts into one record.",
        discussion: """
        Each host ran its shard of one load (`run --shard I/N --start-at T -o host.json`). The merged \
        record adds the counts, merges the connect histograms exactly, adds the timelines up second \
        by second on the wall clock, and keeps each host's settings, sources and port budget in \
        `hosts`. Records of different targets, of another schema, or of the same shard twice are \
        refused.

        Examples:
          portstorm merge records/*.json -o merged.json
          portstorm merge host-*.json -o merged.json --report merged.md
        """
    )

    @Argument(help: "The hosts' run records (JSON), two or more.")
    var records: [String] = []

    @Option(name: [.short, .customLong("output")], parsing: .unconditional,
            help: ArgumentHelp("Write the merged record here; - (the default) for standard output.", valueName: "file"))
    var output: String = "-"

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Also write a report (format from the extension: .html, .md, .csv, .json, else text).", valueName: "file"))
    var report: String?

    func run() throws {
        guard records.count >= 2 else { throw CLIError.usage(MergeError.tooFew.description) }
        let (recordFile, reportFile) = try RunExecution.checkOutputs(record: output, report: report)
        let merged = try Self.load(records, verb: "merge")
        guard let data = try? merged.jsonData() else { throw CLIError.cannotWrite("cannot encode the merged record as JSON") }
        try recordFile?.write(data)
        if let reportFile { try reportFile.write(ReportFormat.forPath(reportFile.path).render(merged)) }
        Terminal.out(SummaryText.render(merged))
        if let recordFile, !recordFile.isStandardOutput { Terminal.out("  merged record: \(recordFile.path) (\(records.count) hosts)\n") }
        if let reportFile, !reportFile.isStandardOutput {
            Terminal.out("  report: \(reportFile.path) (\(ReportFormat.forPath(reportFile.path).rawValue))\n")
        }
    }

    /// Reads one record, or several and merges them, each problem in one sentence.
    static func load(_ paths: [String], verb: String) throws(CLIError) -> RunRecord {
        guard !paths.isEmpty else { throw .usage("give a run record (JSON) to \(verb)") }
        var records: [RunRecord] = []
        for p in paths { records.append(try read(p, verb: verb)) }
        if records.count == 1 { return records[0] }
        do throws(MergeError) {
            return try RunRecord.merge(records, names: paths)
        } catch {
            throw .usage(error.description)
        }
    }

    static func read(_ path: String, verb: String) throws(CLIError) -> RunRecord {
        try decode(InputFile.read(path, what: "the record"), path: path, verb: verb)
    }

    /// A run record from the bytes of `path`, or one line saying why not.
    static func decode(_ data: Data, path: String, verb: String) throws(CLIError) -> RunRecord {
        do {
            return try RunRecord.load(from: data)
        } catch let e as UnsupportedSchema {
            throw .usage("cannot \(verb) \(path): \(e.description)")
        } catch {
            throw .usage("\(path) is not a portstorm run record (\(Report.why(error)))")
        }
    }
}
