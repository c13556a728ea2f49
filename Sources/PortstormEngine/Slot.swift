/// Where one attempt is in its life.
enum Phase: UInt8 {
    case free = 0
    case connecting
    /// The connect completed with 0; the socket's pending error (SO_ERROR) is being read to confirm it.
    case verifying
    /// TLS: the handshake is in progress (TLSExchange moves its records).
    case handshaking
    case sending
    /// Reading the first bytes of the answer to judge them (ws, --expect).
    case receivingHead
    /// --protocol http: reading the status line and headers (parsed as they come).
    case readingAnswer
    /// --protocol http: reading the body to its end (counted bytes, or until the server closes).
    case readingBody
    /// --protocol ws: sending the Close frame.
    case closingWebSocket
    /// --protocol ws: waiting for the server's Close frame (or its close).
    case awaitingClose
    /// Reading (and discarding) until the server closes (--close server).
    case draining
    /// Connected and kept open for --hold (an IORING_OP_TIMEOUT is pending).
    case holding

    /// The phases an answer deadline (--response-timeout) guards.
    var isExchanging: Bool {
        switch self {
        case .handshaking, .sending, .receivingHead, .readingAnswer, .readingBody, .closingWebSocket, .awaitingClose, .draining: return true
        default: return false
        }
    }
}

/// The state of one attempt in flight: a slot of the worker's fixed table (40 bytes). On the ring
/// path the slot's index is also its socket's index in the ring's fixed-file table.
struct Slot {
    var startNs: UInt64 = 0
    var fd: Int32 = -1
    /// Bytes of the payload sent so far.
    var sent: Int32 = 0
    /// Bytes of the answer kept for judging.
    var headLength: UInt16 = 0
    var phase: Phase = .free
    /// Completions still owed by the ring for this slot (the operation in flight, or the hold timeout).
    var pending: UInt8 = 0
    /// The attempt has its outcome (or was abandoned); the slot frees when `pending` reaches 0.
    var done = false
    /// Cancelled at shutdown: counted as in flight at the end, never given an outcome.
    var abandoned = false
    /// The outcome already decided (code; 0 = ok) while the connection is still being closed.
    var verdict: UInt16 = 0
    /// The server closed its side (a recv returned 0).
    var peerClosed = false
    /// Bumped whenever the slot's current operation gets a deadline; a queued deadline with an
    /// older epoch belongs to an operation that already completed.
    var epoch: UInt32 = 0
    /// Ring path: completions still owed by the socket's set-up (SOCKET, options, BIND) linked
    /// ahead of the CONNECT. While any is owed, a cancelled CONNECT means the chain broke earlier.
    var setupLeft: UInt8 = 0
}

/// What a completion is for: the high 32 bits of user_data (the low 32 bits are the slot index).
enum OpTag: UInt64 {
    case connect = 1
    case send
    case recv
    /// The SO_ERROR read linked to a connect (ConnectCheck.ring).
    case verify
    /// The IORING_OP_TIMEOUT that ends a --hold.
    case deadline
    /// A ring close (completes only on failure) or the shutdown cancel.
    case housekeeping
    /// Ring path: the SOCKET, a setsockopt or the BIND linked ahead of the CONNECT.
    case setup

    @inline(__always)
    func userData(_ slot: Int) -> UInt64 { rawValue << 32 | UInt64(slot) }
}
