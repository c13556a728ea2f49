import Glibc
import PortstormSystem

/// Test-only reading of /proc/net/tcp and tcp6: enough to count sockets by port and state, and to
/// find local ports nobody uses. (The product's census uses sock_diag; tests read /proc to stay
/// independent of the code under test.)
public enum ProcNetTCP {
    public struct Entry {
        public let localIP: String
        public let localPort: UInt16
        public let remotePort: UInt16
        /// Kernel TCP state number: 1 ESTABLISHED, 6 TIME_WAIT, 10 LISTEN, ...
        public let state: Int
    }

    public static let timeWait = 6
    public static let established = 1

    /// Every TCP socket of the process's namespace, or of `directory`'s (/proc/thread-self/net for
    /// a thread that moved into a namespace of its own).
    public static func entries(in directory: String = "/proc/net") -> [Entry] {
        ["\(directory)/tcp", "\(directory)/tcp6"].flatMap { path -> [Entry] in
            // /proc files report size 0: read them with read() until EOF, not with Foundation.
            guard let text = KernelInfo.readSmallFile(path, limit: 256 << 20) else { return [] }
            return text.split(separator: "\n").dropFirst().compactMap(parse)
        }
    }

    /// `  0: 0100007F:1F90 0100007F:D2F0 06 ...`: addresses are hex, IPv4 in little-endian.
    public static func parse(_ line: Substring) -> Entry? {
        let f = line.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count > 4 else { return nil }
        let local = f[1].split(separator: ":"), remote = f[2].split(separator: ":")
        guard local.count == 2, remote.count == 2, let lp = UInt16(local[1], radix: 16),
              let rp = UInt16(remote[1], radix: 16), let st = Int(f[3], radix: 16) else { return nil }
        var ip = String(local[0])
        if ip.count == 8, let v = UInt32(ip, radix: 16) {
            ip = "\(v & 0xFF).\(v >> 8 & 0xFF).\(v >> 16 & 0xFF).\(v >> 24)"
        }
        return Entry(localIP: ip, localPort: lp, remotePort: rp, state: st)
    }

    /// Polls until at least `wanted` client-side sockets toward `port` are in `state` (the peer's close can lag
    /// the end of a run by a few milliseconds), or `seconds` pass; returns the last count.
    public static func await(_ wanted: Int, state: Int, port: UInt16, seconds: Double = 3) -> Int {
        let deadline = monotonicNanos() + UInt64(seconds * 1e9)
        var n = countToward(state: state, port: port)
        while n < wanted && monotonicNanos() < deadline {
            usleep(50_000)
            n = countToward(state: state, port: port)
        }
        return n
    }

    /// Client-side sockets in `state` toward `port` (its remote port). Safer than matching either
    /// side: earlier clients may have left TIME_WAIT with `port` as their own local port.
    public static func countToward(state: Int, port: UInt16) -> Int {
        entries().filter { $0.state == state && $0.remotePort == port }.count
    }

    /// Sockets in `state` on either side of connections to or from `port`.
    public static func count(state: Int, port: UInt16) -> Int {
        entries().filter { $0.state == state && ($0.localPort == port || $0.remotePort == port) }.count
    }

    /// A window of `size` consecutive ports inside the namespace's ephemeral range that no socket
    /// uses as its local port, avoiding `avoid`.
    public static func freeWindow(size: Int, avoiding avoid: UInt16) -> ClosedRange<UInt16>? {
        let used = Set(entries().map(\.localPort))
        guard let range = KernelInfo.localPortRange() else { return nil }
        var start = (Int(range.lowerBound) + 1000) / 10 * 10
        while start + size - 1 <= Int(range.upperBound) {
            let w = UInt16(start)...UInt16(start + size - 1)
            if !w.contains(avoid) && w.allSatisfy({ !used.contains($0) }) { return w }
            start += size
        }
        return nil
    }
}
