import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// The kernel witness and the refusal causes against what a truth audit measured in network
/// namespaces, on literal records with the kernel's figures of those runs.
@Suite struct WitnessTruthTests {
    func consistent(_ r: RunRecord, sourceLocation: SourceLocation = #_sourceLocation) -> [Finding] {
        let findings = RunAnalysis.analyze(r).findings
        let problems = ReportConsistency.problems(record: r, findings: findings)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        return findings
    }

    func witness(_ r: RunRecord) -> Finding? { RunAnalysis.analyze(r).findings.first { $0.topic == "kernel-witness" } }

    /// One attempt of every outcome code, named and errno alike: the classes add up to them all.
    @Test func everyOutcomeHasAReachAndNoneFallsOut() throws {
        var all = OutcomeCounts()
        for code in 0..<Outcome.codeCount { all.add(Outcome(code: UInt16(code))) }
        var r = literalRecord([LiteralSecond(ok: 1)])
        r.totals.outcomes = all
        r.totals.attempted = all.total
        #expect(r.totals.attempted == UInt64(Outcome.codeCount))
        var withWitness = r
        withWitness.kernelWitness = KernelWitness(counters: ["ActiveOpens": 0])
        let w = try #require(RunAnalysis.analyze(withWitness).witness)
        #expect(w.sentSYN.addingSaturating(w.maybeSentSYN).addingSaturating(w.noSYN) == r.totals.attempted,
                "connected+sent \(w.sentSYN), unknown \(w.maybeSentSYN), no SYN \(w.noSYN) of \(r.totals.attempted)")
        for o in Outcome.allNamed {
            #expect(o.reach != .unknown, "\(o.name) has no reach of its own")
            // A local cause before the socket exists or connects cannot have sent a SYN, except the
            // certificate checks, which run after the handshake.
            if o.cause == .local, !o.name.hasPrefix("tls_") { #expect(o.reach == .noSYN, "\(o.name)") }
            if o.name.hasPrefix("tls_") { #expect(o.reach == .connected, "\(o.name)") }
        }
        #expect(Outcome(errno: 71).reach == .unknown)
    }

    /// `run https://127.0.0.1:8443/ -n 200 -c 10` against `serve --mode https` (untrusted certificate).
    @Test func tlsFailuresConnectedAndSentTheirSYNs() throws {
        for name in ["tls_cert_untrusted", "tls_plain_server", "tls_required", "tls_handshake_failed"] {
            var r = literalRecord([LiteralSecond(ok: 0, failures: [name: 200])])
            r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 200, "PassiveOpens": 200, "AttemptFails": 0, "LockDroppedIcmps": 0], serverIsLocal: true)
            let f = try #require(consistent(r).first { $0.topic == "kernel-witness" })
            #expect(f.severity == .ok)
            #expect(f.evidence.first == "portstorm counted 200 connected and 200 attempts that sent a SYN, as many as the kernel opened (ActiveOpens +200)", "\(name)")
        }
    }

    /// `run 127.0.0.1:9300` behind `reject with icmp type host-unreachable`: 141,535 SYNs sent.
    @Test func unreachablesSentTheirSYNs() throws {
        var r = literalRecord([LiteralSecond(ok: 0, failures: ["ehostunreach": 141_535])])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 141_535, "AttemptFails": 0, "LockDroppedIcmps": 141_535, "InDestUnreachs": 141_535])
        let f = try #require(witness(r))
        #expect(f.severity == .ok)
        #expect(f.evidence.first?.contains("141,535 attempts that sent a SYN") == true, "\(f.evidence)")
    }

    /// Fewer SYNs than the kernel sent is not agreement: the check is two-sided.
    @Test func moreActiveOpensThanSYNsIsNotAgreement() throws {
        var r = literalRecord([LiteralSecond(ok: 40, failures: ["econnrefused": 10, "eaddrnotavail": 5])])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 50, "AttemptFails": 10, "LockDroppedIcmps": 0])
        let agree = try #require(consistent(r).first { $0.topic == "kernel-witness" })
        #expect(agree.severity == .ok)
        #expect(agree.evidence.contains("5 attempts ended before sending a SYN (eaddrnotavail): the kernel does not count them"))
        r.kernelWitness?.counters["ActiveOpens"] = 310_950
        let f = try #require(consistent(r).first { $0.topic == "kernel-witness" })
        #expect(f.severity == .info)
        #expect(f.title == "this machine's kernel opened 310,900 more connections than portstorm's attempts account for")
        #expect(f.evidence.first == "portstorm counted 40 connected and 50 attempts that sent a SYN; the kernel opened 310,950 (ActiveOpens +310,950): 310,900 more than portstorm's attempts account for")
        #expect(f.evidence.contains { $0.contains("exact only where portstorm runs alone") })
        // An ok finding beside such figures is caught.
        let old = Finding(.ok, "kernel-witness", "the kernel's counts agree with portstorm's")
        #expect(ReportConsistency.problems(record: r, findings: [old]).contains { $0.contains("is above the 50 SYNs") })
    }

    /// Attempts whose reach the record cannot tell widen the range instead of breaking the check.
    @Test func unknownErrnosAndAttemptsInFlightAreARange() throws {
        var r = literalRecord([LiteralSecond(ok: 10, failures: ["errno_71": 3])])
        r.totals.inFlightAtEnd = 2
        r.totals.attempted += 2
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": 14])
        let f = try #require(witness(r))
        #expect(f.severity == .ok)
        #expect(f.evidence.first == "portstorm counted 10 connected and 10 attempts that sent a SYN; the kernel opened 14 (ActiveOpens), within the 5 attempts that may have sent one (errno_71, 2 in flight at the end)")
        r.kernelWitness?.counters["ActiveOpens"] = 16
        #expect(witness(r)?.severity == .info)
    }

    /// `run 127.0.0.1:9200 -d 3s -c 5` behind `reject with icmp type port-unreachable`: every ICMP
    /// arrived while connect() held the socket, so AttemptFails stayed +0.
    func icmpRefused(_ n: Int64 = 155_910) -> RunRecord {
        var r = literalRecord([LiteralSecond(ok: 0, failures: ["econnrefused": UInt64(n)])])
        r.kernelWitness = KernelWitness(counters: ["ActiveOpens": n, "AttemptFails": 0, "LockDroppedIcmps": n, "OutRsts": 0, "InDestUnreachs": n])
        return r
    }

    @Test func refusalsByICMPWhileTheSocketWasHeldAreNoDisagreement() throws {
        let findings = consistent(icmpRefused())
        #expect(!findings.contains { $0.topic == "kernel-witness" && $0.severity == .problem }, "\(findings.map(\.title))")
        #expect(findings.contains { $0.topic == "kernel-witness" && $0.severity == .ok })
        // Neither counter saw them: that is a disagreement.
        var r = icmpRefused()
        r.kernelWitness?.counters["LockDroppedIcmps"] = 910
        let f = try #require(consistent(r).first { $0.topic == "kernel-witness" && $0.severity == .problem })
        #expect(f.evidence.first == "portstorm counted 155,910 connects refused or timed out by the kernel (econnrefused, etimedout); AttemptFails grew by 0 and LockDroppedIcmps by 910")
        // Older records without LockDroppedIcmps cannot tell: no claim either way.
        r.kernelWitness?.counters["LockDroppedIcmps"] = nil
        #expect(!RunAnalysis.analyze(r).findings.contains { $0.topic == "kernel-witness" && $0.severity == .problem })
    }

    @Test func aRefusalByICMPIsARejectRuleNotAClosedPort() throws {
        let r = icmpRefused()
        let f = try #require(consistent(r).first { $0.topic == "refused" })
        #expect(f.title == "connections to 127.0.0.1:8080 refused by an ICMP port-unreachable (a reject rule on the path or on the server), not by a closed port")
        #expect(!([f.title] + f.evidence + f.advice).contains { $0.contains("RST:") || $0.contains("check that the server is started") })
        #expect(f.evidence.contains { $0.hasPrefix("this namespace received 155,910 ICMP destination-unreachable messages") })
        #expect(f.advice.first == "check this machine's firewall rules for a reject rule on port 8080 (nft list ruleset, iptables -S)")
        // The old sentence beside these counters is caught.
        let old = Finding(.problem, "refused", "connections refused by 127.0.0.1:8080",
                          evidence: ["the server (or a host on the path) answered the SYN with RST: nothing accepts connections at 127.0.0.1:8080"])
        #expect(ReportConsistency.problems(record: r, findings: [old]).count == 1)
    }

    @Test func aRefusalByRSTIsSaidOnlyWithoutICMP() throws {
        var r = icmpRefused(100)
        r.kernelWitness?.counters = ["ActiveOpens": 100, "AttemptFails": 100, "LockDroppedIcmps": 0, "OutRsts": 100, "InDestUnreachs": 0]
        let f = try #require(consistent(r).first { $0.topic == "refused" })
        #expect(f.title == "connections refused by 127.0.0.1:8080")
        #expect(f.evidence.contains { $0.contains("answered the SYN with RST") && $0.contains("no ICMP destination-unreachable arrived") })
        // Older records: RST or ICMP, not one of them.
        r.kernelWitness?.counters["InDestUnreachs"] = nil
        let old = try #require(consistent(r).first { $0.topic == "refused" })
        #expect(old.evidence.contains { $0.contains("RST or an ICMP port-unreachable") })
        #expect(!old.evidence.contains { $0.contains("answered the SYN with RST:") })
    }

    /// `run 127.0.0.1:9300` behind a local `reject with icmp type host-unreachable`: the path is
    /// `route local, dev lo`, so no router on the path sent it.
    @Test func anUnreachableFromALocalAddressIsALocalRule() throws {
        var r = literalRecord([LiteralSecond(ok: 0, failures: ["ehostunreach": 300])])
        r.path = PathObservation(destination: "127.0.0.1", route: .local, device: "lo")
        let f = try #require(RunAnalysis.analyze(r).findings.first { $0.severity == .problem })
        #expect(f.topic == "firewall")
        #expect(f.title == "a firewall rule on this machine rejects connections to 127.0.0.1:8080 (ICMP host unreachable)")
        #expect(!([f.title] + f.evidence + f.advice).contains { $0.contains("router on the path reports") || $0.contains("traceroute") })
    }
}
