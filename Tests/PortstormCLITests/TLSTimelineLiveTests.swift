import Foundation
import Glibc
import PortstormAnalysis
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing

/// A real HTTPS run on loopback against `portstorm serve --mode https` (its self-signed
/// certificate given to --cacert): the handshake latency of each second in the
/// record, the --stream lines and the --metrics-listen text all agree with the run's totals.
@Suite(.serialized) struct TLSTimelineLiveTests {
    static let tools = MetricsEndpointTests.promtool != nil && !MetricsEndpointTests.curlMissing

    @Test(.enabled(if: tools, "needs curl to scrape the endpoint and promtool (Debian's prometheus package) to check the text"))
    func everySecondsHandshakesAddUpToTheRunsInTheRecordTheStreamAndTheMetrics() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-tls-timeline-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca.pem").path, record = dir.appendingPathComponent("run.json").path
        let stream = dir.appendingPathComponent("stream.jsonl").path
        let metrics = MetricsEndpointTests()
        // The server: `portstorm serve --mode https`, its self-signed certificate written for --cacert;
        // bounded by -d in case the test dies before it ends it.
        let serverPort = try metrics.freePort()
        let (server, serverOut, _) = try CLIProcess.start(["serve", "--mode", "https", "--listen", "127.0.0.1:\(serverPort)", "--cert-out", ca, "-d", "60s"])
        defer { if server.isRunning { server.terminate() }; server.waitUntilExit() }
        var greeting = ""
        while !greeting.contains("\n") {
            let chunk = serverOut.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            greeting += String(decoding: chunk, as: UTF8.self)
        }
        try #require(greeting.hasPrefix("serving https on 127.0.0.1:\(serverPort)"), "serve said: \(greeting)")
        let port = try metrics.freePort()
        let (p, out, err) = try CLIProcess.start(["run", "https://127.0.0.1:\(serverPort)/", "--cacert", ca, "--rate", "200", "-d", "5s",
                                                  "--stream", stream, "--metrics-listen", "127.0.0.1:\(port)", "-o", record, "--progress", "none"])
        // Scraped while the run lasts, once it has completed 100 handshakes.
        var scraped = ""
        let started = Date()
        repeat {
            usleep(200_000)
            let (rc, body, _) = try metrics.tool("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"])
            if rc == 0, let line = body.split(separator: "\n").first(where: { $0.hasPrefix("portstorm_tls_handshake_duration_seconds_count") }),
               let n = Double(line.split(separator: " ").last ?? ""), n >= 100 {
                scraped = body
                break
            }
        } while Date().timeIntervalSince(started) < 4.5
        _ = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "\(stderr)")

        // The record: every second counts its handshakes, and they add up to the run's.
        let r = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: record)))
        let tls = try #require(r.tls, "a TLS run has tls totals")
        let run = try #require(r.latency.handshake)
        #expect(tls.handshakes > 0 && tls.handshakes >= r.totals.outcomes[.ok] && run.count == tls.handshakes,
                "\(tls.handshakes) handshakes, \(r.totals.outcomes[.ok]) ok, latency.handshake.count \(run.count)")
        #expect(r.timeline.allSatisfy { $0.handshakes != nil }, "every second of a TLS run has its count")
        #expect(r.timeline.compactMap(\.handshakes).reduce(0, +) == tls.handshakes)
        var slowest: UInt64 = 0
        for s in r.timeline {
            let n = s.handshakes ?? 0
            #expect(s.handshakeBuckets?.map { $0[1] }.reduce(0, +) ?? 0 == n, "second \(s.t): buckets and count")
            guard n > 0 else {
                #expect(s.handshakeLatencyUs == nil, "second \(s.t) completed no handshake")
                continue
            }
            let l = try #require(s.handshakeLatencyUs, "second \(s.t): \(n) handshakes without latency")
            #expect(l.p50 > 0 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, "second \(s.t): \(l)")
            // A handshake is bounded by --response-timeout.
            #expect(l.max <= UInt64(r.config.responseTimeoutMs) * 1000, "second \(s.t): \(l)")
            slowest = max(slowest, l.max)
        }
        #expect(slowest == r.latency.handshakeHistogram?.maxRecorded, "the slowest second's max is the run's exact slowest handshake")
        #expect(ReportConsistency.problems(record: r, findings: RunAnalysis.analyze(r).findings) == [])

        // The stream: one line per second with that second's handshakes (the drain after the last
        // line is only in the record).
        let lines = try String(contentsOfFile: stream, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3, "\(lines.count) lines in a 5 s run")
        var streamed = 0
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            let n = try #require(object["handshakes"] as? Int, "a TLS run's line has handshakes: \(line)")
            streamed += n
            // The last line, written after the run with the record's totals, leaves the bounds to the record.
            if n > 0 && object["final"] == nil {
                let bounds = try #require(object["handshakeLatencyAtMostUs"] as? [String: Int], "\(line)")
                #expect(bounds["p50"] ?? .max <= bounds["p99"] ?? .max, "\(line)")
            }
        }
        #expect(streamed > 0 && UInt64(streamed) <= tls.handshakes, "\(streamed) streamed of \(tls.handshakes)")

        // The metrics: a histogram of the handshakes so far, checked by promtool.
        try #require(!scraped.isEmpty, "the endpoint never showed 100 handshakes during the run")
        let samples = try metrics.parse(scraped)
        let buckets = samples.filter { $0.name == "portstorm_tls_handshake_duration_seconds_bucket" }.map(\.value)
        let count = try #require(samples.first { $0.name == "portstorm_tls_handshake_duration_seconds_count" }?.value)
        let sum = try #require(samples.first { $0.name == "portstorm_tls_handshake_duration_seconds_sum" }?.value)
        #expect(buckets.count == LiveStatus.connectBoundsUs.count + 1 && zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 }, "\(buckets)")
        #expect(buckets.last == count && count >= 100 && count <= Double(tls.handshakes), "\(count) of \(tls.handshakes)")
        #expect(sum > 0 && sum / count < Double(r.config.responseTimeoutMs) / 1000, "mean \(sum / count) s")
        let (rc, said, saidErr) = try metrics.tool(try #require(MetricsEndpointTests.promtool), ["check", "metrics"], input: scraped)
        #expect(rc == 0, "promtool: \(said)\(saidErr)")
    }
}
