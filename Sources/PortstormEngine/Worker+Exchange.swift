import CLibURing
import Glibc
import PortstormRecord
import PortstormSystem
import PortstormTLS

/// After the connect: the request, the answer and its judgement, the hold, the close as asked,
/// the deadlines of each exchange, and TLS (see docs/engine.md).
extension Worker {
    /// Once connected (and, over TLS, the handshake done): the request, the answer, the close.
    func exchange(_ i: Int) {
        if payload != nil {
            answerDeadline(i)
            sendMore(i)
        } else if plan.check != nil {
            // --expect without --send: judge what the server says first (a banner).
            slots[i].phase = .receivingHead
            requestSentNs?[i] = monotonicNanos()
            answerDeadline(i)
            receive(i)
        } else {
            afterAnswer(i)
        }
    }

    /// Sends the rest of the request (or, in .closingWebSocket, of the Close frame).
    func sendMore(_ i: Int) {
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

    func sendDone(_ i: Int, _ res: Int32) {
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
            return
        }
        requestSentNs?[i] = monotonicNanos()
        if plan.statuses != nil {
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
    func afterAnswer(_ i: Int) {
        if plan.holdNs > 0 && slots[i].phase != .holding {
            hold(i)
        } else {
            closeAsAsked(i)
        }
    }

    /// Ends the attempt with the outcome already decided (`slots[i].verdict`): a WebSocket sends its
    /// Close frame first; --close server waits for the server's FIN; client and rst close now.
    func closeAsAsked(_ i: Int) {
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
    func hold(_ i: Int) {
        slots[i].phase = .holding
        slots[i].pending += 1
        ring.timeout(holdTimespec, userData: OpTag.deadline.userData(i))
    }

    func receive(_ i: Int) {
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
    func answerDeadline(_ i: Int) {
        slots[i].epoch &+= 1
        answerDeadlines.push(.init(dueNs: monotonicNanos() &+ plan.responseTimeoutNs, slot: Int32(i),
                                   epoch: slots[i].epoch))
    }

    /// Cancels the operations whose deadline passed; their completions then come back -ECANCELED
    /// and count as connect_timeout or response_timeout.
    func expireDeadlines(_ now: UInt64) {
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

    func recvDone(_ i: Int, _ res: Int32) {
        guard res >= 0 else {
            if res == -ECANCELED && slots[i].phase == .receivingHead && slots[i].headLength > 0 {
                // The deadline fell due after the server answered, without the --expect text:
                // it answered something else, not nothing.
                unexpectedAnswer(i)
                return
            }
            // An answer already judged a failure keeps that verdict if the close then fails too.
            let verdict = Outcome(code: slots[i].verdict)
            finish(i, !verdict.isOK ? verdict : res == -ECANCELED ? .responseTimeout : failure(-res))
            return
        }
        if res > 0, let marks = requestSentNs, marks[i] != 0,
           slots[i].phase == .readingAnswer || slots[i].phase == .receivingHead {
            stats.firstByte(latencyNanos: monotonicNanos() &- marks[i])
            marks[i] = 0
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
    func httpAnswer(_ i: Int, _ res: Int32) {
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
    func tcpOrWebSocketAnswer(_ i: Int, _ res: Int32) {
        slots[i].headLength += UInt16(res)
        let head = UnsafeRawBufferPointer(start: heads! + i * headCapacity, count: Int(slots[i].headLength))
        switch plan.check!.judge(head, eof: res == 0) {
        case .needMore:
            receive(i)
        case .invalid:
            unexpectedAnswer(i)
        case .valid:
            if closeFrame != nil { stats.answered(status: 101) }
            if res == 0 { slots[i].peerClosed = true }
            afterAnswer(i)
        }
    }

    /// The bytes received so far (`headLength` of them) are not the answer --expect or the
    /// WebSocket handshake wants: a mismatch (TLS from a TLS port: plain sent to TLS), first bytes kept.
    func unexpectedAnswer(_ i: Int) {
        let head = UnsafeRawBufferPointer(start: heads! + i * headCapacity, count: Int(slots[i].headLength))
        if closeFrame != nil, let status = AnswerCheck.statusCode(head) { stats.answered(status: status) }
        stats.noteMismatch(head)
        finish(i, PlainToTLS.answersWithTLS(head) || PlainToTLS.saysHTTPSPort(head) ? .tlsRequired : .protocolMismatch)
    }

    // MARK: - TLS

    /// Carries on after a TLS step: an operation in flight is owed a completion; a finished step
    /// goes on as the plain path would (sendDone / recvDone with the plaintext count).
    func tlsRoute(_ i: Int, _ event: TLSEvent) {
        switch event {
        case .pending:
            slots[i].pending += 1
        case .handshakeDone:
            let t = tls!
            stats.handshaked(latencyNanos: monotonicNanos() &- t.handshakeStart(i), resumed: t.clients.resumed(i),
                             version: t.clients.version(i))
            if t.clients.clientCertificateRequested(i) { stats.clientCertificateRequests &+= 1 }
            exchange(i)
        case .sent(let n):
            sendDone(i, n)
        case .received(let n):
            recvDone(i, n)
        case .failed(let f):
            // Counted here unless the handshake completed (and was counted) first.
            if f.outcome != .tlsFailedAfterHandshake && tls!.clients.clientCertificateRequested(i) { stats.clientCertificateRequests &+= 1 }
            stats.tlsFailed(f.outcome, f.detail)
            finish(i, f.outcome)
        case .notTLS(let head):
            stats.noteMismatch(head)
            stats.tlsFailed(.tlsPlainServer, "the server answered the ClientHello with something other than TLS (its first bytes are in mismatchSamples)")
            finish(i, .tlsPlainServer)
        }
    }
}
