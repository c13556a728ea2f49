import Foundation
import Glibc
import PortstormSystem

/// What this machine offers the tests, probed once; tests that need what is missing are disabled
/// by the runner with the reason (`.enabled(if:)`), never counted as passed.
public enum HostCapabilities {
    /// Whether a TCP socket can listen on [::1] (IPv6 loopback configured and enabled).
    public static let ipv6Loopback: Bool = {
        guard let fd = try? Socket.listener(SocketAddress(ip: "::1", port: 0)!, backlog: 1, nonBlocking: true) else { return false }
        Socket.close(fd)
        return true
    }()

    /// Whether a C compiler (`cc` on PATH) is there.
    public static let cCompiler: Bool = run(["cc", "--version"]) == 0

    /// Whether network namespaces can be made (root, and iproute2's ip).
    public static let networkNamespaces: Bool =
        geteuid() == 0 && ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].contains(where: FileManager.default.isExecutableFile)

    /// The namespace `make test` started from (`net:[inode]`, as /proc/self/ns/net reads), set when
    /// it ran the tests under `unshare --net`; nil otherwise.
    public static let namespaceMakeStartedFrom: String? = ProcessInfo.processInfo.environment["PORTSTORM_TEST_NETNS"]

    /// Exit status of a command found on PATH, output discarded (127 when it cannot start).
    public static func run(_ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return 127 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
