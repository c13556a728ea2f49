import CLibURing
import Glibc

/// One TCP socket as NETLINK_SOCK_DIAG reports it (struct inet_diag_msg), addresses kept raw.
public struct DiagSocket: Sendable {
    public let family: SocketAddress.Family
    /// Kernel TCP state number (TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11).
    public let state: UInt8
    public let sourcePort: UInt16
    public let destinationPort: UInt16
    /// The 16 address bytes of inet_diag_sockid (IPv4 uses the first 4).
    public let source: IPBytes
    public let destination: IPBytes
}

/// An IP address as two words, cheap to hash while a census groups thousands of sockets.
public struct IPBytes: Hashable, Sendable {
    public let high: UInt64
    public let low: UInt64
    public let isIPv4: Bool

    public init(high: UInt64, low: UInt64, isIPv4: Bool) {
        self.high = high
        self.low = low
        self.isIPv4 = isIPv4
    }

    /// The bytes of a SocketAddress's IP.
    public init(_ a: SocketAddress) {
        var b = [UInt8](repeating: 0, count: 16)
        a.storage.withUnsafeBytes { raw in
            if a.family == .ipv4 {
                for i in 0..<4 { b[i] = raw[4 + i] }          // sin_addr
            } else {
                for i in 0..<16 { b[i] = raw[8 + i] }         // sin6_addr
            }
        }
        self.init(bytes: b, isIPv4: a.family == .ipv4)
    }

    init(bytes b: [UInt8], isIPv4: Bool) {
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(b[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(b[i]) }
        self.init(high: h, low: l, isIPv4: isIPv4)
    }

    /// Text form, as inet_ntop writes it.
    public var text: String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        _ = bytes.withUnsafeBytes { inet_ntop(isIPv4 ? AF_INET : AF_INET6, $0.baseAddress, &buf, socklen_t(buf.count)) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Dumps TCP sockets through NETLINK_SOCK_DIAG (SOCK_DIAG_BY_FAMILY with inet_diag_req_v2),
/// optionally filtered in the kernel by destination port with an INET_DIAG_BC_D_EQ bytecode.
/// Reading needs no privileges.
public enum SockDiag {
    /// TCP state numbers (include/net/tcp_states.h) and their names.
    public static let stateNames: [UInt8: String] = [
        1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
        7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
    ]
    /// Every state but LISTEN: the sockets of connections.
    public static let connectionStates: UInt32 = 0xFFF & ~(1 << 10)
    public static let listenState: UInt32 = 1 << 10

    private static let requestSize = 56
    private static let messageSize = 72

    /// Calls `body` for each TCP socket of `family` in one of `states` (a bit mask of 1 << state),
    /// whose destination port is `destinationPort` when one is given.
    public static func dump(family: SocketAddress.Family, states: UInt32, destinationPort: UInt16?,
                            _ body: (DiagSocket) -> Void) throws(SystemError) {
        let request = makeRequest(family: family, states: states, destinationPort: destinationPort)
        try Netlink.request(family: Netlink.sockDiagProtocol, type: 20, flags: Netlink.requestFlag | Netlink.dumpFlag,
                            body: request, bufferSize: 256 * 1024) { (type, payload) throws(SystemError) in  // SOCK_DIAG_BY_FAMILY
            switch type {
            case Netlink.errorType:
                let code = Netlink.errorCode(payload)
                if code != 0 { throw SystemError("sock_diag dump", errno: code) }
            case 20 where payload.count >= messageSize:
                body(parse(payload))
            default:
                break
            }
        }
    }

    /// struct inet_diag_msg: family, state, timer, retrans, then inet_diag_sockid
    /// (sport and dport big-endian, src[4] and dst[4] 32-bit words in network order, ...).
    static func parse(_ m: UnsafeRawBufferPointer) -> DiagSocket {
        let family: SocketAddress.Family = m[0] == UInt8(AF_INET6) ? .ipv6 : .ipv4
        func address(_ at: Int) -> IPBytes {
            var h: UInt64 = 0, l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(m[at + i]) }
            for i in 8..<16 { l = l << 8 | UInt64(m[at + i]) }
            if family == .ipv4 { l = 0; h &= 0xFFFF_FFFF_0000_0000 }
            return IPBytes(high: h, low: l, isIPv4: family == .ipv4)
        }
        return DiagSocket(family: family, state: m[1],
                          sourcePort: UInt16(m[4]) << 8 | UInt16(m[5]),
                          destinationPort: UInt16(m[6]) << 8 | UInt16(m[7]),
                          source: address(8), destination: address(24))
    }

    /// struct inet_diag_req_v2 (family, protocol, ext, pad, states, match-all sockid), then the
    /// INET_DIAG_REQ_BYTECODE attribute when a destination port is given.
    static func makeRequest(family: SocketAddress.Family, states: UInt32, destinationPort: UInt16?) -> [UInt8] {
        var bytecode: [UInt8] = []
        if let port = destinationPort {
            // {D_EQ, yes: 8 (to the end: accept), no: 12 (past the end: reject)}, {NOP, 0, port}
            bytecode = [12, 8] + le16(12) + [0, 0] + le16(port)
        }
        let attribute = bytecode.isEmpty ? [] : le16(UInt16(4 + bytecode.count)) + le16(1) + bytecode
        var r: [UInt8] = [UInt8(family == .ipv4 ? AF_INET : AF_INET6), UInt8(IPPROTO_TCP), 0, 0]
        r += le32(states)
        r += [UInt8](repeating: 0, count: 48)  // inet_diag_sockid: match-all
        r += attribute
        return r
    }

    private static func le16(_ v: UInt16) -> [UInt8] { Netlink.le16(v) }
    private static func le32(_ v: UInt32) -> [UInt8] { Netlink.le32(v) }
}
