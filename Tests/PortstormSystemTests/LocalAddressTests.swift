import Glibc
import PortstormSystem
import Testing

/// Whether an address is this machine's is asked without taking a port (IP_BIND_ADDRESS_NO_PORT).
@Suite struct LocalAddressTests {
    @Test func loopbackIsLocalAndADocumentationAddressIsNot() {
        #expect(Socket.checkLocalAddress(SocketAddress(ip: "127.0.0.1", port: 80)!) == 0)
        #expect(Socket.checkLocalAddress(SocketAddress(ip: "127.0.0.9", port: 0)!) == 0)  // all of 127/8 is on lo
        #expect(Socket.checkLocalAddress(SocketAddress(ip: "192.0.2.1", port: 0)!) == -EADDRNOTAVAIL)
    }
}
