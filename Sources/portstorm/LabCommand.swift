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
          portstorm run 127.0.0.1:9000 --local-ports 40000-40009 -c 20 -n 20

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
        let result = try LabRunner(lab: lab, verbose: !json).run()
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            Terminal.out(String(decoding: try e.encode(result), as: UTF8.self) + "\n")
        }
        if !result.asExpected { throw ExitCode(ExitStatus.notAsExpected) }
    }
}

/// What a lab did, variant by variant.
struct LabResult: Codable {
    struct Variant: Codable {
        var role: String
        var title: String
        var expected: String
        var dominant: String
        var attempted: UInt64
        var outcomes: [String: UInt64]
        var failureShare: Double
        var topFinding: String?
        var topFindingTitle: String?
        var asExpected: Bool
    }
    var lab: String
    var namespace: String
    var variants: [Variant]
    var interrupted: Bool
    var asExpected: Bool
}

/// Runs one lab: namespace, sysctls, servers and runs (this binary again, under `ip netns exec`).
struct LabRunner {
    let lab: Lab
    let verbose: Bool

    func say(_ s: String) { if verbose { Terminal.out(s + "\n") } }

    func run() throws -> LabResult {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-lab-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let ns = try NetworkNamespace(prefix: "portstorm-lab")
        defer { ns.remove() }
        let control = RunControl()
        let signals = SignalWatch(control: control) { _ in Terminal.err("\nstopping the lab and removing its namespace\n") }
        defer { signals.cancel() }

        say("lab \(lab.name): \(lab.summary)")
        say("namespace \(ns.name)" + (lab.sysctls.isEmpty ? "" : ": " + lab.sysctls.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")))
        for (k, v) in lab.sysctls { try ns.sysctl(k, v) }
        for cmd in lab.setup { try ns.exec(cmd) }

        var variants: [LabResult.Variant] = []
        // The self-signed certificate of the last TLS server started (see LabCatalog.serverCertificate).
        var certificate = work.appendingPathComponent("none.pem").path
        var brokenFailures = Set<String>()
        for (i, v) in lab.variants.enumerated() where control.level == 0 {
            for (k, value) in v.sysctls { try ns.sysctl(k, value) }
            for s in v.servers {
                var tls: [String] = []
                if s.mode.isTLS {
                    certificate = work.appendingPathComponent("server-\(variants.count).pem").path
                    tls = ["--cert-out", certificate]
                }
                try ns.spawn([me, "serve", "--mode", s.mode.rawValue, "--listen", s.listen, "-d", "300s"] + tls)
            }
            if !v.servers.isEmpty { usleep(400_000) }
            let file = work.appendingPathComponent("run-\(i).json").path
            say("")
            say("[\(v.role.rawValue)] \(v.title)")
            let arguments = v.runArguments.map { $0 == LabCatalog.serverCertificate ? certificate : $0 }
            say("  portstorm run " + v.runArguments.map { $0 == LabCatalog.serverCertificate ? "server.pem" : $0 }.joined(separator: " "))
            let status = try ns.status([me, "run"] + arguments + ["--quiet", "-o", file])
            if status == ExitStatus.unavailable {
                throw CLIError.unavailable("the run of '\(v.title)' could not start inside namespace \(ns.name) (exit \(status)): io_uring or the open-file limit; try portstorm doctor")
            }
            guard let data = FileManager.default.contents(atPath: file), let record = try? RunRecord.load(from: data) else {
                throw LabError("the run of '\(v.title)' wrote no record")
            }
            let analysis = RunAnalysis.analyze(record)
            let dominant = record.totals.outcomes.nonZero.max { $0.count < $1.count }?.outcome.name ?? "none"
            let dominantFailure = record.totals.outcomes.nonZero.filter { !$0.outcome.isOK }.max { $0.count < $1.count }?.outcome.name
            let share = Double(record.totals.outcomes.failures) / Double(max(1, record.totals.attempted))
            // A broken run must fail mostly as the lab says; a fix must end mostly as expected
            // (for "ok": under 1% failures).
            let asExpected: Bool
            switch v.role {
            case .prepare: asExpected = true
            case .broken: asExpected = dominantFailure == v.expected
            case .fix: asExpected = v.expected == "ok" ? share < 0.01 : dominant == v.expected
            }
            let top = analysis.findings.first { $0.severity >= .warning } ?? analysis.findings.first
            let outcomes = record.totals.outcomes.byName
            let variant = LabResult.Variant(
                role: v.role.rawValue, title: v.title, expected: v.expected, dominant: v.role == .broken ? (dominantFailure ?? dominant) : dominant,
                attempted: record.totals.attempted, outcomes: outcomes, failureShare: share,
                topFinding: top?.topic, topFindingTitle: top?.title, asExpected: asExpected)
            variants.append(variant)
            say("  " + outcomes.sorted { $0.value > $1.value }.map { "\($0.key) \(Format.count($0.value))" }.joined(separator: ", ")
                + " of \(Format.count(record.totals.attempted)) attempts" + (variant.asExpected ? "" : "  (expected mostly \(v.expected))"))
            if v.role == .broken {
                brokenFailures.insert(v.expected)  // the failure this lab reproduces
                if let top { for line in FindingsText.render([top]) { say("  " + line) } }
            } else if v.role == .fix {
                let left = brokenFailures.filter { outcomes[$0] != nil }.sorted()
                let others = outcomes.filter { $0.key != "ok" && !brokenFailures.contains($0.key) }
                if !left.isEmpty {
                    say("  still failing: " + left.map { "\($0) \(outcomes[$0]!)" }.joined(separator: ", "))
                } else {
                    say("  fixed: no " + (brokenFailures.isEmpty ? "failure" : brokenFailures.sorted().joined(separator: ", "))
                        + (others.isEmpty ? "" : " (\(others.map { "\($0.key) \($0.value)" }.joined(separator: ", ")): expected with this set-up)"))
                }
            }
        }
        ns.remove()
        let ok = variants.count == lab.variants.count && variants.allSatisfy(\.asExpected)
        say("")
        say(control.level > 0 ? "interrupted; namespace \(ns.name) removed" : "namespace \(ns.name) removed; " + (ok ? "every run ended as expected" : "some runs did not end as expected"))
        return LabResult(lab: lab.name, namespace: ns.name, variants: variants, interrupted: control.level > 0, asExpected: ok)
    }
}
