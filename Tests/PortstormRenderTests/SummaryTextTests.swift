import Foundation
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing


@Suite struct SummaryTextTests {
    @Test func summaryLayoutIsPinned() throws {
        try assertGolden(SummaryText.render(sampleRecord()), "summary.txt")
    }

    @Test func summaryShowsEveryOutcomeWithItsCause() {
        let text = SummaryText.render(sampleRecord())
        let rows = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.contains(["eaddrnotavail", "950", "9.50%", "local", "Cannot", "assign", "requested", "address"]))
        #expect(rows.contains(["econnrefused", "40", "0.40%", "remote", "Connection", "refused"]))
        #expect(text.contains("requested 1,000/s, achieved 1,000/s"))
        #expect(text.contains("resolved to 127.0.0.1, ::1; used 127.0.0.1:8080"))
    }

    @Test func theHeaderNamesTheProtocolThatRan() {
        var c = RunConfig(target: "127.0.0.1:8080", concurrency: 1, durationSeconds: 1)
        #expect(SummaryText.protocolLabel(c) == "tcp connect")
        c.wireProtocol = .ws
        c.path = "/chat"
        #expect(SummaryText.protocolLabel(c) == "websocket handshake /chat")
        c.wireProtocol = .http
        #expect(SummaryText.protocolLabel(c) == "http GET /chat")
        c.wireProtocol = .tcp
        c.send = "PING"
        #expect(SummaryText.protocolLabel(c) == "tcp with payload")
        var r = sampleRecord()
        r.config.wireProtocol = .ws
        #expect(SummaryText.render(r).split(separator: "\n").first?.contains(", websocket handshake /, close=") == true)
    }

    @Test func liveLineReportsRatesOverTheLastInterval() {
        var line = LiveLine(durationSeconds: 10, connections: nil)
        var s = LiveStatus(elapsedSeconds: 1, attempted: 1000, inFlight: 50)
        s.outcomes.add(.ok, 900)
        s.outcomes.add(.econnrefused, 50)
        _ = line.render(s)
        s.elapsedSeconds = 2
        s.attempted = 3000
        s.outcomes.add(.ok, 1800)
        s.outcomes.add(.econnrefused, 150)
        let text = line.render(s)
        #expect(text.contains("attempts 2,000/s"))
        #expect(text.contains("ok 1,800/s"))
        #expect(text.contains("econnrefused 150/s"))
        #expect(text.contains("[####................]  20%"))
    }

    @Test func formatsNumbers() {
        #expect(Format.count(1_234_567) == "1,234,567" && Format.count(12) == "12")
        #expect(Format.micros(850) == "850us" && Format.micros(1_500) == "1.50ms" && Format.micros(2_500_000) == "2.50s")
        #expect(Format.percent(1, of: 3) == "33.33%")
    }
}
