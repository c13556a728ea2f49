import Glibc

/// One request on a netlink socket and the loop over the datagrams that answer it (linux/netlink.h):
/// struct nlmsghdr is length, type, flags, sequence and port id, each message padded to 4 bytes.
/// RouteTable (NETLINK_ROUTE) and SockDiag (NETLINK_SOCK_DIAG) speak through it.
enum Netlink {
    static let routeProtocol: Int32 = 0     // NETLINK_ROUTE
    static let sockDiagProtocol: Int32 = 4  // NETLINK_SOCK_DIAG
    static let requestFlag: UInt16 = 0x0001  // NLM_F_REQUEST
    static let dumpFlag: UInt16 = 0x0300     // NLM_F_ROOT | NLM_F_MATCH
    static let errorType: UInt16 = 2         // NLMSG_ERROR: a negative errno (0 for an ack) follows
    static let doneType: UInt16 = 3          // NLMSG_DONE: the end of a dump
    static let headerSize = 16

    /// Sends `body` as a message of `type` on a new socket of `family` and passes each answer's
    /// type and payload to `each`: until NLMSG_DONE for a dump, after the first datagram (or an
    /// NLMSG_ERROR) for a get. `timeoutSeconds` bounds each recv (SO_RCVTIMEO) when given.
    static func request(family: Int32, type: UInt16, flags: UInt16, body: [UInt8], bufferSize: Int = 64 * 1024,
                        timeoutSeconds: Int? = nil,
                        _ each: (UInt16, UnsafeRawBufferPointer) throws(SystemError) -> Void) throws(SystemError) {
        let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), family)
        guard fd >= 0 else { throw SystemError.last("socket(AF_NETLINK, \(family == sockDiagProtocol ? "NETLINK_SOCK_DIAG" : "NETLINK_ROUTE"))") }
        defer { Glibc.close(fd) }
        if let seconds = timeoutSeconds {
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        let message = le32(UInt32(headerSize + body.count)) + le16(type) + le16(flags) + le32(1) + le32(0) + body
        let sent = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else { throw SystemError.last("send(netlink request \(type))") }
        let dump = flags & dumpFlag != 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError.last("recv(netlink answer to \(type))")
            }
            if n == 0 { return }
            var off = 0
            while off + headerSize <= n {
                let len = Int(buffer.loadUnaligned(fromByteOffset: off, as: UInt32.self))
                let kind = buffer.loadUnaligned(fromByteOffset: off + 4, as: UInt16.self)
                guard len >= headerSize, off + len <= n else { return }
                if kind == doneType { return }
                try each(kind, UnsafeRawBufferPointer(rebasing: buffer[(off + headerSize)..<(off + len)]))
                if kind == errorType && !dump { return }
                off += (len + 3) & ~3
            }
            if !dump { return }
        }
    }

    /// The errno an NLMSG_ERROR payload carries (0 for an acknowledgement).
    static func errorCode(_ payload: UnsafeRawBufferPointer) -> Int32 {
        payload.count >= 4 ? -payload.loadUnaligned(as: Int32.self) : EIO
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
