import Glibc

/// An IPv4 or IPv6 socket address (sockaddr_in / sockaddr_in6) with its port.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: String, Sendable, Codable { case ipv4, ipv6 }

    /// Raw bytes of the sockaddr, as passed to connect() and bind().
    public private(set) var storage: [UInt8]
    public let family: Family

    /// Parses a numeric address (inet_pton); nil when `ip` is not an IPv4 or IPv6 literal.
    public init?(ip: String, port: UInt16) {
        var a4 = sockaddr_in()
        if inet_pton(AF_INET, ip, &a4.sin_addr) == 1 {
            a4.sin_family = sa_family_t(AF_INET)
            a4.sin_port = port.bigEndian
            self.family = .ipv4
            self.storage = withUnsafeBytes(of: &a4) { Array($0) }
            return
        }
        var a6 = sockaddr_in6()
        if inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1 {
            a6.sin6_family = sa_family_t(AF_INET6)
            a6.sin6_port = port.bigEndian
            self.family = .ipv6
            self.storage = withUnsafeBytes(of: &a6) { Array($0) }
            return
        }
        return nil
    }

    /// Copies a sockaddr returned by the kernel (getaddrinfo, getsockname); nil for other families.
    public init?(_ sa: UnsafePointer<sockaddr>, length: socklen_t) {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET where Int(length) >= MemoryLayout<sockaddr_in>.size:
            family = .ipv4
            storage = Array(UnsafeRawBufferPointer(start: sa, count: MemoryLayout<sockaddr_in>.size))
        case AF_INET6 where Int(length) >= MemoryLayout<sockaddr_in6>.size:
            family = .ipv6
            storage = Array(UnsafeRawBufferPointer(start: sa, count: MemoryLayout<sockaddr_in6>.size))
        default:
            return nil
        }
    }

    public var domain: Int32 { family == .ipv4 ? AF_INET : AF_INET6 }

    public var port: UInt16 {
        get {
            storage.withUnsafeBytes { raw in
                family == .ipv4
                    ? UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
                    : UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            }
        }
        set {
            storage.withUnsafeMutableBytes { raw in
                if family == .ipv4 {
                    raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = newValue.bigEndian
                } else {
                    raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = newValue.bigEndian
                }
            }
        }
    }

    /// The address without the port, as inet_ntop writes it.
    public var ip: String {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        storage.withUnsafeBytes { raw in
            if family == .ipv4 {
                var a = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
            } else {
                var a = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
            }
        }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `1.2.3.4:80` or `[::1]:80`.
    public var description: String { family == .ipv4 ? "\(ip):\(port)" : "[\(ip)]:\(port)" }

    /// Whether the address is in 127.0.0.0/8 or is ::1.
    public var isLoopback: Bool {
        storage.withUnsafeBytes { raw in
            if family == .ipv4 {
                return UInt32(bigEndian: raw.load(as: sockaddr_in.self).sin_addr.s_addr) >> 24 == 127
            }
            var a = raw.load(as: sockaddr_in6.self).sin6_addr
            return withUnsafeBytes(of: &a) { b in b.prefix(15).allSatisfy { $0 == 0 } && b[15] == 1 }
        }
    }

    /// The IPv4 address as a host-order integer (nil for IPv6); used for source ranges.
    public var ipv4Value: UInt32? {
        guard family == .ipv4 else { return nil }
        return storage.withUnsafeBytes { UInt32(bigEndian: $0.load(as: sockaddr_in.self).sin_addr.s_addr) }
    }

    public init(ipv4Value: UInt32, port: UInt16) {
        var a4 = sockaddr_in()
        a4.sin_family = sa_family_t(AF_INET)
        a4.sin_port = port.bigEndian
        a4.sin_addr.s_addr = ipv4Value.bigEndian
        family = .ipv4
        storage = withUnsafeBytes(of: &a4) { Array($0) }
    }

    /// Calls `body` with the sockaddr pointer and length, for connect() / bind().
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }
}
