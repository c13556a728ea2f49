import ArgumentParser
import Foundation
import PortstormAnalysis
import PortstormEngine
import PortstormProbes
import PortstormRecord
import PortstormRender
import PortstormSystem

struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find out why a client cannot connect to HOST:PORT, with a handful of connections.",
        discussion: """
        Resolves the name (every address, both families), tries each address a few times with a \
        short deadline, and, when the target is on this machine, compares with its listening \
        sockets. When connects fail it looks at this machine's route and neighbour (ARP/ND) entry \
        toward the target and at the local firewall rules for the port; when they work it sends \
        one HTTP GET (its status and any proxy or CDN headers are shown) and, with --protocol ws, \
        a WebSocket handshake. It also names proxy variables set in the environment. Then it ranks \
        the likely causes, with the evidence and the next thing to check. Sends at most a dozen \
        connections.

        Exit status: 0 the target accepts connections and nothing looks wrong; 1 the target \
        fails, or something is wrong (a problem or warning was found); 64 bad input; 69 io_uring \
        is unavailable.

        Examples:
          portstorm diagnose localhost:8080
          portstorm diagnose 127.0.0.2:5432 --json
          portstorm diagnose ws://chat.example/socket
        """
    )

    @Argument(help: "The target: HOST:PORT or a URL (tcp://, http://, ws://; the scheme sets --protocol, the path --path).")
    var target: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Connects tried per address (1-10).", valueName: "n"))
    var attempts: Int = 3

    @Option(parsing: .unconditional, help: ArgumentHelp("Deadline of each connect and answer.", valueName: "time"))
    var timeout: String = "1s"

    @Option(parsing: .unconditional, help: ArgumentHelp("Path for the HTTP and WebSocket probes. (default: the URL's path, else /)", valueName: "path"))
    var path: String?

    @Option(name: .customLong("protocol"),
            help: ArgumentHelp("The protocol your client speaks: tcp (no HTTP probe), http, ws (also a WebSocket handshake); https, wss, tls over TLS (a verified handshake instead of the plain GET). Without it, one HTTP GET is tried as a hint.",
                               valueName: "protocol"))
    var spokenProtocol: SpokenProtocol?

    @Option(help: ArgumentHelp("The source address your client connects from.", valueName: "address"))
    var source: String?

    @Flag(help: "Print the observations and findings as JSON.")
    var json = false

    func run() throws {
        let hp: HostPort
        let deadlineMs: Int
        let parsed = try ParsedTarget(target)
        hp = parsed.hostPort
        if let given = spokenProtocol, let fromURL = parsed.spoken, given != fromURL {
            throw InputError("the target \(target) says \(fromURL.rawValue) but --protocol says \(given.rawValue): give one of them")
        }
        if let given = path, let fromURL = parsed.path, given != fromURL {
            throw InputError("the target \(target) has the path \(fromURL) but --path says \(given): give one of them")
        }
        guard (1...10).contains(attempts) else { throw InputError("--attempts must be between 1 and 10, got \(attempts)") }
        let t = try InputParsing.duration(timeout, option: "--timeout")
        guard t <= 10 else { throw InputError("--timeout is at most 10s") }
        deadlineMs = max(1, Int(t * 1000))
        if let s = source, SocketAddress(ip: s, port: 0) == nil {
            throw InputError("--source '\(s)' is not an IP address")
        }
        if let unavailable = Ring.probe() { throw unavailable }

        let wireProtocol = spokenProtocol?.wire
        var probe = DiagnoseProbe(host: hp.host, port: hp.port, attempts: attempts, deadlineMs: deadlineMs, path: path ?? parsed.path ?? "/",
                                  protocolAsked: wireProtocol ?? parsed.wireProtocol, source: source, connects: Diagnose.quietRun)
        probe.tlsAsked = (spokenProtocol ?? parsed.spoken)?.isTLS == true
        let obs = probe.observe()
        let findings = Diagnosis.rank(obs)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            Terminal.out(String(decoding: try e.encode(DiagnoseReport(observations: obs, findings: findings)), as: UTF8.self) + "\n")
        } else {
            Terminal.out(DiagnoseText.render(obs, findings: findings, target: hp.description))
        }
        if Diagnosis.fails(findings) { throw CommandEnd.targetFails }
    }

    /// A handful of attempts through the engine, without output.
    static func quietRun(_ config: RunConfig, observe: Bool) -> RunRecord? {
        guard case .success(let plan) = RunPlan.make(config) else { return nil }
        let observer = observe ? KernelObserver(target: plan.target, localPorts: nil) : nil
        return try? Engine.run(plan, control: RunControl(), observer: observer)
    }
}

struct DiagnoseReport: Codable {
    var observations: DiagnoseObservations
    var findings: [Finding]
}
