/// What this machine knew about its path to one destination: the route its routing table picks
/// (RTM_GETROUTE, as `ip route get`) and the neighbour entry of the next hop (RTM_GETNEIGH, as
/// `ip neigh`). Taken after failures that a path can explain (unreachable, timeouts).
public struct PathObservation: Codable, Sendable, Equatable {
    public enum Route: String, Codable, Sendable {
        /// A usable route: via a gateway, or on-link.
        case found
        /// The routing table has none (or an `unreachable` / `prohibit` route): no SYN leaves.
        case none
        /// The destination is an address of this machine.
        case local
    }

    public var destination: String
    public var route: Route
    /// Why the lookup failed, as the kernel said it (`Network is unreachable`), when `route` is none.
    public var routeError: String?
    /// The next hop, nil for an on-link destination.
    public var gateway: String?
    /// The output interface (`eth0`).
    public var device: String?
    /// The source address the kernel picks for this destination.
    public var source: String?
    /// The address the neighbour entry is for: the destination when on-link, else the gateway.
    public var neighbourAddress: String?
    /// Its state as `ip neigh` names it (`FAILED`, `INCOMPLETE`, `REACHABLE`, ...); nil when the
    /// table has no entry or the lookup was not made.
    public var neighbourState: String?

    public init(destination: String, route: Route, routeError: String? = nil, gateway: String? = nil, device: String? = nil,
                source: String? = nil, neighbourAddress: String? = nil, neighbourState: String? = nil) {
        self.destination = destination
        self.route = route
        self.routeError = routeError
        self.gateway = gateway
        self.device = device
        self.source = source
        self.neighbourAddress = neighbourAddress
        self.neighbourState = neighbourState
    }

    /// A route straight onto a link, no gateway: the destination itself must answer ARP/ND.
    public var onLink: Bool { route == .found && gateway == nil }

    /// The next hop got no answer to ARP/ND (entry FAILED or INCOMPLETE).
    public var neighbourUnanswered: Bool {
        guard let s = neighbourState else { return false }
        return s.contains("FAILED") || s.contains("INCOMPLETE")
    }
}

/// A `--source` address checked at the start of a run with a bind(2) probe.
public struct SourceCheck: Codable, Sendable, Equatable {
    public var address: String
    /// Whether bind() to it succeeded; false with EADDRNOTAVAIL means it is not an address of this machine.
    public var local: Bool
    /// The bind() error when it failed (`Cannot assign requested address`).
    public var error: String?

    public init(address: String, local: Bool, error: String? = nil) {
        self.address = address
        self.local = local
        self.error = error
    }
}
