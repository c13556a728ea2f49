import Glibc
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
        s.nfConntrackCount = KernelInfo.sysctlInt("net/netfilter/nf_conntrack_count")
        s.ioUringDisabled = KernelInfo.sysctlInt("kernel/io_uring_disabled")
        return s
    }

    /// The calling thread's network namespace: the inode of /proc/thread-self/ns/net (stat(2)) and
    /// /proc/sys/kernel/random/boot_id. nil when either cannot be read.
    public static func networkNamespace() -> NetworkNamespaceID? {
        var st = stat()
        guard stat("/proc/thread-self/ns/net", &st) == 0,
              let boot = KernelInfo.readSmallFile("/proc/sys/kernel/random/boot_id")?.filter({ !$0.isWhitespace }),
              !boot.isEmpty else { return nil }
        return NetworkNamespaceID(inode: UInt64(st.st_ino), bootId: boot)
    }
}
