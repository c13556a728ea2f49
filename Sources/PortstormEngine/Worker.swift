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
/// --hold TIMEOUT, then CLOSE. Connect and answer deadlines sit in FIFO
/// queues; only operations that overrun are cancelled. Failures are counted by outcome; nothing in
/// the loop throws.
final class Worker<R: AttemptRing> {
    let plan: WorkerPlan
    let ring: R
    let control: RunControl
    let shared: WorkerShared
    var stats: WorkerStats

    private var table: SlotTable
    /// The table's slots (indexed by the low half of user_data).
    private let slots: UnsafeMutablePointer<Slot>
    private var freeCount: Int { table.freeCount }
    private let headCapacity: Int
    private let heads: UnsafeMutableRawPointer?
    private let discard: UnsafeMutableRawPointer
    private let payload: UnsafeMutableRawBufferPointer?
    /// --protocol ws: the Close frame sent after the handshake.
    private let closeFrame: UnsafeMutableRawBufferPointer?
    /// --protocol http: one response reader per slot.
    private let readers: UnsafeMutablePointer<HTTPResponseReader>?
    private let target: UnsafeMutableRawBufferPointer
    /// Per slot: the SO_ERROR value read by the ring after a connect (ConnectCheck.ring).
    private let soErrors: UnsafeMutablePointer<Int32>
    /// Connect and answer deadlines, in the order they fall due (see DeadlineQueue).
    private var connectDeadlines: DeadlineQueue
    private var answerDeadlines: DeadlineQueue
    private let schedule: RateSchedule?
    /// The --hold interval, for IORING_OP_TIMEOUT (read by the kernel at submission).
    private let holdTimespec: UnsafeMutablePointer<__kernel_timespec>
    /// Ring path: sockets are indexes into the ring's fixed-file table (the slot's own index).
    private let direct: Bool
    /// Ring path: the option values the kernel reads when each linked setsockopt runs.
    private let options: SocketOptionValues?
    /// TLS (--protocol https|wss|tls): the handshake and the records go through it (TLSExchange; MARK: TLS below).
    private let tls: TLSExchange<R>?

    private var started: UInt64 = 0
    private var busySlots = 0
    private var stopping = false
    private var cancelIssued = false
    /// A stop request was seen and the holds in progress were cut short.
    private var holdsCut = false
    private var drainDeadline: UInt64 = 0
    private let drainBudgetNs: UInt64
    private var giveUpAt: UInt64 = 0
    private var lastPublish: UInt64 = 0
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
        stats = WorkerStats(expectedSeconds: plan.expectedSeconds)

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
    private func second(of now: UInt64) -> Int { now > plan.startNs ? Int((now - plan.startNs) / 1_000_000_000) : 0 }

    private func publish(_ now: UInt64) {
        shared.publish { live in
            stats.fill(&live)
            live.elapsedSeconds = Double(now &- plan.startNs) / 1e9
        }
    }

