import Foundation
import Glibc
import PortstormTestSupport
import Testing

extension TestNamespace {
    /// Starts a command inside the namespace in the background; the caller terminates it.
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", name] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// `Tcp: ActiveOpens` of the namespace (/proc/net/snmp is per namespace).
    func activeOpens() throws -> Int {
        let lines = try run(["cat", "/proc/net/snmp"]).stdout.split(separator: "\n").filter { $0.hasPrefix("Tcp:") }
        let names = lines[0].split(separator: " "), values = lines[1].split(separator: " ")
        return Int(values[names.firstIndex(of: "ActiveOpens")!])!
    }

    /// Runs portstorm inside the namespace.
    func portstorm(_ args: [String], environment: [String] = []) throws -> CLIProcess.Result {
        try run(["env"] + environment + [CLIProcess.binary.path] + args)
    }

    /// A fresh namespace for `body`, removed afterwards even when it throws or an expectation fails.
    static func with(_ body: (TestNamespace) throws -> Void) throws {
        let ns = try TestNamespace()
        defer {
            ns.remove()
            #expect(!TestNamespace.names().contains(ns.name), "namespace left behind")
        }
        try body(ns)
    }

    /// Waits until something listens on `port` inside the namespace (at most ~2 s).
    func waitForListener(_ port: UInt16) throws {
        for _ in 0..<40 {
            if try run(["ss", "-Hltn", "sport = :\(port)"]).stdout.contains(":\(port)") { return }
            usleep(50_000)
        }
    }
}

private let nftMissing = !FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") && !FileManager.default.isExecutableFile(atPath: "/sbin/nft")

