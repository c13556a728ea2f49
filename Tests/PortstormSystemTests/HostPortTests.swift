import PortstormSystem
import Testing

@Suite struct HostPortTests {
    @Test func parsesNamesIPv4AndBracketedIPv6() throws {
        #expect(try HostPort.parse("example.com:80").get() == HostPort(host: "example.com", port: 80))
        #expect(try HostPort.parse("127.0.0.1:8080").get() == HostPort(host: "127.0.0.1", port: 8080))
        #expect(try HostPort.parse("[::1]:65535").get() == HostPort(host: "::1", port: 65535))
        #expect(try HostPort.parse(" 10.0.0.1:1 ").get().port == 1)
    }

    @Test(arguments: [
        ("nonsense", "has no port"),
        ("127.0.0.1:0", "out of range"),
        ("127.0.0.1:65536", "out of range"),
        ("127.0.0.1:http", "not a port number"),
        ("127.0.0.1:", "not a port number"),
        (":80", "has no host"),
        ("::1:80", "in brackets"),
        ("[::1:80", "closing ']'"),
        ("[::1]80", "has no port"),
        ("host:-1", "not a port number"),
    ])
    func rejectsBadTargetsWithOneSentence(input: String, fragment: String) {
        guard case .failure(let e) = HostPort.parse(input) else {
            Issue.record("'\(input)' was accepted")
            return
        }
        #expect(e.message.contains(fragment), "\(e.message)")
        #expect(!e.message.contains("\n"))
    }

    @Test func socketAddressesRoundTrip() throws {
        let a = try #require(SocketAddress(ip: "127.0.0.5", port: 9))
        #expect(a.family == .ipv4 && a.ip == "127.0.0.5" && a.port == 9 && a.isLoopback)
        #expect(a.description == "127.0.0.5:9")
        let b = try #require(SocketAddress(ip: "::1", port: 443))
        #expect(b.family == .ipv6 && b.isLoopback && b.description == "[::1]:443")
        #expect(SocketAddress(ip: "10.1.2.3", port: 1)?.isLoopback == false)
        #expect(SocketAddress(ip: "not-an-ip", port: 1) == nil)
        var c = a
        c.port = 4000
        #expect(c.port == 4000 && c.ip == "127.0.0.5")
        #expect(SocketAddress(ipv4Value: a.ipv4Value! + 1, port: 0).ip == "127.0.0.6")
    }

    @Test func resolvesLocalhostAndReportsUnknownNames() throws {
        let local = try Resolver.resolve("localhost", port: 80).get()
        #expect(!local.isEmpty && local.allSatisfy(\.isLoopback))
        guard case .failure(let e) = Resolver.resolve("no-such-host.invalid", port: 80) else {
            Issue.record("an .invalid name resolved")
            return
        }
        #expect(e.message.hasPrefix("cannot resolve 'no-such-host.invalid'"))
    }
}
