import Foundation
import PortstormTestSupport
import Testing

/// Every lab, as CI runs it (root): dominant outcome, explanation, fix, and nothing left behind.
@Suite(.serialized) struct LabTests {
    struct Expectation: Sendable {
        let lab: String
        let broken: String
        let finding: String
    }

    static let labs = [
        Expectation(lab: "exhaustion", broken: "eaddrnotavail", finding: "port-exhaustion"),
        Expectation(lab: "bind-exhaustion", broken: "eaddrinuse", finding: "bind-exhaustion"),
        Expectation(lab: "refused", broken: "econnrefused", finding: "refused"),
        Expectation(lab: "loopback-only", broken: "econnrefused", finding: "refused"),
        Expectation(lab: "timeout", broken: "connect_timeout", finding: "timeout"),
        Expectation(lab: "protocol-mismatch", broken: "protocol_mismatch", finding: "protocol"),
        Expectation(lab: "fd-limit", broken: "emfile", finding: "descriptors"),
    ]

    static let watchedSysctls = ["net/ipv4/ip_local_port_range", "net/ipv4/tcp_tw_reuse"]

    static func hostSysctls() -> [String] {
        watchedSysctls.map { (try? String(contentsOfFile: "/proc/sys/" + $0, encoding: .utf8)) ?? "?" }
    }

    @Test(.enabled(if: HostCapabilities.networkNamespaces, "labs need root and iproute2 (they make network namespaces)"),
          arguments: labs.map(\.lab))
    func labReproducesExplainsAndFixes(lab: String) throws {
        let want = try #require(Self.labs.first { $0.lab == lab })
        let sysctlsBefore = Self.hostSysctls()
        let (p, out, err) = try CLIProcess.start(["lab", lab, "--json"])
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let r = CLIProcess.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                                  stderr: String(decoding: e, as: UTF8.self))
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let variants = try #require(object["variants"] as? [[String: Any]])
        let broken = variants.filter { $0["role"] as? String == "broken" }
        let fixes = variants.filter { $0["role"] as? String == "fix" }
        #expect(!broken.isEmpty && !fixes.isEmpty)
        for b in broken {
            #expect(b["dominant"] as? String == want.broken, "\(b)")
            #expect(b["topFinding"] as? String == want.finding, "\(b)")
        }
        for f in fixes {
            let outcomes = f["outcomes"] as? [String: Int] ?? [:]
            #expect(outcomes[want.broken] == nil, "the fix still shows \(want.broken): \(f)")
        }
        #expect(object["asExpected"] as? Bool == true)
        // Nothing left behind: the lab's namespace (named after the lab's process) is gone. Only
        // that one is compared: other programs make and remove namespaces on the same host.
        #expect(!TestNamespace.names().contains("portstorm-lab-\(p.processIdentifier)"), "the lab left its namespace behind")
        #expect(Self.hostSysctls() == sysctlsBefore, "the sysctls of the namespace the lab ran from changed")
    }

    @Test func anUnknownLabIsRefused() throws {
        let r = try CLIProcess.run(["lab", "nonsense"])
        #expect(r.status == 64 && r.stderr.contains("no lab named 'nonsense'"))
    }
}
