import Glibc
import PortstormLab
import PortstormProbes
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

/// Opens `count` connections to `server` from `source` (kernel-chosen ports), blocking connect.
func connectMany(_ count: Int, to server: SocketAddress, from source: SocketAddress? = nil) -> [Int32] {
    (0..<count).compactMap { _ in
        let fd = Socket.tcp(domain: server.domain)
        if let source { _ = Socket.bindSource(fd, source) }
        guard fd >= 0, Socket.connectBlocking(fd, server) == 0 else { Socket.close(fd); return nil }
        return fd
    }
}

/// Polls the census until `check` holds or two seconds pass (the server side settles asynchronously).
func census(_ taker: CensusTaker, until check: (Census) -> Bool) throws -> Census {
    var c = try taker.take(atMs: 0, trigger: "test")
    for _ in 0..<40 where !check(c) {
        usleep(50_000)
        c = try taker.take(atMs: 0, trigger: "test")
    }
    return c
}

/// Sockets whose local port is `port` (the server's side of its connections), counted by state name.
func serverSideStates(port: UInt16) throws -> [String: Int] {
    var states: [String: Int] = [:]
    try SockDiag.dump(family: .ipv4, states: SockDiag.connectionStates, destinationPort: nil) { s in
        if s.sourcePort == port { states[SockDiag.stateNames[s.state] ?? "STATE_\(s.state)", default: 0] += 1 }
    }
    return states
}

@Suite(.serialized) struct CensusTests {
    let range = PortBudget.effectiveRange(SystemProbe.snapshot(), perSocket: nil)

    /// Each test runs in a network namespace of its own where it can. In a shared one, CI lost 4 of
    /// 40 TIME_WAIT tuples, and a loop beside other loopback traffic 5 of 25 (the server side held
    /// nothing, so the client did close first): other connects took the tuples over.
    @Test func countsEstablishedThenTimeWaitPerTuple() throws { try ThreadNetworkNamespace.whereAvailable { isolated in
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let taker = CensusTaker(target: server.address, range: range)
        // A port number may have served an earlier server: count growth over this baseline.
        let base = try taker.take(atMs: 0, trigger: "test")
        #expect(!isolated || base.tuples.isEmpty, "a namespace of its own starts with no connections: \(base.tuples)")
        func baseline(_ source: String, _ state: String) -> Int { base.tuples.first { $0.source == source }?.states[state] ?? 0 }
        func grew(_ c: Census, _ source: String, _ state: String) -> Int {
            (c.tuples.first { $0.source == source }?.states[state] ?? 0) - baseline(source, state)
        }

        let a = connectMany(40, to: server.address)
        let b = connectMany(25, to: server.address, from: SocketAddress(ip: "127.0.0.2", port: 0)!)
        #expect(a.count == 40 && b.count == 25)
        let open = try census(taker) { grew($0, "127.0.0.1", "ESTABLISHED") == 40 && grew($0, "127.0.0.2", "ESTABLISHED") == 25 }
        #expect(grew(open, "127.0.0.1", "ESTABLISHED") == 40)
        #expect(grew(open, "127.0.0.2", "ESTABLISHED") == 25)
        let t1 = try #require(open.tuples.first { $0.source == "127.0.0.1" })
        #expect(t1.destination == "127.0.0.1" && t1.port == server.address.port)
        #expect(t1.buckets.reduce(0, +) == t1.portsInUse && t1.buckets.count == CensusTaker.bucketCount)
        #expect(t1.portsInUse >= 40 && t1.rangeSize == range.size)
        #expect(open.busiest?.source == "127.0.0.1")

        // The client closes first: this side keeps each tuple in TIME_WAIT, and nothing stays open.
        (a + b).forEach(Socket.close)
        let closed = try census(taker) { grew($0, "127.0.0.1", "TIME_WAIT") >= 40 && grew($0, "127.0.0.2", "TIME_WAIT") >= 25 }
        #expect(grew(closed, "127.0.0.1", "ESTABLISHED") <= 0 && grew(closed, "127.0.0.2", "ESTABLISHED") <= 0)
        // Alone in its namespace, every closed tuple is in TIME_WAIT. Sharing one, nearly all:
        // tcp_tw_reuse=2 lets other loopback connects take a TIME_WAIT tuple over.
        // When one is missing, the server's side says whether it closed first (its TIME_WAIT, not ours).
        let serverSide = try serverSideStates(port: server.address.port)
        #expect(grew(closed, "127.0.0.1", "TIME_WAIT") >= (isolated ? 40 : 36), "\(closed.tuples); server side: \(serverSide)")
        #expect(grew(closed, "127.0.0.2", "TIME_WAIT") >= (isolated ? 25 : 22), "\(closed.tuples); server side: \(serverSide)")
    } }

    @Test func ignoresSocketsToOtherDestinations() throws { try ThreadNetworkNamespace.whereAvailable { _ in
        let target = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        let other = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { target.stop(); other.stop() }
        let taker = CensusTaker(target: target.address, range: range)
        // Growth over a baseline: the port number may have served an earlier server.
        let before = try taker.take(atMs: 0, trigger: "test").tuples.first?.states["ESTABLISHED"] ?? 0
        let mine = connectMany(5, to: target.address)
        let theirs = connectMany(9, to: other.address)
        defer { (mine + theirs).forEach(Socket.close) }
        let c = try census(taker) { ($0.tuples.first?.states["ESTABLISHED"] ?? 0) - before == 5 }
        #expect(c.tuples.count == 1)
        #expect((c.tuples.first?.states["ESTABLISHED"] ?? 0) - before == 5, "the 9 connections to another port are not counted")
    } }

    @Test func countsOnlyPortsInsideTheEffectiveRange() throws { try ThreadNetworkNamespace.whereAvailable { _ in
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let fds = connectMany(10, to: server.address)
        defer { fds.forEach(Socket.close) }
        // A range that holds none of the kernel's picks: the sockets are counted by state, not as ports in use.
        let c = try census(CensusTaker(target: server.address, range: (1, 2, 2))) { $0.tuples.first?.states["ESTABLISHED"] == 10 }
        #expect(c.tuples.first?.states["ESTABLISHED"] == 10)
        #expect(c.tuples.first?.portsInUse == 0)
    } }

    @Test(.enabled(if: HostCapabilities.ipv6Loopback, "::1 is not configured on this machine (no IPv6 loopback)"))
    func ipv6Tuples() throws { try ThreadNetworkNamespace.whereAvailable { _ in
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "::1", port: 0)!)
        defer { server.stop() }
        let taker = CensusTaker(target: server.address, range: range)
        let before = try taker.take(atMs: 0, trigger: "test").tuples.first?.states["ESTABLISHED"] ?? 0
        let fds = connectMany(12, to: server.address)
        defer { fds.forEach(Socket.close) }
        let c = try census(taker) { ($0.tuples.first?.states["ESTABLISHED"] ?? 0) - before == 12 }
        #expect(c.tuples.count == 1)
        #expect(c.tuples.first?.source == "::1" && c.tuples.first?.destination == "::1")
        #expect((c.tuples.first?.states["ESTABLISHED"] ?? 0) - before == 12)
    } }
}
