import ArgumentParser
import PortstormRecord
import PortstormSystem

// Options that several commands take, declared once so that their spelling, help and defaults
// cannot drift apart. Values stay strings until `makeConfig` (or the command) parses them, so a
// flag given beside --scenario can be told from one left out, and `-c -5` gets the real message.

/// The load's shape: `-c`, `--close`, `--protocol` (run, plan, doctor).
struct ShapeOptions: ParsableArguments {
    @Option(name: [.short, .customLong("concurrency")], parsing: .unconditional,
            help: ArgumentHelp("Cap on attempts in flight. (default: 100; 1000 with --rate and in plan, where the rate sets the load)", valueName: "n"))
    var concurrency: String?

    @Option(help: "Who closes first: client (TIME_WAIT here), rst (SO_LINGER 0), server (wait for its FIN). (default: server for http, else client)")
    var close: CloseMode?

    @Option(name: .customLong("protocol"), help: "What to speak once connected. (default: the target URL's scheme, else tcp)")
    var wireProtocol: WireProtocol?

    /// The default cap without a rate: the attempts kept in flight (closed loop).
    static let closedLoopConcurrency = "100"
    /// The default cap with a rate (open loop): high enough that the rate, not the cap, sets the load.
    static let openLoopConcurrency = "1000"

    /// `-c` as given, else the default for the loop: one rule for run, plan and doctor.
    func concurrency(openLoop: Bool) throws(InputError) -> Int {
        try InputParsing.count(concurrency ?? (openLoop ? Self.openLoopConcurrency : Self.closedLoopConcurrency),
                               option: "--concurrency", max: 4e6)
    }

    /// `--protocol` as given, else the URL's scheme, else tcp; a URL and a flag that disagree are refused.
    func wireProtocol(for target: ParsedTarget?) throws(InputError) -> WireProtocol {
        if let given = wireProtocol, let fromURL = target?.wireProtocol, given != fromURL {
            throw InputError("the target \(target!.typed) says \(fromURL.rawValue) but --protocol says \(given.rawValue): give one of them")
        }
        return wireProtocol ?? target?.wireProtocol ?? .tcp
    }

    /// `--close` as given, else server for http (the server closes after answering) and client otherwise.
    func close(for wireProtocol: WireProtocol) -> CloseMode {
        close ?? (wireProtocol == .http ? .server : .client)
    }
}

/// Where connections come from: `--source`, `--local-ports` (run, plan, doctor).
struct PortOptions: ParsableArguments {
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Source addresses: IP,IP,... or A.B.C.D-A.B.C.E (repeatable).", valueName: "ips"))
    var source: [String] = []

    @Option(name: .customLong("local-ports"), parsing: .unconditional,
            help: ArgumentHelp("Ephemeral ports for every socket (IP_LOCAL_PORT_RANGE, Linux 6.3+).", valueName: "lo-hi"))
    var localPorts: String?

    func portRange() throws(InputError) -> PortRange? {
        try localPorts.map { (t) throws(InputError) in try InputParsing.portRange(t) }
    }
}

/// Each request: `--path`, `--connect-timeout` (run, plan).
struct RequestOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Request path (http, ws). (default: the target URL's path, else /)", valueName: "path"))
    var path: String?

    @Option(name: .customLong("connect-timeout"), parsing: .unconditional,
            help: ArgumentHelp("The run's own connect deadline. (default: 2s)", valueName: "time"))
    var connectTimeout: String?

    /// `--path` as given, else the URL's path, else `/`; a URL path and a different --path are refused.
    func path(for target: ParsedTarget?) throws(InputError) -> String {
        if let given = path, let fromURL = target?.path, given != fromURL {
            throw InputError("the target \(target!.typed) has the path \(fromURL) but --path says \(given): give one of them")
        }
        return path ?? target?.path ?? "/"
    }

    /// The connect deadline in milliseconds (at least 1).
    func connectTimeoutMs() throws(InputError) -> Int {
        max(1, Int((try InputParsing.duration(connectTimeout ?? "2s", option: "--connect-timeout") * 1000).rounded()))
    }
}

/// Files written: `-o`, `--report` (run, plan).
struct OutputOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], parsing: .unconditional,
            help: ArgumentHelp("Write the record (JSON) here; - for standard output (human text then goes to stderr).", valueName: "file"))
    var output: String?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Also write a report, in the format its extension names (.html, .md, .csv, .json; else text).", valueName: "file"))
    var report: String?
}

/// A target as typed (`HOST:PORT` or a URL), with what its scheme and path say.
struct ParsedTarget {
    let typed: String
    /// `HOST:PORT`, as the engine takes it.
    let hostPort: HostPort
    /// The URL's scheme as a protocol; nil for a plain `HOST:PORT`.
    let wireProtocol: WireProtocol?
    let path: String?

    /// What the record and the engine get: the text as typed for `HOST:PORT`, `HOST:PORT` for a URL.
    var engineTarget: String { wireProtocol == nil ? typed : hostPort.description }

    init(_ text: String) throws(InputError) {
        let url = try TargetURL.parse(text).get()
        typed = text
        hostPort = url.hostPort
        wireProtocol = url.scheme.flatMap { WireProtocol(rawValue: $0.rawValue) }
        path = url.path
    }
}
