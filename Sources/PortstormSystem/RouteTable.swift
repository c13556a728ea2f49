import Glibc
import Synchronization

/// What this machine's routing table says about one destination: the answer to RTM_GETROUTE on
/// NETLINK_ROUTE, the lookup `ip route get ADDRESS` makes. Nothing is sent toward the destination.
public struct RouteLookup: Sendable, Equatable {
    /// The errno of a failed lookup (ENETUNREACH: no route; EHOSTUNREACH: an `unreachable` route),
    /// nil when a route was found.
    public var error: Int32?
    /// rtm_type of the route found: 1 unicast, 2 local (an address of this machine), ...
    public var type: UInt8
    /// RTA_GATEWAY: the next hop, nil for an on-link destination.
    public var gateway: String?
    /// RTA_OIF, and its name from if_indextoname(3).
    public var interfaceIndex: Int32?
    public var interfaceName: String?
    /// RTA_PREFSRC: the source address the kernel would pick.
    public var preferredSource: String?

    public var found: Bool { error == nil }
    /// rtm_type RTN_LOCAL: the destination is an address of this machine.
    public var isLocal: Bool { error == nil && type == 2 }
}

/// One entry of the neighbour table (ARP for IPv4, ND for IPv6): RTM_GETNEIGH on NETLINK_ROUTE,
/// what `ip neigh` prints.
public struct NeighbourEntry: Sendable, Equatable {
    public var address: String
    public var interfaceIndex: Int32
    /// ndm_state bits (NUD_INCOMPLETE 0x01 ... NUD_PERMANENT 0x80).
    public var state: UInt16

    /// The state as `ip neigh` names it (`FAILED`, `INCOMPLETE`, `REACHABLE`, ...).
    public var stateName: String { NeighbourEntry.name(of: state) }

    /// Whether address resolution got no answer: no host owns the address on that link.
    public var unanswered: Bool { state & (0x01 | 0x20) != 0 }

    public static func name(of state: UInt16) -> String {
        let names: [(UInt16, String)] = [(0x01, "INCOMPLETE"), (0x02, "REACHABLE"), (0x04, "STALE"), (0x08, "DELAY"),
                                         (0x10, "PROBE"), (0x20, "FAILED"), (0x40, "NOARP"), (0x80, "PERMANENT")]
        let set = names.filter { state & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "NONE" : set.joined(separator: "|")
    }
}

/// Route and neighbour lookups through NETLINK_ROUTE (readable without privileges).
public enum RouteTable {
    /// The route the kernel would use toward `destination` (RTM_GETROUTE with RTA_DST).
    public static func lookup(_ destination: SocketAddress) throws(SystemError) -> RouteLookup {
        let addr = addressBytes(destination)
        var body: [UInt8] = [UInt8(destination.domain), UInt8(addr.count * 8), 0, 0, 0, 0, 0, 0] + le32(0)  // struct rtmsg
        body += attribute(1, addr)                                                                         // RTA_DST
        var out: RouteLookup?
        var failure: Int32?
        try Netlink.request(family: Netlink.routeProtocol, type: 26, flags: Netlink.requestFlag, body: body,
                            timeoutSeconds: 1) { type, payload in                                             // RTM_GETROUTE
            if type == Netlink.errorType { failure = Netlink.errorCode(payload); return }
            guard type == 24, payload.count >= 12 else { return }                                           // RTM_NEWROUTE
            var r = RouteLookup(error: nil, type: payload[7])
            forEachAttribute(payload, from: 12) { kind, value in
                switch kind {
                case 4 where value.count >= 4: r.interfaceIndex = value.loadUnaligned(as: Int32.self)    // RTA_OIF
                case 5: r.gateway = text(value, family: destination.domain)                               // RTA_GATEWAY
                case 7: r.preferredSource = text(value, family: destination.domain)                       // RTA_PREFSRC
                default: break
                }
            }
            if let i = r.interfaceIndex { r.interfaceName = interfaceName(i) }
            out = r
        }
        if let e = failure, e != 0 { return RouteLookup(error: e, type: 0) }
        guard let found = out else { throw SystemError("RTM_GETROUTE (no answer)", errno: EIO) }
        return found
    }

