import Foundation
import Glibc
import PortstormSystem
import PortstormTestSupport
import Testing

/// `make test`, as root, runs the test binary under `unshare --net` (loopback up) so that the host's
/// sockets, TIME_WAIT and ports cannot break the live tests, nor the tests disturb the host.
@Suite struct IsolationTests {
    @Test(.enabled(if: HostCapabilities.namespaceMakeStartedFrom != nil,
                   "make test isolates the tests only as root (unshare --net); PORTSTORM_TEST_NETNS is not set"))
    func theTestsRunInANetworkNamespaceOfTheirOwn() throws {
        let mine = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        let started = try #require(HostCapabilities.namespaceMakeStartedFrom)
        #expect(started.hasPrefix("net:["))
        #expect(mine != started, "the tests run in the namespace make started from (\(mine))")
        // Its loopback is up (make brings it up: a new namespace's lo starts down).
        let fd = try Socket.listener(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 1, nonBlocking: true)
        Socket.close(fd)
    }
}
