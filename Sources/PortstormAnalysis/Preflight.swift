import Foundation
import PortstormRecord

/// The load a user is about to run, as far as the preflight needs it.
public struct PlannedLoad: Sendable {
    public var rate: Double?
    public var concurrency: Int
    /// Source addresses (each has its own port budget); 1 when the kernel chooses.
    public var sources: Int
    public var localPorts: PortRange?
    public var close: CloseMode
    /// nil when the target is not known (doctor without --target).
    public var targetIsLoopback: Bool?
    /// The run's bounds (-n, -d), when known: they cap how many connections it can make.
    public var connections: Int?
    public var durationSeconds: Double?
    /// --hold: how long each connection stays open after it is made (nil: closed at once).
    public var holdSeconds: Double?

    public init(rate: Double? = nil, concurrency: Int = 100, sources: Int = 1, localPorts: PortRange? = nil,
                close: CloseMode = .client, targetIsLoopback: Bool? = nil, connections: Int? = nil,
                durationSeconds: Double? = nil, holdSeconds: Double? = nil) {
        self.holdSeconds = holdSeconds
        self.rate = rate
        self.concurrency = concurrency
        self.sources = max(1, sources)
        self.localPorts = localPorts
        self.close = close
        self.targetIsLoopback = targetIsLoopback
        self.connections = connections
        self.durationSeconds = durationSeconds
    }

    /// Connections the load keeps open at once, as far as it is known before the run: -c (or -n
    /// when smaller) in closed loop; with --rate, the rate times --hold (each connection is open
    /// that long), capped by -c. Without --hold an open-loop attempt lasts as long as its connect
    /// and exchange, which only the run measures: 0 here (its ports are sized by TIME_WAIT or not
    /// at all, see `Preflight.portBudget`).
    public var openAtOnce: Int {
        let cap = min(concurrency, connections ?? Int.max)
        guard let rate else { return cap }
        let held = rate * (holdSeconds ?? 0)
        return held >= Double(cap) ? cap : Int(held.rounded(.up))
    }

    /// Connection-tracking entries the load can hold at once: those in flight plus those closed
    /// within the last `linger` seconds, never more than the attempts the run may make (-n), and
    /// at a given --rate no more than it starts over the run (-d). nil in closed loop without -n:
    /// the rate is then unknown.
    func connectionsAlive(linger: Double) -> Int? {
        var bound: Double? = connections.map(Double.init)
        if let rate {
            let window = min(linger, durationSeconds ?? linger)
            let byRate = Double(concurrency) + rate * window
            bound = min(bound ?? byRate, byRate)
        }
        return bound.map { $0 >= Double(Int.max) ? Int.max : Int($0.rounded(.up)) }
    }
}

/// `portstorm doctor`: what in this machine's settings will limit a connection-churn run, and what
/// to change. Pure: everything comes from the snapshot and the planned load.
public enum Preflight {
    /// `ioUringProblem` is the sentence explaining why io_uring cannot be used (nil when it can).
    /// `capacity`, when given, adds the one sentence on which limit stops the load first (`hold-capacity`).
    public static func check(_ s: SystemSnapshot, load: PlannedLoad, ioUringProblem: String?, capacity: HoldCapacity? = nil) -> [Finding] {
        [ioUring(ioUringProblem), capacity?.finding, portBudget(s, load), twReuse(s, load), timeWaitLength(s), twBuckets(s, load),
         capacity?.inputs.socketsInRing == true ? openFilesInRings(s, load) : openFiles(s, load), conntrack(s, load), listenQueue(s)].compactMap { $0 }
    }

    /// On the ring path sockets take no descriptor of the process: RLIMIT_NOFILE only sizes each
    /// ring's fixed-file table (the capacity finding counts the tables).
    static func openFilesInRings(_ s: SystemSnapshot, _ load: PlannedLoad) -> Finding {
        let table = max(1, Int(clamping: s.openFilesHard))
        let rings = (load.concurrency + table - 1) / table
        return Finding(.ok, "open-files", "sockets live in the rings' file tables: the open-file limit sizes each table, and the run takes more rings when one is not enough",
                       evidence: ["RLIMIT_NOFILE soft \(s.openFilesSoft), hard \(s.openFilesHard); \(load.rate == nil ? "" : "up to ")\(load.concurrency.grouped) attempts in flight need about \(rings) ring\(rings == 1 ? "" : "s") of at most \(table.grouped) sockets"])
    }

