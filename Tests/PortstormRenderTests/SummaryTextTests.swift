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

@Suite struct LiveLineWidthTests {
    func status(_ t: Double, attempted: UInt64, ok: UInt64, refused: UInt64 = 0, reset: UInt64 = 0) -> LiveStatus {
        var s = LiveStatus(elapsedSeconds: t, attempted: attempted, inFlight: 1234)
        s.outcomes.add(.ok, ok)
        if refused > 0 { s.outcomes.add(.econnrefused, refused) }
        if reset > 0 { s.outcomes.add(.econnreset, reset) }
        s.timeWait = 27_912
        s.portsInUse = 27_912
        s.portRange = 28_232
        return s
    }

    @Test func aBoundedRunShowsItsBarAndTheTimeLeft() {
        var line = LiveLine(durationSeconds: 30, connections: nil)
        let text = line.render(status(12, attempted: 12_000, ok: 12_000))
        #expect(text.contains("[########............]  40% 18s left"), "\(text)")
        var counted = LiveLine(durationSeconds: nil, connections: 10_000)
        // 2,500 in 5 s: 500/s, 7,500 left: 15 s.
        #expect(counted.render(status(5, attempted: 2_500, ok: 2_500)).contains("25% 15s left"))
        var long = LiveLine(durationSeconds: 600, connections: nil)
        #expect(long.render(status(10, attempted: 10, ok: 10)).contains("9m50s left"))
    }

    @Test(arguments: [200, 120, 100, 80, 60, 40, 20])
    func theLineFitsTheTerminal(width: Int) {
        var line = LiveLine(durationSeconds: 30, connections: nil)
        _ = line.render(status(1, attempted: 1000, ok: 900, refused: 50, reset: 50))
        let text = line.render(status(2, attempted: 2000, ok: 1800, refused: 100, reset: 100), width: width)
        #expect(text.count < width, "\(text.count) columns at \(width): \(text)")
        #expect(text.hasPrefix("  2.0s"), "\(text)")
        if width >= 60 { #expect(text.contains("% 28s left") && text.contains("failed"), "\(text)") }
        if width >= 100 { #expect(text.contains("econnrefused 50/s"), "failures are named while they fit: \(text)") }
        if width >= 200 { #expect(text.contains("TIME_WAIT 27,912") && text.contains("ports 27,912/28,232 (98.9%)"), "\(text)") }
        if width < 120 { #expect(!text.contains("TIME_WAIT"), "the least useful part goes first: \(text)") }
    }

    @Test func coloursOnlyWhenAsked() {
        var plain = LiveLine(durationSeconds: 30, connections: nil)
        #expect(!plain.render(status(1, attempted: 100, ok: 90, refused: 10), width: 200).contains("\u{1B}["))
        var coloured = LiveLine(durationSeconds: 30, connections: nil)
        let text = coloured.render(status(1, attempted: 100, ok: 90, refused: 10), width: 200, color: true)
        #expect(text.contains("\u{1B}[32mok 90/s\u{1B}[0m") && text.contains("\u{1B}[31mfailed: econnrefused 10/s\u{1B}[0m"), "\(text)")
        #expect(text.contains("\u{1B}[33mports "), "a budget above 90% is yellow: \(text)")
    }
}

@Suite struct StreamLineTests {
    func status(_ t: Double, attempted: UInt64, ok: UInt64, buckets: [UInt64]) -> LiveStatus {
        var s = LiveStatus(elapsedSeconds: t, attempted: attempted, inFlight: 2)
        s.outcomes.add(.ok, ok)
        s.connectBuckets = buckets
        s.connectCount = ok
        return s
    }

    @Test func eachLineHoldsThatSecondsCountsAndLatencyBounds() throws {
        var stream = StreamLine()
        let bounds = LiveStatus.connectBoundsUs
        // Second 0: 100 connects, all at most 100 us. Second 1: 100 more, 50 at most 100 us,
        // 45 more by 1 ms, the slowest 5 by 25 ms.
        func cumulative(_ upTo: [UInt64: UInt64]) -> [UInt64] {
            var running: UInt64 = 0
            return bounds.map { running += upTo[$0] ?? 0; return running }
        }
        let first = try JSONSerialization.jsonObject(with: Data(stream.render(status(1, attempted: 100, ok: 100, buckets: cumulative([100: 100]))).utf8))
            as? [String: Any]
        #expect(first?["t"] as? Int == 0 && first?["connects"] as? Int == 100)
        #expect((first?["connectLatencyAtMostUs"] as? [String: Int]) == ["p50": 100, "p90": 100, "p99": 100])
        let line = stream.render(status(2, attempted: 200, ok: 200, buckets: cumulative([100: 150, 1_000: 45, 25_000: 5])))
        #expect(line.hasSuffix("\n") && !line.dropLast().contains("\n"))
        let second = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(second["t"] as? Int == 1 && second["attempts"] as? Int == 100 && second["ok"] as? Int == 100 && second["attempted"] as? Int == 200)
        #expect((second["connectLatencyAtMostUs"] as? [String: Int]) == ["p50": 100, "p90": 1_000, "p99": 25_000], "\(second)")
        // The run ends 0.4 s later with 203 attempts in the record (the live counts lagged).
        var r = sampleRecord()
        r.totals.attempted = 203
        r.totals.inFlightAtEnd = 0
        r.totals.outcomes = OutcomeCounts()
        r.totals.outcomes.add(.ok, 201)
        r.totals.outcomes.add(.econnrefused, 2)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(stream.final(r).utf8)) as? [String: Any])
        #expect(last["t"] as? Int == 2 && last["final"] as? Bool == true)
        #expect(last["attempted"] as? Int == 203 && last["attempts"] as? Int == 3 && last["ok"] as? Int == 1)
        #expect((last["outcomes"] as? [String: Int]) == ["ok": 201, "econnrefused": 2])
        #expect((last["failures"] as? [String: Int]) == ["econnrefused": 2])
    }
}
