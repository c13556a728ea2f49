import Foundation

/// Why records cannot be merged into one; each is one sentence for the user.
public enum MergeError: Error, Equatable, CustomStringConvertible, Sendable {
    case tooFew
    case schema(name: String, schema: String)
    case alreadyMerged(name: String)
    case differentTarget(name: String, target: String, first: String)
    case differentLoad(name: String, what: String)
    case duplicate(name: String, other: String, why: String)
    case histogramLayout(name: String)
    case tooLarge
    case apart(name: String, hours: Int)

    public var description: String {
        switch self {
        case .tooFew:
            return "give at least two run records to merge"
        case .schema(let name, let schema):
            return "\(name) is a \(schema) record; merge reads \(RunRecord.currentSchema) records only: run the shards again with this version"
        case .alreadyMerged(let name):
            return "\(name) is already a merged record: merge the hosts' own records instead"
        case .differentTarget(let name, let target, let first):
            return "\(name) loaded \(target), not \(first): records of different targets cannot be merged"
        case .differentLoad(let name, let what):
            return "\(name) ran with a different \(what): records are merged only when the hosts ran the same load"
        case .duplicate(let name, let other, let why):
            return "\(name) and \(other) \(why): give each host's record once"
        case .apart(let name, let hours):
            return "\(name) started \(hours) h away from the others: records of one run start within a day of each other"
        case .tooLarge:
            return "the records' connect histograms together hold more than 2^53 connects or 2^64 us: too large to merge exactly"
        case .histogramLayout(let name):
            return "\(name) keeps its latencies with different precision: its histogram cannot be merged exactly"
        }
    }
}

extension RunRecord {
    /// Unix time in ms of the start: `startedAtMs`, else `startedAt` (whole seconds) for older records.
    public var startMs: Int64 { startedAtMs ?? Int64((startedAt.timeIntervalSince1970 * 1000).rounded()) }

    /// The Unix second in which timeline second `t` began.
    public func unixSecond(_ t: Int) -> Int64 { Int64(floor(Double(startMs) / 1000)) + Int64(t) }

    /// Unix time in ms of the end: `startMs` plus `elapsedSeconds` (`endedAt` is written to the
    /// second, so it may lie before `startedAtMs`). An elapsed time that is not a run's (negative,
    /// not finite, or past a week) counts as 0.
    public var endMs: Int64 {
        let ms = elapsedSeconds * 1000
        guard ms.isFinite, ms > 0, ms < 7 * 86_400_000 else { return startMs }
        let (end, overflow) = startMs.addingReportingOverflow(Int64(ms.rounded()))
        return overflow ? startMs : end
    }

