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
    /// `--threshold`: judged over the run's results at the end; kept in the record.
    var thresholds: [Threshold] = []
    /// `--json`: the summary as JSON on standard output, human text on stderr.
    var json = false
    /// `--progress`: the live line on a terminal, a plain line every few seconds, or nothing.
    var progress: ProgressMode = .auto
    /// `--no-color`.
    var noColor = false
    /// `--stream FILE|-`: one JSON line per second.
    var stream: String?
    /// `--metrics-listen ADDR:PORT`: a Prometheus endpoint while the run lasts.
    var metricsListen: String?

    /// How progress is shown while a run goes on.
    enum ProgressMode: String, CaseIterable {
        /// The live line on a terminal (stderr), plain lines without one.
        case auto
        /// A whole line every few seconds on stderr, as CI logs want.
        case plain
        case none
    }

    /// Seconds between plain progress lines.
    static let plainEvery = 5
    /// The host or pod name written into the record (`run --name`); nil: left out.
    var hostName: String?

    /// Throws before the first attempt when the run cannot start or an output cannot be written;
    /// after the run when writing an output failed, a stop signal ended it (`CommandEnd.interrupted`)
    /// or a threshold failed (`CommandEnd.thresholdFailed`), its outputs written either way.
    func execute(_ config: RunConfig) throws {
        let plan = try RunPlan.make(config).get()
        let (recordFile, reportFile) = try Self.checkOutputs(record: output, report: report, json: json)
        let streamFile = try stream.map { (path) throws(CLIError) in try StreamFile.open(path, stdoutTaken: json || recordFile?.isStandardOutput == true
                                                                                          || reportFile?.isStandardOutput == true) }
        defer { streamFile?.close() }
        let metrics = try metricsListen.map { (text) throws(CLIError) in try MetricsEndpoint(text, target: config.target) }
        if let metrics {
            metrics.start()
            if !quiet { Terminal.err("metrics: http://\(metrics.address)/metrics\n") }
        }
        defer { metrics?.stop() }
        // Watched from here on, so that a signal during the preflight still ends with a record.
        let control = RunControl()
        let signals = SignalWatch(control: control) { level in
            Terminal.err(level == 1 ? "\nstopping: finishing the attempts in flight (Ctrl-C again to cancel them)\n"
                                    : "\ncancelling the attempts in flight\n")
        }
        defer { signals.cancel() }
        if !quiet {
            // The preflight's warnings, when they matter for this load.
            let load = PlannedLoad(rate: config.rate, concurrency: config.concurrency, sources: plan.sources.count,
                                   localPorts: config.localPorts, close: config.close, targetIsLoopback: plan.target.isLoopback,
                                   connections: config.connections, durationSeconds: config.durationSeconds,
                                   holdSeconds: config.holdMs.map { Double($0) / 1000 })
            let snapshot = SystemProbe.snapshot()
            let capacity = HoldCapacity.forRun(config, plan: plan, snapshot: snapshot)
            // Which limit stops the load first: said when one will, and for every --hold run.
            if config.holdMs != nil && capacity.stopping == nil { Terminal.err(DoctorText.capacityLine(capacity) + "\n") }
            // The capacity sentence already names the descriptor limit when it stops the run, and
            // sockets in the ring take no descriptor of the process.
            let descriptorsSaid = capacity.inputs.socketsInRing || capacity.stopping?.limit == .fileTables
            let findings = Preflight.check(snapshot, load: load, ioUringProblem: nil, capacity: capacity)
                .filter { !($0.topic == "open-files" && descriptorsSaid) }
            for line in DoctorText.warnings(findings) {
                Terminal.err(line + "\n")
            }
        }

        let mode: ProgressMode = quiet ? .none : progress
        let live = mode == .auto && Terminal.stderrIsTTY
        let color = Terminal.colorWanted(tty: Terminal.stderrIsTTY, noColorFlag: noColor)

        // A --source that is not an address of this machine fails every bind(): say which, whatever
        // the observation setting, so the report does not blame the port range.
        let unusableSources = plan.sources.isEmpty ? nil : SourceProbe.unusable(plan.sources)
        var line = LiveLine(durationSeconds: config.durationSeconds, connections: config.connections)
        var plainLine = LiveLine(durationSeconds: config.durationSeconds, connections: config.connections)
        var streamLine = StreamLine()
        var ticks = 0
        let observer = observe ? KernelObserver(target: plan.target, localPorts: config.localPorts) : nil
        var record = try Engine.run(plan, control: control, observer: observer) { status in
            ticks += 1
            metrics?.update(status)
            streamFile?.write(streamLine.render(status))
            switch mode {
            case .none: break
            case .auto where live:
                Terminal.err("\r\u{1B}[2K" + line.render(status, width: Terminal.columns(), color: color))
            case .auto, .plain:
                // A whole line every few seconds (rates over those seconds), for logs.
                if ticks % Self.plainEvery == 0 { Terminal.err(plainLine.render(status) + "\n") }
            }
        }
        if live && ticks > 0 { Terminal.err("\r\u{1B}[2K") }
        // The stream ends with the record's totals (the live lines lag the workers a little).
        streamFile?.write(streamLine.final(record))
        record.unusableSources = unusableSources
        if !thresholds.isEmpty { record.thresholds = thresholds.map { $0.evaluate(record) } }
        record.hostName = hostName
        record.networkNamespace = SystemProbe.networkNamespace()
        if PathProbe.wanted(record.totals.outcomes) { record.path = PathProbe.observe(plan.target) }
        if let why = observer?.censusError {
            record.notes.append("the sock_diag census was skipped: \(why)")
        }

        // The files first: the record is the user's data, whatever happens to the terminal. A
        // failure to write one is told after the summary, which is then the only trace of the run.
        var writeError: CLIError?
        do throws(CLIError) {
            if let recordFile {
                guard let data = try? record.jsonData() else { throw .cannotWrite("cannot encode the record as JSON") }
                try recordFile.write(data)
            }
            if let reportFile { try reportFile.write(ReportFormat.forPath(reportFile.path).render(record)) }
        } catch {
            writeError = error
        }
        Terminal.out(SummaryText.render(record))
        // Why, in brief: the findings worth a warning (all of them with --explain, as the demo does).
        let analysis = RunAnalysis.analyze(record).findings
        let findings = analysis.filter { explain || $0.severity >= .warning }
        if !findings.isEmpty { Terminal.out("\n" + FindingsText.render(findings).joined(separator: "\n") + "\n") }
        if let results = record.thresholds {
            Terminal.out("\n" + ThresholdText.render(results, color: Terminal.colorWanted(tty: Terminal.humanIsTTY, noColorFlag: noColor)))
        }
        if let recordFile, !recordFile.isStandardOutput, writeError == nil { Terminal.out("  record: \(recordFile.path)\n") }
        if let reportFile, !reportFile.isStandardOutput, writeError == nil {
            Terminal.out("  report: \(reportFile.path) (\(ReportFormat.forPath(reportFile.path).rawValue))\n")
        }
        if json {
            guard let data = try? SummaryJSON(record, findings: analysis).data() else { throw CLIError.cannotWrite("cannot encode the summary as JSON") }
            _ = Terminal.data(Array(data))
        }
        if let writeError { throw writeError }
        if record.stopReason == .interrupted { throw CommandEnd.interrupted }
        if record.thresholds?.contains(where: { !$0.passed }) == true { throw CommandEnd.thresholdFailed }
    }

    /// Checks the record and report paths before any work; with `-` for one of them, standard
    /// output carries it and the human-readable text goes to stderr.
    static func checkOutputs(record: String?, report: String?, recordName: String = "the record", json: Bool = false)
        throws(CLIError) -> (OutputFile?, OutputFile?) {
        let r = try record.map { (p) throws(CLIError) in try OutputFile.check(p, what: recordName) }
        let p = try report.map { (p) throws(CLIError) in try OutputFile.check(p, what: "the report") }
        if r?.isStandardOutput == true && p?.isStandardOutput == true {
            throw .usage("-o - and --report - both ask for standard output: give one of them a file name")
        }
        if json && (r?.isStandardOutput == true || p?.isStandardOutput == true) {
            throw .usage("--json prints the summary on standard output, and \(r?.isStandardOutput == true ? "-o -" : "--report -") asks for it too: give that one a file name")
        }
        if let r, let p, !r.isStandardOutput, r.path == p.path {
            throw .usage("-o and --report name the same file, \(r.path): give them different names")
        }
        if json || r?.isStandardOutput == true || p?.isStandardOutput == true { Terminal.reserveStdoutForData() }
        return (r, p)
    }
}
