import Glibc

/// RLIMIT_NOFILE, read and raised with getrlimit/setrlimit.
public enum ResourceLimits {
    public struct OpenFiles: Sendable, Equatable {
        public let soft: UInt64
        public let hard: UInt64
    }

    public static func openFiles() -> OpenFiles {
        var r = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r)
        return OpenFiles(soft: UInt64(r.rlim_cur), hard: UInt64(r.rlim_max))
    }

    /// Raises the soft limit toward `wanted`: up to the hard limit, and past it up to
    /// fs.nr_open when the process may (root). Returns the limit in force afterwards.
    @discardableResult
    public static func raiseOpenFiles(to wanted: UInt64) -> OpenFiles {
        let now = openFiles()
        if now.soft >= wanted { return now }
        var r = rlimit()
        if wanted > now.hard, let nrOpen = KernelInfo.sysctlInt("fs/nr_open") {
            let target = min(wanted, UInt64(nrOpen))
            r.rlim_cur = rlim_t(target)
            r.rlim_max = rlim_t(max(target, now.hard))
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r) == 0 { return openFiles() }
        }
        r.rlim_cur = rlim_t(min(wanted, now.hard))
        r.rlim_max = rlim_t(now.hard)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r)
        return openFiles()
    }

    /// Sets the soft limit (down or up to the hard limit); returns the limit in force afterwards.
    @discardableResult
    public static func setOpenFiles(soft: UInt64) -> OpenFiles {
        let now = openFiles()
        var r = rlimit()
        r.rlim_cur = rlim_t(min(soft, now.hard))
        r.rlim_max = rlim_t(now.hard)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r)
        return openFiles()
    }
}
