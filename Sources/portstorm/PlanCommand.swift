import ArgumentParser
import Foundation
import PortstormAnalysis
import PortstormEngine
import PortstormProbes
import PortstormRecord
import PortstormRender
import PortstormSystem

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Raise the new-connection rate step by step until the knee, and write a capacity report.",
        discussion: """
        Runs one bounded step per rate, from --from up to the ceiling --to, and stops at the first \
        step past the knee: failures above --max-failures, connect p99 above --latency-factor times \
        the first step's and at least 10 ms above it, or the generator falling behind. Then it says the highest sustainable \
        rate for this source and destination, which limit came first (ports, TIME_WAIT, the \
        server's accept queue, the generator), and what --target-rate would need.

        Examples:
          portstorm plan 127.0.0.1:8080 --from 200 --to 5k
          portstorm plan 127.0.0.1:8080 --from 100 --to 2k --step 100 \\
              --step-duration 3s --report plan.md
          portstorm plan https://localhost:8443/ --cacert ca.pem \\
              --from 100 --to 1k --tls-resume
        """
    )

    @Argument(help: "The target: HOST:PORT or a URL (tcp://, http://, ws://, https://, wss://), as for run.")
    var target: String

    @Option(parsing: .unconditional, help: ArgumentHelp("First rate, new connections per second.", valueName: "n"))
    var from: String = "100"

    @Option(parsing: .unconditional, help: ArgumentHelp("Ceiling: the highest rate tried.", valueName: "n"))
    var to: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Add this much per step (default: multiply by --factor).", valueName: "n"))
    var step: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Multiply the rate by this per step.", valueName: "x"))
    var factor: Double = 1.5

    @Option(name: .customLong("step-duration"), parsing: .unconditional, help: ArgumentHelp("Length of each step.", valueName: "time"))
    var stepDuration: String = "5s"

    @Option(name: .customLong("max-failures"), parsing: .unconditional, help: ArgumentHelp("Failure share that marks the knee (1%, 0.5%).", valueName: "pct"))
    var maxFailures: String = "1%"

    @Option(name: .customLong("latency-factor"), parsing: .unconditional, help: ArgumentHelp("Connect p99 growth that marks the knee.", valueName: "x"))
    var latencyFactor: Double = 3

    @Option(name: .customLong("target-rate"), parsing: .unconditional, help: ArgumentHelp("The rate to plan for (default: the ceiling).", valueName: "n"))
    var targetRate: String?

    @OptionGroup var shape: ShapeOptions

    @OptionGroup var request: RequestOptions

    @OptionGroup var ports: PortOptions

    @OptionGroup(title: "TLS (https, wss, tls)")
    var tlsOptions: TLSOptions

    @OptionGroup var outputs: OutputOptions

    func run() throws {
        let rates: [Double], seconds: Double, rule: KneeRule, target: Double, base: RunConfig
        do {
            let lo = try InputParsing.amount(from, option: "--from"), hi = try InputParsing.amount(to, option: "--to")
            guard lo <= hi else { throw InputError("--from \(from) is above --to \(to)") }
            let add = try step.map { (t) throws(InputError) in try InputParsing.amount(t, option: "--step") }
            guard add != nil || factor > 1.01 else { throw InputError("--factor must be above 1 (or give --step)") }
            rates = PlanRamp.rates(from: lo, to: hi, step: add, factor: factor)
            guard rates.count <= PlanRamp.maxSteps else {
                throw InputError("that ramp has \(rates.count) steps; at most \(PlanRamp.maxSteps): raise --step or --factor")
            }
            seconds = try InputParsing.duration(stepDuration, option: "--step-duration")
            guard seconds <= 600 else { throw InputError("--step-duration is at most 10m") }
            let pct = maxFailures.hasSuffix("%") ? String(maxFailures.dropLast()) : maxFailures
            guard let share = Double(pct), share >= 0, share < 100 else {
                throw InputError("--max-failures '\(maxFailures)' is not a percentage like 1% or 0.5%")
            }
            guard latencyFactor > 1 else { throw InputError("--latency-factor must be above 1") }
            rule = KneeRule(maxFailureShare: share / 100, latencyFactor: latencyFactor)
            target = try targetRate.map { (t) throws(InputError) in try InputParsing.amount(t, option: "--target-rate") } ?? hi
            let parsed = try ParsedTarget(self.target)
            let wireProtocol = try shape.wireProtocol(for: parsed)
            var config = RunConfig(target: parsed.engineTarget, rate: lo,
                             concurrency: try shape.concurrency(openLoop: true),
                             durationSeconds: seconds, connectTimeoutMs: try request.connectTimeoutMs(), close: shape.close(for: wireProtocol),
                             wireProtocol: wireProtocol, path: try request.path(for: parsed), sources: ports.source,
                             localPorts: try ports.portRange())
            config.tls = try tlsOptions.config(usesTLS: try shape.usesTLS(for: parsed))
            base = config
            if let report = outputs.report, ![.markdown, .text].contains(ReportFormat.forPath(report)) {
                throw InputError("--report \(report): plan writes its report as Markdown (.md) or text (any other extension but .html, .csv, .json)")
            }
        }
        let firstPlan = try RunPlan.make(base).get()
        let (planFile, reportFile) = try RunExecution.checkOutputs(record: outputs.output, report: outputs.report, recordName: "the plan")
        Terminal.out("portstorm plan: \(self.target) -> \(firstPlan.target), \(rates.count) steps of \(Format.seconds(seconds)) "
                     + "(\(Format.rate(rates.first!))/s to \(Format.rate(rates.last!))/s), at most \(Format.seconds(Double(rates.count) * seconds)) plus drains\n")

        let control = RunControl()
        let signals = SignalWatch(control: control) { _ in Terminal.err("\nstopping the plan after this step\n") }
        defer { signals.cancel() }
        let ran = try PlanRamp(rates: rates, rule: rule).run(runStep: { rate in
            var config = base
            config.rate = rate
            guard case .success(let plan) = RunPlan.make(config) else { return nil }
            return try Engine.run(plan, control: control, observer: KernelObserver(target: plan.target, localPorts: config.localPorts))
        }, stopped: { control.level > 0 }, onStep: { i, step in
            Terminal.out("  " + PlanText.stepLine(i, step) + "\n")
        })
        guard let system = ran.system, !ran.steps.isEmpty else {
            if control.level > 0 { throw CommandEnd.interrupted }
            throw CLIError.unavailable("no step of the plan ran")
        }
        let result = CapacityPlan.make(steps: ran.steps, rule: rule, targetRate: target, system: system, config: base,
                                       sources: max(1, firstPlan.sources.count))
        Terminal.out("\n" + PlanText.conclusion(result))
        if let planFile {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            guard let data = try? e.encode(PlanRecord(target: self.target, used: firstPlan.target.description, system: system, plan: result, tls: base.tls)) else {
                throw CLIError.cannotWrite("cannot encode the plan as JSON")
            }
            try planFile.write(data)
            if !planFile.isStandardOutput { Terminal.out("  plan: \(planFile.path)\n") }
        }
        if let reportFile {
            try reportFile.write(PlanText.render(result, target: self.target, markdown: ReportFormat.forPath(reportFile.path) == .markdown))
            if !reportFile.isStandardOutput { Terminal.out("  report: \(reportFile.path)\n") }
        }
        if control.level > 0 { throw CommandEnd.interrupted }
    }
}
