import ArgumentParser
import Foundation
import PortstormAnalysis
import PortstormEngine
import PortstormProbes
import PortstormRecord
import PortstormRender
import PortstormSystem

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check this machine's limits for connection churn before a big test.",
        discussion: """
        Reads the settings of the current network namespace (port range, TIME_WAIT reuse, open-file \
        and conntrack limits, io_uring) and says what will limit a run, with what to change. \
        Describe the planned load to get verdicts for it: -c, --close, --protocol, --source and \
        --local-ports mean what they mean for run, with the same defaults.

        Examples:
          portstorm doctor
          portstorm doctor --rate 2k --target 10.0.0.5:80
          portstorm doctor -c 50000 --source 127.0.0.2-127.0.0.9 --json
        """
    )

    @Option(parsing: .unconditional, help: ArgumentHelp("Planned new connections per second.", valueName: "n"))
    var rate: String?

    @OptionGroup var shape: ShapeOptions

    @OptionGroup var ports: PortOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("The target (HOST:PORT or a URL), to tell whether loopback-only settings apply.", valueName: "host:port"))
    var target: String?

    @Flag(help: "Print the snapshot and findings as JSON.")
    var json = false

    func run() throws {
        var load = PlannedLoad()
        var address: SocketAddress?
        do {
            load.rate = try rate.map { (t) throws(InputError) in try InputParsing.amount(t, option: "--rate") }
            load.concurrency = try shape.concurrency(openLoop: load.rate != nil)
            var sources = 0
            for spec in ports.source { sources += try SourceList.parse(spec).count }
            load.sources = max(1, sources)
            load.localPorts = try ports.portRange()
            let parsed = try target.map { (t) throws(InputError) in try ParsedTarget(t) }
            load.close = shape.close(for: try shape.wireProtocol(for: parsed))
            if let hp = parsed?.hostPort {
                address = try Resolver.resolve(hp.host, port: hp.port).get().first
                load.targetIsLoopback = address?.isLoopback
            }
        }
        let limit = ResourceLimits.raiseOpenFiles(to: UInt64(load.concurrency) + 64)
        let snapshot = SystemProbe.snapshot()
        // Which limit stops -c connections at once, as run would say it (one thread asked; the
        // ring path adds rings itself).
        let server = address.flatMap { $0.isLoopback ? HostResources.localServers(target: $0) : nil }
        let capacity = HoldCapacity(.init(
            wanted: load.concurrency, openFiles: limit.soft,
            socketsInRing: Ring.probe() == nil && Ring.directSocketsUnsupported(bind: load.sources > 1 || !ports.source.isEmpty) == nil,
            maxRings: Engine.maxRings, memAvailableBytes: HostResources.memAvailableBytes(),
            bytesPerConnection: HoldCapacity.estimatedBytes(serverOnThisMachine: address?.isLoopback ?? false),
            portsPerSource: PortBudget.effectiveRange(snapshot, perSocket: load.localPorts).size, sources: load.sources,
            destination: address?.description ?? "one destination",
            server: server.map { LocalServerRoom(processes: $0.processes, room: $0.room) },
            portsHeldAtOnce: load.rate == nil))
        let findings = Preflight.check(snapshot, load: load, ioUringProblem: Ring.probe()?.description, capacity: capacity)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try e.encode(DoctorReport(system: snapshot, findings: findings))
            Terminal.out(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            Terminal.out(DoctorText.render(snapshot, findings))
        }
        if findings.contains(where: { $0.severity == .problem }) { throw CommandEnd.notAsExpected }
    }
}

struct DoctorReport: Codable {
    var system: SystemSnapshot
    var findings: [Finding]
}
