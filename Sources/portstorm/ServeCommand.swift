import ArgumentParser
import Glibc
import PortstormEngine
import PortstormLab
import PortstormSystem
import PortstormTLS

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
          portstorm serve --mode https --cert-out ca.pem
        """
    )

    @Option(parsing: .unconditional, help: "How to treat each connection.")
    var mode: ServerMode = .acceptClose

    @Option(parsing: .unconditional, help: ArgumentHelp("Address to listen on (port 0 picks one).", valueName: "addr:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(name: [.short, .customLong("duration")], parsing: .unconditional, help: ArgumentHelp("Stop by itself after this long.", valueName: "time"))
    var duration: String?

    @Flag(name: .customLong("reuse-port"),
          help: "Share the address with other servers started with --reuse-port (SO_REUSEPORT): each holds up to its own open-file limit.")
    var reusePort = false

    @Option(parsing: .unconditional, help: ArgumentHelp("TLS modes: the certificate (chain) in PEM. (default: a self-signed one made at start)", valueName: "file"))
    var cert: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("TLS modes: the private key of --cert, in PEM.", valueName: "file"))
    var key: String?

    @Option(name: .customLong("cert-out"), parsing: .unconditional,
            help: ArgumentHelp("TLS modes: write the self-signed certificate here, for the client's --cacert. (default: a file in /tmp, named when serving starts)", valueName: "file"))
    var certOut: String?

    func run() throws {
        let address: SocketAddress
        let seconds: Double?
        address = try InputParsing.listenAddress(listen)
        seconds = try duration.map { (t) throws(InputError) in try InputParsing.duration(t, option: "--duration") }
        if (cert != nil || key != nil || certOut != nil) && !mode.isTLS {
            throw InputError("--cert, --key and --cert-out go with --mode https, wss or tls")
        }
        if (cert == nil) != (key == nil) { throw InputError("--cert and --key go together: give both, or neither for a self-signed certificate") }
        if cert != nil && certOut != nil { throw InputError("--cert-out writes the self-signed certificate; with --cert the certificate is yours already") }
        var tls: TLSServerContext?
        if let cert, let key {
            do { tls = try TLSServerContext(certificateFile: cert, keyFile: key) } catch { throw InputError(error.message) }
        }
        let server: TargetServer
        do {
            server = try TargetServer.start(mode: mode, listen: address, reusePort: reusePort, tls: tls)
        } catch {
            throw CLIError.unavailable("cannot serve on \(address): \(error)")
        }
        var certNote = ""
        if let pem = server.tls?.selfSignedPEM {
            let path = certOut ?? "/tmp/portstorm-serve-\(server.address.port).pem"
            guard FileManagerLite.write(pem, to: path) else {
                server.stop()
                throw CLIError.unavailable("cannot write the certificate to \(path)")
            }
            certNote = "; self-signed certificate for localhost, 127.0.0.1, ::1 in \(path) (client: --cacert \(path))"
        }
        Terminal.out("serving \(mode.rawValue) on \(server.address) (\(mode.summary))\(certNote); Ctrl-C to stop\n")
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

/// Writes a small text file (the certificate for --cacert).
enum FileManagerLite {
    static func write(_ text: String, to path: String) -> Bool {
        guard let f = fopen(path, "w") else { return false }
        defer { fclose(f) }
        return fputs(text, f) >= 0
    }
}