    /// Merges the records of several generator hosts that loaded one target together (`portstorm
    /// merge`): counts add, connect histograms merge bucket for bucket (exact: the merged
    /// percentiles are those of one histogram of every sample), timelines add up second by second
    /// on the wall clock (`TimelineSecond.at`), and each host keeps its own settings, sources and
    /// port budget in `hosts`. `names` label the records in error messages (file names).
    public static func merge(_ records: [RunRecord], names: [String]) throws(MergeError) -> RunRecord {
        guard records.count >= 2 else { throw .tooFew }
        let label = { (i: Int) in i < names.count ? names[i] : "record \(i + 1)" }
        let first = records[0]
        for (i, r) in records.enumerated() {
            guard r.schema == RunRecord.currentSchema else { throw .schema(name: label(i), schema: r.schema) }
            guard r.hosts == nil else { throw .alreadyMerged(name: label(i)) }
            if r.target.host != first.target.host || r.target.port != first.target.port {
                throw .differentTarget(name: label(i), target: "\(r.target.host):\(r.target.port)",
                                       first: "\(first.target.host):\(first.target.port) (\(label(0)))")
            }
            if r.config.wireProtocol != first.config.wireProtocol || (r.config.tls == nil) != (first.config.tls == nil) {
                throw .differentLoad(name: label(i), what: "--protocol")
            }
            if r.config.close != first.config.close { throw .differentLoad(name: label(i), what: "--close") }
            if r.latency.connectHistogram.significantDigits != first.latency.connectHistogram.significantDigits {
                throw .histogramLayout(name: label(i))
            }
            for j in 0..<i {
                let o = records[j]
                if o.startMs == r.startMs, o.hostName == r.hostName, o.totals == r.totals {
                    throw .duplicate(name: label(j), other: label(i), why: "are the same run")
                }
                if let a = o.config.shard, let b = r.config.shard, a == b {
                    throw .duplicate(name: label(j), other: label(i), why: "both ran shard \(a)")
                }
            }
        }

        let start = records.map(\.startMs).min()!
        let startSecond = Int64(floor(Double(start) / 1000))
        // One run's shards start within a day of each other (and a timeline longer than a day is
        // not one a run writes): this also bounds the merged timeline's length.
        for (i, r) in records.enumerated() {
            let apart = r.unixSecond(0) - startSecond
            if apart > 86_400 { throw .apart(name: label(i), hours: Int(apart / 3600)) }
            if r.timeline.count > 86_400 * 7 { throw .tooLarge }
        }
        guard countsFit(records) else { throw .tooLarge }
        // Each host's second 0 goes to the merged second nearest its start (merged second t begins
        // t s after the earliest start): hosts that started 20 ms apart across a wall-clock second
        // share a merged second, and no host's seconds are more than half a second out of place.
        let offsets = records.map { Int(($0.startMs - start + 500) / 1000) }
        // The end from each record's own ms start and elapsed time, never from endedAt (whole seconds).
        let endMs = records.map(\.endMs).max()!

        var merged = first
        merged.startedAt = Date(timeIntervalSince1970: Double(start) / 1000)
        merged.startedAtMs = start
        merged.endedAt = Date(timeIntervalSince1970: Double(endMs) / 1000)
        merged.elapsedSeconds = Double(endMs - start) / 1000
        merged.stopReason = records.contains { $0.stopReason == .interrupted } ? .interrupted
            : records.contains { $0.stopReason == .duration } ? .duration : .connections
        merged.config = mergedConfig(records)
        merged.target.resolved = union(records.map(\.target.resolved))
        merged.sources = union(records.map(\.sources))
        merged.totals = mergedTotals(records.map(\.totals))
        merged.latency = LatencyReport(connectHistogram: try added(records.map(\.latency.connectHistogram)) ?? first.latency.connectHistogram)
        // TLS runs' handshakes and the answers' first bytes add up like the connects.
        if let h = try added(records.compactMap(\.latency.handshakeHistogram)) { merged.latency.setHandshake(h) }
        if let f = try added(records.compactMap(\.latency.firstByteHistogram)) { merged.latency.setFirstByte(f) }
        let tls = records.compactMap(\.tls)
        if !tls.isEmpty {
            var sum = TLSTotals()
            for t in tls {
                sum.handshakes += t.handshakes
                sum.resumed += t.resumed
                sum.clientCertificateRequests += t.clientCertificateRequests
                sum.versions.merge(t.versions, uniquingKeysWith: +)
                sum.failures.merge(t.failures, uniquingKeysWith: +)
                sum.failureOutcomes.merge(t.failureOutcomes) { a, _ in a }
            }
            merged.tls = sum
        }
        let namespaceOf = namespaceGroups(records.count, sharedNamespaces(records.map { ($0.networkNamespace, $0.hostName) }))
        merged.timeline = mergedTimeline(records, offsets: offsets, shiftsMs: records.map { Int($0.startMs - start) }, namespaceOf: namespaceOf,
                                         startSecond: startSecond)
        merged.process = nil
        merged.engine = records.allSatisfy({ $0.engine == first.engine }) ? first.engine : nil
        let unusable = records.compactMap(\.unusableSources).flatMap { $0 }
        merged.unusableSources = records.contains { $0.unusableSources != nil } ? unusable : nil
        merged.path = records.lazy.compactMap(\.path).first
        let shared = sharedNamespaces(records.map { ($0.networkNamespace, $0.hostName) })
        let (witness, inseparable) = mergedWitness(records, shared: shared)
        merged.kernelWitness = witness
        if merged.kernelWitness?.startCensus == nil {
            // heldBefore compares with a start census: without one for every host it says nothing.
            for i in merged.timeline.indices where merged.timeline[i].kernel?.census != nil {
                for k in merged.timeline[i].kernel!.census!.tuples.indices { merged.timeline[i].kernel!.census!.tuples[k].heldBefore = nil }
            }
        }
        merged.hostName = nil
        merged.networkNamespace = nil
        merged.startLateMs = nil
        merged.hosts = records.enumerated().map { i, r in hostRun(r, name: r.hostName ?? label(i), offset: offsets[i]) }
        var notes = ["merged from \(records.count) records of \(records.count) hosts; the system settings above are \(merged.hosts![0].hostName)'s, each host's own are in hosts"]
        for g in shared {
            let names = HostRun.names(g.map { merged.hosts![$0] }).joined(separator: ", ")
            let how = g.allSatisfy({ records[$0].networkNamespace != nil }) ? "ran in one network namespace" : "carry the same host name and are taken to share one network namespace"
            if inseparable.contains(g[0]) {
                notes.append("\(names) \(how) at overlapping times, neither within another's: their kernel counters could not be separated, so this record has no kernel witness; their port budget is counted once")
            } else {
                notes.append("\(names) \(how): its kernel counters and port budget are counted once, not once per run")
            }
        }
        for h in merged.hosts! { notes += h.notes.map { "\(h.hostName): \($0)" } }
        merged.notes = notes
        return merged
    }

