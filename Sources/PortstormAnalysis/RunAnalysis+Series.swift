import PortstormRecord

/// The record's raw series turned into what findings and charts use.
public enum RunAnalysis {
    public static func analyze(_ r: RunRecord) -> Analysis {
        let tuples = tupleSeries(r)
        let onsets = self.onsets(r)
        let witness = witnessCheck(r)
        var capacity = capacityModel(r)
        if witness?.closedWithoutTimeWait == true {
            capacity.modelRatePerTuple = nil
            capacity.modelRate = nil
        }
        let health = generatorHealth(r)
        var findings: [Finding] = []
        for o in onsets { findings.append(cause(o, r, capacity, witness)) }
        if let bumps = synRetransmitBumps(r) { findings.append(bumps) }
        if let w = witness { findings += witnessFindings(r, w) }
        if let before = beforeRunFinding(r) { findings.append(before) }
        findings.append(capacityFinding(r, capacity, tuples, witness))
        if let h = healthFinding(r, health) { findings.append(h) }
        findings += hostsFindings(r)
        if onsets.isEmpty && r.totals.attempted > 0 {
            findings.insert(Finding(.ok, "all-ok", "every attempt that finished succeeded",
                                    evidence: ["\((r.totals.outcomes[.ok]).grouped) ok of \(r.totals.attempted.grouped) attempted, \(r.totals.inFlightAtEnd.grouped) in flight at the end"]), at: 0)
        }
        findings.sort { $0.severity > $1.severity }
        return Analysis(findings: findings, onsets: onsets, tuples: tuples, capacity: capacity, health: health, witness: witness)
    }

    /// Per tuple, one point per census, in time order.
    static func tupleSeries(_ r: RunRecord) -> [TupleSeries] {
        var byKey: [String: TupleSeries] = [:]
        var order: [String] = []
        let start = r.kernelWitness?.startCensus
        for second in r.timeline {
            guard let c = second.kernel?.census else { continue }
            for t in c.tuples {
                let key = "\(t.source)|\(t.destination)|\(t.port)"
                if byKey[key] == nil {
                    let atStart = start.map { s in s.tuples.first { $0.source == t.source }?.portsInUse ?? 0 }
                    byKey[key] = TupleSeries(source: t.source, destination: t.destination, port: t.port, rangeSize: t.rangeSize,
                                             rangeLow: t.rangeLow, rangeHigh: t.rangeHigh,
                                             points: [], peakPortsInUse: 0, peakOccupancy: 0, portsInUseAtStart: atStart,
                                             peakPortsMadeByRun: nil)
                    order.append(key)
                }
                byKey[key]!.points.append(TuplePoint(atMs: c.atMs, portsInUse: t.portsInUse, timeWait: t.timeWaitInRange,
                                                     established: t.states["ESTABLISHED"] ?? 0, buckets: t.buckets,
                                                     heldBefore: t.heldBefore))
                byKey[key]!.peakPortsInUse = max(byKey[key]!.peakPortsInUse, t.portsInUse)
                byKey[key]!.peakOccupancy = max(byKey[key]!.peakOccupancy, t.occupancy)
                if let held = t.heldBefore {
                    byKey[key]!.peakPortsMadeByRun = max(byKey[key]!.peakPortsMadeByRun ?? 0, saturating(t.portsInUse, -max(0, held)))
                }
            }
        }
        return order.map { byKey[$0]! }
    }

