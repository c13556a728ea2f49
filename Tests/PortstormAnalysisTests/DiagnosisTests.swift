import PortstormAnalysis
import Testing

@Suite struct DiagnosisTests {
    func probe(_ address: String, local: Bool = true, _ outcomes: [String: UInt64], listeners: [String]? = nil) -> DiagnoseObservations.AddressProbe {
        var p = DiagnoseObservations.AddressProbe(address: address, isLocal: local, outcomes: outcomes)
        p.listeners = listeners ?? (local ? [] : nil)
        return p
    }

    @Test func localhostOnIPv6WhileTheServerListensOnIPv4Only() {
        let o = DiagnoseObservations(host: "localhost", port: 8080, resolveError: nil, resolved: ["::1", "127.0.0.1"],
                                     probes: [probe("::1", ["econnrefused": 3], listeners: []), probe("127.0.0.1", ["ok": 3], listeners: ["127.0.0.1"])],
                                     otherLocalPorts: [8080])
        let f = Diagnosis.rank(o)
        #expect(f.first { $0.topic == "family" }?.advice.first?.contains("::1") == true)
        #expect(f.first?.severity == .problem)
    }

    @Test func remoteTimeoutsSayWhatCannotBeSeen() {
        let o = DiagnoseObservations(host: "db.example", port: 5432, resolveError: nil, resolved: ["203.0.113.7"],
                                     probes: [probe("203.0.113.7", local: false, ["connect_timeout": 3])], otherLocalPorts: [])
        let f = Diagnosis.rank(o)
        #expect(f.first?.topic == "timeout")
        #expect(f.first?.advice.contains { $0.contains("security group") } == true)
        #expect(f.contains { $0.topic == "unseen" && $0.evidence.contains { $0.contains("CDN") } })
    }

    @Test func aHealthyTargetIsSaidToBeSo() {
        var p = probe("127.0.0.1", ["ok": 3], listeners: ["0.0.0.0"])
        p.http = "ok"
        p.ws = "ok"
        let f = Diagnosis.rank(DiagnoseObservations(host: "127.0.0.1", port: 80, resolveError: nil, resolved: ["127.0.0.1"], probes: [p], otherLocalPorts: [80]))
        #expect(f.contains { $0.topic == "connects" && $0.severity == .ok })
        #expect(!f.contains { $0.severity >= .warning })
        #expect(f.contains { $0.topic == "speaks-ws" })
    }
}
