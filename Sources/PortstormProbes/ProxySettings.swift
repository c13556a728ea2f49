import Foundation

/// Proxy variables in an environment: a user's own HTTP client (curl, a browser, a language
/// runtime) may send its connections through them, while portstorm connects directly.
public enum ProxySettings {
    public static let names = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"]

    /// `NAME=value` for each proxy variable set (upper or lower case), with any `user:password@` removed.
    public static func inEffect(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var out: [String] = []
        for upper in names {
            for name in [upper, upper.lowercased()] {
                guard let value = environment[name], !value.isEmpty else { continue }
                out.append("\(name)=\(withoutCredentials(value))")
            }
        }
        return out
    }

    static func withoutCredentials(_ value: String) -> String {
        guard let at = value.lastIndex(of: "@") else { return value }
        let scheme = value.range(of: "://").map { String(value[..<$0.upperBound]) } ?? ""
        return scheme + "***@" + value[value.index(after: at)...]
    }
}
