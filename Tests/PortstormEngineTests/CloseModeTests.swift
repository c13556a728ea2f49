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

    /// HTTP with --close client reads the answer to its end and closes first (a FIN, not a RST):
    /// TIME_WAIT stays on this side. --close server waits for the server's FIN: TIME_WAIT there.
    /// (Loopback's tcp_tw_reuse=2 may recycle a few after 1 s: "nearly all".)
    @Test(arguments: [CloseMode.client, .server])
    func httpCloseModesLeaveTimeWaitOnTheSideThatClosesFirst(mode: CloseMode) throws {
        let server = try serve(.http)
        defer { server.stop() }
        let port = server.address.port
        let before = timeWaits(port)
        var c = RunConfig(target: server.address.description, concurrency: 10, durationSeconds: 30, connections: 100)
        c.wireProtocol = .http
        c.close = mode
        let r = try churn(c)
        #expect(r.totals.outcomes[.ok] == 100)
        #expect(r.totals.httpStatuses == ["200": 100])
        let after = timeWaits(port)
        let (closer, other) = mode == .client ? (after.client - before.client, after.server - before.server)
            : (after.server - before.server, after.client - before.client)
        #expect(closer >= 90, "TIME_WAIT on the side that closed first grew by \(closer)")
        #expect(other <= 5, "TIME_WAIT on the other side grew by \(other)")
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

    @Test func oneCtrlCEndsTheHoldsEvenAfterTheLastAttemptStarted() throws {
        // All attempts have started (the count bound is reached) and sit in a 5 s hold: a first
        // stop request must end the holds now, closing each as --close says, not wait them out.
        let server = try serve(.hold)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, concurrency: 5, durationSeconds: 30, connections: 5)
        c.holdMs = 5000
        let plan = try RunPlan.make(c).get()
        let control = RunControl()
        let stopper = Thread { usleep(400_000); control.escalate() }
        stopper.start()
        let start = monotonicNanos()
        let r = try Engine.run(plan, control: control)
        #expect(monotonicNanos() - start < 2_500_000_000, "the holds were waited out")
        #expect(r.totals.outcomes[.ok] == 5 && r.totals.inFlightAtEnd == 0)
        #expect(r.stopReason == .interrupted)
    }
}
