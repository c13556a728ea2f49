import Foundation
import PortstormRecord
import PortstormSystem
import PortstormTLS

/// A run ready to start: the configuration checked, the target resolved, the sources expanded.
public struct RunPlan: Sendable {
    public let config: RunConfig
    public let host: String
    public let port: UInt16
    /// Every address the host resolved to, in the resolver's order.
    public let resolved: [SocketAddress]
    /// The address connected to: the first resolved one of the sources' family.
    public let target: SocketAddress
    public let sources: [SocketAddress]
    let payload: [UInt8]?
    let check: AnswerCheck?
    /// The statuses that count as ok (--protocol http only).
    let statuses: HTTPStatusSet?
    /// The run's one TLS context (nil: plain TCP), shared by every worker.
    let tls: TLSContext?

    /// Checks the configuration, resolves the target once and expands `--source`.
    /// Every failure is one sentence meant for the user.
    public static func make(_ config: RunConfig) -> Result<RunPlan, InputError> {
        Result { () throws(InputError) -> RunPlan in try build(config) }
    }

    static let maxConcurrency = 4_000_000
    static let maxTimeoutMs = 3_600_000
    static let maxThreads = 1024
    /// The most memory the answer buffers of one run may take (1 GiB).
    static let maxAnswerBufferBytes = 1 << 30

    private static func build(_ config: RunConfig) throws(InputError) -> RunPlan {
        let hp = try HostPort.parse(config.target).get()
        guard (1...maxConcurrency).contains(config.concurrency) else {
            throw InputError("--concurrency must be between 1 and \(maxConcurrency), not \(config.concurrency)")
        }
        if let rate = config.rate, !(rate > 0 && rate <= 10_000_000) {
            throw InputError("--rate must be more than 0 and at most 10m connections per second, not \(rate)")
        }
        if let d = config.durationSeconds, !(d > 0 && d <= 7 * 86_400) {
            throw InputError("--duration must be more than 0 and at most 7 days")
        }
        if let n = config.connections, !(n > 0 && n <= 1_000_000_000_000) {
            throw InputError("--connections must be at least 1")
        }
        if config.durationSeconds == nil && config.connections == nil {
            throw InputError("a run must be bounded: give --duration, --connections, or both")
        }
        guard (1...maxTimeoutMs).contains(config.connectTimeoutMs) else {
            throw InputError("--connect-timeout must be between 1ms and 1h")
        }
        guard (1...maxTimeoutMs).contains(config.responseTimeoutMs) else {
            throw InputError("--response-timeout must be between 1ms and 1h")
        }
        guard (1...maxThreads).contains(config.threads) else {
            throw InputError("--threads must be between 1 and \(maxThreads), not \(config.threads)")
        }
        if let r = config.localPorts, !(r.low >= 1 && r.low <= r.high) {
            throw InputError("--local-ports \(r) is not a range LO-HI with 1 <= LO <= HI <= 65535")
        }
        if config.wireProtocol != .tcp && (config.send != nil || config.expect != nil) {
            throw InputError("--send and --expect go with --protocol tcp; --protocol \(config.wireProtocol.rawValue) sends its own request (use --path)")
        }
        if let h = config.hostHeader, h.isEmpty || h.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) {
            throw InputError("--host must be a host name (optionally :port), without spaces or line breaks")
        }
        if config.hostHeader != nil && config.wireProtocol == .tcp {
            throw InputError("--host goes with --protocol http or ws (it sets the Host header)")
        }
        if let h = config.holdMs, !(h >= 1 && h <= maxTimeoutMs) {
            throw InputError("--hold must be between 1ms and 1h")
        }
        if let n = config.openFiles, !(n >= 8 && n <= 100_000_000) {
            throw InputError("--open-files must be between 8 and 100000000, not \(n)")
        }
        if config.bindBeforeConnect && config.sources.isEmpty {
            throw InputError("--bind-before-connect needs --source (it changes how source addresses are bound)")
        }
        if !config.path.hasPrefix("/") || config.path.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) {
            throw InputError("--path must start with '/' and contain no spaces or line breaks")
        }
        if let e = config.expect, e.isEmpty || e.utf8.count > 4096 {
            throw InputError("--expect takes 1 to 4096 bytes of text")
        }
        if let s = config.send, s.isEmpty || s.utf8.count > 65_536 {
            throw InputError("--send takes 1 to 65536 bytes of text")
        }

        var sources: [SocketAddress] = []
        for spec in config.sources { sources += try SourceList.parse(spec) }
        let resolved = try Resolver.resolve(hp.host, port: hp.port).get()
        var target = resolved[0]
        if let family = sources.first?.family {
            guard sources.allSatisfy({ $0.family == family }) else {
                throw InputError("--source mixes IPv4 and IPv6 addresses; give addresses of one family")
            }
            guard let match = resolved.first(where: { $0.family == family }) else {
                throw InputError("--source addresses are \(family == .ipv4 ? "IPv4" : "IPv6") but \(hp.host) resolved only to \(resolved.map(\.ip).joined(separator: ", "))")
            }
            target = match
        }

        if config.expectStatus != nil && config.wireProtocol != .http {
            throw InputError("--expect-status goes with --protocol http")
        }
        let payload: [UInt8]?
        let check: AnswerCheck?
        var statuses: HTTPStatusSet?
        switch config.wireProtocol {
        case .http:
            // Connection: close only when the server is to close first; otherwise the client reads the
            // whole answer and closes first itself.
            payload = Payload.httpGet(path: config.path, host: hp.host, port: hp.port, hostHeader: config.hostHeader,
                                      connectionClose: config.close == .server)
            check = nil
            statuses = .standard
            if let text = config.expectStatus {
                let (set, bad) = HTTPStatusSet.parseOrBadItem(text)
                guard let set else {
                    throw InputError("--expect-status takes HTTP status codes (100-599) and ranges separated by commas, as in 200,204,300-399; '\(bad ?? text)' is not one")
                }
                statuses = set
            }
        case .ws:
            let key = WebSocketHandshake.makeKey()
            payload = WebSocketHandshake.request(path: config.path, host: hp.host, port: hp.port, key: key, hostHeader: config.hostHeader)
            check = .webSocket(accept: WebSocketHandshake.accept(for: key))
        case .tcp:
            payload = config.send.map(Payload.unescaped)
            check = config.expect.map { .contains(Payload.unescaped($0)) }
        }
        // Answer buffers are allocated up front, one per attempt in flight.
        let perSlot = statuses != nil ? WorkerBuffers.httpBytes : check?.headCapacity ?? 0
        if perSlot * config.concurrency > maxAnswerBufferBytes {
            let gib = Double(perSlot * config.concurrency) / Double(1 << 30)
            throw InputError("--protocol \(config.wireProtocol.rawValue) with --concurrency \(config.concurrency) needs \(String(format: "%.1f", gib)) GiB of answer buffers (\(perSlot) bytes per attempt in flight); at most \(maxAnswerBufferBytes / perSlot) attempts can be in flight with answers")
        }
        var tls: TLSContext?
        if let t = config.tls {
            do { tls = try TLSContext(config: t, host: hp.host) } catch { throw InputError(error.message) }
        }
        return RunPlan(config: config, host: hp.host, port: hp.port, resolved: resolved, target: target,
                       sources: sources, payload: payload, check: check, statuses: statuses, tls: tls)
    }
}

