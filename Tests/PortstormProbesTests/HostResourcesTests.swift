import Glibc
@testable import PortstormProbes
import PortstormSystem
import Testing

@Suite struct HostResourcesTests {
    @Test func aServeCommandLineIsMatchedToItsTarget() throws {
        let target = try #require(SocketAddress(ip: "127.0.0.1", port: 9000))
        #expect(HostResources.servesOn(["portstorm", "serve", "--mode", "hold", "--listen", "127.0.0.1:9000", "--reuse-port"], target))
        #expect(HostResources.servesOn(["portstorm", "serve", "--listen=0.0.0.0:9000"], target))
        #expect(!HostResources.servesOn(["portstorm", "serve", "--listen", "127.0.0.1:9001"], target))
        #expect(!HostResources.servesOn(["portstorm", "serve", "--listen", "127.0.0.2:9000"], target))
        #expect(!HostResources.servesOn(["portstorm", "run", "127.0.0.1:9000"], target))
        // serve's default address is 127.0.0.1:8080.
        #expect(HostResources.servesOn(["portstorm", "serve", "--mode", "hold"], try #require(SocketAddress(ip: "127.0.0.1", port: 8080))))
        #expect(HostResources.servesOn(["portstorm", "serve", "--listen", "[::]:9000"], try #require(SocketAddress(ip: "::1", port: 9000))))
    }

    @Test func theOpenFileLimitAndDescriptorsOfAProcessAreRead() throws {
        var r = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r)
        #expect(HostResources.openFileLimit(getpid()) == Int(r.rlim_cur))
        let before = HostResources.descriptors(getpid())
        let fd = Socket.tcp(domain: AF_INET)
        defer { Socket.close(fd) }
        #expect(HostResources.descriptors(getpid()) == before + 1)
    }

    @Test func memAvailableIsReadFromMeminfo() throws {
        let bytes = try #require(HostResources.memAvailableBytes())
        #expect(bytes > 0 && bytes % 1024 == 0)
    }
}
