import Foundation
import Testing

/// Help reads cleanly at any width: paragraphs are wrapped by the parser (never by hand, which
/// left lone words on lines of their own at 80 columns), and lists keep a hanging indent.
@Suite struct HelpLayoutTests {
    static let commands: [[String]] = [[], ["run"], ["report"], ["merge"], ["plan"], ["lab"], ["diagnose"], ["serve"], ["demo"], ["doctor"]]

    /// The widest an example line may be: the man page sets a subcommand's text 13 columns in, and
    /// man at 80 columns has 78 for it, so a longer example would be broken by the formatter.
    static let exampleWidth = 63

    func help(_ command: [String], columns: Int) throws -> String {
        let (p, out, _) = try CLIProcess.start(command + ["--help"], environment: ["COLUMNS": "\(columns)"])
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    @Test(arguments: [60, 80, 120])
    func everyHelpFitsAndHasNoLoneWords(columns: Int) throws {
        for command in Self.commands {
            let text = try help(command, columns: columns)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let name = command.first ?? "portstorm"
            // The USAGE line is the parser's own, one line whatever the width.
            for line in lines where !line.hasPrefix("USAGE:") {
                #expect(line.count <= columns, "\(name) at \(columns): \(line.count) columns: \(line)")
            }
            // The overview and discussion, up to USAGE: a paragraph line followed by more of the
            // paragraph was filled to near the width.
            let prose = lines.prefix { !$0.hasPrefix("USAGE:") }
            for (line, next) in zip(prose, prose.dropFirst())
            where !line.isEmpty && !line.hasPrefix(" ") && !next.isEmpty && !next.hasPrefix(" ") && !line.hasSuffix(":") {
                #expect(line.count > columns - 25, "\(name) at \(columns): a short line inside a paragraph: '\(line)' then '\(next)'")
            }
            // List entries: name, two spaces at least, description; continuations indented.
            // Examples: one command a line (a long one continued with a backslash), never broken.
            var inList = false, inExamples = false
            for line in prose {
                if ["Exit status:", "Labs:", "Modes:"].contains(line) { inList = true; continue }
                if line == "Examples:" { inExamples = true; continue }
                if line.isEmpty { inList = false; inExamples = false }
                if inList { #expect(line.hasPrefix("  "), "\(name) at \(columns): a list line at the margin: \(line)") }
                if inExamples && columns > Self.exampleWidth {
                    #expect(line.hasPrefix("  portstorm ") || line.hasPrefix("      "), "\(name) at \(columns): an example broken: \(line)")
                    #expect(line.count <= Self.exampleWidth, "\(name): an example wider than the man page has room for: \(line)")
                }
            }
        }
    }

    @Test func labNamesStandApartFromTheirDescriptions() throws {
        let text = try help(["lab"], columns: 80)
        let entry = try Regex(#"^  ([a-z-]+)  +\S"#)
        let names = text.split(separator: "\n").compactMap { try? entry.firstMatch(in: String($0))?.output[1].substring.map(String.init) }
        #expect(names.contains("protocol-mismatch") && names.contains("bind-exhaustion") && names.count >= 7, "\(names)")
    }
}
