import PortstormAnalysis
import PortstormRecord

/// `portstorm doctor` for a terminal: the settings that matter, then the findings, worst first.
public enum DoctorText {
    public static func render(_ s: SystemSnapshot, _ findings: [Finding]) -> String {
        var lines = ["portstorm doctor: kernel \(s.kernel)"]
        func show(_ name: String, _ v: CustomStringConvertible?) {
            if let v { lines.append("  " + Format.pad(name, 34) + v.description) }
        }
        show("net.ipv4.ip_local_port_range", s.ipLocalPortRange.map { "\($0[0]) \($0[1])" })
        show("net.ipv4.ip_local_reserved_ports", s.ipLocalReservedPorts.map { $0.isEmpty ? "(none)" : $0 })
        show("net.ipv4.tcp_tw_reuse", s.tcpTwReuse)
        show("net.ipv4.tcp_tw_reuse_delay", s.tcpTwReuseDelayMs.map { "\($0) ms" })
        show("net.ipv4.tcp_timestamps", s.tcpTimestamps)
        show("net.ipv4.tcp_max_tw_buckets", s.tcpMaxTwBuckets)
        show("net.ipv4.tcp_fin_timeout", s.tcpFinTimeout)
        show("net.ipv4.tcp_syn_retries", s.tcpSynRetries)
        show("net.core.somaxconn", s.somaxconn)
        show("net.ipv4.tcp_max_syn_backlog", s.tcpMaxSynBacklog)
        show("net.netfilter.nf_conntrack_max", s.nfConntrackMax)
        show("fs.file-max", s.fileMax)
        show("fs.nr_open", s.nrOpen)
        show("RLIMIT_NOFILE (soft/hard)", "\(s.openFilesSoft) / \(s.openFilesHard)")
        show("kernel.io_uring_disabled", s.ioUringDisabled)
        lines.append("")
        lines += FindingsText.render(findings)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The line `run --hold` prints before it starts when no limit stops it (a limit that does is a warning).
    public static func capacityLine(_ c: HoldCapacity) -> String {
        "portstorm: capacity: " + c.sentence
    }

    /// The warnings `run` prints before it starts: one line each, only warnings and problems.
    public static func warnings(_ findings: [Finding]) -> [String] {
        findings.filter { $0.severity >= .warning }.map { f in
            "portstorm: \(f.severity == .problem ? "problem" : "warning"): \(f.title)" + (f.advice.first.map { " (try: \($0))" } ?? "")
        }
    }
}
