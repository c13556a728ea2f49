/// The steps an attempt of a plan goes through, in order, each with the deadline that guards it
/// (the whole transition table is in docs/engine.md). At shutdown the worker waits for attempts in
/// flight at most the sum of these deadlines, plus `slackNs`, before cancelling what is left.
struct AttemptPath {
    struct Step: Equatable {
        /// The phases this step covers (one deadline guards them all).
        let phases: [Phase]
        let deadlineNs: UInt64
    }

    /// For completions to come back after the last deadline.
    static let slackNs: UInt64 = 500_000_000

    let steps: [Step]

    init(_ plan: WorkerPlan) {
        var steps = [Step(phases: [.connecting, .verifying], deadlineNs: plan.connectTimeoutNs)]
        if plan.payload != nil || plan.check != nil {
            let reading: [Phase] = plan.statuses != nil ? [.readingAnswer, .readingBody] : [.receivingHead]
            steps.append(Step(phases: (plan.payload != nil ? [.sending] : []) + reading, deadlineNs: plan.responseTimeoutNs))
        }
        if plan.holdNs > 0 { steps.append(Step(phases: [.holding], deadlineNs: plan.holdNs)) }
        if plan.closeFrame != nil { steps.append(Step(phases: [.closingWebSocket, .awaitingClose], deadlineNs: plan.responseTimeoutNs)) }
        if plan.close == .server { steps.append(Step(phases: [.draining], deadlineNs: plan.responseTimeoutNs)) }
        self.steps = steps
    }

    var phases: [Phase] { steps.flatMap(\.phases) }

    /// How long an attempt started just before the stop may still take to end by itself.
    var drainBudgetNs: UInt64 { steps.reduce(AttemptPath.slackNs) { $0 + $1.deadlineNs } }
}
