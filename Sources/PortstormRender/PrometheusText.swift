import Foundation
import PortstormRecord

/// `run --metrics-listen`: the live status in the Prometheus text exposition format (0.0.4),
/// names with the `portstorm_` prefix, base units (seconds), `_total` for counters.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ s: LiveStatus, target: String) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += name + sample.labels + " " + sample.value + "\n" }
        }
        let t = "target=\"\(escape(target))\""
        family("portstorm_attempts_total", "counter", "Connection attempts started.", [("{\(t)}", "\(s.attempted)")])
        var outcomes = s.outcomes.nonZero
        if !outcomes.contains(where: { $0.outcome.isOK }) { outcomes.insert((Outcome.ok, 0), at: 0) }
        family("portstorm_outcomes_total", "counter",
               "Attempts finished, by outcome and cause (local: this machine; remote: the path or the server).",
               outcomes.map { ("{\(t),outcome=\"\($0.outcome.name)\",cause=\"\($0.outcome.cause.rawValue)\"}", "\($0.count)") })
        family("portstorm_in_flight", "gauge", "Attempts started and not finished.", [("{\(t)}", "\(s.inFlight)")])
        family("portstorm_delayed_attempts_total", "counter", "Attempts started late on the --rate schedule (over 10 ms).",
               [("{\(t)}", "\(s.delayed)")])
        family("portstorm_elapsed_seconds", "gauge", "Time since the run started.", [("{\(t)}", number(s.elapsedSeconds))])
        if let tw = s.timeWait {
            family("portstorm_time_wait_sockets", "gauge", "TCP sockets in TIME_WAIT in this network namespace (/proc/net/sockstat).",
                   [("", "\(tw)")])
        }
        if let tuples = s.tuples, !tuples.isEmpty {
            func labels(_ c: TupleCensus) -> String {
                "{source=\"\(escape(c.source))\",destination=\"\(escape(c.destination))\",port=\"\(c.port)\"}"
            }
            family("portstorm_ports_in_use", "gauge", "Local ports in use toward one (source, destination, port) tuple (sock_diag census).",
                   tuples.map { (labels($0), "\($0.portsInUse)") })
            family("portstorm_port_range_size", "gauge", "Local ports the tuple can use: the effective ephemeral range.",
                   tuples.map { (labels($0), "\($0.rangeSize)") })
        }
        histogram("portstorm_connect_duration_seconds", "Time from connect to established, of the connects that completed.",
                  s.connectBuckets, count: s.connectCount, sumUs: s.connectSumUs, labels: t, into: &out)
        if let handshakes = s.handshakeBuckets {
            histogram("portstorm_tls_handshake_duration_seconds",
                      "Time from the connect confirmed to the TLS handshake complete, of the handshakes that completed.",
                      handshakes, count: s.handshakeCount, sumUs: s.handshakeSumUs, labels: t, into: &out)
        }
        return out
    }

    /// A histogram family over `LiveStatus.connectBoundsUs`, in seconds: `cumulative` holds the
    /// counts at or below each bound, `count` every sample (the +Inf bucket).
    static func histogram(_ name: String, _ help: String, _ cumulative: [UInt64], count: UInt64, sumUs: Double, labels t: String,
                          into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (i, bound) in LiveStatus.connectBoundsUs.enumerated() {
            let n = i < cumulative.count ? cumulative[i] : 0
            out += "\(name)_bucket{\(t),le=\"\(number(Double(bound) / 1e6))\"} \(n)\n"
        }
        out += "\(name)_bucket{\(t),le=\"+Inf\"} \(count)\n"
        out += "\(name)_sum{\(t)} \(number(sumUs / 1e6))\n"
        out += "\(name)_count{\(t)} \(count)\n"
    }

    /// A decimal without exponent or trailing zeros: 0.00005, 2.5, 10.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? "NaN" : (d > 0 ? "+Inf" : "-Inf") }
        var s = String(format: "%.9f", d)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A label value: backslash, double quote and line feed escaped.
    static func escape(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
