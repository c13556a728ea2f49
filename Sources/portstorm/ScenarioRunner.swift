import ArgumentParser
import Foundation
import PortstormLab
import PortstormRecord
import PortstormSystem

/// Runs a scenario file through the same commands as typed flags would. Load flags given
/// beside `--scenario` override the file's values (and a target given beside it replaces the
/// file's); the settings in force are printed before the run. A flag the scenario's command
/// does not take is refused, never dropped.
struct ScenarioRunner {
    let output: String?
    let report: String?
    let quiet: Bool
    /// A target given on the command line.
    var target: String? = nil
    /// Load flags given on the command line (`Run.overrides`).
    var overrides: [(flag: String, values: [String])] = []

    func run(_ path: String) throws {
        let s = try Scenario.load(path)
        if !quiet { Terminal.out("scenario \(s.name)" + (s.description.isEmpty ? "" : ": \(s.description)") + "\n") }
        switch s.kind {
        case .lab(let name):
            let given = overrides.map(\.flag) + (target == nil ? [] : ["a target"]) + (output == nil ? [] : ["-o"]) + (report == nil ? [] : ["--report"])
            if !given.isEmpty {
                throw CLIError.usage("scenario \(path) runs the lab '\(name)', which takes none of \(given.joined(separator: ", ")): "
                                     + "a lab sets its own load and writes no record (portstorm lab \(name) --json prints its result)")
            }
            let lab = try parse(LabCmd.self, [name], path)
            try lab.run()
        case .run(let arguments, let serve):
            let merged = try merge(arguments, allowed: nil, path: path)
            try withServer(serve, path, trustNeeded: !merged.arguments.contains { $0 == "--cacert" || $0 == "--insecure" }) { target, trust in
                let args = substitute(merged.arguments, target) + trust
                let cmd = try parse(Run.self, args + passedOn(quiet: true), path)
                // The settings in force: the file's, the command line's, and the defaults.
                if !quiet { Terminal.out(settingsLine("run", Self.flags(of: try cmd.makeConfig()), merged.overridden)) }
                try cmd.run()
            }
        case .ramp(let arguments, let serve):
            let merged = try merge(arguments, allowed: Set(Scenario.rampFlags.values), path: path)
            try withServer(serve, path, trustNeeded: !merged.arguments.contains { $0 == "--cacert" || $0 == "--insecure" }) { target, trust in
                let args = substitute(merged.arguments, target) + trust
                if !quiet { Terminal.out(settingsLine("plan", args, merged.overridden)) }
                let cmd = try parse(Plan.self, args + passedOn(quiet: false), path)
                try cmd.run()
            }
        }
    }

    /// The file's arguments (target first, then flag-value pairs) with every flag given on the
    /// command line replacing the file's; `allowed` limits the flags (a ramp runs `plan`).
    func merge(_ fileArguments: [String], allowed: Set<String>?, path: String) throws(CLIError) -> (arguments: [String], overridden: [String]) {
        if let allowed {
            let refused = overrides.map(\.flag).filter { !allowed.contains($0) }
            if !refused.isEmpty {
                throw .usage("scenario \(path) is a ramp (portstorm plan), which does not take \(refused.joined(separator: ", ")); "
                             + "beside --scenario it takes \(allowed.intersection(Scenario.runFlags.values).sorted().joined(separator: ", "))")
            }
        }
        // A flag given replaces the file's, and the file's flag that cannot go with it (--cacert, --insecure).
        var given = Set(overrides.map(\.flag))
        for (a, b) in Self.exclusive where given.contains(a) { given.insert(b) }
        var args = [target ?? fileArguments.first ?? "{serve}"]
        var i = 1
        while i < fileArguments.count {
            let flag = fileArguments[i]
            let width = Scenario.bareFlags.contains(flag) ? 1 : 2
            if !given.contains(flag) { args += fileArguments[i..<min(i + width, fileArguments.count)] }
            i += width
        }
        for o in overrides {
            if o.values.isEmpty { args.append(o.flag) }
            for v in o.values { args += [o.flag, v] }
        }
        return (args, (target == nil ? [] : ["target"]) + overrides.map(\.flag))
    }

    /// Pairs of flags that cannot go together: one given on the command line drops the other from the file.
    static let exclusive = [("--cacert", "--insecure"), ("--insecure", "--cacert")]

