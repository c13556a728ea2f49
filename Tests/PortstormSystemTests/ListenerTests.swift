import Glibc
import PortstormSystem
import Testing

/// The built-in servers listen through `Socket.listener`.
@Suite struct ListenerTests {
    /// SO_REUSEADDR, as every server sets it: without it a restarted server cannot bind its port
    /// while connections of the previous one sit in TIME_WAIT.
    @Test func aListenerSetsSOReuseAddr() throws {
        let fd = try Socket.listener(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 4, nonBlocking: true)
        defer { Socket.close(fd) }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &value, &length) == 0)
        #expect(value == 1)
    }

    /// With SO_REUSEADDR a second listener can take the port of one just closed after it
    /// served a connection (that connection's server side is left in TIME_WAIT).
    @Test func aPortInTimeWaitCanBeListenedOnAgain() throws {
        let first = try Socket.listener(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 4, nonBlocking: false)
        let address = try #require(Socket.localAddress(first))
        let client = Socket.tcp(domain: AF_INET)
        #expect(Socket.connectBlocking(client, address) == 0)
        let served = Socket.accept(first)
        #expect(served >= 0)
        Socket.close(served)   // the server closes first: its side goes to TIME_WAIT
        Socket.close(first)
        usleep(50_000)
        Socket.close(client)
        let again = try Socket.listener(address, backlog: 4, nonBlocking: true)
        Socket.close(again)
    }

    /// `serve --reuse-port`: listeners that all set SO_REUSEPORT share one address (the kernel
    /// spreads connections over them); one without it is still refused (the port is taken).
    @Test func reusePortListenersShareAnAddressAndOthersAreRefused() throws {
        let first = try Socket.listener(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 4, nonBlocking: true, reusePort: true)
        defer { Socket.close(first) }
        let address = try #require(Socket.localAddress(first))
        let second = try Socket.listener(address, backlog: 4, nonBlocking: true, reusePort: true)
        Socket.close(second)
        #expect(throws: SystemError.self) { Socket.close(try Socket.listener(address, backlog: 4, nonBlocking: true)) }
    }
}
