import PortstormRecord

/// The rate ramp of `portstorm plan`: the step rates, and the loop that runs one step after
/// another until the knee, the ceiling or a stop request. The steps themselves are run by the
/// caller (`runStep`: the engine with the kernel observer), so the loop is tested with a fake one.
public struct PlanRamp: Sendable, Equatable {
    /// At most this many steps (each is a bounded run).
    public static let maxSteps = 40

    /// The rate of each step, new connections per second, lowest first; the ceiling is the last.
    public var rates: [Double]
    public var rule: KneeRule

    public init(rates: [Double], rule: KneeRule) {
        self.rates = rates
        self.rule = rule
    }

    /// The step rates: additive with `step`, else geometric by `factor`; the ceiling is always
    /// the last. Stops counting once past `maxSteps`, so a caller can refuse a ramp too long.
    public static func rates(from lo: Double, to hi: Double, step: Double?, factor: Double) -> [Double] {
        var rates: [Double] = []
        var r = lo
        while r < hi * 0.999 && rates.count <= maxSteps {
            rates.append(r.rounded())
            r = step.map { r + $0 } ?? r * factor
        }
        rates.append(hi.rounded())
        return rates
    }

    /// What the ramp ran: the steps (the last one past the knee, if one was found) and the system
    /// snapshot of the first step's record.
    public struct Ran: Sendable {
        public var steps: [PlanStep]
        public var system: SystemSnapshot?
        /// Whether `stopped` ended the ramp before the knee or the ceiling.
        public var stopped: Bool
    }

    /// Runs the steps in order and stops after the first one past the knee (`CapacityPlan.knee`),
    /// after a step during which `stopped` turned true, or when `runStep` returns nil (a step that
    /// cannot be made). `onStep` sees each step as it ends.
    public func run(runStep: (Double) throws -> RunRecord?, stopped: () -> Bool = { false },
                    onStep: (Int, PlanStep) -> Void = { _, _ in }) rethrows -> Ran {
        var steps: [PlanStep] = []
        var system: SystemSnapshot?
        for rate in rates {
            guard let record = try runStep(rate) else { break }
            system = system ?? record.system
            let step = PlanStep(record)
            steps.append(step)
            onStep(steps.count - 1, step)
            if stopped() { return Ran(steps: steps, system: system, stopped: true) }
            if CapacityPlan.knee(steps, rule: rule) != nil { break }
        }
        return Ran(steps: steps, system: system, stopped: false)
    }
}
