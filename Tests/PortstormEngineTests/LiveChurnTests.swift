import Foundation
import Glibc
import PortstormEngine
import PortstormLab
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

/// Runs a configuration through the engine and checks the accounting invariant on every run.
func churn(_ config: RunConfig, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunRecord {
    let plan = try RunPlan.make(config).get()
    let record = try Engine.run(plan, control: RunControl())
    #expect(record.totals.isBalanced,
            "attempted \(record.totals.attempted) != outcomes \(record.totals.outcomes.total) + in flight \(record.totals.inFlightAtEnd)",
            sourceLocation: sourceLocation)
    let perSecond = record.timeline.reduce(UInt64(0)) { $0 + $1.attempts }
    #expect(perSecond == record.totals.attempted, "timeline attempts", sourceLocation: sourceLocation)
    let finished = record.timeline.reduce(UInt64(0)) { $0 + $1.ok + $1.failures.values.reduce(0, +) }
    #expect(finished == record.totals.outcomes.total, "timeline outcomes", sourceLocation: sourceLocation)
    return record
}

func serve(_ mode: ServerMode, _ ip: String = "127.0.0.1") throws -> TargetServer {
    try TargetServer.start(mode: mode, listen: SocketAddress(ip: ip, port: 0)!)
}

/// Live runs against the built-in servers on loopback. Serialized: several of them count sockets.
@Suite(.serialized) struct LiveChurnTests {
    @Test func twentyThousandConnectionsAllSucceedWithExactTotals() throws {
        let server = try serve(.acceptClose)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 100, durationSeconds: 60, connections: 20_000)
        c.close = .server
        let r = try churn(c)
        #expect(r.totals.attempted == 20_000)
        #expect(r.totals.outcomes[.ok] == 20_000)
        #expect(r.totals.outcomes.failures == 0 && r.totals.inFlightAtEnd == 0)
        #expect(r.stopReason == .connections)
        #expect(r.latency.connect.count == 20_000)
        #expect(server.accepted == 20_000)
    }

    @Test func aClosedPortIsRefused() throws {
        // A bound but not listening socket holds the port: connects to it are refused (RST).
        let fd = Socket.tcp(domain: AF_INET)
        defer { Socket.close(fd) }
        #expect(Socket.bind(fd, SocketAddress(ip: "127.0.0.1", port: 0)!) == 0)
        let port = try #require(Socket.localAddress(fd)).port
        let r = try churn(RunConfig(target: "127.0.0.1:\(port)", concurrency: 10, durationSeconds: 30, connections: 200))
        #expect(r.totals.outcomes[.econnrefused] == 200)
        #expect(Outcome.econnrefused.cause == .remote)
    }

    @Test func aBlackholeTimesOutOnTheRunsOwnDeadline() throws {
        let server = try serve(.blackhole)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 5, durationSeconds: 30, connections: 5)
        c.connectTimeoutMs = 300
        let start = monotonicNanos()
        let r = try churn(c)
        #expect(r.totals.outcomes[.connectTimeout] == 5)
        #expect(monotonicNanos() - start >= 300_000_000)
        #expect(server.accepted == 0)
    }

    @Test func aTenPortWindowGivesExactlyTenOkAndTenEaddrnotavail() throws {
        let server = try serve(.hold)
        defer { server.stop() }
        let window = try #require(ProcNetTCP.freeWindow(size: 10, avoiding: server.address.port),
                                  "no free 10-port window; \(ProcNetTCP.entries().count) sockets listed")
        var c = RunConfig(target: server.address.description, concurrency: 20, durationSeconds: 30, connections: 20)
        c.localPorts = PortRange(low: window.lowerBound, high: window.upperBound)
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 10)
        #expect(r.totals.outcomes[.eaddrnotavail] == 10)
        #expect(r.totals.outcomes.total == 20)
        #expect(Outcome.eaddrnotavail.cause == .local)
    }

    @Test func rstLeavesNoTimeWaitWhileAClientCloseDoes() throws {
        // Counted as growth over the run: a server port number can be one an earlier server had,
        // with TIME_WAIT from that earlier life still toward it.
        let rstServer = try serve(.hold)
        defer { rstServer.stop() }
        let rstBefore = ProcNetTCP.countToward(state: ProcNetTCP.timeWait, port: rstServer.address.port)
        var c = RunConfig(target: rstServer.address.description, concurrency: 20, durationSeconds: 30, connections: 300)
        c.close = .rst
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 300)
        usleep(200_000)
        #expect(ProcNetTCP.countToward(state: ProcNetTCP.timeWait, port: rstServer.address.port) == rstBefore, "RST adds no TIME_WAIT")

        // The control: the same run closing with FIN leaves this side in TIME_WAIT, about one per
        // connection. About, because tcp_tw_reuse=2 (the default) lets a new loopback connect take
        // over a TIME_WAIT tuple (TWRecycled in /proc/net/netstat): a few percent vanish that way.
        let finServer = try serve(.hold)
        defer { finServer.stop() }
        let finBefore = ProcNetTCP.countToward(state: ProcNetTCP.timeWait, port: finServer.address.port)
        c.target = finServer.address.description
        c.close = .client
        let f = try churn(c)
        #expect(f.totals.outcomes[.ok] == 300)
        #expect(ProcNetTCP.await(finBefore + 300, state: ProcNetTCP.timeWait, port: finServer.address.port, seconds: 1) - finBefore > 250)
    }

    @Test func httpChurnChecksTheStatusLine() throws {
        let http = try serve(.http)
        defer { http.stop() }
        var c = RunConfig(target: http.address.description, concurrency: 20, durationSeconds: 30, connections: 2_000)
        c.wireProtocol = .http
        c.close = .server
        let ok = try churn(c)
        #expect(ok.totals.outcomes[.ok] == 2_000)

        // The same request to a service that does not speak HTTP (echo sends the GET back:
        // no status line) is a protocol mismatch.
        let echo = try serve(.echo)
        defer { echo.stop() }
        c.target = echo.address.description
        c.close = .client
        c.connections = 100
        let bad = try churn(c)
        #expect(bad.totals.outcomes[.protocolMismatch] == 100)
    }

    @Test func sendAndExpectAgainstEcho() throws {
        let echo = try serve(.echo)
        defer { echo.stop() }
        var c = RunConfig(target: echo.address.description, concurrency: 10, durationSeconds: 30, connections: 200)
        c.send = "ping\\n"
        c.expect = "ping"
        let ok = try churn(c)
        #expect(ok.totals.outcomes[.ok] == 200)
        c.expect = "pong"
        c.responseTimeoutMs = 300
        c.connections = 20
        let bad = try churn(c)
        // Echo answers "ping" and waits: when the answer deadline falls due, the server has answered
        // something else (not nothing), so it is a mismatch with the answer kept, not a timeout.
        #expect(bad.totals.outcomes[.protocolMismatch] == 20)
        #expect(bad.totals.outcomes[.responseTimeout] == 0)
        #expect(bad.totals.mismatchSamples == ["ping\\n"])
    }

    @Test func anHTTP10AnswerWithoutTheExpectedTextIsAMismatchAtOnce() throws {
        let http = try serve(.http)
        defer { http.stop() }
        var c = RunConfig(target: http.address.description, concurrency: 2, durationSeconds: 30, connections: 20)
        c.send = "GET / HTTP/1.0\\r\\n\\r\\n"
        c.expect = "NOPE"
        // HTTP/1.0 without keep-alive: the server closes after its answer, so the answer is judged
        // at the close, long before the 5 s deadline (20 of them, 2 at a time, took 50 s before).
        let start = monotonicNanos()
        let bad = try churn(c)
        #expect(bad.totals.outcomes[.protocolMismatch] == 20)
        #expect(bad.totals.mismatchSamples.first?.hasPrefix("HTTP/1.1 200 OK\\r\\n") == true)
        #expect(monotonicNanos() - start < 3_000_000_000)
        c.expect = "200 OK"
        #expect(try churn(c).totals.outcomes[.ok] == 20)
    }

    @Test func waitingForTheServerToCloseIsBounded() throws {
        let hold = try serve(.hold)
        defer { hold.stop() }
        var c = RunConfig(target: hold.address.description, concurrency: 10, durationSeconds: 30, connections: 10)
        c.close = .server
        c.responseTimeoutMs = 200
        let r = try churn(c)
        #expect(r.totals.outcomes[.responseTimeout] == 10)
    }

    @Test func openLoopRateIsKeptAndTheTimelineHasOneEntryPerSecond() throws {
        let server = try serve(.acceptClose)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, rate: 400, concurrency: 100, durationSeconds: 2)
        c.close = .server
        let r = try churn(c)
        #expect(r.totals.attempted >= 790 && r.totals.attempted <= 801, "\(r.totals.attempted)")
        #expect(r.totals.requestedRate == 400)
        #expect(r.timeline.count >= 2)
        #expect(r.timeline[0].attempts >= 390 && r.timeline[0].attempts <= 401)
        #expect(r.stopReason == .duration)
        #expect(r.totals.missed == 0, "a run that keeps its schedule misses nothing")
        for s in r.timeline { #expect((s.connectLatencyUs?.max ?? 0) <= r.latency.connect.max) }
    }

    @Test func aFullConcurrencyCapShowsAsDelayedAndMissed() throws {
        let hold = try serve(.hold)
        defer { hold.stop() }
        // 2 slots, each held for 300 ms: at most ~7 attempts/s can start, far below the 200/s asked.
        var c = RunConfig(target: hold.address.description, rate: 200, concurrency: 2, durationSeconds: 1)
        c.close = .server
        c.responseTimeoutMs = 300
        let r = try churn(c)
        #expect(r.totals.attempted < 20)
        #expect(r.totals.missed > 150, "missed \(r.totals.missed)")
        #expect(r.totals.delayed > 0)
    }

    @Test func threadsSplitTheWorkExactly() throws {
        let server = try serve(.acceptClose)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 64, durationSeconds: 60, connections: 5_001)
        c.close = .server
        c.threads = 2
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 5_001)
    }

    @Test func sourceAddressesAreSpreadOverTheRange() throws {
        let hold = try serve(.hold)
        defer { hold.stop() }
        var c = RunConfig(target: hold.address.description, concurrency: 30, durationSeconds: 30, connections: 30)
        c.sources = ["127.0.0.2-127.0.0.4"]
        c.close = .client
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 30)
        #expect(r.sources == ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
        _ = ProcNetTCP.await(30, state: ProcNetTCP.timeWait, port: hold.address.port, seconds: 1)
        // Only the chosen sources: earlier tests may have left 127.0.0.1 TIME_WAIT toward a server
        // that had this port number before.
        let sources: Set = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        let locals = ProcNetTCP.entries().filter {
            $0.remotePort == hold.address.port && $0.state == ProcNetTCP.timeWait && sources.contains($0.localIP)
        }
        #expect(Set(locals.map(\.localIP)) == sources)
        #expect(locals.count > 20)
    }

    @Test(.enabled(if: HostCapabilities.ipv6Loopback, "::1 is not configured on this machine (no IPv6 loopback)"))
    func ipv6Loopback() throws {
        let server = try serve(.acceptClose, "::1")
        defer { server.stop() }
        var c = RunConfig(target: "[::1]:\(server.address.port)", concurrency: 10, durationSeconds: 30, connections: 500)
        c.close = .server
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 500)
        #expect(r.target.used == "[::1]:\(server.address.port)")
    }

    @Test func aStopRequestEndsARunEarlyWithNothingLost() throws {
        let hold = try serve(.hold)
        defer { hold.stop() }
        var c = RunConfig(target: hold.address.description, rate: 100, concurrency: 1000, durationSeconds: 30)
        c.close = .server
        c.responseTimeoutMs = 60_000
        let control = RunControl()
        let plan = try RunPlan.make(c).get()
        let stopper = OSThread {
            usleep(700_000)
            control.requestStop()   // drain: the held connections would wait a minute...
            usleep(200_000)
            control.escalate()      // ...so cancel them, as a second Ctrl-C does
        }
        let start = monotonicNanos()
        let r = try Engine.run(plan, control: control)
        stopper.join()
        #expect(monotonicNanos() - start < 5_000_000_000)
        #expect(r.stopReason == .interrupted)
        #expect(r.totals.attempted >= 50)
        #expect(r.totals.isBalanced)
        #expect(r.totals.inFlightAtEnd > 0, "held connections were cancelled, so they end in flight")
        // 1000 slots never fill at 100/s: everything due before the stop started.
        #expect(r.totals.missed == 0)
    }

    @Test func noDescriptorOutlivesARun() throws {
        func openDescriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }
        let hold = try serve(.hold)
        defer { hold.stop() }
        let blackhole = try serve(.blackhole)
        defer { blackhole.stop() }
        var c = RunConfig(target: hold.address.description, rate: 200, concurrency: 50, durationSeconds: 0.5)
        c.close = .client
        _ = try churn(c)  // warm up whatever the first run allocates once
        let before = openDescriptors()
        for _ in 0..<3 { _ = try churn(c) }
        // Timed-out connects: each attempt's connect and deadline complete in the same batch as the
        // last close is queued, the case where a queued close could be left unsubmitted.
        var t = RunConfig(target: blackhole.address.description, concurrency: 5, durationSeconds: 30, connections: 5)
        t.connectTimeoutMs = 200
        #expect(try churn(t).totals.outcomes[.connectTimeout] == 5)
        #expect(openDescriptors() == before, "after timed-out connects: \(before) before, \(openDescriptors()) after")
        // The same with attempts cancelled by a forced stop (second Ctrl-C).
        c.close = .server
        c.responseTimeoutMs = 60_000
        let control = RunControl()
        let stopper = OSThread { usleep(300_000); control.requestStop(); control.escalate() }
        let r = try Engine.run(try RunPlan.make(c).get(), control: control)
        stopper.join()
        #expect(r.totals.inFlightAtEnd > 0)
        #expect(openDescriptors() == before, "descriptors leaked: \(before) before, \(openDescriptors()) after")
    }
}
