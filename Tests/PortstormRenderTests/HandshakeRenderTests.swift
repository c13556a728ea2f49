import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing

/// A TLS run of four seconds: connects in tens to hundreds of us, handshakes in ms, none in second 2.
func tlsRunRecord() -> RunRecord {
    hostRecord("tls", startMs: 1_790_000_000_000, perSecond: [[40, 60, 90], [50, 70], [45], [55, 65, 300]], shard: nil,
               target: "127.0.0.1:8443", handshakesPerSecond: [[900, 1_200, 1_500], [2_000, 8_000], [], [1_100, 1_300, 45_000]])
}

/// How the reports and the live outputs show TLS handshake latency per second, and that runs
/// without TLS show none of it.
@Suite struct HandshakeRenderTests {
    @Test func theHTMLReportChartsHandshakesUnderTheConnectsOnOneScale() throws {
        let html = ReportFormat.html.render(tlsRunRecord())
        let connect = try #require(html.range(of: "<h2>Connect latency over time</h2>"))
        let handshake = try #require(html.range(of: "<h2>TLS handshake latency over time</h2>"), "no handshake chart")
        #expect(connect.upperBound < handshake.lowerBound, "the handshake chart follows the connect chart")
        // The two charts share their y axis: the same tick labels, from 10 us up to 100 ms.
        func ticks(after start: String.Index) -> [String] {
            let svg = html[start...].components(separatedBy: "</svg>")[0]
            return svg.components(separatedBy: "class=\"tick\"").dropFirst().compactMap { $0.split(separator: ">").dropFirst().first?.split(separator: "<").first.map(String.init) }
        }
        let connectTicks = ticks(after: connect.upperBound), handshakeTicks = ticks(after: handshake.upperBound)
        #expect(!connectTicks.isEmpty && connectTicks == handshakeTicks, "\(connectTicks) vs \(handshakeTicks)")
        #expect(html[handshake.upperBound...].components(separatedBy: "</svg>")[0].contains("handshake latency"))

        let plain = ReportFormat.html.render(hostRecord("plain", startMs: 1_790_000_000_000, perSecond: [[40, 60], [50]], shard: nil))
        #expect(plain.contains("Connect latency over time") && !plain.contains("handshake latency"))
    }

    @Test func theCSVAddsTheHandshakeColumnsInTLSRunsOnly() throws {
        let r = tlsRunRecord()
        let rows = TimelineCSV.render(r).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        let at = try #require(header.firstIndex(of: "handshakes"))
        #expect(Array(header[(at - 1)...(at + 4)]) == ["connect_max_us", "handshakes", "handshake_p50_us", "handshake_p90_us", "handshake_p99_us", "handshake_max_us"])
        #expect(rows.dropFirst().map { $0[at] } == ["3", "2", "0", "3"])
        #expect(rows[2][at + 4] == "8000" && rows[3][at + 1] == "" && rows[4][at + 4] == "45000")
        #expect(rows.dropFirst().allSatisfy { $0.count == header.count })
        let plain = TimelineCSV.render(hostRecord("plain", startMs: 1_790_000_000_000, perSecond: [[40]], shard: nil))
        #expect(!plain.contains("handshake"))
    }

    @Test func theReportsOfATLSRunAreConsistentWithItsRecord() {
        var r = tlsRunRecord()
        #expect(ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings) == [])
        r.timeline[0].handshakes = 2
        #expect(ReportConsistency.problems(record: r, findings: []).contains("the timeline counts 7 TLS handshakes, tls.handshakes 8"))
        r.timeline[1].handshakeLatencyUs = SecondLatency(p50: 9_000, p90: 8_000, p99: 8_000, max: 8_000)
        #expect(ReportConsistency.problems(record: r, findings: []).contains { $0.hasPrefix("second 1: handshake latency percentiles out of order") })
    }

