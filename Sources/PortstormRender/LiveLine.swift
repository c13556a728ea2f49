import Foundation
import PortstormRecord

/// The one-line progress report printed each second while a run goes on.
///
/// On a terminal the line is fitted to its width (the least useful parts go first: TIME_WAIT,
/// ports, in flight, then the failure list is shortened) and may be coloured; in a log (`plain`)
/// it is printed whole.
public struct LiveLine {
    private var previous = LiveStatus()
    /// Run bounds, for the progress bar and the time left.
    let durationSeconds: Double?
    let connections: Int?

    public init(durationSeconds: Double?, connections: Int?) {
        self.durationSeconds = durationSeconds
        self.connections = connections
    }

    /// One part of the line: its text, how readily it is dropped (higher first), its colour.
    struct Part {
        var text: String
        var drop: Int
        var color: String? = nil
    }

    /// Rates over the interval since the previous call, totals, failures by outcome, progress.
    /// `width`: the terminal's columns (nil: no limit); `color`: ANSI colours for ok and failures.
    public mutating func render(_ s: LiveStatus, width: Int? = nil, color: Bool = false) -> String {
        let dt = max(s.elapsedSeconds - previous.elapsedSeconds, 1e-3)
        let attempts = Double(s.attempted - min(previous.attempted, s.attempted)) / dt
        let ok = Double(s.outcomes[.ok] - min(previous.outcomes[.ok], s.outcomes[.ok])) / dt
        var fails: [String] = []
        var failed: UInt64 = 0
        for (o, n) in s.outcomes.nonZero where !o.isOK {
            let delta = n - min(previous.outcomes[o], n)
            failed += delta
            if delta > 0 { fails.append("\(o.name) \(Format.rate(Double(delta) / dt))/s") }
        }
        previous = s
        var parts = [Part(text: Format.pad(String(format: "%5.1fs", s.elapsedSeconds), 6), drop: 0)]
        parts.append(Part(text: "attempts \(Format.rate(attempts))/s", drop: 1))
        parts.append(Part(text: "ok \(Format.rate(ok))/s", drop: 3, color: ok > 0 ? "32" : nil))
        parts.append(Part(text: fails.isEmpty ? "failed 0" : "failed: " + fails.joined(separator: ", "), drop: 1,
                          color: fails.isEmpty ? nil : "31"))
        parts.append(Part(text: "in flight \(Format.count(s.inFlight))", drop: 5))
        if let tw = s.timeWait { parts.append(Part(text: "TIME_WAIT \(Format.count(tw))", drop: 7)) }
        if let used = s.portsInUse, let range = s.portRange, range > 0 {
            let share = Double(used) / Double(range)
            parts.append(Part(text: "ports \(Format.count(used))/\(Format.count(range)) (" + String(format: "%.1f%%", share * 100) + ")",
                              drop: 6, color: share >= 0.9 ? "33" : nil))
        }
        if let fraction = progress(s) {
            parts.append(Part(text: bar(fraction, width: 20) + (timeLeft(s).map { " \($0) left" } ?? ""), drop: 2))
        }

        guard let width, width > 0 else { return join(parts, color: color) }
        // Fit: shorten or drop parts, least useful first, until the line fits.
        let limit = width - 1  // the last column would wrap on some terminals
        func drop(_ weight: Int) { if let k = parts.firstIndex(where: { $0.drop == weight }) { parts.remove(at: k) } }
        func setBar(_ w: Int) {
            if let k = parts.firstIndex(where: { $0.drop == 2 }), let fraction = progress(s) {
                parts[k].text = bar(fraction, width: w) + (timeLeft(s).map { " \($0) left" } ?? "")
            }
        }
        func setFails(_ text: String) { if let k = parts.firstIndex(where: { $0.drop == 1 && $0.text.hasPrefix("failed") }) { parts[k].text = text } }
        for step in 0..<10 where length(parts) > limit {
            switch step {
            case 0: drop(7)
            case 1: drop(6)
            case 2: setBar(10)
            case 3: drop(5)
            case 4: if fails.count > 1 { setFails("failed: \(fails[0]) +\(fails.count - 1) more") }
            case 5: setBar(0)
            case 6: if !fails.isEmpty { setFails("failed \(Format.rate(Double(failed) / dt))/s") }
            case 7: drop(3)
            case 8: drop(2)
            default: if let k = parts.firstIndex(where: { $0.drop == 1 && $0.text.hasPrefix("attempts") }) { parts.remove(at: k) }
            }
        }
        var line = join(parts, color: false)
        if line.count > limit { line = String(line.prefix(max(0, limit))) }
        return color && line.count == length(parts) ? join(parts, color: true) : line
    }

    func length(_ parts: [Part]) -> Int { parts.reduce(0) { $0 + $1.text.count } + 2 * max(0, parts.count - 1) }

    func join(_ parts: [Part], color: Bool) -> String {
        parts.map { p in
            guard color, let c = p.color else { return p.text }
            return "\u{1B}[\(c)m\(p.text)\u{1B}[0m"
        }.joined(separator: "  ")
    }

    /// "[####......]  40%", or only " 40%" with width 0.
    func bar(_ fraction: Double, width: Int) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let drawn = width == 0 ? "" : "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        return drawn + (width == 0 ? String(format: "%.0f%%", fraction * 100) : String(format: "%3.0f%%", fraction * 100))
    }

    /// How far along a bounded run is, from whichever bound is closer.
    func progress(_ s: LiveStatus) -> Double? {
        var f: Double? = nil
        if let d = durationSeconds, d > 0 { f = s.elapsedSeconds / d }
        if let n = connections, n > 0 { f = max(f ?? 0, Double(s.attempted) / Double(n)) }
        return f.map { min(1, max(0, $0)) }
    }

    /// Time left: to the duration bound, or to the count bound at the average rate so far;
    /// the sooner of the two. "8s", "1m05s".
    func timeLeft(_ s: LiveStatus) -> String? {
        var left: Double? = nil
        if let d = durationSeconds { left = max(0, d - s.elapsedSeconds) }
        if let n = connections, s.attempted > 0, s.elapsedSeconds > 0 {
            let rate = Double(s.attempted) / s.elapsedSeconds
            let byCount = max(0, Double(n) - Double(s.attempted)) / rate
            left = min(left ?? byCount, byCount)
        }
        guard let left, left.isFinite else { return nil }
        let whole = Int(left.rounded(.up))
        return whole < 60 ? "\(whole)s" : "\(whole / 60)m" + String(format: "%02ds", whole % 60)
    }
}
