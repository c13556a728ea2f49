import Foundation
import Testing

/// Compares `actual` with the golden file `Golden/<name>` beside the calling test file: golden
/// files pin layouts, so a change to them is a visible decision. Run with UPDATE_GOLDEN=1 to
/// rewrite them, then review the diff.
public func assertGolden(_ actual: String, _ name: String, filePath: String = #filePath,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    let golden = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
        try actual.write(to: golden, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: golden, encoding: .utf8)
    #expect(actual == expected, "differs from Golden/\(name); rerun with UPDATE_GOLDEN=1 and review", sourceLocation: sourceLocation)
}
