import ArgumentParser
import Glibc
import PortstormEngine
import PortstormLab
import PortstormSystem

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a built-in target on this machine, for churn tests and labs.",
        discussion: """
        Modes:
        \(HelpText.list(ServerMode.allCases.map { ($0.rawValue, $0.summary) }))

        Examples:
          portstorm serve --mode accept-close --listen 127.0.0.1:9000
          portstorm serve --mode http --listen [::1]:8080 --duration 1m
          portstorm serve --mode blackhole --listen 127.0.0.1:9001
        """
    )

    @Option(parsing: .unconditional, help: "How to treat each connection.")
    var mode: ServerMode = .acceptClose

    @Option(parsing: .unconditional, help: ArgumentHelp("Address to listen on (port 0 picks one).", valueName: "addr:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(name: [.short, .customLong("duration")], parsing: .unconditional, help: ArgumentHelp("Stop by itself after this long.", valueName: "time"))
    var duration: String?

    func run() throws {
        let address: SocketAddress
        let seconds: Double?
        address = try InputParsing.listenAddress(listen)
        seconds = try duration.map { (t) throws(InputError) in try InputParsing.duration(t, option: "--duration") }
        let server: TargetServer
        do {
            server = try TargetServer.start(mode: mode, listen: address)
        } catch {
            throw CLIError.unavailable("cannot serve on \(address): \(error)")
        }
        Terminal.out("serving \(mode.rawValue) on \(server.address) (\(mode.summary)); Ctrl-C to stop\n")
        let control = RunControl()
        let signals = SignalWatch(control: control) { _ in }
        let end = seconds.map { monotonicNanos() + UInt64($0 * 1e9) }
        while control.level == 0 && (end.map { monotonicNanos() < $0 } ?? true) {
            usleep(50_000)
        }
        signals.cancel()
        server.stop()
        Terminal.out("stopped: \(server.accepted) connections accepted\n")
    }
}
