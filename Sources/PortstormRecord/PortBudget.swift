/// The ephemeral-port arithmetic of one (source IP, destination IP, destination port) tuple.
public enum PortBudget {
    /// TCP_TIMEWAIT_LEN: 60 s, fixed at compile time (include/net/tcp.h).
    public static let timeWaitSeconds = 60.0

    /// Ports connect() may choose: the per-socket range intersected with ip_local_port_range
    /// (a per-socket range outside it is ignored, as inet_sk_get_local_port_range does), minus
    /// ip_local_reserved_ports.
    public static func effectiveRange(_ s: SystemSnapshot, perSocket: PortRange?) -> (low: UInt16, high: UInt16, size: Int) {
        var lo = s.ipLocalPortRange?.first ?? 32768, hi = s.ipLocalPortRange?.last ?? 60999
        if let p = perSocket, max(lo, p.low) <= min(hi, p.high) {
            lo = max(lo, p.low)
            hi = min(hi, p.high)
        }
        var size = Int(hi) - Int(lo) + 1
        for r in reservedPorts(s.ipLocalReservedPorts ?? "") {
            let a = max(r.lowerBound, lo), b = min(r.upperBound, hi)
            if a <= b { size -= Int(b) - Int(a) + 1 }
        }
        return (lo, hi, max(0, size))
    }

    /// The widest range a port range can be set to in practice: 1024-65535 (ports below 1024 are
    /// privileged and left to servers) minus ip_local_reserved_ports. Advice never asks for more.
    public static func widestRange(_ s: SystemSnapshot) -> Int {
        var size = 65535 - 1024 + 1
        for r in reservedPorts(s.ipLocalReservedPorts ?? "") {
            let a = max(r.lowerBound, 1024), b = r.upperBound
            if a <= b { size -= Int(b) - Int(a) + 1 }
        }
        return max(0, size)
    }

    /// `ip_local_reserved_ports` text ("8080,40000-40009") -> ranges; malformed items are ignored.
    public static func reservedPorts(_ text: String) -> [ClosedRange<UInt16>] {
        text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == " " }).compactMap { item in
            let ends = item.split(separator: "-")
            guard let lo = UInt16(ends[0]) else { return nil }
            if ends.count == 1 { return lo...lo }
            guard ends.count == 2, let hi = UInt16(ends[1]), lo <= hi else { return nil }
            return lo...hi
        }
    }

    /// New connections per second one tuple sustains when the client closes first and TIME_WAIT
    /// is not reused: every port is held for 60 s after its connection ends.
    public static func sustainableRate(rangeSize: Int) -> Double { Double(rangeSize) / timeWaitSeconds }

    /// Whether tcp_tw_reuse lets new outgoing connections take over TIME_WAIT tuples toward this
    /// target: 1 for all, 2 for loopback only; it also needs TCP timestamps.
    public static func reuseApplies(_ s: SystemSnapshot, targetIsLoopback: Bool) -> Bool {
        guard s.tcpTimestamps ?? 1 != 0 else { return false }
        switch s.tcpTwReuse ?? 2 {
        case 1: return true
        case 2: return targetIsLoopback
        default: return false
        }
    }
}
