/// A target as the user may paste it: `HOST:PORT`, or a URL whose scheme portstorm speaks
/// (`tcp://h:p`, `http://h[:p]/path`, `ws://h[:p]/path`, and over TLS `https://`, `wss://`). The
/// scheme names what to speak once connected and the default port; the path (with its query) is
/// the request path.
public struct TargetURL: Hashable, Sendable {
    /// The schemes portstorm speaks, each with the protocol of the same name.
    public enum Scheme: String, Sendable, CaseIterable {
        case tcp, http, ws, https, wss

        /// The port a URL of this scheme means when it names none (tcp has none: it must be given).
        public var defaultPort: UInt16? {
            switch self {
            case .tcp: return nil
            case .http, .ws: return 80
            case .https, .wss: return 443
            }
        }

        /// Whether the scheme runs over TLS (https, wss).
        public var isTLS: Bool { self == .https || self == .wss }

        /// The scheme without TLS (https: http, wss: ws).
        public var plain: Scheme {
            switch self {
            case .https: return .http
            case .wss: return .ws
            default: return self
            }
        }
    }

    public let hostPort: HostPort
    /// nil for a plain `HOST:PORT`.
    public let scheme: Scheme?
    /// The path and query after the authority (`/health?x=1`); nil when the URL has none.
    public let path: String?

    public init(hostPort: HostPort, scheme: Scheme?, path: String?) {
        self.hostPort = hostPort
        self.scheme = scheme
        self.path = path
    }

    /// What the schemes look like in a sentence: "tcp://, http://, ws://".
    static var spoken: String { Scheme.allCases.map { "\($0.rawValue)://" }.joined(separator: ", ") }

    /// Parses `HOST:PORT` or a URL; the error is one sentence meant for the user.
    public static func parse(_ text: String) -> Result<TargetURL, InputError> {
        let s = Substring(text).trimmed()
        guard let sep = s.firstRange(of: "://") else {
            return HostPort.parse(text).map { TargetURL(hostPort: $0, scheme: nil, path: nil) }
        }
        let name = s[..<sep.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: name) else {
            return .failure(InputError("'\(text)': portstorm does not speak '\(name)://'; it speaks \(spoken), or give HOST:PORT"))
        }
        let rest = s[sep.upperBound...]
        let stops: Set<Character> = ["/", "?", "#"]
        let authorityEnd = rest.firstIndex(where: { stops.contains($0) }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var tail = rest[authorityEnd...]
        if let hash = tail.firstIndex(of: "#") { tail = tail[..<hash] }
        if authority.contains("@") {
            return .failure(InputError("'\(text)': credentials in the URL are not supported: give \(scheme.rawValue)://HOST:PORT"))
        }
        if authority.isEmpty {
            return .failure(InputError("'\(text)' has no host: write \(scheme.rawValue)://HOST:PORT, as in \(scheme.rawValue)://127.0.0.1:8080"))
        }
        // A port is there when the authority ends in ":digits" outside IPv6 brackets.
        let hasPort: Bool
        if authority.hasPrefix("[") {
            hasPort = authority.firstIndex(of: "]").map { authority[authority.index(after: $0)...].hasPrefix(":") } ?? true
        } else {
            hasPort = authority.contains(":")
        }
        var hostPortText = String(authority)
        if !hasPort {
            guard let port = scheme.defaultPort else {
                return .failure(InputError("'\(text)' has no port: a tcp:// target needs one, as in tcp://127.0.0.1:9000"))
            }
            hostPortText += ":\(port)"
        }
        switch HostPort.parse(hostPortText) {
        case .failure(let e): return .failure(InputError(e.message.replacing("'\(hostPortText)'", with: "'\(text)'")))
        case .success(let hp):
            var path: String? = tail.isEmpty ? nil : String(tail)
            if let p = path, p.hasPrefix("?") { path = "/" + p }
            if scheme == .tcp, let p = path, p != "/" {
                return .failure(InputError("'\(text)': a tcp:// target takes no path (\(p)); use http://, https://, ws:// or wss:// for a request path"))
            }
            if scheme == .tcp { path = nil }
            let blanks: Set<Character> = [" ", "\r", "\n", "\t", "\r\n"]
            if let p = path, p.contains(where: { blanks.contains($0) }) {
                return .failure(InputError("'\(text)': the path holds a space or a line break; write it percent-encoded (%20)"))
            }
            return .success(TargetURL(hostPort: hp, scheme: scheme, path: path))
        }
    }
}
