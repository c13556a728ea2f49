import ArgumentParser
import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormRender

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a run record: what failed, when, why, and what to change.",
        discussion: """
        Reads a record written by `portstorm run -o FILE` and renders the analysis: failure onsets, \
        their relation to the local port budget, the sustainable-rate model, and advice. A plan \
        record (`portstorm plan -o FILE`) renders as the capacity plan: each step's rate asked and \
        achieved, failures and connect p99, and the knee.

        Formats: text (terminal), markdown (a capacity-planning report for a ticket), html (one \
        self-contained file with charts), csv (the per-second timeline), json (the findings).

        Examples:
          portstorm report run.json
          portstorm report run.json --format html -o report.html
          portstorm report run.json --format csv > timeline.csv
          portstorm report host-*.json --format markdown
        """
    )

    @Argument(help: "A run record (JSON); - reads standard input. Several hosts' records are merged first (as `portstorm merge` does).")
    var records: [String] = []

    @Option(help: "Output format. Default: from the -o extension, else text.")
    var format: ReportFormat?

    @Option(name: [.short, .customLong("output")], parsing: .unconditional,
            help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
    var output: String?

    func run() throws {
        let file = try output.map { (p) throws(CLIError) in try OutputFile.check(p, what: "the report") }
        let chosen = format ?? output.map(ReportFormat.forPath) ?? .text
        let text: String
        if records.count == 1 {
            // One file: a run record, or a plan record (`portstorm plan -o`), told apart by its schema.
            let data = try InputFile.read(records[0], what: "the record")
            if PlanRecord.schema(of: data) == PlanRecord.currentSchema {
                do {
                    text = chosen.render(try PlanRecord.load(from: data))
                } catch {
                    throw CLIError.usage("\(records[0]) is not a portstorm plan record (\(Report.why(error)))")
                }
            } else {
                text = chosen.render(try Merge.decode(data, path: records[0], verb: "report"))
            }
        } else {
            text = chosen.render(try Merge.load(records, verb: "report"))
        }
        if let file, !file.isStandardOutput {
            try file.write(text)
            Terminal.out("report: \(file.path) (\(chosen.rawValue))\n")
        } else {
            Terminal.out(text)
        }
    }

    /// A decoding error in one line: which field, what was wrong.
    static func why(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing \(path(ctx.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return ctx.codingPath.isEmpty ? "it is JSON, but not an object with a record's fields" : "wrong value at \(path(ctx.codingPath))"
        case DecodingError.dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        default:
            return "\(error)"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }
}

extension ReportFormat: ExpressibleByArgument {}
