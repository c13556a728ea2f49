import Glibc

/// What kind of address an IP literal is, for advice that depends on where it can be reached from.
public enum AddressKind {
    /// The name of the internal range `ip` belongs to (RFC 1918, 100.64.0.0/10, fc00::/7,
    /// link-local), or nil for a public address or a non-literal. Parsed with inet_pton(3).
    public static func internalRange(_ ip: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 {
            let a = UInt32(bigEndian: v4.s_addr)
            if a >> 24 == 10 { return "a private address (RFC 1918, 10.0.0.0/8)" }
            if a >> 20 == 0xAC1 { return "a private address (RFC 1918, 172.16.0.0/12)" }
            if a >> 16 == 0xC0A8 { return "a private address (RFC 1918, 192.168.0.0/16)" }
            if a >> 22 == 0x191 { return "a shared address (100.64.0.0/10, carrier-grade NAT)" }
            if a >> 16 == 0xA9FE { return "a link-local address (169.254.0.0/16)" }
            return nil
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, ip, &v6) == 1 {
            let (b0, b1) = withUnsafeBytes(of: &v6) { ($0[0], $0[1]) }
            if b0 & 0xFE == 0xFC { return "a unique local IPv6 address (fc00::/7)" }
            if b0 == 0xFE && b1 & 0xC0 == 0x80 { return "a link-local IPv6 address (fe80::/10)" }
        }
        return nil
    }

    /// Whether `ip` is a loopback address (127.0.0.0/8, ::1): the target is this machine.
    public static func isLoopback(_ ip: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, ip, &v6) == 1 { return withUnsafeBytes(of: &v6) { $0.dropLast().allSatisfy { $0 == 0 } && $0[15] == 1 } }
        return false
    }
}
