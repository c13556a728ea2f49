import ArgumentParser
import Foundation
import PortstormLab
import PortstormRecord
import PortstormSystem

/// Runs a scenario file through the same commands as typed flags would.
struct ScenarioRunner {
    let output: String?
    let report: String?
    let quiet: Bool

    func run(_ path: String) throws {
        let s: Scenario
        do throws(InputError) { s = try Scenario.load(path) } catch { Terminal.fail(error.message, code: ExitStatus.usage) }
        if !quiet { Terminal.out("scenario \(s.name)" + (s.description.isEmpty ? "" : ": \(s.description)") + "\n") }
        switch s.kind {
        case .lab(let name):
            var lab = try parse(LabCmd.self, [name])
            try lab.run()
        case .run(let arguments, let serve):
            try withServer(serve) { target in
                var cmd = try parse(Run.self, substitute(arguments, target) + passedOn(quiet: true))
                try cmd.run()
            }
        case .ramp(let arguments, let serve):
            try withServer(serve) { target in
                var cmd = try parse(Plan.self, substitute(arguments, target) + passedOn(quiet: false))
                try cmd.run()
            }
        }
    }

    /// The flags given beside --scenario, handed on to the command it runs (plan has no --quiet).
    func passedOn(quiet takesQuiet: Bool) -> [String] {
        var extra: [String] = []
        if let output { extra += ["-o", output] }
        if let report { extra += ["--report", report] }
        if takesQuiet && quiet { extra.append("--quiet") }
        return extra
    }

    /// Parses as the command line would, with the same one-line errors.
    func parse<C: ParsableCommand>(_ type: C.Type, _ args: [String]) throws -> C {
        do {
            return try C.parse(args)
        } catch {
            Terminal.fail("scenario: " + C.message(for: error).split(separator: "\n").first.map(String.init)!, code: ExitStatus.usage)
        }
    }

    func substitute(_ args: [String], _ target: String?) -> [String] {
        args.map { $0 == "{serve}" ? (target ?? $0) : $0 }
    }

    /// Starts the scenario's built-in server (in this process) for the length of `body`.
    func withServer(_ serve: (mode: String, listen: String)?, _ body: (String?) throws -> Void) throws {
        guard let serve else { return try body(nil) }
        guard let mode = ServerMode(rawValue: serve.mode) else {
            Terminal.fail("scenario: unknown serve mode '\(serve.mode)' (\(ServerMode.allCases.map(\.rawValue).joined(separator: ", ")))", code: ExitStatus.usage)
        }
        let address: SocketAddress
        do throws(InputError) { address = try InputParsing.listenAddress(serve.listen) } catch { Terminal.fail(error.message, code: ExitStatus.usage) }
        let server: TargetServer
        do { server = try TargetServer.start(mode: mode, listen: address) } catch {
            Terminal.fail("scenario: cannot serve on \(address): \(error)", code: ExitStatus.unavailable)
        }
        defer { server.stop() }
        if !quiet { Terminal.out("built-in \(mode.rawValue) server on \(server.address)\n") }
        try body(server.address.description)
    }
}