    static func ioUring(_ problem: String?) -> Finding {
        guard let problem else { return Finding(.ok, "io_uring", "io_uring is available") }
        return Finding(.problem, "io_uring", "io_uring cannot be used: portstorm cannot run here", evidence: [problem])
    }

    static func portBudget(_ s: SystemSnapshot, _ load: PlannedLoad) -> Finding {
        let r = PortBudget.effectiveRange(s, perSocket: load.localPorts)
        let perTuple = PortBudget.sustainableRate(rangeSize: r.size)
        let total = perTuple * Double(load.sources)
        var evidence = ["ephemeral range \(r.low)-\(r.high): \(r.size.grouped) usable ports per (source, destination, port) tuple"]
        if let reserved = s.ipLocalReservedPorts, !reserved.isEmpty { evidence.append("ip_local_reserved_ports: \(reserved)") }
        evidence.append("without TIME_WAIT reuse one tuple sustains about \(Format.rate(perTuple)) new connections/s (\(r.size.grouped) ports / 60 s)")
        if load.sources > 1 { evidence.append("\(load.sources) source addresses: about \(Format.rate(total))/s in all") }
        let widen = load.localPorts != nil
            ? "widen --local-ports (the per-socket range)"
            : "widen net.ipv4.ip_local_port_range (e.g. \"1024 65535\", keeping server ports out with ip_local_reserved_ports)"
        let more = "add source addresses (--source A.B.C.D-A.B.C.E): each has its own budget toward the same destination"
        let ports = r.size * load.sources
        // Open at once: -c in closed loop, rate x --hold with a rate (an open-loop attempt without
        // --hold lasts its connect and exchange only: the rate, not -c, sizes its ports).
        let open = load.openAtOnce
        if open > ports {
            let how = load.rate.map { "at \(Format.rate($0))/s with each connection held \(Format.rate(load.holdSeconds ?? 0)) s, about \(open.grouped) connections are open at once" }
                ?? "\(open.grouped) attempts in flight"
            return Finding(.problem, "port-budget",
                           "\(how) but only \(ports.grouped) ports toward this destination: the rest will fail with EADDRNOTAVAIL",
                           evidence: evidence, advice: [widen, sourcesNeeded(open, perSource: r.size), load.rate == nil ? "lower --concurrency" : "lower --rate or --hold"])
        }
        let reuse = load.targetIsLoopback.map { PortBudget.reuseApplies(s, targetIsLoopback: $0) } ?? false
        if let rate = load.rate, load.close == .client, rate > total, !reuse {
            let fill = Double(ports) / rate
            evidence.append("at \(Format.rate(rate))/s with the client closing first, TIME_WAIT fills the range in about \(Format.rate(fill)) s; then connect() fails with EADDRNOTAVAIL")
            // Each port stays in TIME_WAIT 60 s: the rate, not -c, sizes the ports.
            let need = rate * PortBudget.timeWaitSeconds
            let needText = need < 1e15 ? Int64(need.rounded(.up)).grouped : String(format: "%.3g", need)
            evidence.append("sustaining \(Format.rate(rate))/s takes about \(needText) ports (\(Format.rate(rate))/s x 60 s of TIME_WAIT)")
            if let d = load.durationSeconds, d < PortBudget.timeWaitSeconds {
                let inRun = min(Double(load.connections ?? Int.max), rate * d)
                evidence.append("this run lasts \(Format.rate(d)) s: it makes at most \(Int64(inRun.rounded(.up)).grouped) connections, all still in TIME_WAIT when it ends")
            }
            return Finding(.warning, "port-budget", "--rate \(Format.rate(rate))/s is above what the port range sustains (about \(Format.rate(total))/s)",
                           evidence: evidence,
                           advice: [widen, need < 1e15 ? sourcesNeeded(Int(need.rounded(.up)), perSource: r.size) : more,
                                    "let the server close first (--close server), or keep connections alive: TIME_WAIT then stays on the server",
                                    "SO_LINGER 0 (--close rst) where an abortive close is acceptable: no TIME_WAIT at all"]
                               + [PortAdvice.twReuse(s, targetIsLoopback: load.targetIsLoopback)].compactMap { $0 })
        }
        return Finding(.ok, "port-budget", "port budget: about \(Format.rate(perTuple)) new connections/s per tuple without reuse", evidence: evidence)
    }

