import Foundation
import PortstormRecord
import PortstormSystem
import Yams

/// A scenario file (YAML): a lab by name, or a run (with an optional built-in server), or a ramp.
/// Its keys map one to one onto the command line's flags, so a file is checked exactly as the
/// same flags typed by hand would be. The format is documented in docs/scenarios.md.
struct Scenario {
    enum Kind {
        case lab(String)
        /// `portstorm run` arguments, and a built-in server to start first.
        case run(arguments: [String], serve: (mode: String, listen: String)?)
        /// `portstorm plan` arguments.
        case ramp(arguments: [String], serve: (mode: String, listen: String)?)
    }

    let name: String
    let description: String
    let kind: Kind

    static let topKeys: Set<String> = ["name", "description", "lab", "target", "serve", "run", "ramp"]
    /// Scenario key -> flag of `run` / `plan`.
    static let runFlags: [String: String] = [
        "rate": "--rate", "concurrency": "-c", "duration": "-d", "connections": "-n", "connect-timeout": "--connect-timeout",
        "response-timeout": "--response-timeout", "close": "--close", "protocol": "--protocol", "send": "--send",
        "expect": "--expect", "expect-status": "--expect-status", "path": "--path", "host": "--host", "source": "--source",
        "local-ports": "--local-ports", "threads": "--threads", "hold": "--hold",
    ].merging(tlsFlags) { a, _ in a }
    /// The TLS keys, as `run`'s TLS flags.
    static let tlsFlags: [String: String] = [
        "sni": "--sni", "cacert": "--cacert", "insecure": "--insecure", "tls-min": "--tls-min", "tls-max": "--tls-max",
        "alpn": "--alpn", "tls-resume": "--tls-resume",
    ]
    /// Flags that take no value: their key is true (the flag is given) or false (it is not).
    static let bareFlags: Set<String> = ["--insecure", "--tls-resume"]
    static let rampFlags: [String: String] = [
        "from": "--from", "to": "--to", "factor": "--factor", "step": "--step", "step-duration": "--step-duration",
        "max-failures": "--max-failures", "latency-factor": "--latency-factor", "target-rate": "--target-rate",
        "concurrency": "-c", "close": "--close", "protocol": "--protocol", "path": "--path", "source": "--source",
        "local-ports": "--local-ports", "connect-timeout": "--connect-timeout",
    ].merging(tlsFlags) { a, _ in a }

    static func load(_ path: String) throws(InputError) -> Scenario {
        let data: Data
        do { data = try InputFile.read(path, what: "scenario") } catch { throw InputError(error.message) }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError("scenario \(path) is not UTF-8 text") }
        let tree: Node?
        let constructor = Scenario.constructor()
        do { tree = try Yams.compose(yaml: text, .default, constructor) } catch {
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw InputError("scenario \(path) is not valid YAML: \(first)")
        }
        // Yams makes mapping keys Strings with a force unwrap: a list, mapping or alias as a key traps.
        if let tree, let bad = complexKey(in: tree) {
            throw InputError("scenario \(path): a key must be a plain word, not a \(bad)")
        }
        let node: Any? = tree.map { constructor.any(from: $0) }
        guard let top = node as? [String: Any] else { throw InputError("scenario \(path) must be a mapping of keys (name, run, ...)") }
        if let bad = top.keys.first(where: { !topKeys.contains($0) }) {
            throw InputError("scenario \(path): unknown key '\(bad)' (known: \(topKeys.sorted().joined(separator: ", ")))")
        }
        let name = (top["name"] as? String) ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let description = (top["description"] as? String) ?? ""
        if let lab = top["lab"] as? String { return Scenario(name: name, description: description, kind: .lab(lab)) }

        var serve: (mode: String, listen: String)?
        if let s = top["serve"] as? [String: Any] {
            guard let mode = s["mode"] as? String else { throw InputError("scenario \(path): serve needs a mode") }
            serve = (mode, (s["listen"].map { "\($0)" }) ?? "127.0.0.1:0")
        }
        let target = top["target"].map { "\($0)" }
        guard target != nil || serve != nil else {
            throw InputError("scenario \(path) needs a target (HOST:PORT), a serve section, or a lab")
        }
        let (section, flags, isRamp): (Any?, [String: String], Bool) =
            top["ramp"] != nil ? (top["ramp"], rampFlags, true) : (top["run"], runFlags, false)
        var args: [String] = []
        if let section {
            guard let map = section as? [String: Any] else { throw InputError("scenario \(path): '\(isRamp ? "ramp" : "run")' must be a mapping") }
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                guard let flag = flags[key] else {
                    throw InputError("scenario \(path): unknown key '\(key)' under \(isRamp ? "ramp" : "run") (known: \(flags.keys.sorted().joined(separator: ", ")))")
                }
                args += try arguments(flag, key, value, path)
            }
        }
        // The target comes first; "{serve}" (or no target) means the built-in server's address.
        let kind: Kind = isRamp ? .ramp(arguments: [target ?? "{serve}"] + args, serve: serve)
                                : .run(arguments: [target ?? "{serve}"] + args, serve: serve)
        return Scenario(name: name, description: description, kind: kind)
    }

    /// The command-line words for one key: a bare flag for `true`, nothing for `false`; `alpn`'s
    /// list joined by commas; a relative `cacert` taken from the scenario file's folder; any other
    /// list as the flag repeated.
    static func arguments(_ flag: String, _ key: String, _ value: Any, _ path: String) throws(InputError) -> [String] {
        if bareFlags.contains(flag) {
            guard let on = value as? Bool else { throw InputError("scenario \(path): \(key) takes true or false, not '\(value)'") }
            return on ? [flag] : []
        }
        if key == "alpn", let list = value as? [Any] {
            guard list.allSatisfy({ $0 is String || $0 is Int || $0 is Double }) else {
                throw InputError("scenario \(path): alpn takes protocol names, as in [h2, http/1.1] or h2,http/1.1")
            }
            return [flag, list.map { "\($0)" }.joined(separator: ",")]
        }
        if key == "cacert", let file = value as? String, !file.isEmpty, !file.hasPrefix("/") {
            return [flag, URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(file).standardized.path]
        }
        return ((value as? [Any]) ?? [value]).flatMap { [flag, "\($0)"] }
    }

    /// Yams' constructor, except that a YAML 1.1 base-60 integer ("1:30") stays text, for the flag's
    /// own check to judge: Yams computes it with trapping arithmetic, and a long one crashed the
    /// parser (found by the scenario fuzz target).
    static func constructor() -> Constructor {
        var map = Constructor.defaultScalarMap
        let int = map[.int]
        map[.int] = { $0.string.contains(":") ? $0.string : int?($0) }
        return Constructor(map)
    }

    /// The first mapping key that is not a scalar ("list", "mapping", "alias"), anywhere in the tree.
    static func complexKey(in node: Node) -> String? {
        switch node {
        case .scalar, .alias: return nil
        case .sequence(let items): return items.lazy.compactMap { complexKey(in: $0) }.first
        case .mapping(let pairs):
            for (key, value) in pairs {
                switch key {
                case .scalar: break
                case .sequence: return "list"
                case .mapping: return "mapping"
                case .alias: return "alias"
                }
                if let bad = complexKey(in: value) { return bad }
            }
            return nil
        }
    }
}
