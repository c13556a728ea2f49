import CLibURing
import Glibc
import PortstormRecord
import PortstormSystem
import PortstormTLS

/// One worker: one ring on one thread, a fixed table of attempt slots, and its own counters.
///
/// Each attempt: on the ring path (SocketPath.ring) SOCKET into the slot's index of the ring's
/// fixed-file table, options and BIND through the ring, linked to the CONNECT; on the system-call
/// path socket() and options as syscalls, then CONNECT. Then optionally SEND and RECV, an optional
/// --hold TIMEOUT, then CLOSE. Connect and answer deadlines sit in FIFO queues; only operations
/// that overrun are cancelled. Failures are counted by outcome; nothing in the loop throws.
/// This file holds the state and the loop; Worker+Attempt.swift an attempt's start and end,
/// Worker+Exchange.swift what happens once connected.
final class Worker<R: AttemptRing> {
    let plan: WorkerPlan
    let ring: R
    let control: RunControl
    let shared: WorkerShared
    var stats: WorkerStats

    var table: SlotTable
    /// The table's slots (indexed by the low half of user_data).
    let slots: UnsafeMutablePointer<Slot>
    var freeCount: Int { table.freeCount }
    let headCapacity: Int
    let heads: UnsafeMutableRawPointer?
    let discard: UnsafeMutableRawPointer
    let payload: UnsafeMutableRawBufferPointer?
    /// --protocol ws: the Close frame sent after the handshake.
    let closeFrame: UnsafeMutableRawBufferPointer?
    /// --protocol http: one response reader per slot.
    let readers: UnsafeMutablePointer<HTTPResponseReader>?
    let target: UnsafeMutableRawBufferPointer
    /// Per slot: the SO_ERROR value read by the ring after a connect (ConnectCheck.ring).
    let soErrors: UnsafeMutablePointer<Int32>
    /// Per slot, when attempts read an answer: when the request's last byte was accepted (or the
    /// connection became ready, for a banner); 0 once the answer's first byte was timed.
    let requestSentNs: UnsafeMutablePointer<UInt64>?
    /// Connect and answer deadlines, in the order they fall due (see DeadlineQueue).
    var connectDeadlines: DeadlineQueue
    var answerDeadlines: DeadlineQueue
    let schedule: RateSchedule?
    /// The --hold interval, for IORING_OP_TIMEOUT (read by the kernel at submission).
    let holdTimespec: UnsafeMutablePointer<__kernel_timespec>
    /// Ring path: sockets are indexes into the ring's fixed-file table (the slot's own index).
    let direct: Bool
    /// Ring path: the option values the kernel reads when each linked setsockopt runs.
    let options: SocketOptionValues?
    /// TLS (--protocol https|wss|tls): the handshake and the records go through it (TLSExchange; MARK: TLS below).
    let tls: TLSExchange<R>?

    var started: UInt64 = 0
    var busySlots = 0
    var stopping = false
    var cancelIssued = false
    /// A stop request was seen and the holds in progress were cut short.
    var holdsCut = false
    var drainDeadline: UInt64 = 0
    let drainBudgetNs: UInt64
    var giveUpAt: UInt64 = 0
    var lastPublish: UInt64 = 0
    private(set) var stopReason: StopReason = .duration
    /// When the worker stopped starting attempts.
    private(set) var stoppedAtNs: UInt64 = 0

