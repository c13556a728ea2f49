/// A `HOST:PORT` target as the user typed it: `example.com:80`, `127.0.0.1:8080`, `[::1]:8080`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; the error message is one sentence meant for the user.
    public static func parse(_ text: String) -> Result<HostPort, InputError> {
        let s = Substring(text).trimmed()
        let host: Substring
        let portText: Substring
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else {
                return .failure(InputError("'\(text)' is not a target: an IPv6 address needs a closing ']', as in [::1]:8080"))
            }
            host = s[s.index(after: s.startIndex)..<close]
            let rest = s[s.index(after: close)...]
            guard rest.hasPrefix(":") else {
                return .failure(InputError("'\(text)' has no port: write [ADDRESS]:PORT, as in [::1]:8080"))
            }
            portText = rest.dropFirst()
        } else {
            let colons = s.filter { $0 == ":" }.count
            if colons > 1 {
                return .failure(InputError("'\(text)' is ambiguous: write IPv6 addresses in brackets, as in [::1]:8080"))
            }
            guard colons == 1, let colon = s.lastIndex(of: ":") else {
                return .failure(InputError("'\(text)' has no port: write HOST:PORT, as in 127.0.0.1:8080"))
            }
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
        }
        guard !host.isEmpty else {
            return .failure(InputError("'\(text)' has no host: write HOST:PORT, as in 127.0.0.1:8080"))
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let port = Int(portText) else {
            return .failure(InputError("'\(portText)' is not a port number in '\(text)'"))
        }
        guard (1...65535).contains(port) else {
            return .failure(InputError("port \(port) is out of range in '\(text)': ports go from 1 to 65535"))
        }
        return .success(HostPort(host: String(host), port: UInt16(port)))
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Bad input from the user: one sentence that says what is wrong and, where it can, what to write.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Substring {
    /// Drops leading and trailing spaces and tabs.
    func trimmed() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
