import PortstormSystem
import Testing

@Suite struct TargetURLTests {
    @Test func aURLGivesHostPortSchemeAndPath() throws {
        let http = try TargetURL.parse("http://127.0.0.1:8080/health?deep=1#top").get()
        #expect(http.hostPort == HostPort(host: "127.0.0.1", port: 8080))
        #expect(http.scheme == .http && http.path == "/health?deep=1")
        let ws = try TargetURL.parse("WS://[::1]/socket").get()
        #expect(ws.hostPort == HostPort(host: "::1", port: 80) && ws.scheme == .ws && ws.path == "/socket")
        let bare = try TargetURL.parse("http://example.com").get()
        #expect(bare.hostPort == HostPort(host: "example.com", port: 80) && bare.path == nil)
        let query = try TargetURL.parse("http://example.com?x=1").get()
        #expect(query.path == "/?x=1")
        let tcp = try TargetURL.parse("tcp://10.0.0.1:9000/").get()
        #expect(tcp.hostPort == HostPort(host: "10.0.0.1", port: 9000) && tcp.scheme == .tcp && tcp.path == nil)
        let https = try TargetURL.parse("https://example.com/x").get()
        #expect(https.hostPort == HostPort(host: "example.com", port: 443) && https.scheme == .https && https.path == "/x")
        #expect(https.scheme!.isTLS && https.scheme!.plain == .http)
        let wss = try TargetURL.parse("wss://[::1]:8443").get()
        #expect(wss.hostPort == HostPort(host: "::1", port: 8443) && wss.scheme!.plain == .ws && wss.scheme!.isTLS)
        let plain = try TargetURL.parse("127.0.0.1:9000").get()
        #expect(plain.scheme == nil && plain.path == nil && plain.hostPort.port == 9000)
    }

    @Test(arguments: [
        ("ftp://example.com:21", "portstorm does not speak 'ftp://'; it speaks tcp://, http://, ws://, https://, wss://, or give HOST:PORT"),
        ("tcp://127.0.0.1", "a tcp:// target needs one"),
        ("tcp://127.0.0.1:9000/x", "a tcp:// target takes no path"),
        ("http://", "has no host"),
        ("http:///path", "has no host"),
        ("http://user:pw@example.com/", "credentials in the URL are not supported"),
        ("http://127.0.0.1:99999/", "out of range in 'http://127.0.0.1:99999/'"),
        ("http://127.0.0.1:x/", "not a port number"),
        ("http://::1:80/", "in brackets"),
        ("http://h/a b", "percent-encoded"),
    ])
    func badURLsGetOneSentence(input: String, fragment: String) {
        guard case .failure(let e) = TargetURL.parse(input) else {
            Issue.record("'\(input)' was accepted")
            return
        }
        #expect(e.message.contains(fragment), "\(e.message)")
        #expect(!e.message.contains("\n"))
    }
}