    /// A run's configuration as the flags that give it, defaults included:
    /// `127.0.0.1:9000 -c 100 -d 10s --connect-timeout 2s ... --close client --protocol tcp`.
    static func flags(of c: RunConfig) -> [String] {
        func time(ms: Int) -> String { ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms" }
        var a = [c.target]
        if let r = c.rate { a += ["--rate", r == r.rounded() ? String(Int(r)) : String(r)] }
        a += ["-c", String(c.concurrency)]
        if let d = c.durationSeconds { a += ["-d", time(ms: Int((d * 1000).rounded()))] }
        if let n = c.connections { a += ["-n", String(n)] }
        a += ["--connect-timeout", time(ms: c.connectTimeoutMs), "--response-timeout", time(ms: c.responseTimeoutMs),
              "--close", c.close.rawValue, "--protocol", SpokenProtocol(c.wireProtocol, tls: c.tls != nil).rawValue]
        if c.wireProtocol != .tcp { a += ["--path", c.path] }
        if let h = c.hostHeader { a += ["--host", h] }
        if let s = c.send { a += ["--send", s] }
        if let e = c.expect { a += ["--expect", e] }
        if let e = c.expectStatus { a += ["--expect-status", e] }
        for s in c.sources { a += ["--source", s] }
        if let p = c.localPorts { a += ["--local-ports", p.description] }
        if c.threads != 1 { a += ["--threads", String(c.threads)] }
        if let h = c.holdMs { a += ["--hold", time(ms: h)] }
        if let o = c.openFiles { a += ["--open-files", String(o)] }
        if c.bindBeforeConnect { a.append("--bind-before-connect") }
        if c.kernelPortSearch { a.append("--kernel-port-search") }
        if let t = c.tls { a += tlsFlags(of: t) }
        return a
    }

    /// TLS settings as the flags that give them: `--cacert ca.pem --tls-min 1.3` (nothing for a default).
    static func tlsFlags(of t: TLSConfig) -> [String] {
        var a: [String] = []
        if let s = t.sni { a += ["--sni", s] }
        if let f = t.caFile { a += ["--cacert", f] }
        if t.insecure { a.append("--insecure") }
        if let v = t.minVersion { a += ["--tls-min", v] }
        if let v = t.maxVersion { a += ["--tls-max", v] }
        if !t.alpn.isEmpty { a += ["--alpn", t.alpn.joined(separator: ",")] }
        if t.resume { a.append("--tls-resume") }
        return a
    }

    /// "settings: run 127.0.0.1:9000 -c 5 -n 300 (from the command line: -c)".
    func settingsLine(_ command: String, _ args: [String], _ overridden: [String]) -> String {
        let shown = args.map { $0.isEmpty || $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        return "settings: \(command) \(shown)" + (overridden.isEmpty ? "" : " (from the command line: \(overridden.joined(separator: ", ")))") + "\n"
    }

    /// The flags given beside --scenario, handed on to the command it runs (plan has no --quiet).
    func passedOn(quiet takesQuiet: Bool) -> [String] {
        var extra: [String] = []
        if let output { extra += ["-o", output] }
        if let report { extra += ["--report", report] }
        if takesQuiet && quiet { extra.append("--quiet") }
        return extra
    }

    /// Parses as the command line would, with the same one-line errors.
    func parse<C: ParsableCommand>(_ type: C.Type, _ args: [String], _ path: String) throws(CLIError) -> C {
        do {
            return try C.parse(args)
        } catch {
            throw .usage("scenario \(path): " + (C.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"))
        }
    }

    func substitute(_ args: [String], _ target: String?) -> [String] {
        args.map { $0 == "{serve}" ? (target ?? $0) : $0 }
    }

    /// Starts the scenario's built-in server (in this process) for the length of `body`, which gets
    /// its address. A TLS server's self-signed certificate is written to a temporary file and handed
    /// to `body` as `--cacert FILE` when `trustNeeded` (the scenario gives neither --cacert nor --insecure).
    func withServer(_ serve: (mode: String, listen: String)?, _ path: String, trustNeeded: Bool,
                    _ body: (String?, [String]) throws -> Void) throws {
        guard let serve else { return try body(nil, []) }
        guard let mode = ServerMode(rawValue: serve.mode) else {
            throw CLIError.usage("scenario \(path): unknown serve mode '\(serve.mode)' (\(ServerMode.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let address = try InputParsing.listenAddress(serve.listen)
        let server: TargetServer
        do { server = try TargetServer.start(mode: mode, listen: address) } catch {
            throw CLIError.unavailable("scenario \(path): cannot serve on \(address): \(error)")
        }
        defer { server.stop() }
        var trust: [String] = []
        if trustNeeded, let pem = server.tls?.selfSignedPEM {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-serve-\(getpid())-\(server.address.port).pem")
            do { try pem.write(to: file, atomically: true, encoding: .utf8) } catch {
                throw CLIError.unavailable("scenario \(path): cannot write the built-in server's certificate to \(file.path): \(error.localizedDescription)")
            }
            trust = ["--cacert", file.path]
        }
        defer { if let file = trust.last { try? FileManager.default.removeItem(atPath: file) } }
        if !quiet {
            Terminal.out("built-in \(mode.rawValue) server on \(server.address)"
                         + (trust.isEmpty ? "" : " (self-signed; its certificate goes to --cacert)") + "\n")
        }
        try body(server.address.description, trust)
    }
}
