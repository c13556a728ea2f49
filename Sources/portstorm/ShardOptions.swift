import ArgumentParser
import Foundation
import Glibc
import PortstormRecord
import PortstormSystem

/// The options of a run that is one generator among several (`run --shard I/N --start-at T --name`).
struct ShardOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run shard I of N (from 0): its share of --rate, --concurrency and --connections.", valueName: "i/n"))
    var shard: String?

    @Option(name: .customLong("start-at"),
            help: ArgumentHelp("Start at this wall-clock time (RFC 3339, or Unix seconds), so that all shards begin together.", valueName: "time"))
    var startAt: String?

    @Option(help: ArgumentHelp("Name of this host in the record (default: PORTSTORM_HOST_NAME, else the host name).", valueName: "name"))
    var name: String?

    var given: Bool { shard != nil || startAt != nil || name != nil }

    /// Splits the load of `config` to this shard's share and sets the start time.
    func apply(to config: inout RunConfig, now: Date = Date()) throws(InputError) {
        if let text = shard {
            guard let s = Shard(parsing: text) else {
                throw InputError("--shard wants I/N with 0 <= I < N (e.g. 0/4), not '\(text)'")
            }
            guard config.concurrency >= s.count else {
                throw InputError("--concurrency \(config.concurrency) cannot be split over \(s.count) shards: give each at least 1")
            }
            if let n = config.connections, n < s.count {
                throw InputError("--connections \(n) cannot be split over \(s.count) shards: give each at least 1")
            }
            config.concurrency = s.share(config.concurrency)
            config.connections = config.connections.map { s.share($0) }
            if let rate = config.rate {
                let part = s.share(rate: rate)
                guard part > 0 else { throw InputError("--rate \(rate) is too small to split over \(s.count) shards") }
                config.rate = part
            }
            config.threads = min(config.threads, config.concurrency)
            config.shard = s
        }
        if let text = startAt {
            guard let at = Self.time(text) else {
                throw InputError("--start-at wants an RFC 3339 time (2026-12-02T05:00:00Z) or Unix seconds, not '\(text)'")
            }
            guard at.timeIntervalSince(now) < 86_400 else {
                throw InputError("--start-at \(text) is more than a day away")
            }
            config.startAt = at.timeIntervalSince1970
        }
    }

    /// RFC 3339 (with or without fractions of a second) or Unix seconds.
    static func time(_ text: String) -> Date? {
        if let s = Double(text), s > 0 { return Date(timeIntervalSince1970: s) }
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    /// --name, else PORTSTORM_HOST_NAME, else gethostname(2) (a pod's name on Kubernetes).
    func hostName() -> String {
        if let name, !name.isEmpty { return name }
        if let env = ProcessInfo.processInfo.environment["PORTSTORM_HOST_NAME"], !env.isEmpty { return env }
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
        let name = String(cString: buf)
        return name.isEmpty ? "unknown" : name
    }
}