    @Test func theJSONSummaryHasTheHandshakeLatencyBesideTheConnectLatency() throws {
        func summary(_ r: RunRecord) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: try SummaryJSON(r, findings: []).data()) as? [String: Any])
        }
        let tls = try summary(tlsRunRecord())
        let handshake = try #require(tls["handshakeLatency"] as? [String: Any], "\(tls.keys.sorted())")
        let maxMs = try #require(handshake["maxMs"] as? Double)
        #expect(handshake["count"] as? Int == 8 && maxMs >= 45 && maxMs < 45.1 && tls["connectLatency"] != nil, "the slowest was 45 ms: \(handshake)")
        let plain = try summary(hostRecord("plain", startMs: 1_790_000_000_000, perSecond: [[40]], shard: nil))
        #expect(plain["connectLatency"] != nil && plain["handshakeLatency"] == nil)
    }

    @Test func prometheusTextHasTheHandshakeHistogramInTLSRunsOnly() throws {
        var s = LiveStatus(elapsedSeconds: 2, attempted: 10)
        s.connectBuckets = Array(repeating: 10, count: LiveStatus.connectBoundsUs.count)
        s.connectCount = 10
        let plain = PrometheusText.render(s, target: "127.0.0.1:8443")
        #expect(!plain.contains("handshake"))
        // 4 handshakes: 2 by 1 ms, 1 more by 2.5 ms, 1 slower than 10 s.
        s.handshakeBuckets = LiveStatus.connectBoundsUs.map { $0 < 1_000 ? 0 : $0 < 2_500 ? 2 : 3 }
        s.handshakeCount = 4
        s.handshakeSumUs = 12_003_500
        let text = PrometheusText.render(s, target: "127.0.0.1:8443")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("# TYPE portstorm_tls_handshake_duration_seconds histogram"))
        #expect(lines.contains("portstorm_tls_handshake_duration_seconds_bucket{target=\"127.0.0.1:8443\",le=\"0.001\"} 2"))
        #expect(lines.contains("portstorm_tls_handshake_duration_seconds_bucket{target=\"127.0.0.1:8443\",le=\"0.0025\"} 3"))
        #expect(lines.contains("portstorm_tls_handshake_duration_seconds_bucket{target=\"127.0.0.1:8443\",le=\"10\"} 3"))
        #expect(lines.contains("portstorm_tls_handshake_duration_seconds_bucket{target=\"127.0.0.1:8443\",le=\"+Inf\"} 4"))
        #expect(lines.contains("portstorm_tls_handshake_duration_seconds_sum{target=\"127.0.0.1:8443\"} 12.0035"))
        #expect(lines.contains("portstorm_tls_handshake_duration_seconds_count{target=\"127.0.0.1:8443\"} 4"))
        #expect(lines.filter { $0.hasPrefix("portstorm_tls_handshake_duration_seconds_bucket") }.count == LiveStatus.connectBoundsUs.count + 1)
        #expect(text.hasPrefix(plain.components(separatedBy: "# HELP portstorm_tls_")[0]), "the rest of the text is unchanged")
        if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: promtool)
            p.arguments = ["check", "metrics"]
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            p.standardError = output
            try p.run()
            input.fileHandleForWriting.write(Data(text.utf8))
            try input.fileHandleForWriting.close()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "promtool: \(said)")
        }
    }

    @Test func streamLinesCarryEachSecondsHandshakesInTLSRunsOnly() throws {
        let bounds = LiveStatus.connectBoundsUs
        func cumulative(_ upTo: [UInt64: UInt64]) -> [UInt64] {
            var running: UInt64 = 0
            return bounds.map { running += upTo[$0] ?? 0; return running }
        }
        func status(_ t: Double, handshakes: [UInt64: UInt64]?) -> LiveStatus {
            var s = LiveStatus(elapsedSeconds: t, attempted: 100 * UInt64(t))
            if let handshakes {
                s.handshakeBuckets = cumulative(handshakes)
                s.handshakeCount = handshakes.values.reduce(0, +)
            }
            return s
        }
        var plain = StreamLine()
        #expect(!plain.render(status(1, handshakes: nil)).contains("handshake"))

        var stream = StreamLine()
        let first = try #require(try JSONSerialization.jsonObject(with: Data(stream.render(status(1, handshakes: [2_500: 100])).utf8)) as? [String: Any])
        #expect(first["handshakes"] as? Int == 100)
        #expect(first["handshakeLatencyAtMostUs"] as? [String: Int] == ["p50": 2_500, "p90": 2_500, "p99": 2_500])
        // Second 1: 100 more, 60 by 2.5 ms, 35 by 10 ms, 5 by 100 ms.
        let second = try #require(try JSONSerialization.jsonObject(
            with: Data(stream.render(status(2, handshakes: [2_500: 160, 10_000: 35, 100_000: 5])).utf8)) as? [String: Any])
        #expect(second["handshakes"] as? Int == 100)
        #expect(second["handshakeLatencyAtMostUs"] as? [String: Int] == ["p50": 2_500, "p90": 10_000, "p99": 100_000], "\(second)")
        // A second without a handshake says 0 and no bounds.
        let third = try #require(try JSONSerialization.jsonObject(
            with: Data(stream.render(status(3, handshakes: [2_500: 160, 10_000: 35, 100_000: 5])).utf8)) as? [String: Any])
        #expect(third["handshakes"] as? Int == 0 && third["handshakeLatencyAtMostUs"] == nil)
    }
}