    /// "use N source addresses of P ports (--source ...)" for `ports` ports at once.
    static func sourcesNeeded(_ ports: Int, perSource: Int) -> String {
        guard perSource > 0 else { return "free ports of the range first (ip_local_reserved_ports covers it)" }
        let n = (ports + perSource - 1) / perSource
        return "use \(n.grouped) source addresses or more of \(perSource.grouped) ports each (--source A.B.C.D-A.B.C.E): each has its own budget toward the same destination"
    }

    static func twReuse(_ s: SystemSnapshot, _ load: PlannedLoad) -> Finding? {
        guard let v = s.tcpTwReuse else { return nil }
        let delay = s.tcpTwReuseDelayMs.map { " after \($0) ms" } ?? ""
        let meaning = ["off: TIME_WAIT tuples are never reused for new connections",
                       "on for every outgoing connection (reused\(delay), only with TCP timestamps)",
                       "on for loopback connections only (reused\(delay)); other destinations get no reuse"]
        var evidence = ["net.ipv4.tcp_tw_reuse = \(v): \(v >= 0 && v <= 2 ? meaning[v] : "unknown value")"]
        evidence.append("it applies to new outgoing connections (this client), never to a server's accepted ones")
        if s.tcpTimestamps == 0 && v != 0 {
            evidence.append("net.ipv4.tcp_timestamps = 0: reuse cannot happen without timestamps")
            return Finding(.warning, "tw-reuse", "tcp_tw_reuse is set but TCP timestamps are off", evidence: evidence,
                           advice: ["set net.ipv4.tcp_timestamps = 1"])
        }
        if let loop = load.targetIsLoopback {
            let applies = PortBudget.reuseApplies(s, targetIsLoopback: loop)
            evidence.append(applies ? "it applies to this target" : "it does not apply to this target")
        }
        return Finding(.info, "tw-reuse", "TIME_WAIT reuse: \(v >= 0 && v <= 2 ? meaning[v] : "tcp_tw_reuse = \(v)")", evidence: evidence)
    }

    static func timeWaitLength(_ s: SystemSnapshot) -> Finding {
        var evidence = ["the side that closes first keeps the tuple in TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN, fixed when the kernel is built)"]
        if let fin = s.tcpFinTimeout {
            evidence.append("net.ipv4.tcp_fin_timeout = \(fin) s bounds orphaned FIN_WAIT2 sockets; it does not shorten TIME_WAIT")
        }
        evidence.append("tcp_tw_recycle was removed in Linux 4.12: advice that mentions it is stale")
        return Finding(.info, "time-wait", "TIME_WAIT lasts 60 s and no sysctl shortens it", evidence: evidence)
    }

    static func twBuckets(_ s: SystemSnapshot, _ load: PlannedLoad) -> Finding? {
        guard let buckets = s.tcpMaxTwBuckets, let rate = load.rate, load.close == .client else { return nil }
        let expected = Int(rate * PortBudget.timeWaitSeconds)
        guard expected > buckets else { return nil }
        return Finding(.info, "tw-buckets", "TIME_WAIT would pass net.ipv4.tcp_max_tw_buckets",
                       evidence: ["about \(expected.grouped) TIME_WAIT sockets at \(Int(rate))/s against a cap of \(buckets.grouped)",
                                  "past the cap the kernel drops new TIME_WAIT sockets at once (TCPTimeWaitOverflow in /proc/net/netstat): ports return sooner, without TIME_WAIT's protection against stray old segments"])
    }

