/// What `portstorm diagnose` saw, for one target (PortstormProbes.DiagnoseProbe collects it,
/// PortstormAnalysis.Diagnosis ranks it).
public struct DiagnoseObservations: Codable, Sendable {
    public struct AddressProbe: Codable, Sendable {
        public var address: String
        /// Whether the address is one of this machine's (bind() to it succeeds).
        public var isLocal: Bool
        /// Outcomes of the few connects tried.
        public var outcomes: [String: UInt64]
        /// For a local address: every address listening on the port, both families (sock_diag);
        /// nil for remote targets.
        public var listeners: [String]?
        /// ListenOverflows growth during the probe (namespace-wide, /proc/net/netstat).
        public var listenOverflows: Int64
        /// ICMP destination-unreachable messages received during the connects (namespace-wide,
        /// /proc/net/snmp `Icmp InDestUnreachs` plus /proc/net/snmp6 `Icmp6InDestUnreachs`): a refusal
        /// by ICMP is a reject rule, one by RST a closed port. nil when not observed.
        public var icmpUnreachables: Int64?
        /// Busiest tuple occupancy toward this address.
        public var occupancy: Double?
        /// The route and neighbour entry toward the address, taken after the connects failed.
        public var path: PathObservation?
        /// Outcome of one HTTP GET (`ok` when an HTTP status line came back) and the first bytes
        /// when it was not HTTP.
        public var http: String?
        public var httpSample: String?
        /// The status code and the headers of that answer that show a proxy or CDN (`Via: ...`).
        public var httpStatus: Int?
        public var proxyHeaders: [String]?
        /// Outcome of one WebSocket handshake (only when asked for with --protocol ws).
        public var ws: String?
        public var wsSample: String?
        /// Outcome of one TLS handshake without verification: `ok` when the port speaks TLS,
        /// `tls_plain_server` when the answer is plain (its first bytes in `tlsSample`).
        public var tls: String?
        public var tlsSample: String?
        /// With an https:// or wss:// target: one verified attempt of the protocol asked, its
        /// outcome and why it failed (the record's `tls.failures` sentence).
        public var tlsVerified: String?
        public var tlsDetail: String?

        public init(address: String, isLocal: Bool, outcomes: [String: UInt64]) {
            self.address = address
            self.isLocal = isLocal
            self.outcomes = outcomes
            listenOverflows = 0
        }
    }

    /// Local firewall rules that may act on the port (from `nft list ruleset`, else `iptables-save`).
    public struct FirewallReading: Codable, Sendable, Equatable {
        /// `nft` or `iptables-save`, nil when neither could be read.
        public var tool: String?
        /// Why the rules could not be read (not permitted, not installed).
        public var unreadable: String?
        /// Reject and drop rules that name the port, as `table/chain: rule`.
        public var matching: [String]

        public init(tool: String?, unreadable: String? = nil, matching: [String] = []) {
            self.tool = tool
            self.unreadable = unreadable
            self.matching = matching
        }
    }

    public var host: String
    public var port: UInt16
    public var resolveError: String?
    public var resolved: [String]
    public var probes: [AddressProbe]
    /// Other ports listening on this machine (hints when nothing listens on `port`).
    public var otherLocalPorts: [UInt16]
    /// The protocol the user asked to check (`--protocol`), nil when not asked.
    public var protocolAsked: WireProtocol?
    /// The protocol asked runs over TLS (an https:// or wss:// target, --protocol https|wss|tls).
    public var tlsAsked: Bool?
    /// `--source`, checked with a bind(2) probe.
    public var source: SourceCheck?
    /// Proxy variables set in diagnose's environment, credentials removed (`HTTPS_PROXY=http://proxy:3128`).
    public var proxyVariables: [String]
    /// Local firewall rules, read when connects failed.
    public var firewall: FirewallReading?

    public init(host: String, port: UInt16, resolveError: String?, resolved: [String], probes: [AddressProbe], otherLocalPorts: [UInt16],
                protocolAsked: WireProtocol? = nil, source: SourceCheck? = nil, proxyVariables: [String] = [], firewall: FirewallReading? = nil) {
        self.host = host
        self.port = port
        self.resolveError = resolveError
        self.resolved = resolved
        self.probes = probes
        self.otherLocalPorts = otherLocalPorts
        self.protocolAsked = protocolAsked
        self.source = source
        self.proxyVariables = proxyVariables
        self.firewall = firewall
    }
}
