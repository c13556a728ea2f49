import Glibc

/// This process's memory and CPU: VmRSS from /proc/self/status, the rest from getrusage(2).
public struct ProcessUsage: Sendable {
    /// Resident set size now (VmRSS), KiB.
    public let rssKiB: UInt64
    /// Peak resident set size so far (ru_maxrss), KiB.
    public let maxRssKiB: UInt64
    public let userSeconds: Double
    public let systemSeconds: Double

    public static func now() -> ProcessUsage {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        var rss: UInt64 = 0
        if let status = KernelInfo.readSmallFile("/proc/self/status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) {
            rss = UInt64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return ProcessUsage(rssKiB: rss, maxRssKiB: UInt64(u.ru_maxrss),
                            userSeconds: Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6,
                            systemSeconds: Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6)
    }
}
