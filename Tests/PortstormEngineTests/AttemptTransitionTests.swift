import Glibc
@testable import PortstormEngine
import PortstormRecord
import PortstormSystem
import Testing

/// The worker's transitions (docs/engine.md) driven by a fake ring: each test scripts how the
/// requests complete and checks the outcome, what the worker asked the ring for, and that every
/// attempt ends counted exactly once, without the kernel.
@Suite struct AttemptTransitionTests {
    static let target = SocketAddress(ip: "127.0.0.1", port: 9)!

    /// A ring-path plan: `n` attempts, `c` in flight, a short connect and answer deadline.
    static func plan(n: UInt64 = 1, c: Int = 1, payload: [UInt8]? = nil, check: AnswerCheck? = nil, statuses: HTTPStatusSet? = nil,
                     close: CloseMode = .client, holdMs: UInt64 = 0, connectTimeoutMs: UInt64 = 200, responseTimeoutMs: UInt64 = 200) -> WorkerPlan {
        WorkerPlan(index: 0, concurrency: c, connections: n, rate: nil, phase: 0, startNs: monotonicNanos(),
                   endNs: monotonicNanos() + 10_000_000_000, target: target, sources: [], localPorts: 40000...40100,
                   bindBeforeConnect: false, close: close, payload: payload, check: check, statuses: statuses, closeFrame: nil,
                   holdNs: holdMs * 1_000_000, connectTimeoutNs: connectTimeoutMs * 1_000_000, responseTimeoutNs: responseTimeoutMs * 1_000_000,
                   expectedSeconds: 10, connectCheck: .ring, socketPath: .ring)
    }

