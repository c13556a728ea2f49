import Foundation

/// The scenario parser reads its file through the executable's `InputFile`, whose error types live
/// in the CLI. The fuzz target is about the parser, not about reading files: this stand-in reads
/// the whole file and fails with a message, the shape Scenario.swift expects.
enum InputFile {
    struct Failure: Error { let message: String }

    static func read(_ path: String, what: String) throws(Failure) -> Data {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
            throw Failure(message: "cannot read \(what) \(path)")
        }
        return data
    }
}