    /// Whether the totals add up within 64 bits (records a run wrote always do).
    private static func countsFit(_ records: [RunRecord]) -> Bool {
        func fits(_ values: [UInt64]) -> Bool {
            var sum: UInt64 = 0
            for v in values {
                let (s, o) = sum.addingReportingOverflow(v)
                if o { return false }
                sum = s
            }
            return true
        }
        let t = records.map(\.totals)
        guard fits(t.map(\.attempted)), fits(t.map(\.inFlightAtEnd)), fits(t.map(\.delayed)), fits(t.map(\.missed)) else { return false }
        for i in 0..<Outcome.codeCount where !fits(t.map { $0.outcomes.counts[i] }) { return false }
        guard fits(t.map(\.outcomes.total)) else { return false }
        for code in Set(t.flatMap(\.httpStatuses.keys)) where !fits(t.map { $0.httpStatuses[code] ?? 0 }) { return false }
        let tls = records.compactMap(\.tls)
        guard fits(tls.map(\.handshakes)), fits(tls.map(\.resumed)) else { return false }
        for v in Set(tls.flatMap(\.versions.keys)) where !fits(tls.map { $0.versions[v] ?? 0 }) { return false }
        for f in Set(tls.flatMap(\.failures.keys)) where !fits(tls.map { $0.failures[f] ?? 0 }) { return false }
        return true
    }

    private static func union(_ lists: [[String]]) -> [String] {
        var out: [String] = []
        for l in lists { for x in l where !out.contains(x) { out.append(x) } }
        return out
    }

    /// The histograms added up (nil when there are none); `.tooLarge` where a count would pass 64 bits.
    private static func added(_ histograms: [LatencyHistogram]) throws(MergeError) -> LatencyHistogram? {
        guard var total = histograms.first else { return nil }
        for h in histograms.dropFirst() {
            guard total.sums(h.buckets.map { ($0[0], $0[1]) }) == .fits else { throw .tooLarge }
            total.merge(h)
        }
        return total
    }

