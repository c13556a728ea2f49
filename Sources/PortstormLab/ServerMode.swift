/// How a built-in target server treats a connection.
public enum ServerMode: String, CaseIterable, Sendable {
    /// Accept and close at once (the server closes first).
    case acceptClose = "accept-close"
    /// Accept and keep the connection open until the client closes it.
    case hold
    /// Read a request's headers, answer a minimal HTTP/1.1 200 with `Connection: close`, close.
    case http
    /// Send back whatever arrives, until the client closes.
    case echo
    /// Listen with backlog 0 and never accept; the queue is pre-filled so every SYN is dropped
    /// and clients' connects time out.
    case blackhole
    /// Answer a WebSocket opening handshake (101 with Sec-WebSocket-Accept), then hold.
    case ws
    /// A backlog of 4 accepted 20 times a second, then closed: under load the accept queue
    /// overflows, SYNs are dropped (ListenOverflows) and clients retry after 1 s, 3 s, ...
    case slowAccept = "slow-accept"
    /// TLS, then as `http` (self-signed certificate made at start, or --cert/--key).
    case https
    /// TLS, then as `ws`.
    case wss
    /// TLS, then as `echo`.
    case tls

    /// Whether connections speak TLS first.
    public var isTLS: Bool { self == .https || self == .wss || self == .tls }

    /// What is served inside TLS (the mode itself for plain modes).
    public var inner: ServerMode {
        switch self {
        case .https: return .http
        case .wss: return .ws
        case .tls: return .echo
        default: return self
        }
    }

    public var summary: String {
        switch self {
        case .acceptClose: return "accept and close at once"
        case .hold: return "accept and hold until the client closes"
        case .http: return "answer HTTP/1.1 200, then close"
        case .echo: return "echo what arrives"
        case .blackhole: return "never accept: SYNs are dropped, connects time out"
        case .ws: return "answer a WebSocket handshake, then hold"
        case .slowAccept: return "accept 20 a second from a backlog of 4: SYNs dropped under load"
        case .https: return "TLS, then answer HTTP/1.1 200 (plain HTTP gets nginx's 400)"
        case .wss: return "TLS, then answer a WebSocket handshake and hold"
        case .tls: return "TLS, then echo what arrives"
        }
    }
}