/// Local vs remote paths and diagnose's sentences, each in a namespace of its own.
@Suite(.serialized, .enabled(if: HostCapabilities.networkNamespaces, "needs root and iproute2 for network namespaces"))
struct PathNamespaceTests {
    @Test func aDestinationWithNoRouteIsLocalAndSendsNoSYN() throws {
        try TestNamespace.with { ns in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-noroute-\(getpid()).json").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let before = try ns.activeOpens()
            let r = try ns.portstorm(["run", "10.99.0.5:80", "-n", "4", "-c", "2", "--no-observe", "-o", file])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try ns.activeOpens() == before, "a SYN left: ActiveOpens grew")
            #expect(r.stdout.contains("no_route      4  100.00%  local"), "\(r.stdout)")
            #expect(r.stdout.contains("[problem] this machine has no route to 10.99.0.5"))
            #expect(r.stdout.contains("an internal address: the client must be on the same network"))
            let record = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
            #expect((record["path"] as? [String: Any])?["route"] as? String == "none")
            if RecordSchemaTests.skipReason == nil {
                let v = try RecordSchemaTests.python([RecordSchemaTests.validator.path, "--strict", file])
                #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
            }

            let d = try ns.portstorm(["diagnose", "10.99.0.5:80", "--timeout", "300ms", "--attempts", "2"])
            #expect(d.status == 1)
            #expect(d.stdout.contains("[problem] 10.99.0.5 is an internal address: the client must be on the same network"), "\(d.stdout)")
            #expect(try ns.activeOpens() == before)
        }
    }

    @Test func anOnLinkAddressNobodyOwnsIsNamedByItsNeighbourEntry() throws {
        try TestNamespace.with { ns in
            // Both ends of a veth pair in the namespace; only one end has an address. Nobody owns 10.77.0.9.
            try TestNamespace.ip(["-n", ns.name, "link", "add", "pst0", "type", "veth", "peer", "name", "pst1"])
            try TestNamespace.ip(["-n", ns.name, "addr", "add", "10.77.0.1/24", "dev", "pst0"])
            try TestNamespace.ip(["-n", ns.name, "link", "set", "pst0", "up"])
            try TestNamespace.ip(["-n", ns.name, "link", "set", "pst1", "up"])
            let start = Date()
            let r = try ns.portstorm(["run", "10.77.0.9:80", "-n", "2", "-c", "2", "--connect-timeout", "6s"])
            #expect(Date().timeIntervalSince(start) < 8)
            #expect(r.stdout.contains("ehostunreach      2  100.00%  remote"), "\(r.stdout)")
            #expect(r.stdout.contains("[problem] no host answers ARP/ND for 10.77.0.9 on dev pst0"), "\(r.stdout)")
            #expect(r.stdout.contains("neighbour entry for 10.77.0.9: FAILED"))
            #expect(!r.stdout.contains("firewall") && !r.stdout.contains("check routes"))

            let d = try ns.portstorm(["diagnose", "10.77.0.10:80", "--timeout", "500ms", "--attempts", "2"])
            #expect(d.status == 1)
            #expect(d.stdout.contains("[problem] no host answers ARP/ND for 10.77.0.10 on dev pst0"), "\(d.stdout)")
            #expect(d.stdout.contains("neighbour entry for 10.77.0.10: INCOMPLETE") || d.stdout.contains("neighbour entry for 10.77.0.10: FAILED"))
        }
    }

    @Test(.enabled(if: !nftMissing, "nft is not installed"))
    func aRefusalTowardAWildcardListenerNamesTheFirewallRule() throws {
        try TestNamespace.with { ns in
            let server = try ns.start([CLIProcess.binary.path, "serve", "--mode", "accept-close", "--listen", "0.0.0.0:9000", "-d", "20s"])
            defer { server.terminate(); server.waitUntilExit() }
            try ns.waitForListener(9000)
            _ = try ns.run(["nft", "add table inet f"])
            _ = try ns.run(["nft", "add chain inet f in { type filter hook input priority 0; }"])
            let add = try ns.run(["nft", "add rule inet f in tcp dport 9000 reject with tcp reset"])
            #expect(add.status == 0, "\(add.stderr)")
            let d = try ns.portstorm(["diagnose", "127.0.0.1:9000", "--timeout", "500ms", "--attempts", "2"])
            #expect(d.status == 1)
            #expect(d.stdout.contains("[problem] a local firewall rule rejects connections to port 9000; the server listens on 0.0.0.0, which covers 127.0.0.1"), "\(d.stdout)")
            #expect(d.stdout.contains("table inet f chain in: tcp dport 9000 reject with tcp reset"))
            #expect(!d.stdout.contains("point the client at"))
            // A drop rule instead: the SYNs go unanswered, and the rule is named, not the accept queue.
            _ = try ns.run(["nft", "flush chain inet f in"])
            _ = try ns.run(["nft", "add rule inet f in tcp dport 9000 drop"])
            let dropped = try ns.portstorm(["diagnose", "127.0.0.1:9000", "--timeout", "300ms", "--attempts", "2"])
            #expect(dropped.status == 1)
            #expect(dropped.stdout.contains("[problem] a local firewall rule drops connections to port 9000"), "\(dropped.stdout)")
            #expect(dropped.stdout.contains("table inet f chain in: tcp dport 9000 drop"))
            // Without the rules: connects work.
            _ = try ns.run(["nft", "flush ruleset"])
            let ok = try ns.portstorm(["diagnose", "127.0.0.1:9000", "--timeout", "500ms", "--attempts", "2", "--protocol", "tcp"])
            #expect(ok.status == 0, "\(ok.stdout)")
        }
    }

    @Test func anIPv6OnlyServerWithAnIPv4Client() throws {
        try TestNamespace.with { ns in
            let server = try ns.start([CLIProcess.binary.path, "serve", "--mode", "accept-close", "--listen", "[::1]:9001", "-d", "20s"])
            defer { server.terminate(); server.waitUntilExit() }
            try ns.waitForListener(9001)
            let d = try ns.portstorm(["diagnose", "127.0.0.1:9001", "--timeout", "500ms", "--attempts", "2"])
            #expect(d.status == 1)
            #expect(d.stdout.contains("[problem] the server listens on IPv6 ::1 only; 127.0.0.1 is IPv4"), "\(d.stdout)")
            #expect(d.stdout.contains("-> connect to [::1]:9001"))
            #expect(!d.stdout.contains("nothing listens"))
        }
    }

    @Test func aNonLocalSourceIsNamedInDiagnoseAndInRunsWithoutObservation() throws {
        try TestNamespace.with { ns in
            let server = try ns.start([CLIProcess.binary.path, "serve", "--mode", "accept-close", "--listen", "127.0.0.1:9002", "-d", "20s"])
            defer { server.terminate(); server.waitUntilExit() }
            try ns.waitForListener(9002)
            let d = try ns.portstorm(["diagnose", "127.0.0.1:9002", "--source", "192.0.2.1", "--timeout", "500ms"])
            #expect(d.status == 1)
            #expect(d.stdout.contains("[problem] 192.0.2.1 is not an address of this machine"), "\(d.stdout)")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-source-\(getpid()).json").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let r = try ns.portstorm(["run", "127.0.0.1:9002", "--source", "192.0.2.1", "-n", "5", "-c", "2", "--no-observe", "-o", file])
            #expect(r.stdout.contains("[problem] 192.0.2.1 is not an address of this machine"), "\(r.stdout)")
            #expect(!r.stdout.contains("ephemeral ports used up"))
            if RecordSchemaTests.skipReason == nil {
                let v = try RecordSchemaTests.python([RecordSchemaTests.validator.path, "--strict", file])
                #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
            }
            let report = try CLIProcess.run(["report", file])
            #expect(report.stdout.contains("192.0.2.1 is not an address of this machine"), "\(report.stdout)")
        }
    }

    @Test func proxyVariablesAndAProxyAnswerAreNamedAndAHealthyServerExitsZero() throws {
        try TestNamespace.with { ns in
            let script = """
            import http.server, time
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200); self.send_header('Via', '1.1 varnish'); self.send_header('X-Cache', 'HIT')
                    self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', 9003), H); s.timeout = 0.5
            end = time.time() + 15
            while time.time() < end: s.handle_request()
            """
            let proxy = try ns.start(["python3", "-c", script])
            // SIGKILL: the test runner's children may inherit SIGTERM blocked, and Python then ignores it.
            defer { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
            let plain = try ns.start([CLIProcess.binary.path, "serve", "--mode", "http", "--listen", "127.0.0.1:9004", "-d", "20s"])
            defer { plain.terminate(); plain.waitUntilExit() }
            try ns.waitForListener(9003)
            try ns.waitForListener(9004)
            let d = try ns.portstorm(["diagnose", "127.0.0.1:9003", "--timeout", "1s", "--attempts", "1"],
                                     environment: ["HTTPS_PROXY=http://user:secret@proxy.example:3128", "no_proxy=localhost"])
            #expect(d.stdout.contains("[info]    your own client may be going through a proxy: HTTPS_PROXY set"), "\(d.stdout)")
            #expect(d.stdout.contains("HTTPS_PROXY=http://***@proxy.example:3128") && !d.stdout.contains("secret"))
            #expect(d.stdout.contains("[info]    a proxy or CDN answered for 127.0.0.1") && d.stdout.contains("Via: 1.1 varnish"))
            #expect(d.status == 0)
            let h = try ns.portstorm(["diagnose", "127.0.0.1:9004", "--timeout", "1s", "--attempts", "1"])
            #expect(h.status == 0, "\(h.stdout)")
            #expect(h.stdout.contains("[ok]      127.0.0.1:9004 accepts connections from here"))
            #expect(!h.stdout.lowercased().contains("websocket"))
            let ws = try ns.portstorm(["diagnose", "127.0.0.1:9004", "--timeout", "1s", "--attempts", "1", "--protocol", "ws"])
            #expect(ws.status == 1)
            #expect(ws.stdout.contains("[warning] a WebSocket handshake gets an ordinary HTTP answer"))
        }
    }
}