    /// Runs a worker on `ring` to its end (the fake never blocks for long) and returns its counts.
    static func run(_ plan: WorkerPlan, _ ring: FakeRing, control: RunControl = RunControl(),
                    during: ((FakeRing) -> Void)? = nil) throws -> WorkerStats {
        let w = try Worker(plan: plan, control: control, shared: WorkerShared(), ring: ring)
        w.run()
        #expect(w.stats.attempted == w.stats.outcomes.total + w.stats.inFlight,
                "attempted \(w.stats.attempted) != outcomes \(w.stats.outcomes.total) + in flight \(w.stats.inFlight)")
        return w.stats
    }

    @Test func aConnectThatCompletesWithZeroButHasAPendingErrorIsThatError() throws {
        let ring = FakeRing { r in
            if r.kind == .verify { r.soError?.pointee = ECONNREFUSED; return 4 }
            return FakeRing.everythingSucceeds(r)
        }
        let s = try Self.run(Self.plan(n: 3), ring)
        #expect(s.outcomes[.econnrefused] == 3)
        #expect(s.outcomes[.ok] == 0)
        #expect(s.connectLatency.count == 0, "a refused connect has no connect latency")
    }

    @Test func theSocketSetUpIsOneLinkedChainAheadOfTheConnect() throws {
        let ring = FakeRing()
        let s = try Self.run(Self.plan(n: 2, close: .rst), ring)
        #expect(s.outcomes[.ok] == 2)
        // SOCKET, SO_LINGER, IP_LOCAL_PORT_RANGE, CONNECT, SO_ERROR check per attempt, then CLOSE.
        #expect(ring.log.prefix(5).map(\.kind) == [.socket, .option, .option, .connect, .verify])
        #expect(ring.count(.close) == 2)
        #expect(ring.log.filter { $0.kind != .close }.allSatisfy { $0.fd == Int32($0.slot) }, "the slot's index is its socket's file index")
    }

    @Test func aFailedSetUpNamesItsErrorAndTheCancelledConnectIsNotATimeout() throws {
        let ring = FakeRing { r in r.kind == .socket ? -ENFILE : FakeRing.everythingSucceeds(r) }
        let s = try Self.run(Self.plan(n: 4), ring)
        #expect(s.outcomes[.enfile] == 4)
        #expect(s.outcomes[.connectTimeout] == 0)
        #expect(ring.count(.connect) == 4)
    }

    @Test func aPartialSendSendsTheRestFromWhereItStopped() throws {
        let payload = Array("hello, server".utf8)
        var sends: [Int] = []
        let ring = FakeRing { r in
            switch r.kind {
            case .send:
                sends.append(r.length)
                return Int32(min(r.length, 5))
            case .recv:
                let answer = Array("pong".utf8)
                answer.withUnsafeBytes { r.buffer!.copyMemory(from: $0.baseAddress!, byteCount: answer.count) }
                return Int32(answer.count)
            default: return FakeRing.everythingSucceeds(r)
            }
        }
        let s = try Self.run(Self.plan(payload: payload, check: .contains(Array("pong".utf8))), ring)
        #expect(s.outcomes[.ok] == 1)
        #expect(sends == [13, 8, 3], "each send asks for what is left")
    }

    @Test func aServerThatNeverAnswersEndsAsAResponseTimeoutOnceItsDeadlineCancelsTheRecv() throws {
        let ring = FakeRing()
        let s = try Self.run(Self.plan(payload: Array("x".utf8), check: .contains(Array("y".utf8)), responseTimeoutMs: 30), ring)
        #expect(s.outcomes[.responseTimeout] == 1)
        #expect(ring.cancelled.count == 1)
    }

    @Test func theFirstByteOfEachAnswerIsTimedFromTheRequestSentAndASilentServerGivesNone() throws {
        // The answer comes back in two recvs, 20 ms after the request: one timing per attempt, of
        // the first recv only, and at least the server's delay.
        var sentAt: [Int: UInt64] = [:]
        let ring = FakeRing { r in
            switch r.kind {
            case .send:
                sentAt[r.slot] = monotonicNanos()
                return Int32(r.length)
            case .recv:
                guard let t = sentAt[r.slot], monotonicNanos() - t >= 20_000_000 else { return nil }
                r.buffer!.storeBytes(of: UInt8(ascii: "p"), as: UInt8.self)
                return 1
            default: return FakeRing.everythingSucceeds(r)
            }
        }
        let s = try Self.run(Self.plan(n: 3, payload: Array("ping".utf8), check: .contains(Array("pp".utf8)), responseTimeoutMs: 500), ring)
        #expect(s.outcomes[.ok] == 3)
        #expect(s.firstByteLatency.count == 3, "one first byte per answer, not one per recv")
        #expect(s.firstByteLatency.summary.min >= 20_000, "timed from the request sent: \(s.firstByteLatency.summary)")

        let silent = try Self.run(Self.plan(payload: Array("x".utf8), check: .contains(Array("y".utf8)), responseTimeoutMs: 30), FakeRing())
        #expect(silent.outcomes[.responseTimeout] == 1)
        #expect(silent.firstByteLatency.count == 0, "no byte came back")
    }

    @Test func aConnectThatNeverCompletesIsCancelledAtItsDeadline() throws {
        let ring = FakeRing { r in r.kind == .connect ? nil : FakeRing.everythingSucceeds(r) }
        let s = try Self.run(Self.plan(n: 2, c: 2, connectTimeoutMs: 30), ring)
        #expect(s.outcomes[.connectTimeout] == 2)
        #expect(ring.inFlight == 0, "the check linked to the cancelled connect was cancelled too")
    }

    /// The deadline's cancel arrives after the connect already completed (the kernel completed it
    /// between the worker's check and the cancel): the cancel finds nothing, the attempt is ok once.
    @Test func aCancelThatLosesTheRaceToTheCompletionChangesNothing() throws {
        let ring = FakeRing { r in r.kind == .connect ? nil : FakeRing.everythingSucceeds(r) }
        ring.beforeCancel = { [unowned ring] in
            let held = ring.respond
            ring.respond = FakeRing.everythingSucceeds
            ring.submitAndGetEvents()
            ring.respond = held
        }
        let s = try Self.run(Self.plan(connectTimeoutMs: 20), ring)
        #expect(s.outcomes[.ok] == 1, "\(s.outcomes.byName)")
        #expect(s.outcomes.total == 1)
        #expect(ring.cancelled.count == 1, "the deadline's cancel was sent")
    }

    /// A hold is not an exchange: an answer deadline still queued from before it falls due during
    /// the hold and must not cancel anything; the hold then ends and the attempt is ok.
    @Test func anAnswerDeadlineFallingDueDuringAHoldCancelsNothing() throws {
        let ring = FakeRing { r in
            if r.kind == .recv {
                r.buffer!.storeBytes(of: UInt8(ascii: "y"), as: UInt8.self)
                return 1
            }
            return FakeRing.everythingSucceeds(r)
        }
        let s = try Self.run(Self.plan(payload: Array("x".utf8), check: .contains(Array("y".utf8)), holdMs: 120, responseTimeoutMs: 20), ring)
        #expect(s.outcomes[.ok] == 1)
        #expect(ring.cancelled.isEmpty, "cancelled \(ring.cancelled.map { $0 >> 32 }) during a hold")
        #expect(ring.count(.timeout) == 1)
    }

    /// Ctrl-C (stop level 1) while attempts hold: the holds end now, each attempt closes and is
    /// counted ok, long before the hold would have ended.
    @Test func aStopRequestCutsHoldsShortAndEveryAttemptIsCounted() throws {
        let ring = FakeRing()
        let control = RunControl()
        let start = monotonicNanos()
        let plan = Self.plan(n: 3, c: 3, holdMs: 5_000)
        ring.stopAfterWaits(5, control: control, level: 1)
        let w = try Worker(plan: plan, control: control, shared: WorkerShared(), ring: ring)
        w.run()
        #expect(w.stats.outcomes[.ok] == 3, "\(w.stats.outcomes.byName)")
        #expect(monotonicNanos() - start < 2_000_000_000, "the holds were not cut")
        #expect(w.stopReason == .interrupted)
    }

    /// A second Ctrl-C (level 2) in each state: everything in flight is cancelled and counted as in
    /// flight at the end, never as a made-up outcome.
    @Test(arguments: [FakeRing.Kind.connect, .recv, .timeout])
    func aSecondStopRequestAbandonsWhatIsInFlight(stuckIn kind: FakeRing.Kind) throws {
        let ring = FakeRing { r in r.kind == kind ? nil : FakeRing.everythingSucceeds(r) }
        let control = RunControl()
        let payload: [UInt8]? = kind == .recv ? Array("x".utf8) : nil
        let plan = Self.plan(n: 4, c: 4, payload: payload, check: payload.map { _ in .contains(Array("y".utf8)) },
                             holdMs: kind == .timeout ? 60_000 : 0, connectTimeoutMs: 60_000, responseTimeoutMs: 60_000)
        ring.stopAfterWaits(5, control: control, level: 2)
        let w = try Worker(plan: plan, control: control, shared: WorkerShared(), ring: ring)
        w.run()
        if kind == .timeout {
            // Holds end at the first request; they were ok already.
            #expect(w.stats.outcomes[.ok] == 4, "\(w.stats.outcomes.byName)")
        } else {
            #expect(w.stats.inFlight == 4, "\(w.stats.outcomes.byName)")
            #expect(w.stats.outcomes.total == 0)
        }
        #expect(ring.inFlight == 0)
    }

    @Test func theDrainBudgetCoversEveryDeadlineOfTheAttemptsPath() {
        let tcp = Self.plan(connectTimeoutMs: 1000)
        #expect(AttemptPath(tcp).drainBudgetNs == 1_000_000_000 + AttemptPath.slackNs)
        let answered = Self.plan(payload: [1], check: .contains([2]), close: .server, holdMs: 300, connectTimeoutMs: 1000, responseTimeoutMs: 2000)
        #expect(AttemptPath(answered).phases.contains(.holding))
        #expect(AttemptPath(answered).drainBudgetNs == (1000 + 2000 + 300 + 2000) * 1_000_000 + AttemptPath.slackNs)
    }
}

extension FakeRing {
    /// Raises the stop level to `level` at the `n`th wait, as Ctrl-C pressed `level` times would.
    func stopAfterWaits(_ n: Int, control: RunControl, level: Int) {
        var left = n
        beforeWait = {
            left -= 1
            if left == 0 { for _ in 0..<level { control.escalate() } }
        }
    }
}
