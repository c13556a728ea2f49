import PortstormRecord
import PortstormSystem

/// What `portstorm diagnose` does before ranking: resolve, try each address a few times, and look
/// at everything on this machine that can explain a failure (listeners, routes, neighbours,
/// firewall rules, proxy variables, the HTTP answer's headers).
public struct DiagnoseProbe {
    public var host: String
    public var port: UInt16
    public var attempts: Int
    public var deadlineMs: Int
    public var path: String
    public var protocolAsked: WireProtocol?
    /// The protocol asked runs over TLS: the HTTP GET is replaced by one verified TLS attempt.
    public var tlsAsked = false
    public var source: String?
    /// Runs a handful of attempts through the engine (the caller owns it): the config, and whether
    /// to observe the kernel while they run.
    public var connects: (RunConfig, Bool) -> RunRecord?

    public init(host: String, port: UInt16, attempts: Int, deadlineMs: Int, path: String, protocolAsked: WireProtocol?,
                source: String?, connects: @escaping (RunConfig, Bool) -> RunRecord?) {
        self.host = host
        self.port = port
        self.attempts = attempts
        self.deadlineMs = deadlineMs
        self.path = path
        self.protocolAsked = protocolAsked
        self.source = source
        self.connects = connects
    }

    public func observe() -> DiagnoseObservations {
        var obs = DiagnoseObservations(host: host, port: port, resolveError: nil, resolved: [], probes: [], otherLocalPorts: Listeners.ports(),
                                       protocolAsked: protocolAsked, proxyVariables: ProxySettings.inEffect())
        if tlsAsked { obs.tlsAsked = true }
        if let s = source {
            let check = SocketAddress(ip: s, port: 0).map { SourceProbe.unusable([$0]).first ?? SourceCheck(address: s, local: true) }
            obs.source = check ?? SourceCheck(address: s, local: false, error: "not an IP address")
            // Connects from an address this machine does not have cannot tell anything more.
            if obs.source?.local == false { return obs }
        }
        switch Resolver.resolve(host, port: port) {
        case .failure(let e): obs.resolveError = e.message
        case .success(let addresses):
            obs.resolved = addresses.map(\.ip)
            for a in addresses { obs.probes.append(probe(a)) }
        }
        if obs.probes.contains(where: { ($0.outcomes["ok"] ?? 0) == 0 }) { obs.firewall = FirewallRules.reading(port: port) }
        return obs
    }

    /// A few connects to one address, then (when they work) one HTTP GET, and a WebSocket handshake
    /// when --protocol ws asked for one.
    func probe(_ a: SocketAddress) -> DiagnoseObservations.AddressProbe {
        let isLocal = Socket.checkLocalAddress(a) == 0
        var p = DiagnoseObservations.AddressProbe(address: a.ip, isLocal: isLocal, outcomes: [:])
        if isLocal { p.listeners = Listeners.on(port: a.port) }
        var config = RunConfig(target: a.description, concurrency: attempts, durationSeconds: 30, connections: attempts,
                               connectTimeoutMs: deadlineMs, responseTimeoutMs: deadlineMs)
        if let s = source { config.sources = [s] }
        if let r = connects(config, true) {
            p.outcomes = r.totals.outcomes.byName
            p.occupancy = r.timeline.compactMap { $0.kernel?.census?.busiest?.occupancy }.max()
            p.listenOverflows = r.timeline.compactMap { $0.kernel?.counters["ListenOverflows"] }.reduce(0, +)
            if let c = r.kernelWitness?.counters, c["InDestUnreachs"] != nil || c["Icmp6InDestUnreachs"] != nil {
                p.icmpUnreachables = max(0, c["InDestUnreachs"] ?? 0) &+ max(0, c["Icmp6InDestUnreachs"] ?? 0)
            }
        }
        guard (p.outcomes["ok"] ?? 0) > 0 else {
            if !isLocal { p.path = PathProbe.observe(a) }
            return p
        }
        // Which protocol the port speaks: one TLS handshake, certificates not checked.
        var tlsConfig = config
        tlsConfig.connections = 1
        tlsConfig.concurrency = 1
        tlsConfig.close = .client
        tlsConfig.tls = TLSConfig(insecure: true)
        if let r = connects(tlsConfig, false) {
            p.tls = r.totals.outcomes.nonZero.first?.outcome.name
            if p.tls == "tls_plain_server" { p.tlsSample = r.totals.mismatchSamples.first }
        }
        if tlsAsked {
            // The protocol asked, over TLS with verification (the system's store): certificate
            // problems show here.
            var verified = tlsConfig
            verified.tls = TLSConfig(sni: nil)
            verified.wireProtocol = protocolAsked ?? .http
            verified.path = path
            verified.close = verified.wireProtocol == .http ? .server : .client
            if let r = connects(verified, false) {
                p.tlsVerified = r.totals.outcomes.nonZero.first?.outcome.name
                p.tlsDetail = r.tls?.failures.keys.sorted().first
            }
            return p
        }
        if protocolAsked != .tcp {
            let answer = HTTPProbe.get(a, host: host, path: path, source: source.flatMap { SocketAddress(ip: $0, port: 0) }, timeoutMs: deadlineMs)
            p.http = answer.outcome
            p.httpStatus = answer.status
            p.httpSample = answer.sample
            let shown = HTTPProbe.proxyHeaders(answer.headers)
            if !shown.isEmpty { p.proxyHeaders = shown }
        }
        if protocolAsked == .ws {
            config.connections = 1
            config.concurrency = 1
            config.path = path
            config.wireProtocol = .ws
            config.close = .client
            if let r = connects(config, false) {
                p.ws = r.totals.outcomes.nonZero.first?.outcome.name
                p.wsSample = r.totals.mismatchSamples.first
            }
        }
        return p
    }
}
