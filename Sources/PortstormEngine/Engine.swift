import Foundation
import PortstormRecord
import PortstormSystem

/// Why a run could not start; each says what to do.
public enum EngineError: Error, CustomStringConvertible, Sendable {
    case ioUringUnavailable(RingUnavailable)
    case localPortsUnsupported(String)

    public var description: String {
        switch self {
        case .ioUringUnavailable(let r): return r.description
        case .localPortsUnsupported(let why): return why
        }
    }
}

/// Drives a run: one worker thread per `--threads`, each with its own ring and share of the load;
/// the calling thread watches, reports progress each second, and builds the record at the end.
public enum Engine {
    /// File descriptors kept free beyond one per attempt in flight (rings, output files, stdio).
    static let descriptorHeadroom: UInt64 = 64

    /// Runs `plan` until its bound or a stop request. `observer`, when given, samples the kernel
    /// from this thread every 100 ms; `onTick` gets the live status once a second.
    public static func run(_ plan: RunPlan, control: RunControl, observer: RunObserver? = nil,
                           onTick: (LiveStatus) -> Void = { _ in }) throws(EngineError) -> RunRecord {
        if let unavailable = Ring.probe() { throw .ioUringUnavailable(unavailable) }
        var notes: [String] = []
        if let range = plan.config.localPorts { notes += try checkLocalPorts(range, family: plan.target) }
        // Without --local-ports, every socket still gets IP_LOCAL_PORT_RANGE set to the namespace's
        // own range: the same ports, but the kernel (6.8+) then searches them in one pass instead of
        // even ports first and odd ones after, which near exhaustion cut connect p99 from about
        // 900 ms to under 1 ms here. --kernel-port-search opts out.
        var portHint: PortRange?
        if plan.config.localPorts == nil, !plan.config.kernelPortSearch, let system = KernelInfo.localPortRange() {
            let fd = Socket.tcp(domain: plan.target.domain)
            if fd >= 0 {
                if Socket.setLocalPortRange(fd, system) == 0 { portHint = PortRange(low: system.lowerBound, high: system.upperBound) }
                Socket.close(fd)
            }
        }

        let connectCheck = Self.connectCheck()
        if connectCheck == .off {
            notes.append("connects were not checked against SO_ERROR (PORTSTORM_CONNECT_CHECK=off): an ok may be a connect that an ICMP error ended")
        }

        var config = plan.config
        let (path, pathReason) = socketPath(config, withSources: !plan.sources.isEmpty, connectCheck: connectCheck)
        let limit: ResourceLimits.OpenFiles
        if let asked = config.openFiles {
            // Reproducing EMFILE: the limit is the user's, and the concurrency is not capped to fit it.
            limit = ResourceLimits.setOpenFiles(soft: UInt64(asked))
            notes.append("RLIMIT_NOFILE set to \(limit.soft) for this run (--open-files); concurrency not capped to fit it")
        } else if path == .ring {
            // Sockets live in each ring's fixed-file table, not in the process's descriptor table;
            // the kernel caps one table at RLIMIT_NOFILE (soft) entries, so more attempts in flight
            // than that take more rings.
            let threads = max(1, min(config.threads, config.concurrency))
            let perRing = (config.concurrency + threads - 1) / threads
            limit = ResourceLimits.raiseOpenFiles(to: UInt64(perRing) + descriptorHeadroom)
            let table = max(1, Int(limit.soft))
            if perRing > table {
                let rings = (config.concurrency + table - 1) / table
                if rings <= RunPlan.maxThreads {
                    notes.append("ran \(rings) worker rings (asked \(config.threads)): one ring's file table holds at most RLIMIT_NOFILE (\(table)) sockets")
                    config.threads = rings
                } else {
                    notes.append("concurrency capped at \(RunPlan.maxThreads * table) (asked \(config.concurrency)): \(RunPlan.maxThreads) rings of RLIMIT_NOFILE (\(table)) sockets each")
                    config.threads = RunPlan.maxThreads
                    config.concurrency = RunPlan.maxThreads * table
                }
            }
        } else {
            limit = ResourceLimits.raiseOpenFiles(to: UInt64(config.concurrency) + descriptorHeadroom)
        }
        // On the ring path sockets do not take descriptors of the process: the tables were sized above.
        if config.openFiles == nil, path != .ring, limit.soft < UInt64(config.concurrency) + descriptorHeadroom {
            let capped = max(1, Int(limit.soft) - Int(descriptorHeadroom))
            notes.append("concurrency capped at \(capped) (asked \(config.concurrency)): the open-file limit (RLIMIT_NOFILE) is \(limit.soft) and could not be raised; raise it with ulimit -n, or run as root")
            config.concurrency = capped
        }

        let threads = max(1, min(config.threads, config.concurrency))
        if threads != config.threads {
            notes.append("ran \(threads) worker threads (asked \(config.threads)): no more threads than attempts in flight")
            config.threads = threads
        }
        // Read once, before the first attempt.
        let system = observer?.prepare() ?? SystemSnapshot(
            kernel: KernelInfo.release(), ipLocalPortRange: KernelInfo.localPortRange().map { [$0.lowerBound, $0.upperBound] },
            openFilesSoft: limit.soft, openFilesHard: limit.hard)
        // --start-at: every shard of a split load begins at the same wall-clock time. Waited for
        // here, after the system snapshot and the start census, so that only the clock remains.
        if let at = config.startAt {
            while true {
                let left = at - Date().timeIntervalSince1970
                if left <= 0 || control.level > 0 { break }
                usleep(UInt32(min(left, 0.05) * 1e6))
            }
        }
        let startedAt = Date()
        let usageAtStart = ProcessUsage.now()
        let startNs = monotonicNanos()
        observer?.begin(runStartNs: startNs)
        let shares = (0..<threads).map { _ in WorkerShared() }
        var workers: [OSThread] = []
        for k in 0..<threads {
            var share = workerPlan(k, of: threads, config: config, plan: plan, startNs: startNs)
            if share.localPorts == nil, let hint = portHint { share.localPorts = hint.low...hint.high }
            share.connectCheck = connectCheck
            share.socketPath = path
            let wp = share
            let shared = shares[k]
            workers.append(OSThread {
                do throws(RingUnavailable) {
                    let w = try Worker(plan: wp, control: control, shared: shared, ring: Ring.forWorker(concurrency: wp.concurrency))
                    w.run()
                    shared.finish(.ran(stats: w.stats, stopReason: w.stopReason, stoppedAtNs: w.stoppedAtNs))
                } catch {
                    shared.finish(.couldNotStart(error))
                }
            })
        }

        var nextTick = startNs + 1_000_000_000
        var nextSample = startNs
        while !shares.allSatisfy({ $0.isFinished }) {
            // A worker that could not create its ring dooms the run: stop the others now rather
            // than after the whole duration.
            if shares.contains(where: { if case .couldNotStart? = $0.result { true } else { false } }) { control.cancelNow() }
            let now = monotonicNanos()
            if let observer, now >= nextSample {
                observer.sample(nowNs: now, live: mergedLive(shares))
                nextSample = now + 100_000_000
            }
            if now >= nextTick {
                var live = mergedLive(shares)
                observer?.annotate(&live)
                onTick(live)
                nextTick += 1_000_000_000
            }
            usleep(20_000)
        }
        workers.forEach { $0.join() }
        let endNs = monotonicNanos()
        let usageAtEnd = ProcessUsage.now()
        observer?.sample(nowNs: endNs, live: mergedLive(shares))
        let kernel = observer?.finish() ?? [:]

        var results: [(WorkerStats, StopReason, UInt64)] = []
        for s in shares {
            switch s.result {
            case .ran(let stats, let reason, let at)?: results.append((stats, reason, at))
            case .couldNotStart(let why)?: throw .ioUringUnavailable(why)
            case nil: break
            }
        }
        var record = RecordBuilder(config: config, plan: plan, startedAt: startedAt, startNs: startNs, endNs: endNs,
                                   notes: notes, system: system).build(results, kernel: kernel)
        record.kernelWitness = observer?.witness()
        record.process = ProcessStats(rssAtStartKiB: usageAtStart.rssKiB, maxRssKiB: usageAtEnd.maxRssKiB,
                                      userSeconds: ((usageAtEnd.userSeconds - usageAtStart.userSeconds) * 1000).rounded() / 1000,
                                      systemSeconds: ((usageAtEnd.systemSeconds - usageAtStart.systemSeconds) * 1000).rounded() / 1000,
                                      peakInFlight: results.reduce(0) { $0 + $1.0.peakInFlight })
        record.engine = EngineInfo(connectCheck: connectCheck, path: path, pathReason: pathReason, rings: threads)
        if let at = config.startAt {
            let late = Int64(((startedAt.timeIntervalSince1970 - at) * 1000).rounded())
            record.startLateMs = max(0, late)
            if late >= 1000 {
                record.notes.append(String(format: "started %.1f s after --start-at: the other shards' first seconds ran without this one", Double(late) / 1000))
            }
        }
        return record
    }