    private static func mergedConfig(_ records: [RunRecord]) -> RunConfig {
        var c = records[0].config
        let rates = records.map(\.config.rate)
        c.rate = rates.contains(where: { $0 == nil }) ? nil : (rates.reduce(0) { $0 + $1! } * 1000).rounded() / 1000
        c.concurrency = records.reduce(0) { $0 + $1.config.concurrency }
        let counts = records.map(\.config.connections)
        c.connections = counts.contains(where: { $0 == nil }) ? nil : counts.reduce(0) { $0 + $1! }
        c.threads = records.reduce(0) { $0 + $1.config.threads }
        c.sources = union(records.map(\.config.sources))
        c.shard = nil
        if !records.allSatisfy({ $0.config.startAt == c.startAt }) { c.startAt = nil }
        return c
    }

    private static func mergedTotals(_ all: [Totals]) -> Totals {
        var outcomes = OutcomeCounts()
        for t in all { outcomes.merge(t.outcomes) }
        let rates = all.map(\.requestedRate)
        var t = Totals(attempted: all.reduce(0) { $0 + $1.attempted }, inFlightAtEnd: all.reduce(0) { $0 + $1.inFlightAtEnd },
                       outcomes: outcomes, delayed: all.reduce(0) { $0 + $1.delayed },
                       delayThresholdMs: all[0].delayThresholdMs,
                       requestedRate: rates.contains(where: { $0 == nil }) ? nil : (rates.reduce(0) { $0 + $1! } * 1000).rounded() / 1000,
                       achievedRate: (all.reduce(0) { $0 + $1.achievedRate } * 10).rounded() / 10,
                       missed: all.reduce(0) { $0 + $1.missed })
        for x in all { for m in x.mismatchSamples where !t.mismatchSamples.contains(m) && t.mismatchSamples.count < 5 { t.mismatchSamples.append(m) } }
        for x in all { for (code, n) in x.httpStatuses { t.httpStatuses[code, default: 0] += n } }
        return t
    }

    /// Adds the hosts' seconds that began in the same wall-clock second; seconds no host ran in
    /// between are kept, empty, so that `t` stays the position on the clock.
    /// Each record's namespace as a number: records of one shared namespace get the same one.
    private static func namespaceGroups(_ count: Int, _ shared: [[Int]]) -> [Int] {
        var out = Array(0..<count)
        for g in shared { for i in g { out[i] = g[0] } }
        return out
    }

    private static func mergedTimeline(_ records: [RunRecord], offsets: [Int], shiftsMs: [Int], namespaceOf: [Int],
                                       startSecond: Int64) -> [TimelineSecond] {
        let length = zip(records, offsets).map { $0.timeline.count + $1 }.max() ?? 0
        var out = (0..<length).map { t in
            var s = TimelineSecond(t: t, attempts: 0, ok: 0, failures: [:], inFlight: 0, delayed: 0, connectLatencyUs: nil)
            s.at = startSecond + Int64(t)
            return s
        }
        var connects = MergedSeconds(length), handshakeLatency = MergedSeconds(length)
        // TLS runs: every second counts its handshakes; a second to which an older TLS record
        // without per-second counts contributed has none.
        let tls = records.contains { $0.config.tls != nil }
        var handshakes = [UInt64?](repeating: tls ? 0 : nil, count: length)
        var kernels = [[(KernelSecond, Int, Int)]](repeating: [], count: length)
        for (k0, (r, offset)) in zip(records, offsets).enumerated() {
            // A census keeps its time: ms since its host's start become ms since the merged start.
            let shiftMs = shiftsMs[k0]
            // By position: `t` of entry i is i in every record a run writes.
            for (i, s) in r.timeline.enumerated() {
                let t = i + offset
                out[t].attempts = out[t].attempts.addingSaturating(s.attempts)
                out[t].ok = out[t].ok.addingSaturating(s.ok)
                for (k, n) in s.failures { out[t].failures[k] = (out[t].failures[k] ?? 0).addingSaturating(n) }
                out[t].inFlight = out[t].inFlight.addingSaturating(s.inFlight)
                out[t].delayed = out[t].delayed.addingSaturating(s.delayed)
                if let codes = s.httpStatuses {
                    var merged = out[t].httpStatuses ?? [:]
                    for (k, n) in codes { merged[k] = (merged[k] ?? 0).addingSaturating(n) }
                    out[t].httpStatuses = merged
                }
                connects.add(t, s.connectLatencyUs, s.connectBuckets)
                handshakeLatency.add(t, s.handshakeLatencyUs, s.handshakeBuckets)
                if r.config.tls != nil, let n = handshakes[t] { handshakes[t] = s.handshakes.map { n.addingSaturating($0) } }
                if let k = s.kernel { kernels[t].append((k, shiftMs, namespaceOf[k0])) }
            }
        }
        for t in 0..<length {
            (out[t].connectLatencyUs, out[t].connectBuckets) = connects.second(t)
            (out[t].handshakeLatencyUs, out[t].handshakeBuckets) = handshakeLatency.second(t)
            out[t].handshakes = handshakes[t]
            if !kernels[t].isEmpty { out[t].kernel = mergedKernel(kernels[t], second: t) }
        }
        return out
    }