    /// The neighbour entry for `address` (on any interface, or on `interfaceIndex` when given);
    /// nil when the table has none (RTM_GETNEIGH dump).
    public static func neighbour(_ address: SocketAddress, interfaceIndex: Int32? = nil) throws(SystemError) -> NeighbourEntry? {
        let want = addressBytes(address)
        let body: [UInt8] = [UInt8(address.domain), 0, 0, 0] + le32(0) + [0, 0, 0, 0]                        // struct ndmsg
        var found: NeighbourEntry?
        try Netlink.request(family: Netlink.routeProtocol, type: 30, flags: Netlink.requestFlag | Netlink.dumpFlag, body: body,
                            timeoutSeconds: 1) { type, payload in                                             // RTM_GETNEIGH
            guard type == 28, payload.count >= 12, payload[0] == UInt8(address.domain) else { return }       // RTM_NEWNEIGH
            let index = payload.loadUnaligned(fromByteOffset: 4, as: Int32.self)
            if let i = interfaceIndex, i != index { return }
            let state = payload.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
            forEachAttribute(payload, from: 12) { kind, value in
                if kind == 1, Array(value) == want, found == nil {                                           // NDA_DST
                    found = NeighbourEntry(address: address.ip, interfaceIndex: index, state: state)
                }
            }
        }
        return found
    }

    /// Whether this machine's routing table has a usable route toward `destination`: connect(2) of
    /// a UDP socket does the route lookup and sends nothing. False only when that connect fails with
    /// ENETUNREACH or EHOSTUNREACH.
    public static func hasRoute(to destination: SocketAddress) -> Bool {
        let fd = Glibc.socket(destination.domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { Glibc.close(fd) }
        let rc = destination.withSockAddr { Glibc.connect(fd, $0, $1) }
        return rc == 0 || (errno != ENETUNREACH && errno != EHOSTUNREACH)
    }

    private static let cache = Mutex<[SocketAddress: (atNs: UInt64, hasRoute: Bool)]>([:])

    /// `hasRoute(to:)`, remembered for about a second per destination: the engine asks on every
    /// ENETUNREACH / EHOSTUNREACH, which can come thousands of times a second.
    public static func hasRouteCached(to destination: SocketAddress) -> Bool {
        let now = monotonicNanos()
        if let hit = cache.withLock({ $0[destination] }), now &- hit.atNs < 1_000_000_000 { return hit.hasRoute }
        let answer = hasRoute(to: destination)
        cache.withLock { $0[destination] = (now, answer) }
        return answer
    }

    /// The name of interface `index` (if_indextoname(3)).
    public static func interfaceName(_ index: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: 64)
        guard if_indextoname(UInt32(bitPattern: index), &buf) != nil else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Encoding

    /// The address bytes of a sockaddr (sin_addr or sin6_addr), network order.
    static func addressBytes(_ a: SocketAddress) -> [UInt8] {
        a.family == .ipv4 ? Array(a.storage[4..<8]) : Array(a.storage[8..<24])
    }

    static func text(_ bytes: UnsafeRawBufferPointer, family: Int32) -> String? {
        guard bytes.count == (family == AF_INET ? 4 : 16) else { return nil }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, bytes.baseAddress, &buf, socklen_t(buf.count)) != nil else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Walks struct rtattr entries (rta_len, rta_type, value padded to 4 bytes).
    static func forEachAttribute(_ m: UnsafeRawBufferPointer, from start: Int, _ body: (UInt16, UnsafeRawBufferPointer) -> Void) {
        var off = start
        while off + 4 <= m.count {
            let len = Int(m.loadUnaligned(fromByteOffset: off, as: UInt16.self))
            let kind = m.loadUnaligned(fromByteOffset: off + 2, as: UInt16.self) & 0x3FFF
            guard len >= 4, off + len <= m.count else { return }
            body(kind, UnsafeRawBufferPointer(rebasing: m[(off + 4)..<(off + len)]))
            off += (len + 3) & ~3
        }
    }

    static func attribute(_ kind: UInt16, _ value: [UInt8]) -> [UInt8] {
        var a = le16(UInt16(4 + value.count)) + le16(kind) + value
        while a.count % 4 != 0 { a.append(0) }
        return a
    }

    static func le16(_ v: UInt16) -> [UInt8] { Netlink.le16(v) }
    static func le32(_ v: UInt32) -> [UInt8] { Netlink.le32(v) }
}
