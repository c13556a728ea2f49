import Foundation
import Testing

/// deploy/kubernetes renders with `kubectl kustomize` and validates against the Kubernetes schemas
/// (`kubernetes-validate --strict`, from PyPI), offline. .ci/run installs both.
@Suite struct DeployManifestTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/kubernetes")

    static func tool(_ args: [String]) throws -> CLIProcess.Result {
        try CLIProcess.run(args, executable: URL(fileURLWithPath: "/usr/bin/env"))
    }

    /// Why the manifests cannot be checked here, or nil.
    static let missing: String? = {
        if (try? tool(["kubectl", "version", "--client"]))?.status != 0 { return "kubectl is not installed (.ci/run installs it)" }
        if (try? tool(["kubernetes-validate", "--version"]))?.status != 0 { return "kubernetes-validate is not installed (pip install kubernetes-validate)" }
        return nil
    }()

    static func render() throws -> String {
        let r = try tool(["kubectl", "kustomize", folder.path])
        #expect(r.status == 0, "kubectl kustomize: \(r.stderr)")
        return r.stdout
    }

    static func validate(_ yaml: String) throws -> CLIProcess.Result {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-k8s-\(getpid())-\(Int.random(in: 0..<1_000_000)).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try tool(["kubernetes-validate", "--strict", "--quiet", file.path])
    }

    @Test(.enabled(if: missing == nil, "\(missing ?? "")"))
    func theManifestsRenderAndValidate() throws {
        let yaml = try Self.render()
        let load = try String(contentsOf: Self.folder.appendingPathComponent("load.env"), encoding: .utf8)
        let shards = try #require(load.split(separator: "\n").first { $0.hasPrefix("SHARDS=") }?.dropFirst("SHARDS=".count))
        // One pod per shard, all at once; each takes its index as its shard; both Jobs share the volume.
        #expect(yaml.contains("completionMode: Indexed"))
        #expect(yaml.contains("  completions: \(shards)\n") && yaml.contains("  parallelism: \(shards)\n"))
        #expect(yaml.contains("--shard \"$JOB_COMPLETION_INDEX/$SHARDS\" --start-at \"$at\""))
        #expect(yaml.contains("portstorm merge \"$dir\"/shard-*.json -o \"$dir/merged.json\""))
        #expect(yaml.components(separatedBy: "claimName: portstorm-records").count == 3)
        #expect(yaml.contains("SHARDS: \"\(shards)\""))
        let v = try Self.validate(yaml)
        #expect(v.status == 0, "kubernetes-validate: \(v.stdout) \(v.stderr)")
    }

    @Test(.enabled(if: missing == nil, "\(missing ?? "")"))
    func aMisspelledFieldIsRejected() throws {
        let yaml = try Self.render().replacingOccurrences(of: "  completionMode: Indexed", with: "  completionMode: Indexed\n  paralellism: 4")
        let v = try Self.validate(yaml)
        #expect(v.status != 0, "kubernetes-validate accepted a Job with an unknown field")
    }
}
