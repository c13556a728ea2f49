import Foundation

/// A file whose `schema` is not the one this build reads: another version of the run record,
/// or another kind of file. Decoding it as the current version would misread it.
public struct UnsupportedSchema: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file's `schema` value.
    public let found: String

    public var description: String {
        let prefix = "portstorm.run/"
        guard found.hasPrefix(prefix), let version = Int(found.dropFirst(prefix.count)) else {
            return "its schema is '\(found)', not a run record (this build reads \(RunRecord.currentSchema))"
        }
        let current = Int(RunRecord.currentSchema.dropFirst(prefix.count)) ?? 0
        let hint = version < current ? "an older version: report it with the portstorm that wrote it, or run again"
                                     : "a newer version: report it with the portstorm that wrote it"
        return "it is a \(found) record (\(hint)); this build (portstorm \(PortstormVersion.current)) reads \(RunRecord.currentSchema) only"
    }
}

extension RunRecord {
    /// Reads only the `schema` field and throws unless it is `currentSchema`. Data that is not
    /// a JSON object with a string `schema` passes, for the full decoder to say what is wrong.
    public static func checkSchema(of data: Data) throws(UnsupportedSchema) {
        struct Head: Decodable { let schema: String? }
        guard let head = try? JSONDecoder().decode(Head.self, from: data), let schema = head.schema else { return }
        guard schema == currentSchema else { throw UnsupportedSchema(found: schema) }
    }
}
