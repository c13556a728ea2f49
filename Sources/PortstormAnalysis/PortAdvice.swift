import PortstormRecord

/// What to change when the client's ports run short, leaving out what is already in effect
/// (the setting, or the close mode the run used) and what cannot be done.
public enum PortAdvice {
    /// The advice on tcp_tw_reuse for these settings and this target, or nil when reuse already
    /// applies. `targetIsLoopback` nil: the target is not known (doctor without --target).
    public static func twReuse(_ s: SystemSnapshot, targetIsLoopback: Bool?) -> String? {
        let v = s.tcpTwReuse ?? 2
        if s.tcpTimestamps == 0 {
            return "net.ipv4.tcp_timestamps=1" + (v == 0 ? " with net.ipv4.tcp_tw_reuse=1" : "")
                + ": TIME_WAIT reuse (tcp_tw_reuse = \(v)) needs TCP timestamps, which are off"
        }
        switch (v, targetIsLoopback) {
        case (1, _), (2, true?): return nil
        case (2, false?):
            return "net.ipv4.tcp_tw_reuse=1 lets new connections to other hosts reuse TIME_WAIT tuples (it is 2: loopback only; needs TCP timestamps)"
        case (2, nil):
            return "for a target that is not loopback: net.ipv4.tcp_tw_reuse=1 (it is 2: loopback only) lets new outgoing connections reuse TIME_WAIT tuples"
        default:
            return "net.ipv4.tcp_tw_reuse=1 lets new outgoing connections reuse TIME_WAIT tuples (needs TCP timestamps)"
        }
    }

    /// Ways to get more connections per second out of the port budget, most useful first.
    /// `range` is the effective range the run had; `close` the close mode it used.
    public static func list(_ s: SystemSnapshot, range: Int, perSocket: Bool, close: CloseMode, targetIsLoopback: Bool?) -> [String] {
        var out: [String] = []
        if range < PortBudget.widestRange(s) {
            out.append(perSocket ? "widen --local-ports (or net.ipv4.ip_local_port_range), keeping server ports out with ip_local_reserved_ports"
                                 : "widen net.ipv4.ip_local_port_range (or --local-ports), keeping server ports out with ip_local_reserved_ports")
        }
        out.append("spread over more source addresses (--source A.B.C.D-A.B.C.E): each has its own budget per destination")
        if close != .server { out.append("let the server close first, or keep connections alive: TIME_WAIT then stays on the server") }
        if close != .rst { out.append("SO_LINGER 0 (--close rst) where an abortive close is acceptable: no TIME_WAIT at all") }
        if let reuse = twReuse(s, targetIsLoopback: targetIsLoopback) { out.append(reuse) }
        out.append("not: tcp_tw_recycle (removed in Linux 4.12), nor tcp_fin_timeout (it does not shorten TIME_WAIT)")
        return out
    }
}

extension RunAnalysis {
    /// `PortAdvice.list` for this run's settings and target.
    static func portAdvice(_ r: RunRecord) -> [String] {
        let range = PortBudget.effectiveRange(r.system, perSocket: r.config.localPorts)
        return PortAdvice.list(r.system, range: range.size, perSocket: r.config.localPorts != nil, close: r.config.close,
                               targetIsLoopback: targetIsLoopback(r))
    }
}
