import Glibc

/// Name resolution through getaddrinfo(3), done once before a run.
public enum Resolver {
    /// Every IPv4 and IPv6 address `host` resolves to, in the resolver's order, without duplicates.
    public static func resolve(_ host: String, port: UInt16) -> Result<[SocketAddress], InputError> {
        if let literal = SocketAddress(ip: host, port: port) { return .success([literal]) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let why = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            return .failure(InputError("cannot resolve '\(host)': \(why)"))
        }
        defer { freeaddrinfo(first) }
        var out: [SocketAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            if let sa = n.pointee.ai_addr, let a = SocketAddress(sa, length: n.pointee.ai_addrlen), !out.contains(a) {
                out.append(a)
            }
            node = n.pointee.ai_next
        }
        if out.isEmpty { return .failure(InputError("'\(host)' resolved to no IPv4 or IPv6 address")) }
        return .success(out)
    }
}
