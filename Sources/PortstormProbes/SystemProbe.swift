import PortstormRecord
import PortstormSystem

/// Reads the settings that explain connection failures, from /proc/sys of the current network
/// namespace (a run inside `ip netns exec` sees that namespace's values).
public enum SystemProbe {
    public static func snapshot() -> SystemSnapshot {
        let limit = ResourceLimits.openFiles()
        var s = SystemSnapshot(kernel: KernelInfo.release(),
                               ipLocalPortRange: KernelInfo.localPortRange().map { [$0.lowerBound, $0.upperBound] },
                               openFilesSoft: limit.soft, openFilesHard: limit.hard)
        s.ipLocalReservedPorts = KernelInfo.sysctl("net/ipv4/ip_local_reserved_ports")
        s.tcpTwReuse = KernelInfo.sysctlInt("net/ipv4/tcp_tw_reuse")
        s.tcpTwReuseDelayMs = KernelInfo.sysctlInt("net/ipv4/tcp_tw_reuse_delay")
        s.tcpMaxTwBuckets = KernelInfo.sysctlInt("net/ipv4/tcp_max_tw_buckets")
        s.tcpFinTimeout = KernelInfo.sysctlInt("net/ipv4/tcp_fin_timeout")
        s.tcpTimestamps = KernelInfo.sysctlInt("net/ipv4/tcp_timestamps")
        s.tcpSynRetries = KernelInfo.sysctlInt("net/ipv4/tcp_syn_retries")
        s.somaxconn = KernelInfo.sysctlInt("net/core/somaxconn")
        s.tcpMaxSynBacklog = KernelInfo.sysctlInt("net/ipv4/tcp_max_syn_backlog")
        s.fileMax = KernelInfo.sysctlInt("fs/file-max")
        s.nrOpen = KernelInfo.sysctlInt("fs/nr_open")
        s.nfConntrackMax = KernelInfo.sysctlInt("net/netfilter/nf_conntrack_max")
        s.ioUringDisabled = KernelInfo.sysctlInt("kernel/io_uring_disabled")
        return s
    }

    /// The ports connect() may pick for a socket: the per-socket range (IP_LOCAL_PORT_RANGE)
    /// intersected with ip_local_port_range, minus ip_local_reserved_ports.
    public static func effectiveRange(_ s: SystemSnapshot, perSocket: PortRange?) -> (low: UInt16, high: UInt16, size: Int) {
        var lo = s.ipLocalPortRange?.first ?? 32768, hi = s.ipLocalPortRange?.last ?? 60999
        if let p = perSocket, max(lo, p.low) <= min(hi, p.high) {
            lo = max(lo, p.low)
            hi = min(hi, p.high)
        }
        var size = Int(hi) - Int(lo) + 1
        for r in ProcCounters.reservedPorts(s.ipLocalReservedPorts ?? "") {
            let a = max(r.lowerBound, lo), b = min(r.upperBound, hi)
            if a <= b { size -= Int(b) - Int(a) + 1 }
        }
        return (lo, hi, max(0, size))
    }
}
