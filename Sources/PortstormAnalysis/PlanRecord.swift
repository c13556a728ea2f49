import Foundation
import PortstormRecord

/// What `portstorm plan -o FILE` writes and `portstorm report` reads back: the capacity plan with
/// the target as asked and as used, and the settings of the first step's namespace. Described in
/// docs/plan-record.md.
public struct PlanRecord: Codable, Sendable {
    public static let currentSchema = "portstorm.plan/1"

    public var schema = PlanRecord.currentSchema
    /// The target as given on the command line (HOST:PORT or a URL).
    public var target: String
    /// The address the steps connected to.
    public var used: String
    /// The settings in force, read before the first step (as a run record's `system`).
    public var system: SystemSnapshot
    public var plan: CapacityPlan
    /// The TLS settings of every step (https, wss, tls targets); absent for plain ones and in
    /// records written before plan took TLS options.
    public var tls: TLSConfig?

    public init(target: String, used: String, system: SystemSnapshot, plan: CapacityPlan, tls: TLSConfig? = nil) {
        self.target = target
        self.used = used
        self.system = system
        self.plan = plan
        self.tls = tls
    }

    /// The `schema` of a JSON object, nil when the data is not one with a string `schema`.
    public static func schema(of data: Data) -> String? {
        struct Head: Decodable { let schema: String? }
        return (try? JSONDecoder().decode(Head.self, from: data))?.schema
    }

    /// Decodes a plan record; throws a decoding error when a field is missing or wrong.
    public static func load(from data: Data) throws -> PlanRecord {
        try JSONDecoder().decode(PlanRecord.self, from: data)
    }
}
