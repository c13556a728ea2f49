import CLibURing
import Glibc
import PortstormRecord
import PortstormSystem
import PortstormTLS

/// What a TLS step came to, for the worker: either one ring operation is now in flight for the
/// slot (`.pending`), or the step ended and the worker carries on.
enum TLSEvent {
    /// One SEND or RECV of ciphertext was submitted (tagged .send / .recv like a plain one).
    case pending
    /// The handshake completed.
    case handshakeDone
    /// The plaintext asked to be written is sent (its length), or -errno.
    case sent(Int32)
    /// Plaintext bytes are in the caller's buffer (0: the server closed), or -errno.
    case received(Int32)
    /// The connection failed for a TLS reason, or the handshake's I/O failed.
    case failed(TLSFailure)
    /// The answer to the ClientHello is not TLS: its first bytes.
    case notTLS(UnsafeRawBufferPointer)
}

/// TLS for one worker's slots over the ring: the ciphertext OpenSSL produces (memory BIOs) is
/// sent with IORING_OP_SEND on the attempt's socket, what the server sends is read with
/// IORING_OP_RECV and fed back. At most one ring operation per slot is in flight, so the worker's
/// accounting (`pending`, deadlines that cancel the .send or .recv of a slot) stays as for plain TCP.
///
/// Buffers are allocated once per slot (4 KiB of ciphertext each way); SSL objects are reused.
final class TLSExchange<R: AttemptRing> {
    let clients: TLSClients
    private let ring: R
    private let cipherIn: UnsafeMutableRawPointer
    private let cipherOut: UnsafeMutableRawPointer
    private let state: UnsafeMutablePointer<TLSSlotState>
    static var cipherBytes: Int { 4096 }

    struct TLSSlotState {
        enum Op: UInt8 { case idle, handshake, write, read }
        var op: Op = .idle
        var handshakeComplete = false
        var firstBytesSeen = false
        /// Ciphertext in the slot's out buffer, and how much of it the ring has sent.
        var outLength: Int32 = 0
        var outSent: Int32 = 0
        /// The plaintext length of the write in progress (reported once its records are sent).
        var plainLength: Int32 = 0
        var readBuffer: UnsafeMutableRawPointer?
        var readCapacity: Int32 = 0
        var startNs: UInt64 = 0
    }

    init(context: TLSContext, slots n: Int, ring: R) {
        clients = TLSClients(context: context, count: n)
        self.ring = ring
        cipherIn = .allocate(byteCount: n * Self.cipherBytes, alignment: 64)
        cipherOut = .allocate(byteCount: n * Self.cipherBytes, alignment: 64)
        state = .allocate(capacity: n)
        state.initialize(repeating: TLSSlotState(), count: n)
    }

    deinit {
        cipherIn.deallocate()
        cipherOut.deallocate()
        state.deallocate()
    }

    /// When slot `i`'s handshake began (monotonic ns).
    func handshakeStart(_ i: Int) -> UInt64 { state[i].startNs }

    /// Begins the handshake of a connected socket: the ClientHello goes out.
    func start(_ i: Int, fd: Int32, now: UInt64) -> TLSEvent {
        clients.begin(i)
        state[i] = TLSSlotState(op: .handshake, startNs: now)
        return driveHandshake(i, fd: fd)
    }

    /// Encrypts `length` bytes of plaintext and sends the records.
    func write(_ i: Int, fd: Int32, _ bytes: UnsafeRawPointer, _ length: Int) -> TLSEvent {
        state[i].op = .write
        switch clients.write(i, bytes, length) {
        case .done(let n):
            state[i].plainLength = Int32(n)
            return flush(i, fd: fd)
        default:
            return .failed(clients.failure(i))
        }
    }

    /// Reads plaintext into `buffer`: at once when OpenSSL holds some, else after the next records.
    func read(_ i: Int, fd: Int32, into buffer: UnsafeMutableRawPointer, capacity: Int) -> TLSEvent {
        state[i].op = .read
        state[i].readBuffer = buffer
        state[i].readCapacity = Int32(min(capacity, Int(Int32.max)))
        return readPlain(i, fd: fd)
    }

