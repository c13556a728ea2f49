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
        Resolves the name (every address, both families), tries each address a few times with a
        short deadline, and, when the target is on this machine, compares with its listening
        sockets. It checks this client's port budget toward the target and, when connects work,
        probes HTTP and WebSocket to spot a protocol mismatch. Then it ranks the likely causes,
        with the evidence and the next thing to check. Sends at most a dozen connections.

        Examples:
          portstorm diagnose localhost:8080
          portstorm diagnose 127.0.0.2:5432 --json
        """
    )

    @Argument(help: "The target, HOST:PORT.")
    var target: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Connects tried per address (1-10).", valueName: "n"))
    var attempts: Int = 3

    @Option(parsing: .unconditional, help: ArgumentHelp("Deadline of each connect and answer.", valueName: "time"))
    var timeout: String = "1s"

    @Option(parsing: .unconditional, help: ArgumentHelp("Path for the HTTP and WebSocket probes.", valueName: "path"))
    var path: String = "/"

    @Flag(help: "Print the observations and findings as JSON.")
    var json = false

    func run() throws {
        let hp: HostPort
        let deadlineMs: Int
        hp = try HostPort.parse(target).get()
        guard (1...10).contains(attempts) else { throw InputError("--attempts must be between 1 and 10, got \(attempts)") }
        let t = try InputParsing.duration(timeout, option: "--timeout")
        guard t <= 10 else { throw InputError("--timeout is at most 10s") }
        deadlineMs = max(1, Int(t * 1000))
        if let unavailable = Ring.probe() { throw unavailable }

        var obs = DiagnoseObservations(host: hp.host, port: hp.port, resolveError: nil, resolved: [], probes: [], otherLocalPorts: Listeners.ports())
        switch Resolver.resolve(hp.host, port: hp.port) {
        case .failure(let e): obs.resolveError = e.message
        case .success(let addresses):
            obs.resolved = addresses.map(\.ip)
            for a in addresses { obs.probes.append(probe(a, deadlineMs: deadlineMs)) }
        }
        let findings = Diagnosis.rank(obs)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            Terminal.out(String(decoding: try e.encode(DiagnoseReport(observations: obs, findings: findings)), as: UTF8.self) + "\n")
        } else {
            Terminal.out("portstorm diagnose \(hp): " + (obs.resolved.isEmpty ? "not resolved" : "resolved to \(obs.resolved.joined(separator: ", "))") + "\n")
            for p in obs.probes {
                Terminal.out("  \(p.address)\(p.isLocal ? " (this machine)" : ""): "
                             + p.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                             + (p.http.map { "; http \($0)" } ?? "") + (p.ws.map { "; websocket \($0)" } ?? "") + "\n")
            }
            Terminal.out("\n" + FindingsText.render(findings).joined(separator: "\n") + "\n")
        }
    }

    /// A few connects to one address, then (when they work) one HTTP GET and one WebSocket handshake.
    func probe(_ a: SocketAddress, deadlineMs: Int) -> DiagnoseObservations.AddressProbe {
        let fd = Socket.tcp(domain: a.domain)
        // An address is this machine's when bind() to it succeeds.
        let isLocal = fd >= 0 && Socket.bind(fd, SocketAddress(ip: a.ip, port: 0)!) == 0
        if fd >= 0 { Socket.close(fd) }
        var p = DiagnoseObservations.AddressProbe(address: a.ip, isLocal: isLocal, outcomes: [:])
        if isLocal { p.listeners = Listeners.on(port: a.port).filter { l in l == a.ip || l == "0.0.0.0" || l == "::" || SocketAddress(ip: l, port: 0)?.family == a.family } }
        var config = RunConfig(target: a.description, concurrency: attempts, durationSeconds: 30, connections: attempts,
                               connectTimeoutMs: deadlineMs, responseTimeoutMs: deadlineMs)
        if let r = quietRun(config, observe: true) {
            p.outcomes = r.totals.outcomes.byName
            p.occupancy = r.timeline.compactMap { $0.kernel?.census?.busiest?.occupancy }.max()
            p.listenOverflows = r.timeline.compactMap { $0.kernel?.counters["ListenOverflows"] }.reduce(0, +)
        }
        guard (p.outcomes["ok"] ?? 0) > 0 else { return p }
        config.connections = 1
        config.concurrency = 1
        config.path = path
        config.wireProtocol = .http
        config.close = .server
        if let r = quietRun(config, observe: false) {
            p.http = r.totals.outcomes.nonZero.first?.outcome.name
            p.httpSample = r.totals.mismatchSamples.first
        }
        config.wireProtocol = .ws
        config.close = .client
        if let r = quietRun(config, observe: false) {
            p.ws = r.totals.outcomes.nonZero.first?.outcome.name
            p.wsSample = r.totals.mismatchSamples.first
        }
        return p
    }

    func quietRun(_ config: RunConfig, observe: Bool) -> RunRecord? {
        guard case .success(let plan) = RunPlan.make(config) else { return nil }
        let observer = observe ? KernelObserver(target: plan.target, localPorts: nil) : nil
        return try? Engine.run(plan, control: RunControl(), observer: observer)
    }
}

struct DiagnoseReport: Codable {
    var observations: DiagnoseObservations
    var findings: [Finding]
}