    /// One latency series of a merged timeline (connects, or TLS handshakes): per second, the
    /// hosts' buckets added and the slowest value. A second gets no percentiles when a record
    /// that contributed latencies to it has no buckets (an older record), or when the buckets
    /// hold more than the histogram counts exactly.
    private struct MergedSeconds {
        var buckets: [LatencyHistogram?]
        var slowest: [UInt64]

        init(_ length: Int) {
            buckets = Array(repeating: LatencyHistogram(significantDigits: .two), count: length)
            slowest = Array(repeating: 0, count: length)
        }

        mutating func add(_ t: Int, _ latency: SecondLatency?, _ pairs: [[UInt64]]?) {
            guard let latency else { return }
            slowest[t] = max(slowest[t], latency.max)
            let valid = (pairs ?? []).filter { $0.count == 2 }.map { (value: $0[0], count: $0[1]) }
            if pairs != nil, buckets[t]?.sums(valid) == .fits {
                for p in valid { buckets[t]!.record(micros: p.value, count: p.count) }
            } else {
                buckets[t] = nil
            }
        }

        func second(_ t: Int) -> (SecondLatency?, [[UInt64]]?) {
            guard let h = buckets[t], let latency = SecondLatency(h, slowest: slowest[t]) else { return (nil, nil) }
            return (latency, h.buckets)
        }
    }

    /// One second of several hosts' kernels: their counters and sockstat added (each host is its
    /// own kernel), their censuses' tuples side by side (each host has its own source addresses).
    /// A census's time moves by its host's start (`shift`, ms after the earliest start), held
    /// within merged second `second`, where its host's second was placed.
    /// Runs that shared a namespace saw the same kernel: their seconds' counters and sockstat are
    /// taken as the larger of theirs, not added.
    private static func mergedKernel(_ all: [(KernelSecond, Int, Int)], second: Int) -> KernelSecond {
        var perNamespace: [Int: KernelSecond] = [:]
        for (p, _, ns) in all {
            guard var seen = perNamespace[ns] else { perNamespace[ns] = p; continue }
            for (name, n) in p.counters { seen.counters[name] = max(seen.counters[name] ?? n, n) }
            if let s = p.sockstat {
                let m = seen.sockstat ?? s
                seen.sockstat = SockstatSample(inuse: max(m.inuse, s.inuse), orphan: max(m.orphan, s.orphan), tw: max(m.tw, s.tw),
                                               alloc: max(m.alloc, s.alloc), mem: max(m.mem, s.mem))
            }
            perNamespace[ns] = seen
        }
        let parts = all.map { ($0.0, $0.1) }
        var k = KernelSecond()
        for p in perNamespace.values {
            for (name, n) in p.counters { k.counters[name, default: 0] += n }
            if let s = p.sockstat {
                if let m = k.sockstat {
                    k.sockstat = SockstatSample(inuse: m.inuse + s.inuse, orphan: m.orphan + s.orphan, tw: m.tw + s.tw,
                                                alloc: m.alloc + s.alloc, mem: m.mem + s.mem)
                } else {
                    k.sockstat = s
                }
            }
        }
        let censuses = parts.compactMap { p in p.0.census.map { (c: $0, shift: p.1) } }
        if !censuses.isEmpty {
            let within = (second * 1000)...(second * 1000 + 999)
            k.census = Census(atMs: censuses.map { min(max($0.c.atMs &+ $0.shift, within.lowerBound), within.upperBound) }.max()!,
                              trigger: censuses.contains { $0.c.trigger == "burst" } ? "burst" : censuses[0].c.trigger,
                              tookUs: censuses.map(\.c.tookUs).max()!, tuples: sideBySide(censuses.map(\.c.tuples)))
        }
        return k
    }

