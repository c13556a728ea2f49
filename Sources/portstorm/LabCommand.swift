import ArgumentParser
import Foundation
import PortstormAnalysis
import PortstormEngine
import PortstormLab
import PortstormRecord
import PortstormRender
import PortstormSystem

struct LabCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Reproduce a failure class on purpose in a network namespace, explain it, and show the fix.",
        discussion: """
        Each lab creates a network namespace of its own, sets that namespace's sysctls, starts \
        built-in servers and bounded runs inside it, prints what happened with the reporter's \
        explanation, runs the fixed variants, and removes everything, also on failure or Ctrl-C. \
        The host's settings are never touched. Needs root (and iproute2).

        Labs:
        \(HelpText.list(LabCatalog.all.map { ($0.name, $0.summary) }))

        Without root, "Cannot assign requested address" still reproduces with a per-socket range:
          portstorm serve --mode hold --listen 127.0.0.1:9000 &
          portstorm run 127.0.0.1:9000 --local-ports 40000-40009 \\
              -c 20 -n 20

        Examples:
          portstorm lab exhaustion
          portstorm lab protocol-mismatch --json
        """
    )

    @Argument(help: "The lab to run (omit to list them).")
    var name: String?

    @Flag(help: "Print the result as JSON (for scripts and tests).")
    var json = false

    func run() throws {
        guard let name else {
            Terminal.out(HelpText.list(LabCatalog.all.map { ($0.name, $0.summary) }) + "\n")
            return
        }
        guard let lab = LabCatalog.named(name) else {
            throw CLIError.usage("no lab named '\(name)': \(LabCatalog.all.map(\.name).joined(separator: ", "))")
        }
        // Every lab runs portstorm inside: without io_uring, say so before making a namespace.
        if let unavailable = Ring.probe() { throw unavailable }
        if let why = NetworkNamespace.unavailable {
            throw CLIError.unavailable("\(why); without root, try: portstorm serve --mode hold --listen 127.0.0.1:9000 & portstorm run 127.0.0.1:9000 --local-ports 40000-40009 -c 20 -n 20")
        }
        let control = RunControl()
        let signals = SignalWatch(control: control) { _ in Terminal.err("\nstopping the lab and removing its namespace\n") }
        defer { signals.cancel() }
        let ns = try NetworkNamespace(prefix: "portstorm-lab")
        defer { ns.remove() }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let result = try LabRunner(lab: lab, executable: me).run(in: ns, control: control) { event in
            if !json { Terminal.out(LabCmd.text(event).map { $0 + "\n" }.joined()) }
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            Terminal.out(String(decoding: try e.encode(result), as: UTF8.self) + "\n")
        }
        if result.interrupted { throw CommandEnd.interrupted }
        if !result.asExpected { throw CommandEnd.notAsExpected }
    }

    /// The lines a lab prints as it goes.
    static func text(_ event: LabEvent) -> [String] {
        switch event {
        case .started(let lab, let site):
            return ["lab \(lab.name): \(lab.summary)",
                    "namespace \(site)" + (lab.sysctls.isEmpty ? "" : ": " + lab.sysctls.map { "\($0.0)=\($0.1)" }.joined(separator: ", "))]
        case .running(let v, let arguments):
            return ["", "[\(v.role.rawValue)] \(v.title)", "  portstorm run " + arguments.joined(separator: " ")]
        case .judged(let j):
            let v = j.variant
            let byCount = v.outcomes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            let counts = byCount.map { "\($0.key) \(Format.count($0.value))" }.joined(separator: ", ")
            var lines = ["  \(counts) of \(Format.count(v.attempted)) attempts" + (v.asExpected ? "" : "  (expected mostly \(v.expected))")]
            if v.role == LabVariant.Role.broken.rawValue, let top = j.top {
                lines += FindingsText.render([top]).map { "  " + $0 }
            }
            if let fix = j.fix {
                func list(_ counts: [FixCheck.OutcomeCount]) -> String { counts.map { "\($0.name) \(Format.count($0.count))" }.joined(separator: ", ") }
                if !fix.fixed {
                    lines.append("  still failing: " + list(fix.stillFailing))
                } else {
                    lines.append("  fixed: no " + (fix.reproduced.isEmpty ? "failure" : fix.reproduced.joined(separator: ", "))
                                 + (fix.others.isEmpty ? "" : " (\(list(fix.others)): expected with this set-up)"))
                }
            }
            return lines
        case .finished(let r):
            return ["", r.interrupted ? "interrupted; namespace \(r.namespace) removed"
                        : "namespace \(r.namespace) removed; " + (r.asExpected ? "every run ended as expected" : "some runs did not end as expected")]
        }
    }
}
