import PortstormAnalysis
import PortstormRecord

/// Findings for a terminal, worst first: `[severity] title`, then evidence and `->` advice.
public enum FindingsText {
    public static func render(_ findings: [Finding]) -> [String] {
        var lines: [String] = []
        for f in findings.sorted(by: { $0.severity > $1.severity }) {
            lines.append(Format.pad("[\(f.severity.rawValue)]", 10) + f.title)
            for e in f.evidence { lines.append("          " + e) }
            for a in f.advice { lines.append("          -> " + a) }
        }
        return lines
    }
}
