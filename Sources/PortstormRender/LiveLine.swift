import PortstormRecord

/// The one-line progress report printed each second while a run goes on.
public struct LiveLine {
    private var previous = LiveStatus()
    /// Run bounds, for the progress bar.
    let durationSeconds: Double?
    let connections: Int?

    public init(durationSeconds: Double?, connections: Int?) {
        self.durationSeconds = durationSeconds
        self.connections = connections
    }

    /// Rates over the interval since the previous call, totals, failures by outcome, and a bar.
    public mutating func render(_ s: LiveStatus) -> String {
        let dt = max(s.elapsedSeconds - previous.elapsedSeconds, 1e-3)
        let attempts = Double(s.attempted - min(previous.attempted, s.attempted)) / dt
        let ok = Double(s.outcomes[.ok] - min(previous.outcomes[.ok], s.outcomes[.ok])) / dt
        var fails: [String] = []
        for (o, n) in s.outcomes.nonZero where !o.isOK {
            let delta = n - min(previous.outcomes[o], n)
            if delta > 0 { fails.append("\(o.name) \(Format.rate(Double(delta) / dt))/s") }
        }
        previous = s
        var line = Format.pad(String(format: "%5.1fs", s.elapsedSeconds), 7)
        line += " attempts \(Format.rate(attempts))/s  ok \(Format.rate(ok))/s"
        line += fails.isEmpty ? "  failed 0" : "  failed: " + fails.joined(separator: ", ")
        line += "  in flight \(Format.count(s.inFlight))"
        if let tw = s.timeWait { line += "  TIME_WAIT \(Format.count(tw))" }
        if let used = s.portsInUse, let range = s.portRange, range > 0 {
            line += "  ports \(Format.count(used))/\(Format.count(range)) (" + String(format: "%.1f%%", Double(used) * 100 / Double(range)) + ")"
        }
        if let fraction = progress(s) {
            let width = 20, filled = Int((fraction * Double(width)).rounded(.down))
            line += "  [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
            line += String(format: " %3.0f%%", fraction * 100)
        }
        return line
    }

    /// How far along a bounded run is, from whichever bound is closer.
    func progress(_ s: LiveStatus) -> Double? {
        var f: Double? = nil
        if let d = durationSeconds, d > 0 { f = s.elapsedSeconds / d }
        if let n = connections, n > 0 { f = max(f ?? 0, Double(s.attempted) / Double(n)) }
        return f.map { min(1, max(0, $0)) }
    }
}