    /// The busiest tuple's occupancy per second that has a census.
    static func occupancyBySecond(_ r: RunRecord) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for s in r.timeline {
            if let b = s.kernel?.census?.busiest { out[s.t] = b.occupancy }
            else if let c = s.kernel?.census, c.tuples.isEmpty { out[s.t] = 0 }
        }
        return out
    }

    static func onsets(_ r: RunRecord) -> [Onset] {
        let occupancy = occupancyBySecond(r)
        let censuses = r.timeline.compactMap { s in s.kernel?.census.map { (s.t, $0) } }
        return r.totals.outcomes.nonZero.filter { !$0.outcome.isOK }.map { (o, n) in
            let name = o.name
            let perSecond = r.timeline.map { ($0.t, $0.failures[name] ?? 0) }
            let active = perSecond.filter { $0.1 > 0 }
            let first = active.first?.0 ?? 0, last = active.last?.0 ?? 0
            // Prefer the census taken at the burst's onset; else the first one at or after the onset second.
            let atOnset = censuses.first { $0.0 >= first && $0.1.trigger == "burst" }
                ?? censuses.first { $0.0 >= first } ?? censuses.last
            let points = perSecond.compactMap { t, n in occupancy[t].map { (Double(n), $0) } }
            // A near-flat occupancy (0.0% to 0.3%, say) correlates with anything: no r then.
            let spread = (points.map(\.1).max() ?? 0) - (points.map(\.1).min() ?? 0)
            return Onset(outcome: name, cause: o.cause, count: n, firstSecond: first, lastSecond: last,
                         peakPerSecond: active.map(\.1).max() ?? 0,
                         occupancyAtOnset: atOnset.map { $0.1.busiest?.occupancy ?? 0 },
                         heldBeforeAtOnset: atOnset.flatMap { $0.1.busiest?.heldBefore },
                         correlationWithOccupancy: spread >= minOccupancySpread ? pearson(points) : nil,
                         correlationPoints: points.count)
        }
    }

    /// A correlation is called strong (failures "follow" occupancy) from this r up, with at least
    /// `strongCorrelationPoints` seconds behind it.
    public static let strongCorrelation = 0.7
    public static let strongCorrelationPoints = 5
    /// No correlation is computed when the busiest tuple's occupancy moved by less than this share
    /// of its range over the seconds compared (1 point of percentage): a flat or near-zero series
    /// says nothing about ports, whatever r comes out.
    public static let minOccupancySpread = 0.01

    /// Whether the address connected to is a loopback address (127.0.0.0/8 or ::1).
    static func targetIsLoopback(_ r: RunRecord) -> Bool {
        let ip = r.target.used.hasPrefix("[") ? String(r.target.used.dropFirst().prefix { $0 != "]" })
            : String(r.target.used.prefix { $0 != ":" })
        let address = ip.isEmpty ? (r.target.resolved.first ?? "") : ip
        return address.hasPrefix("127.") || address == "::1"
    }

    /// Growth of each kernel counter over the run, summed from the timeline's per-second increases.
    static func counterTotals(_ r: RunRecord) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for s in r.timeline {
            for (k, v) in s.kernel?.counters ?? [:] {
                // Saturating: a record is input from anywhere, and a sum past Int64 must not trap.
                let (sum, overflow) = out[k, default: 0].addingReportingOverflow(v)
                out[k] = overflow ? (v < 0 ? .min : .max) : sum
            }
        }
        return out
    }

    /// How a failure's count per second relates to the busiest tuple's occupancy, in words that
    /// claim a link only when r >= `strongCorrelation` over at least `strongCorrelationPoints` seconds.
    static func correlationSentence(_ o: Onset) -> String? {
        guard let c = o.correlationWithOccupancy else { return nil }
        let figures = String(format: "r = %.2f over %d seconds", c, o.correlationPoints)
        if c >= strongCorrelation && o.correlationPoints >= strongCorrelationPoints {
            return "failures per second follow the busiest tuple's port occupancy: \(figures)"
        }
        if c >= strongCorrelation { return "failures per second rose with port occupancy, but over too few seconds to call it a link: \(figures)" }
        if c > 0 { return "failures per second and port occupancy are only weakly correlated: \(figures)" }
        return "failures per second do not rise with port occupancy: \(figures)"
    }

    /// Pearson's r of the pairs; nil for fewer than 3 points or a constant series.
    static func pearson(_ pairs: [(Double, Double)]) -> Double? {
        guard pairs.count >= 3 else { return nil }
        let n = Double(pairs.count)
        let mx = pairs.map(\.0).reduce(0, +) / n, my = pairs.map(\.1).reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (x, y) in pairs {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
            syy += (y - my) * (y - my)
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }

    static func capacityModel(_ r: RunRecord) -> CapacityModel {
        let range = PortBudget.effectiveRange(r.system, perSocket: r.config.localPorts)
        let tuples = max(1, r.sources.count)
        let loopback = targetIsLoopback(r)
        let reuse = PortBudget.reuseApplies(r.system, targetIsLoopback: loopback)
        let clientCloses = r.config.close == .client
        let perTuple = clientCloses ? PortBudget.sustainableRate(rangeSize: range.size) : nil
        let active = r.totals.achievedRate > 0 ? Double(r.totals.attempted) / r.totals.achievedRate : r.elapsedSeconds
        let okRate = active > 0 ? Double(r.totals.outcomes[.ok]) / active : 0
        if let hosts = r.hosts, !hosts.isEmpty { return hostsCapacity(r, hosts, okRate: okRate) }
        return CapacityModel(rangeSize: range.size, tuples: tuples, reuseInEffect: reuse, modelRatePerTuple: perTuple,
                             modelRate: perTuple.map { $0 * Double(tuples) }, achievedOkRate: okRate,
                             requestedRate: r.config.rate)
    }

    static func generatorHealth(_ r: RunRecord) -> GeneratorHealth {
        let t = r.totals
        let base = max(1, Double(t.attempted) + Double(t.missed))
        let limited = t.requestedRate != nil && (Double(t.delayed) / base > 0.01 || Double(t.missed) / base > 0.01)
        return GeneratorHealth(requestedRate: t.requestedRate, achievedRate: t.achievedRate, delayed: t.delayed,
                               missed: t.missed, generatorLimited: limited)
    }
}
