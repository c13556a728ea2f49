import ArgumentParser
import Foundation
import Glibc
import PortstormLab
import PortstormRecord

@main
struct Portstorm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portstorm",
        abstract: "Open waves of short-lived TCP connections and tell exactly why they fail.",
        discussion: """
        portstorm drives io_uring to churn through connections (a new one per attempt) and counts \
        every attempt under its real cause: eaddrnotavail, econnrefused, connect_timeout, ..., \
        each marked local (this machine) or remote (the path or the server).

        Start with `portstorm demo`, or point `portstorm run` at a server you are allowed to load.

        \(ExitStatus.helpText)
        """,
        version: PortstormVersion.current,
        subcommands: [Run.self, Report.self, Merge.self, Plan.self, LabCmd.self, Diagnose.self, Serve.self, Demo.self, Doctor.self]
    )

    /// Parses, checks the descriptor budget, runs the command, and maps what it threw to an exit
    /// status: the one place the process exits.
    static func main() {
        Terminal.prepare()
        // -V as well as --version (the parser knows only the long spelling).
        if Array(CommandLine.arguments.dropFirst()) == ["-V"] {
            Terminal.out(PortstormVersion.current + "\n")
            Glibc.exit(Terminal.stdoutIsGone ? ExitStatus.outputClosed : ExitStatus.success)
        }
        var status: Int32
        do {
            var command = try parseAsRoot()
            try Descriptors.require(for: command)
            try command.run()
            status = ExitStatus.success
        } catch let end as CommandEnd {
            status = ExitStatus.of(end)!
        } catch {
            if let message = ExitStatus.message(error), let code = ExitStatus.of(error) {
                Terminal.err("portstorm: error: \(message)\n")
                status = code
            } else if exitCode(for: error) == .success || error is ExitCode {
                // Help and --version.
                if Terminal.stdoutIsGone { Glibc.exit(ExitStatus.outputClosed) }
                exit(withError: error)
            } else {
                // ArgumentParser's usage errors, in one line like every other error.
                Terminal.err("portstorm: error: \(oneLine(message(for: error)))\n")
                status = exitCode(for: error).rawValue
            }
        }
        if status == ExitStatus.success && Terminal.stdoutIsGone { status = ExitStatus.outputClosed }
        Glibc.exit(status)
    }
}

/// ArgumentParser's message without its usage and help lines, its lines joined.
func oneLine(_ message: String) -> String {
    message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("Help:") && !$0.hasPrefix("See '") }
        .joined(separator: " ")
}

extension CloseMode: ExpressibleByArgument {}
extension WireProtocol: ExpressibleByArgument {}
extension ServerMode: ExpressibleByArgument {}
extension RunExecution.ProgressMode: ExpressibleByArgument {}
