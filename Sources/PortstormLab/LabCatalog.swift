import PortstormRecord

/// One run of a lab: servers to start, the `portstorm run` arguments, and what is expected of it.
public struct LabVariant: Sendable {
    public enum Role: String, Codable, Sendable { case prepare, broken, fix }
    public var role: Role
    public var title: String
    /// Sysctls to set (inside the lab's namespace) before this run.
    public var sysctls: [(String, String)] = []
    /// `serve` modes and listen addresses to start before this run.
    public var servers: [(mode: ServerMode, listen: String)] = []
    public var runArguments: [String]
    /// The outcome this run should mostly end in.
    public var expected: Outcome

    public init(role: Role, title: String, sysctls: [(String, String)] = [], servers: [(mode: ServerMode, listen: String)] = [],
                runArguments: [String], expected: Outcome) {
        self.role = role
        self.title = title
        self.sysctls = sysctls
        self.servers = servers
        self.runArguments = runArguments
        self.expected = expected
    }
}

/// A lab: a failure reproduced on purpose in a namespace, explained, then fixed.
public struct Lab: Sendable {
    public var name: String
    public var summary: String
    public var sysctls: [(String, String)]
    /// Extra set-up commands inside the namespace (e.g. an address on lo).
    public var setup: [[String]] = []
    public var variants: [LabVariant]

    public init(name: String, summary: String, sysctls: [(String, String)], setup: [[String]] = [], variants: [LabVariant]) {
        self.name = name
        self.summary = summary
        self.sysctls = sysctls
        self.setup = setup
        self.variants = variants
    }
}

/// The labs `portstorm lab NAME` runs. Every run is bounded (count or duration) and stays
/// inside the lab's namespace.
public enum LabCatalog {
    public static let all: [Lab] = [exhaustion, bindExhaustion, refused, loopbackOnly, timeout, protocolMismatch, tlsMismatch, fdLimit]

    /// In `runArguments`, replaced by the PEM file of the self-signed certificate of the variant's
    /// TLS server (what a client passes to --cacert).
    public static let serverCertificate = "@server-certificate"

    public static func named(_ name: String) -> Lab? { all.first { $0.name == name } }

    static let narrow = [("net.ipv4.ip_local_port_range", "40000 40299"), ("net.ipv4.tcp_tw_reuse", "0")]

    static let exhaustion = Lab(
        name: "exhaustion",
        summary: "300 ephemeral ports, no TIME_WAIT reuse, the client closing first at 150/s: the range fills in 2 s and connect() fails with EADDRNOTAVAIL",
        sysctls: narrow,
        variants: [
            LabVariant(role: .broken, title: "client closes first at 150/s, 300 ports",
                       servers: [(.hold, "127.0.0.1:8080")],
                       runArguments: ["127.0.0.1:8080", "--rate", "150", "-d", "4s", "-c", "500"], expected: .eaddrnotavail),
            LabVariant(role: .fix, title: "the server closes first (TIME_WAIT moves to the server)",
                       servers: [(.acceptClose, "127.0.0.1:8081")],
                       runArguments: ["127.0.0.1:8081", "--rate", "150", "-d", "4s", "-c", "500", "--close", "server"], expected: .ok),
            LabVariant(role: .fix, title: "SO_LINGER 0 (--close rst): no TIME_WAIT at all",
                       servers: [(.hold, "127.0.0.1:8082")],
                       runArguments: ["127.0.0.1:8082", "--rate", "150", "-d", "4s", "-c", "500", "--close", "rst"], expected: .ok),
            LabVariant(role: .fix, title: "a wider ip_local_port_range (20000-60999)",
                       sysctls: [("net.ipv4.ip_local_port_range", "20000 60999")], servers: [(.hold, "127.0.0.1:8083")],
                       runArguments: ["127.0.0.1:8083", "--rate", "150", "-d", "4s", "-c", "500"], expected: .ok),
            LabVariant(role: .fix, title: "four source addresses (a budget each)",
                       sysctls: [("net.ipv4.ip_local_port_range", "40000 40299")], servers: [(.hold, "127.0.0.1:8084")],
                       runArguments: ["127.0.0.1:8084", "--rate", "150", "-d", "4s", "-c", "500", "--source", "127.0.0.2-127.0.0.5"],
                       expected: .ok),
        ])

