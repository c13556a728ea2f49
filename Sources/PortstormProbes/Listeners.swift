import PortstormSystem

/// This machine's listening TCP sockets (sock_diag LISTEN entries of the current namespace).
public enum Listeners {
    /// The addresses listening on `port`, both families (`0.0.0.0` and `::` mean every address).
    public static func on(port: UInt16) -> [String] {
        var out: [String] = []
        for family in [SocketAddress.Family.ipv4, .ipv6] {
            try? SockDiag.dump(family: family, states: SockDiag.listenState, destinationPort: nil) { s in
                if s.sourcePort == port { out.append(s.source.text) }
            }
        }
        return out
    }

    /// Every listening port, for "did you mean" hints.
    public static func ports() -> [UInt16] {
        var out = Set<UInt16>()
        for family in [SocketAddress.Family.ipv4, .ipv6] {
            try? SockDiag.dump(family: family, states: SockDiag.listenState, destinationPort: nil) { out.insert($0.sourcePort) }
        }
        return out.sorted()
    }
}