    private func updateStopping(_ now: UInt64) {
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

    private func waitNanos(_ now: UInt64) -> UInt64 {
        var wait: UInt64 = 50_000_000
        for due in [connectDeadlines.first?.dueNs, answerDeadlines.first?.dueNs] {
            if let due { wait = due > now ? min(wait, due - now) : 0 }
        }
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
    private func startDue() {
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

    // MARK: - One attempt

    private func startAttempt(now: UInt64, late: Bool) {
        let sourceIndex = Int(started % UInt64(max(1, plan.sources.count)))
        started &+= 1
        stats.started(delayed: late)
        if direct { return startAttemptInRing(now: now, sourceIndex: sourceIndex) }
        let fd = Socket.tcp(domain: plan.target.domain)
        if fd < 0 { stats.finished(failure(-fd)); return }
        var rc: Int32 = 0
        if plan.close == .rst { rc = Socket.setAbortiveClose(fd) }
        if rc == 0, let range = plan.localPorts { rc = Socket.setLocalPortRange(fd, range) }
        if rc == 0, !plan.sources.isEmpty {
            let source = plan.sources[sourceIndex]
            rc = plan.bindBeforeConnect ? Socket.bind(fd, source) : Socket.bindSource(fd, source)
        }
        if rc != 0 {
            Socket.close(fd)
            stats.finished(failure(-rc))
            return
        }
        let i = table.take()
        busySlots += 1
        let epoch = slots[i].epoch &+ 1
        let address = UnsafePointer(target.baseAddress!.assumingMemoryBound(to: sockaddr.self))
        if plan.connectCheck == .ring {
            slots[i] = Slot(startNs: now, fd: fd, phase: .connecting, pending: 2, epoch: epoch)
            soErrors[i] = 0
            ring.connectVerified(fd: fd, address: address, length: socklen_t(target.count), userData: OpTag.connect.userData(i),
                                 soError: soErrors + i, verifyUserData: OpTag.verify.userData(i))
        } else {
            slots[i] = Slot(startNs: now, fd: fd, phase: .connecting, pending: 1, epoch: epoch)
            ring.connect(fd: fd, address: address, length: socklen_t(target.count), userData: OpTag.connect.userData(i))
        }
        connectDeadlines.push(.init(dueNs: now &+ plan.connectTimeoutNs, slot: Int32(i), epoch: epoch))
    }

    /// The ring path: SOCKET into the slot's index of the fixed-file table, then the options and
    /// the BIND, then CONNECT (and its SO_ERROR check), all linked in one submission: the first
    /// failure cancels the rest, and its own completion names the outcome (see setupDone).
    private func startAttemptInRing(now: UInt64, sourceIndex: Int) {
        let options = options!
        let i = table.take()
        busySlots += 1
        let epoch = slots[i].epoch &+ 1
        let fd = Int32(i)
        let rst = plan.close == .rst, ports = plan.localPorts != nil, bind = !plan.sources.isEmpty
        let setup: UInt8 = 1 + (rst ? 1 : 0) + (ports ? 1 : 0) + (bind ? (plan.bindBeforeConnect ? 1 : 2) : 0)
        let verify = plan.connectCheck == .ring
        slots[i] = Slot(startNs: now, fd: fd, phase: .connecting, pending: setup + (verify ? 2 : 1), epoch: epoch, setupLeft: setup)
        ring.reserve(UInt32(setup) + 2)
        let tag = OpTag.setup.userData(i)
        ring.openSocket(domain: plan.target.domain, index: i, userData: tag)
        if rst {
            ring.setOption(fd: fd, level: SOL_SOCKET, name: SO_LINGER, value: options.linger, length: Int32(MemoryLayout<linger>.size), userData: tag)
        }
        if ports {
            ring.setOption(fd: fd, level: Int32(IPPROTO_IP), name: PS_IP_LOCAL_PORT_RANGE, value: options.portRange, length: 4, userData: tag)
        }
        if bind {
            if !plan.bindBeforeConnect {
                ring.setOption(fd: fd, level: Int32(IPPROTO_IP), name: PS_IP_BIND_ADDRESS_NO_PORT, value: options.one, length: 4, userData: tag)
            }
            ring.bind(fd: fd, address: options.source(sourceIndex), length: options.sourceLength, userData: tag)
        }
        let address = UnsafePointer(target.baseAddress!.assumingMemoryBound(to: sockaddr.self))
        if verify {
            soErrors[i] = 0
            ring.connectVerified(fd: fd, address: address, length: socklen_t(target.count), userData: OpTag.connect.userData(i),
                                 soError: soErrors + i, verifyUserData: OpTag.verify.userData(i))
        } else {
            ring.connect(fd: fd, address: address, length: socklen_t(target.count), userData: OpTag.connect.userData(i))
        }
        connectDeadlines.push(.init(dueNs: now &+ plan.connectTimeoutNs, slot: Int32(i), epoch: epoch))
    }

    /// A completion of the ring path's set-up. The first real failure is the outcome (ENFILE,
    /// ENOBUFS, EADDRNOTAVAIL from the BIND...); -ECANCELED follows a failure earlier in the chain.
    private func setupDone(_ i: Int, _ res: Int32) {
        slots[i].setupLeft -= 1
        guard res < 0, res != -ECANCELED, !slots[i].done else { return }
        finish(i, failure(-res))
    }

    private func handle(_ userData: UInt64, _ res: Int32) {
        guard let tag = OpTag(rawValue: userData >> 32), tag != .housekeeping else { return }
        let i = Int(truncatingIfNeeded: userData & 0xFFFF_FFFF)
        slots[i].pending -= 1
        if tag == .deadline {
            // The end of a --hold (or its cancellation at shutdown).
            if slots[i].phase == .holding && !slots[i].done {
                if slots[i].abandoned { closeSocket(i) } else { closeAsAsked(i) }
            }
        } else {
            if slots[i].abandoned {
                if !slots[i].done { closeSocket(i) }
            } else if tag == .setup {
                setupDone(i, res)
            } else if !slots[i].done {
                switch tag {
                case .connect: connectDone(i, res)
                case .verify: verifyDone(i, res)
                // TLS: the ciphertext's completions go to the exchange first (MARK: TLS below).
                case .send: if let tls { tlsRoute(i, tls.sendCompleted(i, fd: slots[i].fd, res)) } else { sendDone(i, res) }
                case .recv: if let tls { tlsRoute(i, tls.recvCompleted(i, fd: slots[i].fd, res)) } else { recvDone(i, res) }
                default: break
                }
            }
        }
        if slots[i].done && slots[i].pending == 0 { release(i) }
    }

    private func connectDone(_ i: Int, _ res: Int32) {
        // The set-up linked ahead failed: its own completion names the outcome.
        if res == -ECANCELED && slots[i].setupLeft > 0 { return }
        guard res == 0 else {
            // ENETUNREACH / EHOSTUNREACH with no route in this machine's own table: no SYN left (local).
            let local = (res == -ENETUNREACH || res == -EHOSTUNREACH) && !RouteTable.hasRouteCached(to: plan.target)
            finish(i, res == -ECANCELED ? .connectTimeout : local ? .noRoute : failure(-res))
            return
        }
        switch plan.connectCheck {
        case .ring: slots[i].phase = .verifying  // the linked SO_ERROR read completes next
        case .syscall: connectConfirmed(i, socketError: Socket.pendingError(slots[i].fd))
        case .off: connectConfirmed(i, socketError: 0)
        }
    }

    /// The linked SO_ERROR read. -ECANCELED when the connect failed (already finished); any other
    /// failure of the read falls back to the system call.
    private func verifyDone(_ i: Int, _ res: Int32) {
        guard slots[i].phase == .verifying, !slots[i].done else { return }
        connectConfirmed(i, socketError: res >= 0 ? soErrors[i] : direct ? -res : Socket.pendingError(slots[i].fd))
    }

    /// A connect that completed with 0 counts as connected only when the socket has no pending
    /// error; otherwise the pending error is the outcome (econnrefused, ehostunreach...).
    private func connectConfirmed(_ i: Int, socketError: Int32) {
        guard socketError == 0 else {
            finish(i, Outcome(errno: socketError))
            return
        }
        let now = monotonicNanos()
        stats.connected(latencyNanos: now &- slots[i].startNs)
        if let tls {
            // TLS: the handshake first, bounded by --response-timeout; then the exchange below.
            slots[i].phase = .handshaking
            answerDeadline(i)
            tlsRoute(i, tls.start(i, fd: slots[i].fd, now: now))
            return
        }
        exchange(i)
    }

    /// Once connected (and, over TLS, the handshake done): the request, the answer, the close.
    private func exchange(_ i: Int) {
        if payload != nil {
            answerDeadline(i)
            sendMore(i)
        } else if plan.check != nil {
            // --expect without --send: judge what the server says first (a banner).
            slots[i].phase = .receivingHead
            answerDeadline(i)
            receive(i)
        } else {
            afterAnswer(i)
        }
    }

    /// Sends the rest of the request (or, in .closingWebSocket, of the Close frame).
    private func sendMore(_ i: Int) {
        let bytes: UnsafeMutableRawBufferPointer
        if slots[i].phase == .closingWebSocket, let frame = closeFrame {
            bytes = frame
        } else {
            guard let p = payload else { return }
            bytes = p
            slots[i].phase = .sending
        }
        let off = Int(slots[i].sent)
        if let tls { tlsRoute(i, tls.write(i, fd: slots[i].fd, bytes.baseAddress! + off, bytes.count - off)); return }
        slots[i].pending += 1
        ring.send(fd: slots[i].fd, from: bytes.baseAddress! + off, length: bytes.count - off, userData: OpTag.send.userData(i))
    }

    private func sendDone(_ i: Int, _ res: Int32) {
        guard res >= 0 else {
            finish(i, res == -ECANCELED ? .responseTimeout : failure(-res))
            return
        }
        slots[i].sent += res
        if slots[i].phase == .closingWebSocket {
            if Int(slots[i].sent) < closeFrame!.count { sendMore(i); return }
            // Wait for the server's Close frame (or its close) before closing.
            slots[i].phase = .awaitingClose
            slots[i].headLength = 0
            receive(i)
            return
        }
        if Int(slots[i].sent) < payload!.count {
            sendMore(i)
        } else if plan.statuses != nil {
            slots[i].phase = .readingAnswer
            readers![i] = HTTPResponseReader()
            receive(i)
        } else if plan.check != nil {
            slots[i].phase = .receivingHead
            receive(i)
        } else {
            afterAnswer(i)
        }
    }

    /// Once the answer is in (or when there is none to read) and judged `ok`: hold, then close as
    /// --close says. A WebSocket first sends its Close frame.
    private func afterAnswer(_ i: Int) {
        if plan.holdNs > 0 && slots[i].phase != .holding {
            hold(i)
        } else {
            closeAsAsked(i)
        }
    }

    /// Ends the attempt with the outcome already decided (`slots[i].verdict`): a WebSocket sends its
    /// Close frame first; --close server waits for the server's FIN; client and rst close now.
    private func closeAsAsked(_ i: Int) {
        if closeFrame != nil && slots[i].phase != .awaitingClose && slots[i].verdict == 0 {
            slots[i].phase = .closingWebSocket
            slots[i].sent = 0
            answerDeadline(i)
            sendMore(i)
        } else if plan.close == .server && !slots[i].peerClosed {
            slots[i].phase = .draining
            answerDeadline(i)
            receive(i)
        } else {
            finish(i, Outcome(code: slots[i].verdict))
        }
    }

    /// Keeps the connection open for --hold; the timeout's completion then closes it as asked.
    private func hold(_ i: Int) {
        slots[i].phase = .holding
        slots[i].pending += 1
        ring.timeout(holdTimespec, userData: OpTag.deadline.userData(i))
    }

    private func receive(_ i: Int) {
        var buffer = discard
        var length = WorkerBuffers.discardBytes
        switch slots[i].phase {
        case .receivingHead:
            if let heads {
                buffer = heads + i * headCapacity + Int(slots[i].headLength)
                length = headCapacity - Int(slots[i].headLength)
            }
        case .readingAnswer, .awaitingClose:
            // Bytes to parse: each recv starts again at the slot's own buffer.
            if let heads {
                buffer = heads + i * headCapacity
                length = headCapacity
            }
        case .readingBody:
            // Counted body bytes are read unseen into the shared buffer, never past the answer's end.
            let left = readers![i].countedBodyBytesLeft
            if left > 0 { length = Int(min(Int64(length), left)) }
        default:
            break
        }
        if let tls { tlsRoute(i, tls.read(i, fd: slots[i].fd, into: buffer, capacity: length)); return }
        slots[i].pending += 1
        ring.recv(fd: slots[i].fd, into: buffer, length: length, userData: OpTag.recv.userData(i))
    }

    /// Starts the deadline of an exchange (request and answer, a Close handshake, the wait for the
    /// server's close): every operation of it must be done by then.
    @inline(__always)
    private func answerDeadline(_ i: Int) {
        slots[i].epoch &+= 1
        answerDeadlines.push(.init(dueNs: monotonicNanos() &+ plan.responseTimeoutNs, slot: Int32(i),
                                   epoch: slots[i].epoch))
    }

    /// Cancels the operations whose deadline passed; their completions then come back -ECANCELED
    /// and count as connect_timeout or response_timeout.
    private func expireDeadlines(_ now: UInt64) {
        for queue in 0..<2 {
            while let e = (queue == 0 ? connectDeadlines.first : answerDeadlines.first), e.dueNs <= now {
                if queue == 0 { connectDeadlines.popFirst() } else { answerDeadlines.popFirst() }
                let i = Int(e.slot)
                // Only while the slot is still in the exchange the deadline guards: a cancel that
                // finds nothing makes the kernel walk its whole timeout list (every --hold).
                let phase = slots[i].phase
                let guarded = queue == 0 ? phase == .connecting : phase.isExchanging
                guard guarded, slots[i].epoch == e.epoch, !slots[i].done, !slots[i].abandoned else { continue }
                let op: OpTag = queue == 0 ? .connect : (phase == .sending || phase == .closingWebSocket ? .send : .recv)
                ring.cancel(target: op.userData(i), userData: OpTag.housekeeping.userData(i))
                // A TLS handshake has either a SEND or a RECV in flight.
                if phase == .handshaking { ring.cancel(target: OpTag.send.userData(i), userData: OpTag.housekeeping.userData(i)) }
            }
        }
    }

    private func recvDone(_ i: Int, _ res: Int32) {
        guard res >= 0 else {
            // An answer already judged a failure keeps that verdict if the close then fails too.
            let verdict = Outcome(code: slots[i].verdict)
            finish(i, !verdict.isOK ? verdict : res == -ECANCELED ? .responseTimeout : failure(-res))
            return
        }
        switch slots[i].phase {
        case .draining:
            if res == 0 { finish(i, Outcome(code: slots[i].verdict)) } else { receive(i) }
        case .awaitingClose:
            // The server's Close frame (opcode 8) or its close ends the WebSocket closing handshake.
            if res == 0 { slots[i].peerClosed = true; closeAsAsked(i); return }
            let first = heads!.advanced(by: i * headCapacity).load(as: UInt8.self)
            if first & 0x0F == 0x08 { closeAsAsked(i) } else { receive(i) }
        case .readingAnswer, .readingBody:
            httpAnswer(i, res)
        default:
            tcpOrWebSocketAnswer(i, res)
        }
    }

    /// --protocol http: the answer is read to its end (its length, its last chunk, or the server's
    /// close), then judged by its status.
    private func httpAnswer(_ i: Int, _ res: Int32) {
        let verdict: HTTPResponseReader.Verdict
        if slots[i].phase == .readingBody && readers![i].countedBodyBytesLeft > 0 {
            verdict = res == 0 ? .invalid : readers![i].skipped(Int(res))
        } else {
            let bytes = UnsafeRawBufferPointer(start: slots[i].phase == .readingBody ? UnsafeRawPointer(discard) : UnsafeRawPointer(heads! + i * headCapacity),
                                               count: Int(res))
            verdict = readers![i].consume(bytes, eof: res == 0)
            if verdict == .invalid && slots[i].phase == .readingAnswer {
                stats.noteMismatch(bytes)
                if PlainToTLS.answersWithTLS(bytes) { slots[i].verdict = Outcome.tlsRequired.code }
            } else if slots[i].phase == .readingAnswer && readers![i].status == 400 && PlainToTLS.saysHTTPSPort(bytes) {
                slots[i].verdict = Outcome.tlsRequired.code
            }
        }
        switch verdict {
        case .needMore:
            let r = readers![i]
            slots[i].phase = r.countedBodyBytesLeft > 0 || r.readsUntilClose ? .readingBody : .readingAnswer
            receive(i)
        case .invalid:
            finish(i, slots[i].verdict == Outcome.tlsRequired.code ? .tlsRequired : .protocolMismatch)
        case .complete:
            let r = readers![i]
            stats.answered(status: r.status)
            if res == 0 { slots[i].peerClosed = true }
            if r.status == 426 || r.status == 101 || (r.upgradeWebSocket && !plan.statuses!.contains(r.status)) {
                // A WebSocket-only server answering a plain request: a protocol mismatch.
                stats.noteMismatch(status: r.status)
                slots[i].verdict = Outcome.protocolMismatch.code
            } else if slots[i].verdict == Outcome.tlsRequired.code {
                stats.noteMismatch(status: r.status, text: PlainToTLS.nginxSentence)
            } else if !plan.statuses!.contains(r.status) {
                slots[i].verdict = Outcome.httpStatus.code
            }
            if slots[i].verdict == 0 { afterAnswer(i) } else { closeAsAsked(i) }
        }
    }

    /// --protocol ws and --expect: the first bytes of the answer are judged.
    private func tcpOrWebSocketAnswer(_ i: Int, _ res: Int32) {
        slots[i].headLength += UInt16(res)
        let head = UnsafeRawBufferPointer(start: heads! + i * headCapacity, count: Int(slots[i].headLength))
        switch plan.check!.judge(head, eof: res == 0) {
        case .needMore:
            receive(i)
        case .invalid:
            if closeFrame != nil, let status = AnswerCheck.statusCode(head) { stats.answered(status: status) }
            stats.noteMismatch(head)
            finish(i, PlainToTLS.answersWithTLS(head) || PlainToTLS.saysHTTPSPort(head) ? .tlsRequired : .protocolMismatch)
        case .valid:
            if closeFrame != nil { stats.answered(status: 101) }
            if res == 0 { slots[i].peerClosed = true }
            afterAnswer(i)
        }
    }

    /// A request's errno as the attempt's outcome. EBADF and EFAULT name a wrong descriptor or
    /// buffer, which only a bug in the worker can give, never the network: they stop the program
    /// rather than being counted as if the server had caused them.
    @inline(__always)
    private func failure(_ errno: Int32) -> Outcome {
        precondition(errno != EBADF && errno != EFAULT, "a request failed with \(String(cString: strerror(errno))): a bug in portstorm's worker")
        return Outcome(errno: errno)
    }

    private func finish(_ i: Int, _ outcome: Outcome) {
        stats.finished(outcome)
        closeSocket(i)
    }

    private func closeSocket(_ i: Int) {
        ring.close(fd: slots[i].fd, userData: OpTag.housekeeping.userData(i))
        slots[i].fd = -1
        slots[i].done = true
    }

    private func release(_ i: Int) {
        slots[i].phase = .free
        slots[i].done = false
        slots[i].abandoned = false
        table.give(i)
        busySlots -= 1
    }

    /// Cancels every request in the ring; the attempts they belonged to stay counted as in flight,
    /// except holds: their outcome was decided before the hold, so they end with it, closed now.
    private func abandonAll() {
        for i in 0..<max(1, plan.concurrency) where slots[i].phase != .free && !slots[i].done {
            if slots[i].phase == .holding { finish(i, Outcome(code: slots[i].verdict)) } else { slots[i].abandoned = true }
        }
        ring.cancelAll(userData: OpTag.housekeeping.userData(0))
    }

    // MARK: - TLS

    /// Carries on after a TLS step: an operation in flight is owed a completion; a finished step
    /// goes on as the plain path would (sendDone / recvDone with the plaintext count).
    private func tlsRoute(_ i: Int, _ event: TLSEvent) {
        switch event {
        case .pending:
            slots[i].pending += 1
        case .handshakeDone:
            let t = tls!
            stats.handshaked(latencyNanos: monotonicNanos() &- t.handshakeStart(i), resumed: t.clients.resumed(i),
                             version: t.clients.version(i))
            exchange(i)
        case .sent(let n):
            sendDone(i, n)
        case .received(let n):
            recvDone(i, n)
        case .failed(let f):
            stats.tlsFailed(f.outcome, f.detail)
            finish(i, f.outcome)
        case .notTLS(let head):
            stats.noteMismatch(head)
            stats.tlsFailed(.tlsPlainServer, "the server answered the ClientHello with something other than TLS (its first bytes are in mismatchSamples)")
            finish(i, .tlsPlainServer)
        }
    }
}
