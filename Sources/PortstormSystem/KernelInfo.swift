import Glibc

/// Small reads of the running kernel's identity and settings.
public enum KernelInfo {
    /// The kernel release, from uname(2).
    public static func release() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    /// The text of a file under /proc/sys (e.g. "net/ipv4/ip_local_port_range"), trimmed; nil if unreadable.
    public static func sysctl(_ path: String) -> String? {
        guard let text = readSmallFile("/proc/sys/" + path) else { return nil }
        return String(text.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }

    /// A /proc/sys value parsed as one integer.
    public static func sysctlInt(_ path: String) -> Int? { sysctl(path).flatMap { Int($0) } }

    /// net.ipv4.ip_local_port_range of the current network namespace.
    public static func localPortRange() -> ClosedRange<UInt16>? {
        guard let parts = sysctl("net/ipv4/ip_local_port_range")?.split(whereSeparator: { $0 == " " || $0 == "\t" }),
              parts.count == 2, let lo = UInt16(parts[0]), let hi = UInt16(parts[1]), lo <= hi else { return nil }
        return lo...hi
    }

    /// Reads a whole small file with open/read (no Foundation); nil if it cannot be opened.
    public static func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