    /// `ring` is the worker's own (Ring.forWorker in a run); the worker closes it when it goes.
    init(plan: WorkerPlan, control: RunControl, shared: WorkerShared, ring: R) throws(RingUnavailable) {
        self.plan = plan
        self.control = control
        self.shared = shared
        let n = max(1, plan.concurrency)
        self.ring = ring
        stats = WorkerStats(expectedSeconds: plan.expectedSeconds, tls: plan.tls != nil)

        table = SlotTable(capacity: n)
        slots = table.slots
        // http parses each recv's bytes in the slot's own buffer; ws and --expect keep the head.
        headCapacity = plan.statuses != nil ? WorkerBuffers.httpBytes : plan.check?.headCapacity ?? 0
        if plan.statuses != nil {
            let r = UnsafeMutablePointer<HTTPResponseReader>.allocate(capacity: n)
            r.initialize(repeating: HTTPResponseReader(), count: n)
            readers = r
        } else {
            readers = nil
        }
        if let frame = plan.closeFrame {
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: frame.count, alignment: 16)
            p.copyBytes(from: frame)
            closeFrame = p
        } else {
            closeFrame = nil
        }
        heads = headCapacity > 0 ? .allocate(byteCount: n * headCapacity, alignment: 16) : nil
        discard = .allocate(byteCount: WorkerBuffers.discardBytes, alignment: 16)
        if let bytes = plan.payload, !bytes.isEmpty {
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
            p.copyBytes(from: bytes)
            payload = p
        } else {
            payload = nil
        }
        soErrors = .allocate(capacity: n)
        soErrors.initialize(repeating: 0, count: n)
        if plan.statuses != nil || plan.check != nil {
            let p = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            requestSentNs = p
        } else {
            requestSentNs = nil
        }
        target = .allocate(byteCount: plan.target.storage.count, alignment: 16)
        target.copyBytes(from: plan.target.storage)
        connectDeadlines = DeadlineQueue(capacity: n)
        answerDeadlines = DeadlineQueue(capacity: n)
        schedule = plan.rate.map { RateSchedule(startNs: plan.startNs, rate: $0, phase: plan.phase) }
        holdTimespec = .allocate(capacity: 1)
        holdTimespec.initialize(to: __kernel_timespec(tv_sec: Int64(plan.holdNs / 1_000_000_000), tv_nsec: Int64(plan.holdNs % 1_000_000_000)))
        drainBudgetNs = AttemptPath(plan).drainBudgetNs
        direct = plan.socketPath == .ring
        if direct {
            let rc = ring.registerSparseFiles(n)
            guard rc == 0 else {
                ring.close()
                throw RingUnavailable(errno: -rc, explanation: "could not register a fixed-file table of \(n) sockets (io_uring_register_files_sparse: \(String(cString: strerror(-rc))))")
            }
            options = SocketOptionValues(localPorts: plan.localPorts, sources: plan.sources)
        } else {
            options = nil
        }
        if let context = plan.tls { tls = TLSExchange(context: context, slots: n, ring: ring) } else { tls = nil }
    }

    deinit {
        // The ring first: operations still in the kernel after a forced give-up may write into
        // the buffers below until it is gone. (The slot table and the deadline queues free their
        // own buffers after this body, so after the ring too.)
        ring.close()
        heads?.deallocate()
        discard.deallocate()
        payload?.deallocate()
        closeFrame?.deallocate()
        readers?.deallocate()
        target.deallocate()
        soErrors.deallocate()
        requestSentNs?.deallocate()
        holdTimespec.deallocate()
        options?.deallocate()
    }

    // MARK: - The loop

    /// Runs until the plan's bound or a stop request, then drains; returns when no attempt is left
    /// in the ring (or, after a forced cancel, when the ring stops answering).
    func run() {
        while turn() {}
        // The closes of the last attempts are still queued in the SQ: send them, and close directly
        // whatever a forced give-up left open, so no descriptor outlives the run.
        ring.submitAndGetEvents()
        // (Sockets in a fixed-file table close with the ring.)
        for i in 0..<max(1, plan.concurrency) where !direct && slots[i].fd >= 0 {
            Socket.close(slots[i].fd)
            slots[i].fd = -1
        }
        let end = monotonicNanos()
        stats.advance(toSecond: second(of: end) + 1)
        publish(end)
    }

    /// One turn of the loop: expire deadlines, start what is due, submit, wait for completions (at
    /// most until the next deadline or due attempt) and handle them. False once the worker is done.
    @discardableResult
    func turn() -> Bool {
        let now = monotonicNanos()
        stats.advance(toSecond: second(of: now))
        updateStopping(now)
        if stopping && busySlots == 0 { return false }
        if cancelIssued && now >= giveUpAt { return false }
        expireDeadlines(now)
        if !stopping {
            startDue()
            // A count bound is reached as the last attempt starts: note the time now, not a wait later.
            if let limit = plan.connections, started >= limit { updateStopping(monotonicNanos()) }
        }
        let wait = waitNanos(now)
        if wait == 0 { ring.submitAndGetEvents() } else { ring.submitAndWait(timeoutNanos: wait) }
        _ = ring.drainCompletions(handle)
        if now &- lastPublish >= 200_000_000 { publish(now); lastPublish = now }
        return true
    }

    @inline(__always)
    func second(of now: UInt64) -> Int { now > plan.startNs ? Int((now - plan.startNs) / 1_000_000_000) : 0 }

    func publish(_ now: UInt64) {
        shared.publish { live in
            stats.fill(&live)
            live.elapsedSeconds = Double(now &- plan.startNs) / 1e9
        }
    }

    func updateStopping(_ now: UInt64) {
        if !stopping {
            if control.level >= 1 {
                stopReason = .interrupted
            } else if let end = plan.endNs, now >= end {
                stopReason = .duration
            } else if let limit = plan.connections, started >= limit {
                stopReason = .connections
            } else {
                return
            }
            stopping = true
            // A stop request counts from when it was made, not from when this loop noticed it.
            let stopAt = min(now, plan.endNs ?? now, stopReason == .interrupted ? control.stopRequestedAtNs ?? now : now)
            stoppedAtNs = stopAt
            if let s = schedule {
                // Attempts that never started though due longer ago than the delay threshold
                // (the cap was full, or this thread could not keep the schedule): the same rule
                // that makes a started attempt "delayed".
                let due = min(s.due(at: stopAt &- min(stopAt, WorkerPlan.delayThresholdNs)), plan.connections ?? .max)
                if due > started { stats.missed = due - started }
            }
            // An attempt started just before the stop may still pass every step of its path.
            drainDeadline = now + drainBudgetNs
        }
        if control.level >= 1 && !holdsCut {
            // Ctrl-C, also during the drain, ends the holds now: each then closes as --close says.
            holdsCut = true
            stopReason = .interrupted
            if plan.holdNs > 0 {
                for i in 0..<max(1, plan.concurrency) where slots[i].phase == .holding && !slots[i].done {
                    ring.cancel(target: OpTag.deadline.userData(i), userData: OpTag.housekeeping.userData(i))
                }
            }
        }
        if !cancelIssued && busySlots > 0 && (now >= drainDeadline || control.level >= 2) {
            abandonAll()
            cancelIssued = true
            giveUpAt = now + 2_000_000_000
        }
    }

    func waitNanos(_ now: UInt64) -> UInt64 {
        var wait: UInt64 = 50_000_000
        // Two ifs, not a loop over an array literal: an unoptimized build allocates that array each turn.
        if let due = connectDeadlines.first?.dueNs { wait = due > now ? min(wait, due - now) : 0 }
        if let due = answerDeadlines.first?.dueNs { wait = due > now ? min(wait, due - now) : 0 }
        if !stopping {
            if let s = schedule, freeCount > 0, started < (plan.connections ?? .max) {
                let next = s.dueTime(of: started)
                wait = next > now ? min(wait, next - now) : 0
            }
            if let end = plan.endNs { wait = end > now ? min(wait, end - now) : 0 }
        }
        return wait
    }

    /// Starts what the schedule (or the free slots, in closed loop) calls for, at most 512 per turn.
    func startDue() {
        let limit = plan.connections ?? .max
        var budget = 512
        if let s = schedule {
            let due = min(s.due(at: monotonicNanos()), limit)
            while started < due && freeCount > 0 && budget > 0 {
                let now = monotonicNanos()
                startAttempt(now: now, late: now > s.dueTime(of: started) &+ WorkerPlan.delayThresholdNs)
                budget -= 1
            }
        } else {
            while freeCount > 0 && started < limit && budget > 0 {
                startAttempt(now: monotonicNanos(), late: false)
                budget -= 1
            }
        }
    }
}
