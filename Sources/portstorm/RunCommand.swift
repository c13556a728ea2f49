import ArgumentParser
import PortstormAnalysis
import Foundation
import PortstormRecord
import PortstormSystem

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open connections to a target and count every outcome.",
        discussion: """
        Each attempt opens a new TCP connection (socket, options, connect with a deadline), \
        optionally sends a payload and checks the answer, then closes. A run is always bounded: \
        by --duration (10s when neither bound is given), by --connections, or by both.

        Examples:
          portstorm run 127.0.0.1:8080 -c 200 -d 30s
          portstorm run 127.0.0.1:8080 --rate 2k -d 1m -o run.json
          portstorm run http://localhost/health -n 50k
          portstorm run 127.0.0.1:9000 --close rst -c 1000 -d 20s
          portstorm run 127.0.0.1:9000 --local-ports 40000-40009 \\
              -c 20 -n 20
          portstorm run 127.0.0.1:9000 --source 127.0.0.2-127.0.0.9 \\
              --rate 5k -d 1m
        """
    )

    @Argument(help: "The target: HOST:PORT (IPv6 in brackets, as in [::1]:8080), or a URL: tcp://HOST:PORT, http://HOST[:PORT]/PATH, ws://HOST[:PORT]/PATH, https://..., wss://... (the scheme sets --protocol, the path --path).")
    var target: String?

    @Option(help: ArgumentHelp("Run a scenario file (YAML, see docs/scenarios.md); flags given beside it override the file's.", valueName: "file"))
    var scenario: String?

    // Value options take the next word even when it starts with '-', so that `-c -5` is told
    // "not a positive number" instead of "missing value". Defaults live in `makeConfig`, so that
    // a flag given beside --scenario can be told from one left out.

    @Option(parsing: .unconditional, help: ArgumentHelp("New connections per second, open loop (500, 20k).", valueName: "n"))
    var rate: String?

    @OptionGroup var shape: ShapeOptions

    @Option(name: [.short, .customLong("duration")], parsing: .unconditional, help: ArgumentHelp("Time bound (500ms, 10s, 2m, 1m30s).", valueName: "time"))
    var duration: String?

    @Option(name: [.customShort("n"), .customLong("connections")], parsing: .unconditional,
            help: ArgumentHelp("Attempt count bound (20000, 20k).", valueName: "n"))
    var connections: String?

    @OptionGroup var request: RequestOptions

    @Option(name: .customLong("response-timeout"), parsing: .unconditional,
            help: ArgumentHelp("Deadline for each send, answer and server close. (default: 5s)", valueName: "time"))
    var responseTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Text to send after connecting (tcp; \\r \\n \\t escapes).", valueName: "text"))
    var send: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Text the answer must contain in its first KiB (tcp).", valueName: "text"))
    var expect: String?

    @Option(name: .customLong("expect-status"),
            help: ArgumentHelp("HTTP statuses that count as ok, e.g. 200,204,300-399 (http; default 200-399); others end as http_status.", valueName: "list"))
    var expectStatus: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Host header (http, ws); default: the target as given.", valueName: "name"))
    var host: String?

    @OptionGroup var ports: PortOptions

    @OptionGroup(title: "TLS (https, wss, tls)")
    var tlsOptions: TLSOptions

    @Flag(name: .customLong("bind-before-connect"), help: "Bind --source addresses without IP_BIND_ADDRESS_NO_PORT (reproduces EADDRINUSE).")
    var bindBeforeConnect = false

    @Option(name: .customLong("open-files"), parsing: .unconditional,
            help: ArgumentHelp("Set RLIMIT_NOFILE to this for the run, uncapped (reproduces EMFILE).", valueName: "n"))
    var openFiles: String?

    @Flag(name: .customLong("kernel-port-search"), help: "Leave local ports to the kernel's default search (no per-socket range hint).")
    var kernelPortSearch = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Keep each connection open this long before closing it.", valueName: "time"))
    var hold: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Worker threads, one io_uring each. (default: 1)", valueName: "n"))
    var threads: String?

    @OptionGroup var outputs: OutputOptions

    @Option(parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Pass/fail over the run's results, repeatable: failures<1%, eaddrnotavail==0, connect_p99<50ms, rate>=5000, http_status_5xx<0.1% (see docs/thresholds.md). Any failure exits 99.", valueName: "expr"))
    var threshold: [String] = []

    @Flag(help: "Print the summary as JSON on standard output (human text goes to stderr).")
    var json = false

    @Option(help: "Progress while running: auto (a live line on a terminal, else plain), plain (a line every 5 seconds on stderr, for CI logs), none.")
    var progress: RunExecution.ProgressMode = .auto

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Write one JSON line per second (attempts, ok, failures, in flight, TIME_WAIT, ports in use) here, - for standard output.", valueName: "file"))
    var stream: String?

    @Option(name: .customLong("metrics-listen"), parsing: .unconditional,
            help: ArgumentHelp("Serve Prometheus metrics (text format) on this address while the run lasts, as in 127.0.0.1:9464.", valueName: "addr:port"))
    var metricsListen: String?

    @Flag(name: .customLong("no-color"), help: "Print without colours (also when NO_COLOR is set).")
    var noColor = false

    @Flag(help: "Print only the summary (no live line; the same as --progress none).")
    var quiet = false

    @Flag(name: .customLong("no-observe"), help: "Skip watching the kernel (TIME_WAIT, counters, port census) during the run.")
    var noObserve = false

    @OptionGroup(title: "Scale out")
    var sharding: ShardOptions

    func run() throws {
        if json { Terminal.reserveStdoutForData() }
        if let scenario {
            if sharding.given { throw CLIError.usage("--shard, --start-at and --name go with a target, not with --scenario") }
            try ScenarioRunner(output: output, report: report, quiet: quiet, target: target, overrides: overrides).run(scenario)
            return
        }
        guard target != nil else { throw CLIError.usage("give a target (HOST:PORT or a URL) or --scenario FILE") }
        let config = try makeConfig()
        var execution = RunExecution(output: output, report: report, quiet: quiet, observe: !noObserve)
        execution.hostName = sharding.hostName()
        execution.thresholds = try thresholds()
        execution.json = json
        execution.progress = progress
        execution.noColor = noColor
        execution.stream = stream
        execution.metricsListen = metricsListen
        if let at = config.startAt, at > Date().timeIntervalSince1970, !quiet {
            Terminal.err(String(format: "waiting %.1f s for --start-at\n", at - Date().timeIntervalSince1970))
        }
        try execution.execute(config)
    }

    /// The load flags given on the command line, as the scenario runner hands them on (in the
    /// spelling of `Scenario.runFlags`); flags without a value carry none.
    var overrides: [(flag: String, values: [String])] {
        let valued: [(String, String?)] = [
            ("--rate", rate), ("-c", shape.concurrency), ("-d", duration), ("-n", connections), ("--connect-timeout", request.connectTimeout),
            ("--response-timeout", responseTimeout), ("--close", shape.close?.rawValue), ("--protocol", shape.wireProtocol?.rawValue),
            ("--send", send), ("--expect", expect), ("--expect-status", expectStatus), ("--path", request.path), ("--host", host),
            ("--local-ports", ports.localPorts), ("--open-files", openFiles), ("--hold", hold), ("--threads", threads),
            ("--progress", progress == .auto ? nil : progress.rawValue), ("--stream", stream), ("--metrics-listen", metricsListen),
            ("--sni", tlsOptions.sni), ("--cacert", tlsOptions.cacert), ("--tls-min", tlsOptions.tlsMin), ("--tls-max", tlsOptions.tlsMax),
            ("--alpn", tlsOptions.alpn),
        ]
        var list = valued.compactMap { flag, value in value.map { (flag: flag, values: [$0]) } }
        if !ports.source.isEmpty { list.append((flag: "--source", values: ports.source)) }
        if !threshold.isEmpty { list.append((flag: "--threshold", values: threshold)) }
        for (flag, on) in [("--bind-before-connect", bindBeforeConnect), ("--kernel-port-search", kernelPortSearch), ("--no-observe", noObserve),
                           ("--json", json), ("--no-color", noColor), ("--insecure", tlsOptions.insecure), ("--tls-resume", tlsOptions.tlsResume)] where on {
            list.append((flag: flag, values: []))
        }
        return list
    }

    /// The `--threshold` expressions, each checked before the run starts.
    func thresholds() throws(InputError) -> [Threshold] {
        try threshold.map { (text) throws(InputError) in
            switch Threshold.parse(text) {
            case .success(let t): return t
            case .failure(let e): throw InputError(e.message)
            }
        }
    }

    /// `-o` and `--report`, by the names the run has always used.
    var output: String? { outputs.output }
    var report: String? { outputs.report }

    func makeConfig() throws(InputError) -> RunConfig {
        let d = try duration.map { (t) throws(InputError) in try InputParsing.duration(t, option: "--duration") }
        let n = try connections.map { (t) throws(InputError) in try InputParsing.count(t, option: "--connections") }
        let r = try rate.map { (t) throws(InputError) in try InputParsing.amount(t, option: "--rate") }
        let rt = try InputParsing.duration(responseTimeout ?? "5s", option: "--response-timeout")
        // A URL target sets the protocol and the path; the engine takes HOST:PORT.
        let parsed = try target.map { (t) throws(InputError) in try ParsedTarget(t) }
        let wireProtocol = try shape.wireProtocol(for: parsed)
        var config = RunConfig(
            target: parsed?.engineTarget ?? "", rate: r,
            concurrency: try shape.concurrency(openLoop: r != nil),
            durationSeconds: d ?? (n == nil ? 10 : nil), connections: n,
            connectTimeoutMs: try request.connectTimeoutMs(), responseTimeoutMs: max(1, Int((rt * 1000).rounded())),
            close: shape.close(for: wireProtocol), wireProtocol: wireProtocol,
            send: send, expect: expect, path: try request.path(for: parsed), sources: ports.source,
            localPorts: try ports.portRange(),
            threads: try InputParsing.count(threads ?? "1", option: "--threads", max: 1024))
        config.bindBeforeConnect = bindBeforeConnect
        config.hostHeader = host
        config.expectStatus = expectStatus
        config.kernelPortSearch = kernelPortSearch
        config.holdMs = try hold.map { (t) throws(InputError) in max(1, Int(try InputParsing.duration(t, option: "--hold") * 1000)) }
        config.tls = try tlsOptions.config(usesTLS: try shape.usesTLS(for: parsed))
        config.openFiles = try openFiles.map { (t) throws(InputError) in try InputParsing.count(t, option: "--open-files", max: 1e8) }
        try sharding.apply(to: &config)
        return config
    }
}