    static let bindExhaustion = Lab(
        name: "bind-exhaustion",
        summary: "binding a source address before connect() without IP_BIND_ADDRESS_NO_PORT takes ports exclusively: ports held toward another destination cannot be shared, and bind() fails with EADDRINUSE",
        sysctls: narrow,
        variants: [
            LabVariant(role: .prepare, title: "250 of the 300 ports go to TIME_WAIT toward another server",
                       servers: [(.hold, "127.0.0.1:8080"), (.hold, "127.0.0.1:8081")],
                       runArguments: ["127.0.0.1:8080", "-n", "250", "-c", "50", "--source", "127.0.0.1"], expected: .ok),
            LabVariant(role: .broken, title: "bind(127.0.0.1, 0) then connect: only free ports will do",
                       runArguments: ["127.0.0.1:8081", "-n", "200", "-c", "50", "--source", "127.0.0.1", "--bind-before-connect"],
                       expected: .eaddrinuse),
            LabVariant(role: .fix, title: "IP_BIND_ADDRESS_NO_PORT: connect() picks the port, shared across destinations",
                       runArguments: ["127.0.0.1:8081", "-n", "200", "-c", "50", "--source", "127.0.0.1"], expected: .ok),
        ])

    static let refused = Lab(
        name: "refused",
        summary: "nothing listens on the port: the SYN is answered with RST and connect() fails with ECONNREFUSED",
        sysctls: [],
        variants: [
            LabVariant(role: .broken, title: "no server on 127.0.0.1:8080",
                       runArguments: ["127.0.0.1:8080", "-n", "200", "-c", "20"], expected: .econnrefused),
            LabVariant(role: .fix, title: "the server is started",
                       servers: [(.acceptClose, "127.0.0.1:8080")],
                       runArguments: ["127.0.0.1:8080", "-n", "200", "-c", "20", "--close", "server"], expected: .ok),
        ])

    static let loopbackOnly = Lab(
        name: "loopback-only",
        summary: "the server listens on 127.0.0.1 only, the client uses the host's other address (192.0.2.10 inside the lab): refused, though \"the server is running\"",
        sysctls: [],
        setup: [["ip", "addr", "add", "192.0.2.10/32", "dev", "lo"]],
        variants: [
            LabVariant(role: .broken, title: "server on 127.0.0.1:8080, client to 192.0.2.10:8080",
                       servers: [(.acceptClose, "127.0.0.1:8080")],
                       runArguments: ["192.0.2.10:8080", "-n", "200", "-c", "20", "--close", "server"], expected: .econnrefused),
            LabVariant(role: .fix, title: "server on 0.0.0.0:8081 (every address)",
                       servers: [(.acceptClose, "0.0.0.0:8081")],
                       runArguments: ["192.0.2.10:8081", "-n", "200", "-c", "20", "--close", "server"], expected: .ok),
        ])

    static let timeout = Lab(
        name: "timeout",
        summary: "a server that accepts 20 connections a second from a backlog of 4: its queue overflows, SYNs are dropped (ListenOverflows) and clients retry after 1 s and 3 s, then time out",
        sysctls: [],
        variants: [
            LabVariant(role: .broken, title: "100/s against a slow acceptor, 2 s connect deadline",
                       servers: [(.slowAccept, "127.0.0.1:8080")],
                       runArguments: ["127.0.0.1:8080", "--rate", "100", "-d", "3s", "-c", "1000", "--connect-timeout", "2s", "--close", "server"],
                       expected: .connectTimeout),
            LabVariant(role: .fix, title: "a server that accepts at once",
                       servers: [(.acceptClose, "127.0.0.1:8081")],
                       runArguments: ["127.0.0.1:8081", "--rate", "100", "-d", "3s", "-c", "1000", "--connect-timeout", "2s", "--close", "server"],
                       expected: .ok),
        ])