    static func mergedLive(_ shares: [WorkerShared]) -> LiveStatus {
        var live = LiveStatus()
        for s in shares { live.merge(s.live) }
        return live
    }

    /// Worker `k`'s share: concurrency, rate and connection count split as evenly as they go.
    static func workerPlan(_ k: Int, of n: Int, config: RunConfig, plan: RunPlan, startNs: UInt64) -> WorkerPlan {
        func share(_ total: Int) -> Int { total / n + (k < total % n ? 1 : 0) }
        let durationNs = config.durationSeconds.map { UInt64($0 * 1e9) }
        return WorkerPlan(
            index: k,
            concurrency: max(1, share(config.concurrency)),
            connections: config.connections.map { UInt64(share($0)) },
            rate: config.rate.map { $0 / Double(n) },
            phase: Double(k) / Double(n),
            startNs: startNs,
            endNs: durationNs.map { startNs + $0 },
            target: plan.target,
            sources: plan.sources,
            localPorts: config.localPorts.map { $0.low...$0.high },
            bindBeforeConnect: config.bindBeforeConnect,
            close: config.close,
            payload: plan.payload,
            check: plan.check,
            statuses: plan.statuses,
            closeFrame: config.wireProtocol == .ws ? WebSocketHandshake.closeFrame() : nil,
            holdNs: UInt64(config.holdMs ?? 0) * 1_000_000,
            connectTimeoutNs: UInt64(config.connectTimeoutMs) * 1_000_000,
            responseTimeoutNs: UInt64(config.responseTimeoutMs) * 1_000_000,
            expectedSeconds: Int(config.durationSeconds ?? 60) + 2,
            connectCheck: .syscall,
            socketPath: .syscalls,
            tls: plan.tls)
    }

