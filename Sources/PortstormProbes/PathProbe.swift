import Glibc
import PortstormRecord
import PortstormSystem

/// Looks at this machine's side of the path to a destination: its routing table and neighbour table.
public enum PathProbe {
    /// The route toward `destination` (RTM_GETROUTE) and the next hop's neighbour entry
    /// (RTM_GETNEIGH); nil when netlink could not be read.
    public static func observe(_ destination: SocketAddress) -> PathObservation? {
        guard let r = try? RouteTable.lookup(destination) else { return nil }
        if let e = r.error {
            return PathObservation(destination: destination.ip, route: .none, routeError: String(cString: strerror(e)))
        }
        if r.isLocal { return PathObservation(destination: destination.ip, route: .local, device: r.interfaceName) }
        var o = PathObservation(destination: destination.ip, route: .found, gateway: r.gateway, device: r.interfaceName,
                                source: r.preferredSource)
        let hop = r.gateway.flatMap { SocketAddress(ip: $0, port: 0) } ?? destination
        o.neighbourAddress = hop.ip
        o.neighbourState = (try? RouteTable.neighbour(hop, interfaceIndex: r.interfaceIndex))??.stateName
        return o
    }

    /// Whether the failures of a run are ones a path observation can explain.
    public static func wanted(_ outcomes: OutcomeCounts) -> Bool {
        [Outcome.enetunreach, .ehostunreach, .noRoute, .connectTimeout, .etimedout].contains { outcomes[$0] > 0 }
    }
}

/// Checks `--source` addresses with a bind(2) probe: one that bind() refuses is not usable.
public enum SourceProbe {
    /// The sources bind() refused (EADDRNOTAVAIL: not an address of this machine). Checks at most
    /// `limit` addresses (a range can hold thousands).
    public static func unusable(_ sources: [SocketAddress], limit: Int = 4096) -> [SourceCheck] {
        var out: [SourceCheck] = []
        for s in sources.prefix(limit) {
            let rc = Socket.checkLocalAddress(s)
            if rc != 0 { out.append(SourceCheck(address: s.ip, local: false, error: String(cString: strerror(-rc)))) }
        }
        return out
    }
}