    static let protocolMismatch = Lab(
        name: "protocol-mismatch",
        summary: "a WebSocket handshake sent to a plain HTTP server (unexpected response code) and to a raw TCP echo service (invalid HTTP response)",
        sysctls: [],
        variants: [
            LabVariant(role: .broken, title: "WebSocket handshake to a plain HTTP server",
                       servers: [(.http, "127.0.0.1:8080")],
                       runArguments: ["127.0.0.1:8080", "--protocol", "ws", "-n", "100", "-c", "10"], expected: .protocolMismatch),
            LabVariant(role: .broken, title: "WebSocket handshake to a raw TCP echo service",
                       servers: [(.echo, "127.0.0.1:8081")],
                       runArguments: ["127.0.0.1:8081", "--protocol", "ws", "-n", "100", "-c", "10"], expected: .protocolMismatch),
            LabVariant(role: .fix, title: "the same handshake to a WebSocket server",
                       servers: [(.ws, "127.0.0.1:8082")],
                       runArguments: ["127.0.0.1:8082", "--protocol", "ws", "-n", "100", "-c", "10"], expected: .ok),
        ])

    static let tlsMismatch = Lab(
        name: "tls-mismatch",
        summary: "TLS sent to a plain HTTP port, plain HTTP sent to a TLS port, and a certificate this machine does not trust: three failures that look alike in other tools",
        sysctls: [],
        variants: [
            LabVariant(role: .broken, title: "https:// to a plain HTTP server: the answer to the ClientHello is HTTP",
                       servers: [(.http, "127.0.0.1:8080")],
                       runArguments: ["https://127.0.0.1:8080/", "--insecure", "-n", "100", "-c", "10"], expected: .tlsPlainServer),
            LabVariant(role: .broken, title: "http:// to a TLS server: it answers nginx's 400 for plain HTTP",
                       servers: [(.https, "127.0.0.1:8443")],
                       runArguments: ["http://127.0.0.1:8443/", "-n", "100", "-c", "10"], expected: .tlsRequired),
            LabVariant(role: .broken, title: "https:// to it without its CA: a self-signed certificate is not trusted",
                       runArguments: ["https://127.0.0.1:8443/", "-n", "100", "-c", "10"], expected: .tlsCertUntrusted),
            LabVariant(role: .fix, title: "https:// with --cacert (the server's certificate)",
                       runArguments: ["https://127.0.0.1:8443/", "--cacert", serverCertificate, "-n", "100", "-c", "10"], expected: .ok),
        ])

    static let fdLimit = Lab(
        name: "fd-limit",
        summary: "RLIMIT_NOFILE at 100 with 300 connections held open: socket() fails with EMFILE, a limit of this machine, not the server's",
        sysctls: [],
        variants: [
            LabVariant(role: .broken, title: "300 held connections under a 100-descriptor limit",
                       servers: [(.hold, "127.0.0.1:8080")],
                       runArguments: ["127.0.0.1:8080", "-n", "300", "-c", "300", "--open-files", "100", "--close", "server",
                                      "--response-timeout", "500ms"], expected: .emfile),
            LabVariant(role: .fix, title: "the limit raised (portstorm raises it to fit -c by default); the hold server never closes, so each ends at the 500 ms answer deadline",
                       servers: [(.hold, "127.0.0.1:8081")],
                       runArguments: ["127.0.0.1:8081", "-n", "300", "-c", "300", "--close", "server", "--response-timeout", "500ms"],
                       expected: .responseTimeout),
        ])
}
