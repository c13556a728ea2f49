import PortstormRecord

/// What `portstorm plan -o FILE` writes: the capacity plan, the target as given and as used, and
/// the system snapshot of its first step.
public struct PlanRecord: Codable, Sendable {
    public var schema = "portstorm.plan/1"
    /// The target as given on the command line.
    public var target: String
    /// The address the steps connected to.
    public var used: String
    public var system: SystemSnapshot
    public var plan: CapacityPlan

    public init(target: String, used: String, system: SystemSnapshot, plan: CapacityPlan) {
        self.target = target
        self.used = used
        self.system = system
        self.plan = plan
    }
}
