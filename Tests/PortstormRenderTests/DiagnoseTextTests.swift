import PortstormAnalysis
import PortstormRecord
import PortstormRender
import Testing

@Suite struct DiagnoseTextTests {
    @Test func eachAddressShowsWhatItAnsweredThenTheFindings() {
        var v4 = DiagnoseObservations.AddressProbe(address: "127.0.0.1", isLocal: true, outcomes: ["ok": 3])
        v4.http = "answered"
        v4.httpStatus = 404
        let v6 = DiagnoseObservations.AddressProbe(address: "::1", isLocal: true, outcomes: ["econnrefused": 2, "connect_timeout": 1])
        let obs = DiagnoseObservations(host: "localhost", port: 8080, resolveError: nil, resolved: ["127.0.0.1", "::1"],
                                       probes: [v4, v6], otherLocalPorts: [])
        let text = DiagnoseText.render(obs, findings: [Finding(.warning, "ipv6", "::1 refuses", evidence: ["2 of 3 refused"])],
                                       target: "localhost:8080")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "portstorm diagnose localhost:8080: resolved to 127.0.0.1, ::1")
        #expect(lines[1] == "  127.0.0.1 (this machine): ok 3; http answered 404")
        #expect(lines[2] == "  ::1 (this machine): connect_timeout 1, econnrefused 2", "outcomes by name")
        #expect(lines[3] == "" && lines[4].contains("::1 refuses") && text.hasSuffix("\n"))
        let unresolved = DiagnoseObservations(host: "nowhere.invalid", port: 80, resolveError: "no such name", resolved: [], probes: [],
                                              otherLocalPorts: [])
        #expect(DiagnoseText.render(unresolved, findings: [], target: "nowhere.invalid:80").hasPrefix("portstorm diagnose nowhere.invalid:80: not resolved\n"))
    }

    @Test func anErrorStatusIsNotPrintedAsOk() {
        func line(_ status: Int) -> String {
            var p = DiagnoseObservations.AddressProbe(address: "127.0.0.1", isLocal: true, outcomes: ["ok": 3])
            p.http = "ok"
            p.httpStatus = status
            let obs = DiagnoseObservations(host: "127.0.0.1", port: 8080, resolveError: nil, resolved: ["127.0.0.1"], probes: [p], otherLocalPorts: [])
            return String(DiagnoseText.render(obs, findings: [], target: "127.0.0.1:8080").split(separator: "\n")[1])
        }
        #expect(line(200) == "  127.0.0.1 (this machine): ok 3; http ok 200")
        #expect(line(404) == "  127.0.0.1 (this machine): ok 3; http answered 404 (client error)")
        #expect(line(500) == "  127.0.0.1 (this machine): ok 3; http answered 500 (server error)")
    }
}
