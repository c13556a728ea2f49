import Foundation
import Testing

/// Found by the scenario fuzz target (make fuzz): YAML allows a list, a mapping or an alias as a
/// mapping key, and the YAML library's conversion force-unwraps keys as strings (SIGILL); and it
/// computes base-60 integers with trapping arithmetic. Each now gets one line naming what was wrong.
@Suite struct ScenarioKeyTests {
    @Test(arguments: [
        ("name: x\n? [a]\n: 1\n", "a key must be a plain word, not a list"),
        ("name: x\nserve:\n  mode: hold\nrun:\n  ? {rate: 5}\n  : 2\n", "a key must be a plain word, not a mapping"),
        ("- a\n- ? [b, c]\n  : d\n", "a key must be a plain word, not a list"),
        // A YAML 1.1 base-60 integer too long for 64 bits trapped in the YAML library's arithmetic:
        // it stays text, and the flag's check refuses it.
        ("name: x\nserve:\n  mode: hold\nrun:\n  rate: -281054447409938088:36\n", "--rate '-281054447409938088:36'"),
    ])
    func aKeyThatIsNotAWordGetsOneLine(yaml: String, fragment: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-key-\(getpid())-\(yaml.hashValue).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLIProcess.run(["run", "--scenario", path])
        #expect(r.status == 64, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
