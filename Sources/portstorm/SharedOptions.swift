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

    @Option(name: .customLong("protocol"), help: "What to speak once connected; https, wss and tls run it over TLS. (default: the target URL's scheme, else tcp)")
    var wireProtocol: SpokenProtocol?

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
        try spoken(for: target).wire
    }

    /// Whether the run speaks TLS: `--protocol https|wss|tls`, or an https:// or wss:// target.
    func usesTLS(for target: ParsedTarget?) throws(InputError) -> Bool {
        try spoken(for: target).isTLS
    }

    private func spoken(for target: ParsedTarget?) throws(InputError) -> SpokenProtocol {
        if let given = wireProtocol, let fromURL = target?.spoken, given != fromURL {
            throw InputError("the target \(target!.typed) says \(fromURL.rawValue) but --protocol says \(given.rawValue): give one of them")
        }
        return wireProtocol ?? target?.spoken ?? .tcp
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
    /// The URL's scheme as a protocol (without TLS); nil for a plain `HOST:PORT`.
    let wireProtocol: WireProtocol?
    /// The URL's scheme as `--protocol` spells it (https, wss included); nil for `HOST:PORT`.
    let spoken: SpokenProtocol?
    let path: String?

    /// What the record and the engine get: the text as typed for `HOST:PORT`, `HOST:PORT` for a URL.
    var engineTarget: String { wireProtocol == nil ? typed : hostPort.description }

    init(_ text: String) throws(InputError) {
        let url = try TargetURL.parse(text).get()
        typed = text
        hostPort = url.hostPort
        wireProtocol = url.scheme.flatMap { WireProtocol(rawValue: $0.plain.rawValue) }
        spoken = url.scheme.flatMap { SpokenProtocol(rawValue: $0.rawValue) }
        path = url.path
    }
}

/// `--protocol` as typed: what goes inside the connection, and whether TLS carries it.
enum SpokenProtocol: String, CaseIterable, ExpressibleByArgument {
    case tcp, http, ws, tls, https, wss

    /// What is spoken inside (tls: raw tcp, https: http, wss: ws).
    var wire: WireProtocol {
        switch self {
        case .tcp, .tls: return .tcp
        case .http, .https: return .http
        case .ws, .wss: return .ws
        }
    }

    var isTLS: Bool { self == .tls || self == .https || self == .wss }

    /// The name for a run's WireProtocol and TLS setting.
    init(_ wire: WireProtocol, tls: Bool) {
        switch wire {
        case .tcp: self = tls ? .tls : .tcp
        case .http: self = tls ? .https : .http
        case .ws: self = tls ? .wss : .ws
        }
    }
}

/// TLS settings (run, plan): `--sni`, `--cacert`, `--insecure`, `--tls-min`, `--tls-max`, `--alpn`, `--tls-resume`.
struct TLSOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Server name sent in the TLS handshake and checked in the certificate. (default: the target's host name)", valueName: "name"))
    var sni: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Trust the CA certificates in this PEM file instead of the system's store.", valueName: "file"))
    var cacert: String?

    @Flag(help: "Accept any certificate (no verification).")
    var insecure = false

    @Option(name: .customLong("tls-min"), help: ArgumentHelp("Lowest TLS version offered: 1.2 or 1.3.", valueName: "version"))
    var tlsMin: String?

    @Option(name: .customLong("tls-max"), help: ArgumentHelp("Highest TLS version offered: 1.2 or 1.3.", valueName: "version"))
    var tlsMax: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("ALPN protocols offered, in order (h2,http/1.1).", valueName: "list"))
    var alpn: String?

    @Flag(name: .customLong("tls-resume"), help: "Reuse one TLS session (ticket) across attempts, to measure what resumption saves.")
    var tlsResume = false

    var given: Bool { sni != nil || cacert != nil || insecure || tlsMin != nil || tlsMax != nil || alpn != nil || tlsResume }

    /// The settings, checked; nil when the run does not speak TLS (then no TLS option may be given).
    func config(usesTLS: Bool) throws(InputError) -> TLSConfig? {
        guard usesTLS else {
            if given { throw InputError("--sni, --cacert, --insecure, --tls-min, --tls-max, --alpn and --tls-resume go with --protocol https, wss or tls (or an https:// or wss:// target)") }
            return nil
        }
        for (option, v) in [("--tls-min", tlsMin), ("--tls-max", tlsMax)] {
            if let v, !TLSConfig.versions.contains(v) { throw InputError("\(option) takes 1.2 or 1.3, not '\(v)'") }
        }
        if insecure && cacert != nil { throw InputError("--insecure verifies nothing, so --cacert would not be used: give one of them") }
        if let s = sni, s.isEmpty || s.contains(where: { $0 == " " || $0 == "/" || $0 == ":" }) {
            throw InputError("--sni takes a host name, as in example.com")
        }
        let list = alpn.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        if list.contains(where: \.isEmpty) { throw InputError("--alpn takes protocol names separated by commas, as in h2,http/1.1") }
        return TLSConfig(sni: sni, caFile: cacert, insecure: insecure, minVersion: tlsMin, maxVersion: tlsMax, alpn: list, resume: tlsResume)
    }
}
