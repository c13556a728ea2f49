import Foundation
import PortstormAnalysis
import PortstormLab
import PortstormSystem
import Testing

/// `plan` ramps a TLS target with run's TLS options (one shared option group): against the
/// built-in HTTPS server on loopback, two short steps, every handshake counted in the plan record.
@Suite(.serialized) struct PlanTLSTests {
    func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-plan-tls-\(getpid())-\(name)")
    }

    @Test(.timeLimit(.minutes(1))) func aPlanRampsAnHTTPSServerWithTheTLSOptions() throws {
        let server = try TargetServer.start(mode: .https, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let ca = temporary("ca.pem"), file = temporary("plan.json")
        try #require(server.tls?.selfSignedPEM).write(to: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: ca); try? FileManager.default.removeItem(at: file) }
        let target = "https://127.0.0.1:\(server.address.port)/"

        // 50/s then 100/s for 1 s each: about 150 attempts, each a verified handshake, most resumed.
        let r = try CLIProcess.run(["plan", target, "--cacert", ca.path, "--tls-resume", "--tls-min", "1.3",
                                    "--from", "50", "--to", "100", "--factor", "2", "--step-duration", "1s", "-o", file.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(" handshakes (") && r.stdout.contains(" resumed) p99 "), "\(r.stdout)")
        let record = try PlanRecord.load(from: Data(contentsOf: file))
        #expect(record.tls?.caFile == ca.path && record.tls?.resume == true && record.tls?.minVersion == "1.3", "\(String(describing: record.tls))")
        // Two steps, unless this loaded machine could not keep the first step's schedule: then the
        // plan rightly ends there, at the generator's own knee.
        #expect(record.plan.steps.count == 2 || (record.plan.steps.count == 1 && record.plan.limit == "generator"),
                "\(record.plan.steps) limit \(record.plan.limit ?? "none")")
        for s in record.plan.steps {
            #expect(s.attempted > 0 && s.ok == s.attempted && s.handshakes == s.attempted, "\(s)")
            #expect((s.resumed ?? 0) > 0 && (s.handshakeP99Us ?? 0) > 0, "\(s)")
        }

        // The same server without --cacert: the system's store does not trust it, and the step says so.
        let untrusted = try CLIProcess.run(["plan", target, "--from", "20", "--to", "20", "--step-duration", "1s", "-o", file.path])
        #expect(untrusted.status == 0, "\(untrusted.stdout)\(untrusted.stderr)")
        let u = try PlanRecord.load(from: Data(contentsOf: file))
        #expect(u.plan.steps.first?.dominantFailure == "tls_cert_untrusted" && u.plan.steps.first?.handshakes == 0, "\(u.plan.steps)")
    }

    @Test(arguments: [
        (["plan", "127.0.0.1:9", "--to", "200", "--cacert", "/etc/hostname"], "go with --protocol https, wss or tls"),
        (["plan", "https://127.0.0.1:9/", "--to", "200", "--tls-max", "1.1"], "--tls-max takes 1.2 or 1.3, not '1.1'"),
        (["plan", "https://127.0.0.1:9/", "--to", "200", "--insecure", "--cacert", "/etc/hostname"], "--insecure verifies nothing"),
    ])
    func aBadTLSOptionOfPlanGetsRunsOneLine(arguments: [String], fragment: String) throws {
        let r = try CLIProcess.run(arguments)
        #expect(r.status == 64, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fragment) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