    static func openFiles(_ s: SystemSnapshot, _ load: PlannedLoad) -> Finding {
        let need = UInt64(load.concurrency) + 64
        let evidence = ["RLIMIT_NOFILE soft \(s.openFilesSoft), hard \(s.openFilesHard); \(load.rate == nil ? "" : "up to ")\(load.concurrency.grouped) attempts in flight need about \(need.grouped)"]
            + (s.nrOpen.map { ["fs.nr_open = \($0)"] } ?? []) + (s.fileMax.map { ["fs.file-max = \($0)"] } ?? [])
        if let fileMax = s.fileMax, UInt64(fileMax) < need {
            return Finding(.warning, "open-files", "fs.file-max is below the descriptors the run needs: expect ENFILE",
                           evidence: evidence, advice: ["raise fs.file-max, or lower --concurrency"])
        }
        if s.openFilesSoft >= need { return Finding(.ok, "open-files", "open-file limit is enough", evidence: evidence) }
        if s.openFilesHard >= need {
            return Finding(.ok, "open-files", "portstorm raises the open-file soft limit to \(need.grouped) itself", evidence: evidence)
        }
        return Finding(.warning, "open-files", "the open-file hard limit caps --concurrency near \(max(1, Int(clamping: s.openFilesHard) - 64))",
                       evidence: evidence,
                       advice: ["raise the hard limit (ulimit -Hn, /etc/security/limits.conf, LimitNOFILE= in a systemd unit), or run as root"])
    }

    static func conntrack(_ s: SystemSnapshot, _ load: PlannedLoad) -> Finding? {
        guard let max = s.nfConntrackMax else { return nil }
        // A closed connection's entry lingers for nf_conntrack_tcp_timeout_time_wait (120 s by default).
        guard let need = load.connectionsAlive(linger: 120) else {
            return Finding(.info, "conntrack", "connection tracking holds up to \(max) entries",
                           evidence: ["net.netfilter.nf_conntrack_max = \(max); a closed connection's entry stays about 120 s",
                                      "a closed-loop run without --rate or -n has no known bound: at N connections/s it needs about N x 120 entries"])
        }
        var how: [String] = []
        if let rate = load.rate { how.append("\(load.concurrency.grouped) in flight + \(Format.rate(rate))/s x \(Format.rate(min(120, load.durationSeconds ?? 120))) s of closed connections") }
        if let n = load.connections { how.append("-n \(n.grouped) attempts at most") }
        let evidence = ["net.netfilter.nf_conntrack_max = \(max); this load may need about \(need.grouped) entries (\(how.joined(separator: "; ")))"]
        if need > max, s.nfConntrackCount == 0 {
            // The module is loaded (the sysctl exists) but tracks nothing in this network namespace:
            // no rule hooks it here, so the table cannot fill with this run's connections.
            return Finding(.info, "conntrack", "connection tracking is loaded but tracks nothing in this network namespace",
                           evidence: evidence + ["net.netfilter.nf_conntrack_count = 0 at start: no firewall rule seems to use connection tracking here"],
                           advice: ["if a rule that uses conntrack (NAT, ct state) is added, raise net.netfilter.nf_conntrack_max first"])
        }
        if need > max {
            return Finding(.warning, "conntrack", "the connection-tracking table may fill: new SYNs are then dropped and look like timeouts",
                           evidence: evidence + ["the kernel logs \"nf_conntrack: table full, dropping packet\""],
                           advice: ["raise net.netfilter.nf_conntrack_max, or exempt the test traffic from tracking (a NOTRACK rule)"])
        }
        return Finding(.ok, "conntrack", "connection tracking has room", evidence: evidence)
    }

    static func listenQueue(_ s: SystemSnapshot) -> Finding? {
        guard let somax = s.somaxconn else { return nil }
        return Finding(.info, "listen-queue", "a server on this machine queues at most \(somax) connections not yet accepted",
                       evidence: ["net.core.somaxconn = \(somax)" + (s.tcpMaxSynBacklog.map { ", tcp_max_syn_backlog = \($0)" } ?? ""),
                                  "a full accept queue drops SYNs (ListenOverflows, ListenDrops): clients see connect timeouts and 1 s / 3 s latencies"])
    }
}
