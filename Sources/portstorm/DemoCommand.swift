import ArgumentParser
import PortstormLab
import PortstormRecord
import PortstormSystem

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Churn against a built-in HTTP target on loopback for a few seconds and report.",
        discussion: """
        Starts `serve --mode http` on 127.0.0.1 (a free port), runs HTTP churn against it \
        (GET with Connection: close, a new connection each time), prints the summary and what it \
        means, and writes the record and an HTML report (demo-report.html). Nothing leaves this machine.

        Example:
          portstorm demo --duration 3s -o demo-run.json
        """
    )

    @Option(name: [.short, .customLong("duration")], parsing: .unconditional, help: ArgumentHelp("How long to run.", valueName: "time"))
    var duration: String = "5s"

    @Option(name: [.short, .customLong("concurrency")], parsing: .unconditional, help: ArgumentHelp("Attempts in flight.", valueName: "n"))
    var concurrency: String = "50"

    @Option(name: [.short, .customLong("output")], parsing: .unconditional, help: ArgumentHelp("Write the run record (JSON) here.", valueName: "file"))
    var output: String = "demo-run.json"

    func run() throws {
        let seconds = try InputParsing.duration(duration, option: "--duration")
        let c = try InputParsing.count(concurrency, option: "--concurrency", max: 100_000)
        guard seconds <= 600 else { throw CLIError.usage("--duration for the demo is at most 10m") }
        // Checked before the server starts, as the run would check them.
        _ = try RunExecution.checkOutputs(record: output, report: "demo-report.html")
        let server: TargetServer
        do {
            server = try TargetServer.start(mode: .http, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        } catch {
            throw CLIError.unavailable("cannot start the built-in target: \(error)")
        }
        defer { server.stop() }
        Terminal.out("demo: built-in http target on \(server.address); \(Int(seconds))s of HTTP churn, concurrency \(c)\n\n")
        let config = RunConfig(target: server.address.description, concurrency: c, durationSeconds: seconds,
                               close: .server, wireProtocol: .http)
        try RunExecution(output: output, report: "demo-report.html", quiet: false, observe: true, explain: true).execute(config)
    }
}
