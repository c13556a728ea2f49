import PortstormAnalysis
import PortstormRecord

/// What `portstorm diagnose` prints: where the name resolved to, what each address answered, then
/// the ranked findings.
public enum DiagnoseText {
    /// `target`: the target as HOST:PORT.
    public static func render(_ obs: DiagnoseObservations, findings: [Finding], target: String) -> String {
        let resolved = obs.resolved.isEmpty ? (obs.resolveError != nil ? "not resolved" : "not tried")
                                            : "resolved to \(obs.resolved.joined(separator: ", "))"
        var out = "portstorm diagnose \(target): \(resolved)\n"
        for p in obs.probes {
            let outcomes = p.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out += "  \(p.address)\(p.isLocal ? " (this machine)" : ""): \(outcomes)"
                + http(p) + (p.ws.map { "; websocket \($0)" } ?? "")
                + (p.tls.map { "; tls handshake \($0)" } ?? "") + (p.tlsVerified.map { "; verified \($0)" } ?? "") + "\n"
        }
        return out + "\n" + FindingsText.render(findings).joined(separator: "\n") + "\n"
    }

    /// "; http ok 200", or for an error status "; http answered 404 (client error)": the probe got an
    /// HTTP answer, which is not a success for the path when its status is 400 or above.
    static func http(_ p: DiagnoseObservations.AddressProbe) -> String {
        guard let outcome = p.http else { return "" }
        guard outcome == "ok", let status = p.httpStatus else { return "; http \(outcome)" + (p.httpStatus.map { " \($0)" } ?? "") }
        switch status {
        case 500...: return "; http answered \(status) (server error)"
        case 400...: return "; http answered \(status) (client error)"
        default: return "; http ok \(status)"
        }
    }
}
