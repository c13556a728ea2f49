import ArgumentParser
import Foundation
import PortstormRecord
import PortstormSystem

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open connections to a target and count every outcome.",
        discussion: """
        Each attempt opens a new TCP connection (socket, options, connect with a deadline),
        optionally sends a payload and checks the answer, then closes. A run is always bounded:
        by --duration (10s when neither bound is given), by --connections, or by both.

        Examples:
          portstorm run 127.0.0.1:8080 -c 200 -d 30s
          portstorm run 127.0.0.1:8080 --rate 2k -d 1m -o run.json
          portstorm run localhost:80 --protocol http --path /health -n 50k
          portstorm run 127.0.0.1:9000 --close rst -c 1000 -d 20s
          portstorm run 127.0.0.1:9000 --local-ports 40000-40009 -c 20 -n 20
          portstorm run 127.0.0.1:9000 --source 127.0.0.2-127.0.0.9 --rate 5k -d 1m
        """
    )

    @Argument(help: "The target, HOST:PORT (IPv6 in brackets, as in [::1]:8080).")
    var target: String?

    @Option(help: ArgumentHelp("Run a scenario file (YAML, see docs/scenarios.md); flags given beside it override the file's.", valueName: "file"))
    var scenario: String?

    // Value options take the next word even when it starts with '-', so that `-c -5` is told
    // "not a positive number" instead of "missing value". Defaults live in `makeConfig`, so that
    // a flag given beside --scenario can be told from one left out.

    @Option(parsing: .unconditional, help: ArgumentHelp("New connections per second, open loop (500, 20k).", valueName: "n"))
    var rate: String?

    @Option(name: [.short, .customLong("concurrency")], parsing: .unconditional,
            help: ArgumentHelp("Cap on attempts in flight. (default: 100)", valueName: "n"))
    var concurrency: String?

    @Option(name: [.short, .customLong("duration")], parsing: .unconditional, help: ArgumentHelp("Time bound (500ms, 10s, 2m).", valueName: "time"))
    var duration: String?

    @Option(name: [.customShort("n"), .customLong("connections")], parsing: .unconditional,
            help: ArgumentHelp("Attempt count bound (20000, 20k).", valueName: "n"))
    var connections: String?

    @Option(name: .customLong("connect-timeout"), parsing: .unconditional,
            help: ArgumentHelp("The run's own connect deadline. (default: 2s)", valueName: "time"))
    var connectTimeout: String?

    @Option(name: .customLong("response-timeout"), parsing: .unconditional,
            help: ArgumentHelp("Deadline for each send, answer and server close. (default: 5s)", valueName: "time"))
    var responseTimeout: String?

    @Option(help: "Who closes first: client (TIME_WAIT here), rst (SO_LINGER 0), server (wait for its FIN). Default: client for tcp, server for http.")
    var close: CloseMode?

    @Option(name: .customLong("protocol"), help: "What to speak once connected. Default: tcp.")
    var wireProtocol: WireProtocol?

    @Option(parsing: .unconditional, help: ArgumentHelp("Text to send after connecting (tcp; \\r \\n \\t escapes).", valueName: "text"))
    var send: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Text the answer must contain in its first KiB (tcp).", valueName: "text"))
    var expect: String?

    @Option(name: .customLong("expect-status"),
            help: ArgumentHelp("HTTP statuses that count as ok, e.g. 200,204,300-399 (http; default 200-399); others end as http_status.", valueName: "list"))
    var expectStatus: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Request path (http, ws). (default: /)", valueName: "path"))
    var path: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Host header (http, ws); default: the target as given.", valueName: "name"))
    var host: String?

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Source addresses: IP,IP,... or A.B.C.D-A.B.C.E (repeatable).", valueName: "ips"))
    var source: [String] = []

    @Option(name: .customLong("local-ports"), parsing: .unconditional,
            help: ArgumentHelp("Ephemeral ports for every socket (IP_LOCAL_PORT_RANGE, Linux 6.3+).", valueName: "lo-hi"))
    var localPorts: String?

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

    @Option(name: [.short, .customLong("output")], parsing: .unconditional,
            help: ArgumentHelp("Write the run record (JSON) here; - for standard output (the summary then goes to stderr).", valueName: "file"))
    var output: String?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Also write a report (format from the extension: .html, .md, .csv, .json, else text).", valueName: "file"))
    var report: String?

    @Flag(help: "Print only the summary (no live line).")
    var quiet = false

    @Flag(name: .customLong("no-observe"), help: "Skip watching the kernel (TIME_WAIT, counters, port census) during the run.")
    var noObserve = false

    @OptionGroup(title: "Scale out")
    var sharding: ShardOptions

    func run() throws {
        if let scenario {
            if sharding.given { throw CLIError.usage("--shard, --start-at and --name go with a target, not with --scenario") }
            try ScenarioRunner(output: output, report: report, quiet: quiet, target: target, overrides: overrides).run(scenario)
            return
        }
        guard target != nil else { throw CLIError.usage("give a target (HOST:PORT) or --scenario FILE") }
        let config = try makeConfig()
        if let at = config.startAt, at > Date().timeIntervalSince1970, !quiet {
            Terminal.err(String(format: "waiting %.1f s for --start-at\n", at - Date().timeIntervalSince1970))
        }
        var execution = RunExecution(output: output, report: report, quiet: quiet, observe: !noObserve)
        execution.hostName = sharding.hostName()
        let status = try execution.execute(config)
        if status != 0 { throw ExitCode(status) }
    }

    /// The load flags given on the command line, as the scenario runner hands them on (in the
    /// spelling of `Scenario.runFlags`); flags without a value carry none.
    var overrides: [(flag: String, values: [String])] {
        let valued: [(String, String?)] = [
            ("--rate", rate), ("-c", concurrency), ("-d", duration), ("-n", connections), ("--connect-timeout", connectTimeout),
            ("--response-timeout", responseTimeout), ("--close", close?.rawValue), ("--protocol", wireProtocol?.rawValue),
            ("--send", send), ("--expect", expect), ("--expect-status", expectStatus), ("--path", path), ("--host", host), ("--local-ports", localPorts),
            ("--open-files", openFiles), ("--hold", hold), ("--threads", threads),
        ]
        var list = valued.compactMap { flag, value in value.map { (flag: flag, values: [$0]) } }
        if !source.isEmpty { list.append((flag: "--source", values: source)) }
        for (flag, on) in [("--bind-before-connect", bindBeforeConnect), ("--kernel-port-search", kernelPortSearch), ("--no-observe", noObserve)] where on {
            list.append((flag: flag, values: []))
        }
        return list
    }

    func makeConfig() throws(InputError) -> RunConfig {
        let d = try duration.map { (t) throws(InputError) in try InputParsing.duration(t, option: "--duration") }
        let n = try connections.map { (t) throws(InputError) in try InputParsing.count(t, option: "--connections") }
        let r = try rate.map { (t) throws(InputError) in try InputParsing.amount(t, option: "--rate") }
        let ct = try InputParsing.duration(connectTimeout ?? "2s", option: "--connect-timeout")
        let rt = try InputParsing.duration(responseTimeout ?? "5s", option: "--response-timeout")
        let wireProtocol = self.wireProtocol ?? .tcp
        var config = RunConfig(
            target: target ?? "", rate: r,
            concurrency: try InputParsing.count(concurrency ?? "100", option: "--concurrency", max: 4e6),
            durationSeconds: d ?? (n == nil ? 10 : nil), connections: n,
            connectTimeoutMs: max(1, Int((ct * 1000).rounded())), responseTimeoutMs: max(1, Int((rt * 1000).rounded())),
            close: close ?? (wireProtocol == .http ? .server : .client), wireProtocol: wireProtocol,
            send: send, expect: expect, path: path ?? "/", sources: source,
            localPorts: try localPorts.map { (t) throws(InputError) in try InputParsing.portRange(t) },
            threads: try InputParsing.count(threads ?? "1", option: "--threads", max: 1024))
        config.bindBeforeConnect = bindBeforeConnect
        config.hostHeader = host
        config.expectStatus = expectStatus
        config.kernelPortSearch = kernelPortSearch
        config.holdMs = try hold.map { (t) throws(InputError) in max(1, Int(try InputParsing.duration(t, option: "--hold") * 1000)) }
        config.openFiles = try openFiles.map { (t) throws(InputError) in try InputParsing.count(t, option: "--open-files", max: 1e8) }
        try sharding.apply(to: &config)
        return config
    }
}
