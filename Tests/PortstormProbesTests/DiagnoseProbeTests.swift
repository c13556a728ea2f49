import PortstormProbes
import PortstormSystem
import Testing

/// The pure parts of diagnose's probes: firewall rule matching, proxy variables, HTTP answers; and
/// a route lookup that needs no privileges.
@Suite struct DiagnoseProbeTests {
    @Test func nftRulesNamingThePortAreFound() {
        let text = """
        table inet f {
        \tchain in {
        \t\ttype filter hook input priority filter; policy accept;
        \t\tct state invalid drop
        \t\ttcp dport 9000 reject with tcp reset
        \t\ttcp dport { 80, 9100-9200 } counter packets 0 bytes 0 drop
        \t\ttcp dport 9001 accept
        \t}
        }
        """
        #expect(FirewallRules.nftMatching(text, port: 9000) == ["table inet f chain in: tcp dport 9000 reject with tcp reset"])
        #expect(FirewallRules.nftMatching(text, port: 9150).count == 1)
        #expect(FirewallRules.nftMatching(text, port: 9001).isEmpty)
    }

    @Test func iptablesRulesNamingThePortAreFound() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 9000 -j REJECT --reject-with tcp-reset\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
        #expect(FirewallRules.iptablesMatching(text, port: 9000) == ["table filter: -A INPUT -p tcp -m tcp --dport 9000 -j REJECT --reject-with tcp-reset"])
        #expect(FirewallRules.iptablesMatching(text, port: 22).isEmpty)
    }

    @Test func proxyVariablesLoseTheirCredentials() {
        let env = ["HTTPS_PROXY": "http://user:pw@proxy:3128", "all_proxy": "socks5://proxy:1080", "PATH": "/bin"]
        #expect(ProxySettings.inEffect(env) == ["HTTPS_PROXY=http://***@proxy:3128", "all_proxy=socks5://proxy:1080"])
    }

    @Test func httpAnswersAndProxyHeaders() {
        let a = HTTPProbe.judge(Array("HTTP/1.1 503 Service Unavailable\r\nServer: cloudflare\r\nCF-RAY: 1234\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(a.outcome == "ok" && a.status == 503)
        #expect(HTTPProbe.proxyHeaders(a.headers) == ["Server: cloudflare", "CF-RAY: 1234"])
        #expect(HTTPProbe.proxyHeaders(["Server: nginx/1.24"]).isEmpty)
        let raw = HTTPProbe.judge(Array("SSH-2.0-OpenSSH\r\n".utf8))
        #expect(raw.outcome == "protocol_mismatch" && raw.sample == "SSH-2.0-OpenSSH\\r\\n")
    }

    @Test func routeLookupsReadTheRoutingTable() throws {
        let lo = try RouteTable.lookup(SocketAddress(ip: "127.0.0.1", port: 80)!)
        #expect(lo.isLocal && lo.interfaceName == "lo")
        #expect(RouteTable.hasRoute(to: SocketAddress(ip: "127.0.0.1", port: 80)!))
        #expect(PathProbe.observe(SocketAddress(ip: "127.0.0.1", port: 80)!)?.route == .local)
    }
}
