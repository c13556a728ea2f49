import Foundation
import PortstormAnalysis
import PortstormLab
import Testing
@testable import portstorm

@Suite(.serialized) struct ScenarioTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scenarios").standardized

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func everyScenarioParsesAndEveryLabHasOne() throws {
        #expect(Self.files.count >= 10)
        var labs = Set<String>()
        for f in Self.files {
            let s = try Scenario.load(Self.folder.appendingPathComponent(f).path)
            let text = try String(contentsOf: Self.folder.appendingPathComponent(f), encoding: .utf8)
            #expect(text.hasPrefix("# "), "\(f) starts with a comment on what it shows")
            if case .lab(let name) = s.kind {
                #expect(LabCatalog.named(name) != nil, "\(f) names an unknown lab")
                labs.insert(name)
            }
        }
        #expect(labs == Set(LabCatalog.all.map(\.name)), "every lab has a scenario file")
    }

    func write(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-scenario-\(getpid())-\(Int.random(in: 0..<1_000_000)).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func aScenarioRunsWithItsBuiltInServer() throws {
        let path = try write("name: tiny\nserve:\n  mode: accept-close\nrun:\n  connections: 300\n  concurrency: 20\n  close: server\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = path + ".json"
        defer { try? FileManager.default.removeItem(atPath: record) }
        let r = try CLIProcess.run(["run", "--scenario", path, "-o", record, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])
        #expect(((object["totals"] as? [String: Any])?["outcomes"] as? [String: Int])?["ok"] == 300)
    }

    @Test(arguments: [
        ("name: x\nserve:\n  mode: hold\nrun:\n  speed: 5\n", "unknown key 'speed' under run"),
        ("name: x\nserve:\n  mode: hold\nrun:\n  rate: fast\n", "--rate 'fast' is not a positive number"),
        ("name: x\nbogus: 1\n", "unknown key 'bogus'"),
        ("name: x\nrun:\n  rate: 5\n", "needs a target"),
        ("name: x\nserve:\n  mode: teapot\nrun:\n  connections: 1\n", "unknown serve mode 'teapot'"),
        ("[1, 2", "is not valid YAML"),
    ])
    func aBadScenarioGetsOneLine(yaml: String, fragment: String) throws {
        let path = try write(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLIProcess.run(["run", "--scenario", path])
        #expect(r.status == 64, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test func flagsBesideAScenarioOverrideTheFileAndAreShown() throws {
        let path = try write("name: tiny\nserve:\n  mode: http\nrun:\n  connections: 120\n  concurrency: 20\n  close: server\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = path + ".json"
        defer { try? FileManager.default.removeItem(atPath: record) }
        let r = try CLIProcess.run(["run", "--scenario", path, "-c", "5", "--protocol", "http", "-o", record])
        #expect(r.status == 0, "\(r.stderr)")
        // The settings in force, defaults included (-n from the file, -c and --protocol from the command line).
        #expect(r.stdout.contains(" -c 5 -n 120 --connect-timeout 2s --response-timeout 5s --close server --protocol http --path / "
                                  + "(from the command line: -c, --protocol)"), "\(r.stdout)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])
        let config = try #require(object["config"] as? [String: Any])
        #expect(config["concurrency"] as? Int == 5)
        #expect((config["protocol"] ?? config["wireProtocol"]) as? String == "http", "\(config)")
        #expect(((object["totals"] as? [String: Any])?["outcomes"] as? [String: Int])?["ok"] == 120)
    }

    @Test(arguments: [
        ("name: r\nserve:\n  mode: accept-close\nramp:\n  to: 200\n", ["-n", "5"], "is a ramp (portstorm plan), which does not take -n"),
        ("name: l\nlab: refused\n", ["-c", "5"], "runs the lab 'refused', which takes none of -c"),
        ("name: l\nlab: refused\n", ["-o", "x.json"], "runs the lab 'refused', which takes none of -o"),
    ])
    func aFlagTheScenarioCannotTakeIsRefused(yaml: String, flags: [String], fragment: String) throws {
        let path = try write(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLIProcess.run(["run", "--scenario", path] + flags)
        #expect(r.status == 64, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
    }

    /// The TLS keys become run's TLS flags: the settings line shows them, the record holds them, and
    /// a built-in TLS server's self-signed certificate is handed to --cacert.
    @Test func tlsKeysRunAgainstABuiltInHTTPSServer() throws {
        let path = try write("""
            name: tls
            serve:
              mode: https
            run:
              protocol: https
              connections: 40
              concurrency: 4
              tls-min: 1.3
              tls-resume: true
              alpn: [http/1.1]
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = path + ".json"
        defer { try? FileManager.default.removeItem(atPath: record) }
        let r = try CLIProcess.run(["run", "--scenario", path, "-o", record])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(self-signed; its certificate goes to --cacert)"), "\(r.stdout)")
        #expect(r.stdout.contains(" --protocol https --path / --cacert /") && r.stdout.contains(".pem --tls-min 1.3 --alpn http/1.1 --tls-resume\n"), "\(r.stdout)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])
        let tls = try #require((object["config"] as? [String: Any])?["tls"] as? [String: Any], "\(object["config"] ?? "")")
        #expect(tls["minVersion"] as? String == "1.3" && tls["resume"] as? Bool == true && tls["alpn"] as? [String] == ["http/1.1"], "\(tls)")
        #expect(((object["totals"] as? [String: Any])?["outcomes"] as? [String: Int])?["ok"] == 40, "\(object["totals"] ?? "")")
        #expect(((object["tls"] as? [String: Any])?["resumed"] as? Int ?? 0) > 0, "\(object["tls"] ?? "")")
    }

    /// TLS flags beside the file override its keys (--insecure replaces the file's cacert, which
    /// is read from the file's folder), and are marked as the command line's.
    @Test func tlsFlagsBesideAScenarioOverrideItsKeys() throws {
        let path = try write("name: tls\nserve:\n  mode: https\nrun:\n  protocol: https\n  connections: 10\n  cacert: missing-ca.pem\n  tls-max: 1.2\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = path + ".json"
        defer { try? FileManager.default.removeItem(atPath: record) }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        // The file alone: its cacert, taken from the file's folder, does not exist.
        let alone = try CLIProcess.run(["run", "--scenario", path])
        #expect(alone.status != 0 && alone.stderr.contains("--cacert \(folder)/missing-ca.pem: cannot read it"), "\(alone.stderr)")
        let r = try CLIProcess.run(["run", "--scenario", path, "--insecure", "--tls-max", "1.3", "-o", record])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("--protocol https --path / --insecure --tls-max 1.3 (from the command line: --tls-max, --insecure)"), "\(r.stdout)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])
        let tls = try #require((object["config"] as? [String: Any])?["tls"] as? [String: Any])
        #expect(tls["insecure"] as? Bool == true && tls["caFile"] == nil && tls["maxVersion"] as? String == "1.3", "\(tls)")
        #expect(((object["tls"] as? [String: Any])?["versions"] as? [String: Int]) == ["TLSv1.3": 10], "\(object["tls"] ?? "")")
    }

    @Test(arguments: [
        ("run:\n  protocol: https\n  insecure: maybe\n", "insecure takes true or false, not 'maybe'"),
        ("run:\n  protocol: https\n  tls-min: 1.4\n", "--tls-min takes 1.2 or 1.3, not '1.4'"),
        ("run:\n  protocol: https\n  insecure: true\n  cacert: /etc/ssl/certs/ca-certificates.crt\n", "--insecure verifies nothing, so --cacert would not be used"),
        ("run:\n  protocol: https\n  sni: a b\n", "--sni takes a host name"),
        ("run:\n  protocol: https\n  alpn: h2,,x\n", "--alpn takes protocol names separated by commas"),
        ("run:\n  protocol: http\n  tls-resume: true\n", "go with --protocol https, wss or tls"),
        ("run:\n  protocol: https\n  tls-version: 1.3\n", "unknown key 'tls-version' under run"),
        ("run:\n  protocol: https\n  alpn: [h2, {a: 2}]\n", "alpn takes protocol names, as in [h2, http/1.1]"),
    ])
    func aBadTLSKeyGetsTheFlagsOneLine(yaml: String, fragment: String) throws {
        let path = try write("name: x\ntarget: 127.0.0.1:9\n" + yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLIProcess.run(["run", "--scenario", path, "-n", "1"])
        #expect(r.status == 64, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// A ramp takes the TLS keys too (plan shares run's TLS options); the built-in server's
    /// certificate is handed to --cacert, and every step's handshakes are in the plan record.
    @Test func aRampOverTLS() throws {
        let path = try write("name: r\nserve:\n  mode: https\nramp:\n  protocol: https\n  from: 20\n  to: 40\n  factor: 2\n  step-duration: 1s\n  tls-resume: true\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = path + ".json"
        defer { try? FileManager.default.removeItem(atPath: record) }
        let r = try CLIProcess.run(["run", "--scenario", path, "-o", record, "--tls-max", "1.3"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(" --tls-resume ") && r.stdout.contains(" --tls-max 1.3 --cacert /"), "\(r.stdout)")
        let plan = try PlanRecord.load(from: Data(contentsOf: URL(fileURLWithPath: record)))
        #expect(plan.tls?.resume == true && plan.tls?.maxVersion == "1.3" && plan.plan.steps.count == 2, "\(plan.plan.steps)")
        #expect(plan.plan.steps.allSatisfy { $0.ok == $0.attempted && $0.handshakes == $0.attempted && ($0.resumed ?? 0) > 0 }, "\(plan.plan.steps)")
    }
}