    /// Sockets in the ring where the kernel can (see SocketPath), else system calls, with the
    /// reason. PORTSTORM_SOCKET_PATH=syscalls forces the system calls (tests and benchmarks
    /// compare both).
    static func socketPath(_ config: RunConfig, withSources: Bool, connectCheck: ConnectCheck) -> (SocketPath, String?) {
        if getenv("PORTSTORM_SOCKET_PATH").map({ String(cString: $0) }) == "syscalls" {
            return (.syscalls, "PORTSTORM_SOCKET_PATH=syscalls")
        }
        if config.openFiles != nil {
            return (.syscalls, "--open-files reproduces EMFILE, which only sockets in the process's descriptor table reach")
        }
        if connectCheck == .syscall {
            return (.syscalls, "the connect check runs as a getsockopt system call, which needs a real descriptor")
        }
        if let why = Ring.directSocketsUnsupported(bind: withSources) { return (.syscalls, why) }
        return (.ring, nil)
    }

    /// The ring's getsockopt where the kernel has it, else a system call; PORTSTORM_CONNECT_CHECK
    /// (ring, getsockopt, off) overrides it, for benchmarks that measure the check's cost.
    static func connectCheck() -> ConnectCheck {
        switch getenv("PORTSTORM_CONNECT_CHECK").map({ String(cString: $0) }) {
        case "off": return .off
        case "getsockopt": return .syscall
        default: return Ring.supportsSocketGetsockopt() ? .ring : .syscall
        }
    }

    /// Checks that the kernel takes IP_LOCAL_PORT_RANGE, and says how it combines with the
    /// namespace's net.ipv4.ip_local_port_range (the kernel uses their overlap).
    static func checkLocalPorts(_ range: PortRange, family target: SocketAddress) throws(EngineError) -> [String] {
        let fd = Socket.tcp(domain: target.domain)
        guard fd >= 0 else { return [] }
        defer { Socket.close(fd) }
        let rc = Socket.setLocalPortRange(fd, range.low...range.high)
        if rc == -ENOPROTOOPT || rc == -EINVAL {
            throw .localPortsUnsupported("--local-ports needs IP_LOCAL_PORT_RANGE (Linux 6.3 or newer); this kernel is \(KernelInfo.release()): drop --local-ports, or narrow net.ipv4.ip_local_port_range inside a network namespace")
        }
        guard let system = KernelInfo.localPortRange() else { return [] }
        let lo = max(range.low, system.lowerBound), hi = min(range.high, system.upperBound)
        if lo > hi {
            return ["--local-ports \(range) does not overlap net.ipv4.ip_local_port_range \(system.lowerBound)-\(system.upperBound): the kernel ignores the per-socket range"]
        }
        if lo != range.low || hi != range.high {
            return ["--local-ports \(range) reaches outside net.ipv4.ip_local_port_range \(system.lowerBound)-\(system.upperBound): the kernel uses only \(lo)-\(hi) (\(Int(hi) - Int(lo) + 1) ports)"]
        }
        return []
    }
}