    /// A SEND of ciphertext completed.
    func sendCompleted(_ i: Int, fd: Int32, _ res: Int32) -> TLSEvent {
        if res < 0 { return ioFailed(i, res, write: true) }
        state[i].outSent += res
        if state[i].outSent < state[i].outLength {
            ring.send(fd: fd, from: cipherOut + i * Self.cipherBytes + Int(state[i].outSent),
                      length: Int(state[i].outLength - state[i].outSent), userData: OpTag.send.userData(i))
            return .pending
        }
        if clients.pendingOutput(i) > 0 { return flush(i, fd: fd) }
        switch state[i].op {
        case .handshake:
            if state[i].handshakeComplete { return .handshakeDone }
            return receiveCipher(i, fd: fd)
        default:
            return .sent(state[i].plainLength)
        }
    }

    /// A RECV of ciphertext completed.
    func recvCompleted(_ i: Int, fd: Int32, _ res: Int32) -> TLSEvent {
        if res < 0 { return ioFailed(i, res, write: false) }
        let bytes = UnsafeRawBufferPointer(start: cipherIn + i * Self.cipherBytes, count: Int(res))
        if res == 0 {
            clients.feedEndOfStream(i)
        } else {
            if state[i].op == .handshake && !state[i].firstBytesSeen {
                state[i].firstBytesSeen = true
                if !TLSRecordSniff.looksLikeTLS(bytes) { return .notTLS(bytes) }
            }
            clients.feed(i, bytes.baseAddress!, bytes.count)
        }
        return state[i].op == .handshake ? driveHandshake(i, fd: fd) : readPlain(i, fd: fd)
    }

    private func driveHandshake(_ i: Int, fd: Int32) -> TLSEvent {
        switch clients.handshake(i) {
        case .done:
            state[i].handshakeComplete = true
            // TLS 1.3: the client's Finished is still to be sent.
            return clients.pendingOutput(i) > 0 ? flush(i, fd: fd) : .handshakeDone
        case .wantRead:
            return clients.pendingOutput(i) > 0 ? flush(i, fd: fd) : receiveCipher(i, fd: fd)
        case .closed, .failed:
            return .failed(clients.failure(i))
        }
    }

    private func readPlain(_ i: Int, fd: Int32) -> TLSEvent {
        switch clients.read(i, into: state[i].readBuffer!, capacity: Int(state[i].readCapacity)) {
        case .done(let n): return .received(Int32(n))
        case .closed: return .received(0)
        case .wantRead: return receiveCipher(i, fd: fd)
        case .failed: return .failed(clients.failure(i))
        }
    }

    private func flush(_ i: Int, fd: Int32) -> TLSEvent {
        let out = cipherOut + i * Self.cipherBytes
        let n = clients.takeOutput(i, into: out, capacity: Self.cipherBytes)
        state[i].outLength = Int32(n)
        state[i].outSent = 0
        ring.send(fd: fd, from: out, length: n, userData: OpTag.send.userData(i))
        return .pending
    }

    private func receiveCipher(_ i: Int, fd: Int32) -> TLSEvent {
        ring.recv(fd: fd, into: cipherIn + i * Self.cipherBytes, length: Self.cipherBytes, userData: OpTag.recv.userData(i))
        return .pending
    }

    /// A failed SEND or RECV: during the handshake a timeout (cancelled) or the errno; later the
    /// -errno goes back to the plain path, which judges it as for plain TCP.
    private func ioFailed(_ i: Int, _ res: Int32, write: Bool) -> TLSEvent {
        if state[i].op == .handshake {
            if res == -ECANCELED { return .failed(TLSFailure(.tlsHandshakeTimeout, "no handshake within --response-timeout")) }
            return .failed(TLSFailure(Outcome(errno: -res), "the connection failed during the handshake: \(String(cString: strerror(-res)))"))
        }
        return write ? .sent(res) : .received(res)
    }
}
