import CLibURing
import Glibc
import PortstormRecord
import PortstormSystem
import PortstormTLS

/// One attempt's start and end: the socket and its set-up, the connect and its check, the outcome,
/// the close, the slot's release (see docs/engine.md for the whole table).
extension Worker {
    // MARK: - One attempt

    func startAttempt(now: UInt64, late: Bool) {
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
    func startAttemptInRing(now: UInt64, sourceIndex: Int) {
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
    func setupDone(_ i: Int, _ res: Int32) {
        slots[i].setupLeft -= 1
        guard res < 0, res != -ECANCELED, !slots[i].done else { return }
        finish(i, failure(-res))
    }

    func handle(_ userData: UInt64, _ res: Int32) {
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

    func connectDone(_ i: Int, _ res: Int32) {
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
    func verifyDone(_ i: Int, _ res: Int32) {
        guard slots[i].phase == .verifying, !slots[i].done else { return }
        connectConfirmed(i, socketError: res >= 0 ? soErrors[i] : direct ? -res : Socket.pendingError(slots[i].fd))
    }

    /// A connect that completed with 0 counts as connected only when the socket has no pending
    /// error; otherwise the pending error is the outcome (econnrefused, ehostunreach...).
    func connectConfirmed(_ i: Int, socketError: Int32) {
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


    /// A request's errno as the attempt's outcome. EBADF and EFAULT name a wrong descriptor or
    /// buffer, which only a bug in the worker can give, never the network: they stop the program
    /// rather than being counted as if the server had caused them.
    @inline(__always)
    func failure(_ errno: Int32) -> Outcome {
        precondition(errno != EBADF && errno != EFAULT, "a request failed with \(String(cString: strerror(errno))): a bug in portstorm's worker")
        return Outcome(errno: errno)
    }

    func finish(_ i: Int, _ outcome: Outcome) {
        stats.finished(outcome)
        closeSocket(i)
    }

    func closeSocket(_ i: Int) {
        ring.close(fd: slots[i].fd, userData: OpTag.housekeeping.userData(i))
        slots[i].fd = -1
        slots[i].done = true
    }

    func release(_ i: Int) {
        slots[i].phase = .free
        slots[i].done = false
        slots[i].abandoned = false
        table.give(i)
        busySlots -= 1
    }

    /// Cancels every request in the ring; the attempts they belonged to stay counted as in flight,
    /// except holds: their outcome was decided before the hold, so they end with it, closed now.
    func abandonAll() {
        for i in 0..<max(1, plan.concurrency) where slots[i].phase != .free && !slots[i].done {
            if slots[i].phase == .holding { finish(i, Outcome(code: slots[i].verdict)) } else { slots[i].abandoned = true }
        }
        ring.cancelAll(userData: OpTag.housekeeping.userData(0))
    }
}
