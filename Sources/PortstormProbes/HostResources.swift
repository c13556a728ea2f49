import Glibc
import PortstormSystem

/// What this machine has left for connections held open, read once before a run: free memory,
/// and the room of portstorm's own hold servers when they are the target.
public enum HostResources {
    /// MemAvailable from /proc/meminfo, in bytes; nil when unreadable.
    public static func memAvailableBytes() -> UInt64? {
        guard let text = KernelInfo.readSmallFile("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kib = UInt64(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// The `portstorm serve` processes of this network namespace listening on `target` (by their
    /// command line's --listen), with the connections they can still accept: per process, the
    /// soft RLIMIT_NOFILE (/proc/PID/limits) less its open descriptors (/proc/PID/fd). nil when
    /// none listens there, or when the port has other listeners too (sock_diag), whose limits are unknown.
    public static func localServers(target: SocketAddress) -> (processes: Int, room: Int)? {
        let ownNamespace = link("/proc/self/ns/net")
        let me = getpid()
        var processes = 0, room = 0
        guard let dir = opendir("/proc") else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let pid = Int32(name), pid != me,
                  KernelInfo.readSmallFile("/proc/\(pid)/comm") == "portstorm\n",
                  link("/proc/\(pid)/ns/net") == ownNamespace,
                  let args = KernelInfo.readSmallFile("/proc/\(pid)/cmdline")?.split(separator: "\0").map(String.init),
                  servesOn(args, target), let soft = openFileLimit(pid) else { continue }
            processes += 1
            room += max(0, soft - descriptors(pid))
        }
        guard processes > 0, Listeners.on(port: target.port).count == processes else { return nil }
        return (processes, room)
    }

    /// Whether a command line is `portstorm serve ... --listen ADDR:PORT` on the target (its
    /// address, or every address of its family).
    static func servesOn(_ args: [String], _ target: SocketAddress) -> Bool {
        guard args.count > 1, args[1] == "serve" else { return false }
        var listen = "127.0.0.1:8080"  // serve's default
        for (k, a) in args.enumerated() {
            if a == "--listen", k + 1 < args.count { listen = args[k + 1] }
            if a.hasPrefix("--listen=") { listen = String(a.dropFirst("--listen=".count)) }
        }
        guard let hp = try? HostPort.parse(listen).get(), hp.port == target.port else { return false }
        let host = hp.host.hasPrefix("[") ? String(hp.host.dropFirst().dropLast()) : hp.host
        return host == target.ip || (host == "0.0.0.0" && target.family == .ipv4) || (host == "::" && target.family == .ipv6)
    }

    /// The soft "Max open files" of /proc/PID/limits.
    static func openFileLimit(_ pid: Int32) -> Int? {
        guard let text = KernelInfo.readSmallFile("/proc/\(pid)/limits") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            return line.dropFirst("Max open files".count).split(separator: " ").first.flatMap { Int($0) }
        }
        return nil
    }

    /// Entries of /proc/PID/fd.
    static func descriptors(_ pid: Int32) -> Int {
        guard let dir = opendir("/proc/\(pid)/fd") else { return 0 }
        defer { closedir(dir) }
        var n = 0
        while let e = readdir(dir) { if e.pointee.d_name.0 != 0x2E { n += 1 } }  // not "." or ".."
        return n
    }

    static func link(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}
