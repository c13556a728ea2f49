import ArgumentParser
import Glibc
import PortstormSystem

/// Checks, before signal handling and rings are set up, that the process has descriptors to
/// spare: libdispatch's signal sources need an eventfd and an epoll descriptor, a run needs a
/// ring, a netlink socket, /proc files, its output file and at least one socket. Without this,
/// a very low limit (`prlimit --nofile=4`) crashes inside libdispatch or reads as an io_uring fault.
enum Descriptors {
    /// Free descriptors a command needs to start. Measured with prlimit --nofile=N: run -n 10
    /// worked from 9 (3 for stdio), plan from 10, demo from 12; 16 leaves a margin. Below these,
    /// libdispatch crashed (SIGILL) or io_uring_setup failed with EMFILE.
    static func minimum(for command: ParsableCommand) -> Int {
        switch command {
        case is Report: return 1
        case is Portstorm: return 0
        default: return 16
        }
    }

    static func require(for command: ParsableCommand) throws(CLIError) {
        let needed = minimum(for: command)
        guard needed > 0 else { return }
        let inUse = openCount()
        var limit = ResourceLimits.openFiles()
        if limit.soft < UInt64(inUse + needed) { limit = ResourceLimits.raiseOpenFiles(to: UInt64(inUse + needed)) }
        let free = Int(min(limit.soft, 1 << 20)) - inUse
        guard free < needed else { return }
        let name = type(of: command)._commandName
        throw .unavailable(
            "the open-file limit is too low: RLIMIT_NOFILE is \(limit.soft) (hard limit \(limit.hard)) with \(inUse) descriptors open, "
            + "so \(max(0, free)) \(free == 1 ? "is" : "are") free and portstorm \(name) needs at least \(needed) free; "
            + "raise it with ulimit -n 1024 (or prlimit --nofile=1024)")
    }

    /// Descriptors open in this process: the entries of /proc/self/fd, or, when no descriptor is
    /// free to list it (EMFILE) or /proc is absent, fcntl(F_GETFD) over every number below the soft
    /// limit (up to 65,536; it needs no descriptor).
    static func openCount() -> Int {
        if let dir = opendir("/proc/self/fd") {
            defer { closedir(dir) }
            var n = 0
            while let entry = readdir(dir) {
                if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { n += 1 }
            }
            return n - 1  // the listing's own descriptor
        }
        let soft = min(ResourceLimits.openFiles().soft, 65_536)
        var n = 0
        for fd in 0..<Int32(soft) where fcntl(fd, F_GETFD) != -1 { n += 1 }
        return n
    }
}