/// `--source` values: `IP`, `IP,IP,...`, or an IPv4 range `A.B.C.D-A.B.C.E`.
public enum SourceList {
    public static let maxAddresses = 1 << 20

    public static func parse(_ spec: String) throws(InputError) -> [SocketAddress] {
        var out: [SocketAddress] = []
        for item in spec.split(separator: ",", omittingEmptySubsequences: false).map({ String($0).trimmedSpaces }) {
            guard !item.isEmpty else { throw InputError("--source has an empty item in '\(spec)'") }
            if let dash = item.firstIndex(of: "-"), SocketAddress(ip: String(item[..<dash]), port: 0) != nil {
                let a = String(item[..<dash]), b = String(item[item.index(after: dash)...])
                guard let lo = SocketAddress(ip: a, port: 0)?.ipv4Value, let hi = SocketAddress(ip: b, port: 0)?.ipv4Value else {
                    throw InputError("--source range '\(item)' must be two IPv4 addresses, as in 127.0.0.2-127.0.0.9")
                }
                guard lo <= hi else { throw InputError("--source range '\(item)' is reversed: write the lower address first") }
                guard Int(hi - lo) < maxAddresses else {
                    throw InputError("--source range '\(item)' holds more than \(maxAddresses) addresses")
                }
                for v in lo...hi { out.append(SocketAddress(ipv4Value: v, port: 0)) }
            } else {
                guard let a = SocketAddress(ip: item, port: 0) else {
                    throw InputError("--source '\(item)' is not an IP address (names are not resolved for sources)")
                }
                out.append(a)
            }
        }
        return out
    }
}

extension String {
    var trimmedSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