    /// The hosts' census tuples side by side, by source. The same (source, destination, port) from
    /// two records means runs in one network namespace, whose censuses each counted every socket
    /// there: that tuple is kept once (the count nearest to its range's end, as Census.busiest
    /// chooses), not added.
    private static func sideBySide(_ lists: [[TupleCensus]]) -> [TupleCensus] {
        var byKey: [String: TupleCensus] = [:]
        for t in lists.joined() {
            let key = "\(t.source)|\(t.destination)|\(t.port)"
            if let seen = byKey[key], (seen.occupancy, seen.portsInUse) >= (t.occupancy, t.portsInUse) { continue }
            byKey[key] = t
        }
        return byKey.values.sorted { ($0.source, $0.destination, $0.port) < ($1.source, $1.destination, $1.port) }
    }

    /// The hosts' witnesses added, when every host has one; runs that shared a namespace count it
    /// once (`namespaceWitness`). Also the first index of each shared group that could not be
    /// counted once (then there is no witness).
    private static func mergedWitness(_ records: [RunRecord], shared: [[Int]]) -> (KernelWitness?, Set<Int>) {
        guard records.allSatisfy({ $0.kernelWitness != nil }) else { return (nil, []) }
        var all: [KernelWitness] = []
        var inseparable: Set<Int> = []
        for (i, r) in records.enumerated() {
            guard let g = shared.first(where: { $0.contains(i) }) else { all.append(r.kernelWitness!); continue }
            guard g[0] == i else { continue }
            if let w = namespaceWitness(g.map { records[$0] }) { all.append(w) } else { inseparable.insert(i) }
        }
        guard inseparable.isEmpty else { return (nil, inseparable) }
        var counters: [String: Int64] = [:]
        for w in all { for (k, n) in w.counters { counters[k] = (counters[k] ?? 0).addingReportingOverflow(n).overflow ? .max : (counters[k] ?? 0) + n } }
        for w in all { for k in counters.keys where w.counters[k] == nil { counters[k] = nil } }  // only counters every host has
        let local = all.allSatisfy { $0.serverIsLocal == all[0].serverIsLocal } ? all[0].serverIsLocal : nil
        let starts = all.compactMap(\.startCensus)
        let startCensus = starts.count == all.count
            ? Census(atMs: 0, trigger: "start", tookUs: starts.map(\.tookUs).max() ?? 0,
                     tuples: sideBySide(starts.map(\.tuples))) : nil
        func sum(_ f: (KernelWitness) -> Int64?) -> Int64? {
            let v = all.map(f)
            return v.contains(where: { $0 == nil }) ? nil : v.reduce(0) { $0 + $1! }
        }
        return (KernelWitness(counters: counters, serverIsLocal: local, startCensus: startCensus,
                              timeWaitAtStart: sum(\.timeWaitAtStart), timeWaitAtEnd: sum(\.timeWaitAtEnd)), [])
    }

