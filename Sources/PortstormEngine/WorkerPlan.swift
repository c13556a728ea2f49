import PortstormRecord
import PortstormSystem
import PortstormTLS

/// What one worker thread is asked to do: its share of the run.
struct WorkerPlan: Sendable {
    var index: Int
    /// Attempts this worker may have in flight.
    var concurrency: Int
    /// This worker's share of `--connections` (nil: no count bound).
    var connections: UInt64?
    /// This worker's share of `--rate` (nil: closed loop).
    var rate: Double?
    /// Stagger of this worker's schedule, in [0, 1) of an interval.
    var phase: Double
    var startNs: UInt64
    /// Stop starting attempts at this time (nil: no time bound).
    var endNs: UInt64?
    var target: SocketAddress
    var sources: [SocketAddress]
    var localPorts: ClosedRange<UInt16>?
    /// bind(source, 0) without IP_BIND_ADDRESS_NO_PORT.
    var bindBeforeConnect: Bool
    var close: CloseMode
    var payload: [UInt8]?
    var check: AnswerCheck?
    /// --protocol http: the statuses that count as ok (the answer is read to its end).
    var statuses: HTTPStatusSet?
    /// --protocol ws: the Close frame (1000) sent once the handshake is judged.
    var closeFrame: [UInt8]?
    /// --hold: keep each connection open this long before closing (0: no hold).
    var holdNs: UInt64
    var connectTimeoutNs: UInt64
    var responseTimeoutNs: UInt64
    var expectedSeconds: Int
    /// How a connect that completed with 0 is confirmed (see ConnectCheck).
    var connectCheck: ConnectCheck
    /// Sockets made in the ring (a fixed-file table of `concurrency` entries) or by system calls.
    var socketPath: SocketPath
    /// TLS over each connection (nil: plain TCP).
    var tls: TLSContext?

    /// Attempts starting later than this after their due time count as delayed.
    static let delayThresholdNs: UInt64 = 10_000_000
}

/// Sizes of a worker's buffers.
enum WorkerBuffers {
    /// What a recv that only counts or discards bytes reads into (shared by all slots).
    static let discardBytes = 64 * 1024
    /// --protocol http: each recv of status line and headers lands in the slot's own buffer of this size.
    static let httpBytes = 512
}
