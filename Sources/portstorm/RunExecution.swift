import Foundation
import PortstormAnalysis
import PortstormEngine
import PortstormProbes
import PortstormRecord
import PortstormRender
import PortstormSystem

/// Runs a configuration end to end: plan, engine with live output, summary, record.
/// Shared by `run` and `demo`.
struct RunExecution {
    let output: String?
    /// Where to write a report of the run, in the format its extension names.
    let report: String?
    let quiet: Bool
    /// Sample the kernel beside the run (PortstormProbes.KernelObserver).
    let observe: Bool
    /// Print every finding after the summary, not only warnings and problems.
    var explain = false
    /// The host or pod name written into the record (`run --name`); nil: left out.
    var hostName: String?

    /// Returns the process exit status.
    func execute(_ config: RunConfig) -> Int32 {
        let plan: RunPlan
        switch RunPlan.make(config) {
        case .success(let p): plan = p
        case .failure(let e): Terminal.fail(e.message, code: ExitStatus.usage)
        }
        if let output { checkWritable(output) }
        if let report { checkWritable(report) }
        if !quiet {
            // The preflight's warnings, when they matter for this load.
            let load = PlannedLoad(rate: config.rate, concurrency: config.concurrency, sources: plan.sources.count,
                                   localPorts: config.localPorts, close: config.close, targetIsLoopback: plan.target.isLoopback,
                                   connections: config.connections, durationSeconds: config.durationSeconds)
            for line in DoctorText.warnings(Preflight.check(SystemProbe.snapshot(), load: load, ioUringProblem: nil)) {
                Terminal.err(line + "\n")
            }
        }

        let control = RunControl()
        let tty = Terminal.stderrIsTTY
        let signals = SignalWatch(control: control) { level in
            Terminal.err(level == 1 ? "\nstopping: finishing the attempts in flight (Ctrl-C again to cancel them)\n"
                                    : "\ncancelling the attempts in flight\n")
        }
        defer { signals.cancel() }

        // A --source that is not an address of this machine fails every bind(): say which, whatever
        // the observation setting, so the report does not blame the port range.
        let unusableSources = plan.sources.isEmpty ? nil : SourceProbe.unusable(plan.sources)
        var live = LiveLine(durationSeconds: config.durationSeconds, connections: config.connections)
        var ticks = 0
        let observer = observe ? KernelObserver(target: plan.target, localPorts: config.localPorts) : nil
        var record: RunRecord
        do {
            record = try Engine.run(plan, control: control, observer: observer) { status in
                ticks += 1
                guard !quiet else { return }
                let line = live.render(status)
                if tty {
                    Terminal.err("\r\u{1B}[2K" + line)
                } else if ticks % 5 == 0 {
                    Terminal.err(line + "\n")
                }
            }
        } catch {
            Terminal.fail(error.description, code: ExitStatus.unavailable)
        }
        if tty && !quiet && ticks > 0 { Terminal.err("\r\u{1B}[2K") }
        record.unusableSources = unusableSources
        record.hostName = hostName
        if PathProbe.wanted(record.totals.outcomes) { record.path = PathProbe.observe(plan.target) }
        if let why = observer?.censusError {
            record.notes.append("the sock_diag census was skipped: \(why)")
        }

        Terminal.out(SummaryText.render(record))
        // Why, in brief: the findings worth a warning (all of them with --explain, as the demo does).
        let findings = RunAnalysis.analyze(record).findings.filter { explain || $0.severity >= .warning }
        if !findings.isEmpty { Terminal.out("\n" + FindingsText.render(findings).joined(separator: "\n") + "\n") }
        if let output {
            do {
                try write(record, to: output)
                Terminal.out("  record: \(output)\n")
            } catch {
                Terminal.fail("cannot write the record to \(output): \(error.localizedDescription)", code: ExitStatus.cannotWrite)
            }
        }
        if let report {
            let format = ReportFormat.forPath(report)
            do {
                try format.render(record).write(toFile: report, atomically: true, encoding: .utf8)
                Terminal.out("  report: \(report) (\(format.rawValue))\n")
            } catch {
                Terminal.fail("cannot write the report to \(report): \(error.localizedDescription)", code: ExitStatus.cannotWrite)
            }
        }
        return record.stopReason == .interrupted ? ExitStatus.interrupted : 0
    }

    /// Fails before the run, not after it, when the record could not be written.
    private func checkWritable(_ path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            Terminal.fail("cannot write the record to \(path): folder \(dir) does not exist", code: ExitStatus.cannotWrite)
        }
        guard access(dir, W_OK) == 0 else {
            Terminal.fail("cannot write the record to \(path): folder \(dir) is not writable", code: ExitStatus.cannotWrite)
        }
    }

    private func write(_ record: RunRecord, to path: String) throws {
        try record.jsonData().write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