    /// One namespace's witness over several runs in it. With absolute start values: each counter's
    /// increase from the earliest start to the latest end (exact, whatever the overlap). Without:
    /// added when the runs did not overlap in time, the witness of the run whose time contains all
    /// the others', else nil (they cannot be separated).
    static func namespaceWitness(_ runs: [RunRecord]) -> KernelWitness? {
        let ws = runs.map { $0.kernelWitness! }
        let first = runs.indices.min { runs[$0].startMs < runs[$1].startMs }!
        let last = runs.indices.max { runs[$0].endMs < runs[$1].endMs }!
        var out = ws[first]
        out.countersAtStart = nil
        out.timeWaitAtEnd = ws[last].timeWaitAtEnd
        out.startCensus = ws[first].startCensus
        if ws.allSatisfy({ $0.countersAtStart != nil }) {
            var counters: [String: Int64] = [:]
            for name in ws[0].counters.keys {
                let starts = ws.compactMap { $0.countersAtStart?[name] }
                let ends = ws.compactMap { w in w.countersAtStart?[name].flatMap { a in w.counters[name].map { a &+ $0 } } }
                guard starts.count == ws.count, ends.count == ws.count else { continue }
                counters[name] = ends.max()! &- starts.min()!
            }
            out.counters = counters
            return out
        }
        let spans = runs.map { ($0.startMs, $0.endMs) }.sorted { $0.0 < $1.0 }
        if zip(spans, spans.dropFirst()).allSatisfy({ $0.1 <= $1.0 }) {
            var counters: [String: Int64] = [:]
            for w in ws { for (k, n) in w.counters { counters[k, default: 0] &+= n } }
            for w in ws { for k in counters.keys where w.counters[k] == nil { counters[k] = nil } }
            out.counters = counters
            return out
        }
        if let outer = runs.indices.first(where: { i in runs.allSatisfy { $0.startMs >= runs[i].startMs && $0.endMs <= runs[i].endMs } }) {
            var w = ws[outer]
            w.countersAtStart = nil
            return w
        }
        return nil
    }

    private static func hostRun(_ r: RunRecord, name: String, offset: Int) -> HostRun {
        let range = PortBudget.effectiveRange(r.system, perSocket: r.config.localPorts)
        let loopback = r.target.used.hasPrefix("127.") || r.target.used.hasPrefix("[::1]") || r.target.used.hasPrefix("::1")
        let budget = HostPortBudget(rangeLow: range.low, rangeHigh: range.high, rangeSize: range.size, tuples: max(1, r.sources.count),
                                    reuseInEffect: PortBudget.reuseApplies(r.system, targetIsLoopback: loopback))
        let exhausted = r.timeline.first { ($0.failures["eaddrnotavail"] ?? 0) + ($0.failures["eaddrinuse"] ?? 0) > 0 }
        let peak = r.timeline.compactMap { $0.kernel?.census?.busiest?.occupancy }.max()
        var host = HostRun(hostName: name, shard: r.config.shard, startedAt: r.startedAt, startedAtMs: r.startMs, startLateMs: r.startLateMs,
                       offsetSeconds: offset, elapsedSeconds: r.elapsedSeconds, stopReason: r.stopReason, rate: r.config.rate,
                       concurrency: r.config.concurrency, connections: r.config.connections, targetUsed: r.target.used,
                       sources: r.sources, system: r.system, portBudget: budget, totals: r.totals, latency: r.latency.connect,
                       firstExhaustionSecond: exhausted.map { $0.t + offset }, peakOccupancy: peak, notes: r.notes,
                       kernelWitness: r.kernelWitness, process: r.process)
        host.networkNamespace = r.networkNamespace
        return host
    }
}
