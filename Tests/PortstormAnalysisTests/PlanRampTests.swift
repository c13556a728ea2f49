import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// The ramp loop of `portstorm plan`, driven by a fake step runner: a target whose ports run out
/// above `capacity` new connections per second (as a 1,000-port range without reuse would).
@Suite struct PlanRampTests {
    /// A 2-second step at `rate`: attempts above `capacity`/s fail with eaddrnotavail, ports fill with the rate.
    static func fakeStep(_ rate: Double, capacity: Double, p99: UInt64 = 300) -> RunRecord {
        let perSecond = UInt64(rate), fit = UInt64(min(rate, capacity))
        let seconds = (0..<2).map { _ in
            LiteralSecond(ok: fit, failures: perSecond > fit ? ["eaddrnotavail": perSecond - fit] : [:],
                          portsInUse: Int(min(1000, rate * 2)), timeWait: Int(min(990, rate * 2)))
        }
        var config = RunConfig(target: "127.0.0.1:8080", rate: rate, durationSeconds: 2)
        config.close = .client
        var r = literalRecord(seconds, config: config, latenciesUs: Array(repeating: p99, count: 50))
        r.totals.achievedRate = rate
        return r
    }

    @Test func theRatesClimbGeometricallyOrByStepsAndEndAtTheCeiling() {
        #expect(PlanRamp.rates(from: 100, to: 1000, step: nil, factor: 2) == [100, 200, 400, 800, 1000])
        #expect(PlanRamp.rates(from: 100, to: 400, step: 100, factor: 1.5) == [100, 200, 300, 400])
        #expect(PlanRamp.rates(from: 500, to: 500, step: nil, factor: 1.5) == [500])
        // Too many steps: counting stops just past the limit (not at a million), and the command refuses it.
        let long = PlanRamp.rates(from: 1, to: 1_000_000, step: 1, factor: 1.5)
        #expect(long.count > PlanRamp.maxSteps && long.count <= PlanRamp.maxSteps + 2 && long.last == 1_000_000)
    }

    @Test func theRampStopsAtTheKneeAndRunsNothingAfterIt() throws {
        let ramp = PlanRamp(rates: PlanRamp.rates(from: 100, to: 3200, step: nil, factor: 2), rule: KneeRule())
        var asked: [Double] = [], seen: [Int] = []
        let ran = ramp.run(runStep: { rate in
            asked.append(rate)
            return Self.fakeStep(rate, capacity: 500)
        }, onStep: { i, _ in seen.append(i) })
        // 100, 200, 400 fit under 500/s; 800 loses 300 of 800 a second: the knee, and the last step run.
        #expect(asked == [100, 200, 400, 800])
        #expect(seen == [0, 1, 2, 3] && !ran.stopped)
        #expect(ran.system != nil)
        let plan = CapacityPlan.make(steps: ran.steps, rule: ramp.rule, targetRate: 3200, system: try #require(ran.system),
                                     config: RunConfig(target: "127.0.0.1:8080", durationSeconds: 2), sources: 1)
        #expect(plan.kneeStep == 3 && plan.sustainableRate == 400 && plan.limit == "ports", "\(plan)")
        #expect(plan.kneeReason?.contains("37.5% of attempts failed at 800/s (mostly eaddrnotavail)") == true, "\(plan.kneeReason ?? "")")
    }

    @Test func withoutAKneeEveryStepRunsUpToTheCeiling() {
        let ramp = PlanRamp(rates: [100, 200, 300], rule: KneeRule())
        let ran = ramp.run(runStep: { Self.fakeStep($0, capacity: 10_000) })
        #expect(ran.steps.map(\.rate) == [100, 200, 300])
        #expect(CapacityPlan.knee(ran.steps, rule: ramp.rule) == nil)
    }

    @Test func aKneeInLatencyAloneIsFoundToo() {
        let ramp = PlanRamp(rates: [100, 200, 400, 800], rule: KneeRule(maxFailureShare: 0.01, latencyFactor: 3))
        let ran = ramp.run(runStep: { Self.fakeStep($0, capacity: 10_000, p99: $0 >= 400 ? 15_000 : 600) })
        #expect(ran.steps.count == 3)
        #expect(CapacityPlan.knee(ran.steps, rule: ramp.rule)?.limit == "latency")
    }

    @Test func aStopRequestEndsTheRampAfterTheStepThatRan() {
        var count = 0
        let ran = PlanRamp(rates: [100, 200, 400], rule: KneeRule()).run(runStep: { rate in
            count += 1
            return Self.fakeStep(rate, capacity: 10_000)
        }, stopped: { count >= 2 })
        #expect(ran.steps.count == 2 && ran.stopped)
    }

    @Test func aStepThatCannotBeMadeEndsTheRamp() {
        let ran = PlanRamp(rates: [100, 200, 400], rule: KneeRule()).run(runStep: { $0 > 150 ? nil : Self.fakeStep($0, capacity: 10_000) })
        #expect(ran.steps.count == 1 && !ran.stopped)
    }
}
