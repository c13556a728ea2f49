import Foundation
import PortstormEngine
import PortstormLab
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

/// Each close mode does what it says, for every protocol, and the shutdown accounts for every
/// attempt. TIME_WAIT counts are growth over a baseline (earlier servers may have had this port).
@Suite(.serialized) struct CloseModeTests {
    static let timeWait = 6

    /// TIME_WAIT sockets toward the server (client side) and on the server's port (server side).
    func timeWaits(_ port: UInt16) -> (client: Int, server: Int) {
        let all = ProcNetTCP.entries().filter { $0.state == Self.timeWait }
        return (all.filter { $0.remotePort == port }.count, all.filter { $0.localPort == port }.count)
    }

    @Test func httpClientCloseReadsTheAnswerAndLeavesTimeWaitHere() throws {
        let server = try serve(.http)
        defer { server.stop() }
        let port = server.address.port
        let before = timeWaits(port)
        var c = RunConfig(target: server.address.description, concurrency: 10, durationSeconds: 30, connections: 100)
        c.wireProtocol = .http
        c.close = .client
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 100)
        #expect(r.totals.httpStatuses == ["200": 100])
        let after = timeWaits(port)
        // Closed with the answer read to its end: a FIN, not a RST, so TIME_WAIT stays on this side.
        // (Loopback's tcp_tw_reuse=2 may recycle a few after 1 s: "nearly all".)
        #expect(after.client - before.client >= 90, "client-side TIME_WAIT grew by \(after.client - before.client)")
        #expect(after.server - before.server <= 5, "server-side TIME_WAIT grew by \(after.server - before.server)")
    }

    @Test func httpServerCloseWaitsForTheServersFin() throws {
        let server = try serve(.http)
        defer { server.stop() }
        let port = server.address.port
        let before = timeWaits(port)
        var c = RunConfig(target: server.address.description, concurrency: 10, durationSeconds: 30, connections: 100)
        c.wireProtocol = .http
        c.close = .server
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 100)
        let after = timeWaits(port)
        #expect(after.server - before.server >= 90, "server-side TIME_WAIT grew by \(after.server - before.server)")
        #expect(after.client - before.client <= 5, "client-side TIME_WAIT grew by \(after.client - before.client)")
    }

    @Test func holdThenCloseServerWaitsForAServerThatNeverCloses() throws {
        // The hold server never closes: after the hold, --close server must wait for its FIN and
        // end with response_timeout, not ok.
        let server = try serve(.hold)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 4, durationSeconds: 30, connections: 4)
        c.close = .server
        c.holdMs = 200
        c.responseTimeoutMs = 300
        let r = try churn(c)
        #expect(r.totals.outcomes[.responseTimeout] == 4)
        #expect(r.totals.outcomes[.ok] == 0)
        #expect(r.totals.inFlightAtEnd == 0)
    }

    @Test func expectWithoutSendFinishesEveryAttemptAtShutdown() throws {
        // A banner that never comes: each attempt must end response_timeout within the drain,
        // not stay "in flight at the end".
        let server = try serve(.hold)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 5, durationSeconds: 0.3)
        c.expect = "banner"
        c.responseTimeoutMs = 800
        let r = try churn(c)
        #expect(r.totals.inFlightAtEnd == 0)
        #expect(r.totals.outcomes[.responseTimeout] == r.totals.attempted)
        #expect(r.totals.attempted >= 5)
    }

    @Test func aWebSocketClosesWithACloseFrameAndGetsOneBack() throws {
        let server = try serve(.ws)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 5, durationSeconds: 30, connections: 50)
        c.wireProtocol = .ws
        c.close = .server
        c.responseTimeoutMs = 2000
        let start = monotonicNanos()
        let r = try churn(c)
        // The built-in ws server closes only after a Close frame: without one every attempt would
        // wait out --response-timeout and end response_timeout.
        #expect(r.totals.outcomes[.ok] == 50)
        #expect(r.totals.httpStatuses == ["101": 50])
        #expect(monotonicNanos() - start < 2_000_000_000)
    }
}
