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
                + (p.http.map { "; http \($0)" } ?? "") + (p.httpStatus.map { " \($0)" } ?? "") + (p.ws.map { "; websocket \($0)" } ?? "")
                + (p.tls.map { "; tls handshake \($0)" } ?? "") + (p.tlsVerified.map { "; verified \($0)" } ?? "") + "\n"
        }
        return out + "\n" + FindingsText.render(findings).joined(separator: "\n") + "\n"
    }
}
