import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing

/// `run --metrics-listen`: scraped with curl while the run goes on, checked by promtool (when
/// installed) and always by a strict reading of the text format here, and scraped by a real
/// Prometheus (when installed) whose stored values are set against the record.
@Suite(.serialized) struct MetricsEndpointTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let curlMissing = !FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")

    /// A loopback port free right now (bound, read, closed).
    func freePort() throws -> UInt16 {
        let fd = try Socket.listener(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 1, nonBlocking: false)
        defer { close(fd) }
        return try #require(Socket.localAddress(fd)?.port)
    }

    func tool(_ path: String, _ args: [String], input: String? = nil) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input == nil ? FileHandle.nullDevice : inp
        try p.run()
        if let input { inp.fileHandleForWriting.write(Data(input.utf8)); try inp.fileHandleForWriting.close() }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// The text format read strictly: HELP and TYPE before each family's samples, names with the
    /// portstorm_ prefix, counters ending in _total, cumulative histogram buckets whose +Inf
    /// equals _count. Returns the samples by name with their labels.
    func parse(_ text: String) throws -> [(name: String, labels: String, value: Double)] {
        var typed: [String: String] = [:], samples: [(String, String, Double)] = []
        let sample = try Regex(#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$"#)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 4 && ["counter", "gauge", "histogram"].contains(String(parts[3])), "\(line)")
                typed[String(parts[2])] = String(parts[3])
                continue
            }
            let m = try #require(try sample.wholeMatch(in: String(line)), "not a sample line: \(line)")
            let name = String(m.output[1].substring ?? ""), labels = String(m.output[2].substring ?? "")
            let value = try #require(Double(String(m.output[3].substring ?? "")) ?? (m.output[3].substring == "+Inf" ? .infinity : nil), "\(line)")
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && typed[String($0.dropLast($1.count))] == "histogram" ? String($0.dropLast($1.count)) : $0 }
            let type = try #require(typed[family], "\(name) has no TYPE line before it")
            #expect(name.hasPrefix("portstorm_"))
            if type == "counter" { #expect(name.hasSuffix("_total"), "\(name)") }
            samples.append((name, labels, value))
        }
        let buckets = samples.filter { $0.0 == "portstorm_connect_duration_seconds_bucket" }.map(\.2)
        #expect(buckets.count == 18 && zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 }, "cumulative: \(buckets)")
        #expect(buckets.last == samples.first { $0.0 == "portstorm_connect_duration_seconds_count" }?.2)
        return samples
    }

    @Test(.enabled(if: !curlMissing, "needs curl to scrape the endpoint"))
    func theEndpointServesPrometheusTextWhileTheRunLasts() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let port = try freePort()
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-metrics-\(getpid()).json").path
        defer { unlink(record) }
        let (p, out, err) = try CLIProcess.start(["run", server.address.description, "--rate", "400", "-d", "5s", "--close", "client",
                                                  "--metrics-listen", "127.0.0.1:\(port)", "-o", record])
        // Scraped while the run lasts, once it has counted 400 attempts (a second at 400/s; a loaded
        // machine may take a while to start the run) and its first census of ports is in: part of
        // what the record counts in the end.
        var scraped = ""
        let started = Date()
        repeat {
            usleep(200_000)
            let (rc, body, _) = try tool("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"])
            if rc == 0, let line = body.split(separator: "\n").first(where: { $0.hasPrefix("portstorm_attempts_total") }),
               let n = Double(line.split(separator: " ").last ?? ""), n >= 400, body.contains("portstorm_ports_in_use{") {
                scraped = body
                break
            }
        } while Date().timeIntervalSince(started) < 4.5
        let (status, headers, _) = try tool("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", "http://127.0.0.1:\(port)/metrics"])
        let body = scraped
        _ = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("metrics: http://127.0.0.1:\(port)/metrics"), "\(stderr)")
        #expect(status == 0 && headers.hasPrefix("HTTP/1.1 200 OK") && headers.contains("text/plain; version=0.0.4"), "\(headers)")

        let samples = try parse(body)
        func value(_ name: String, _ label: String = "") -> Double? { samples.first { $0.name == name && (label.isEmpty || $0.labels.contains(label)) }?.value }
        let attempts = try #require(value("portstorm_attempts_total"), "\(samples.prefix(3))")
        let ok = try #require(value("portstorm_outcomes_total", "outcome=\"ok\",cause=\"none\""), "\(body)")
        let r = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: record)))
        #expect(attempts >= 400 && attempts < Double(r.totals.attempted), "\(attempts) of \(r.totals.attempted)")
        #expect(ok <= attempts && value("portstorm_in_flight") != nil)
        #expect(value("portstorm_connect_duration_seconds_count") == ok, "every ok connect is in the histogram")
        #expect(value("portstorm_port_range_size", "port=\"\(server.address.port)\"") ?? 0 > 0, "\(body)")
        #expect(value("portstorm_ports_in_use", "destination=\"127.0.0.1\"") != nil, "\(body)")
        #expect(value("portstorm_time_wait_sockets") != nil)
        #expect(!body.contains("portstorm_tls_"), "no TLS histogram in a run without TLS")
        if let promtool = Self.promtool {
            let (rc, o, e) = try tool(promtool, ["check", "metrics"], input: body)
            #expect(rc == 0, "promtool: \(o)\(e)")
        }
        // Gone with the run.
        let (after, _, _) = try tool("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/metrics"])
        #expect(after != 0, "the endpoint stops with the run")
    }

    static let prometheus = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// One instant query to Prometheus's HTTP API: the sample values of the resulting vector.
    func query(_ api: String, _ expression: String) throws -> [Double] {
        let (rc, body, err) = try tool("/usr/bin/curl", ["-s", "-G", "--max-time", "5", "\(api)/api/v1/query", "--data-urlencode", "query=\(expression)"])
        try #require(rc == 0, "curl \(rc): \(err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
        try #require(object["status"] as? String == "success", "\(body)")
        let result = try #require((object["data"] as? [String: Any])?["result"] as? [[String: Any]], "\(body)")
        return try result.map { sample in
            let text = (sample["value"] as? [Any])?.last as? String
            return try #require(text.flatMap(Double.init), "\(body)")
        }
    }

    /// A real Prometheus (Debian's package) scrapes the endpoint every second while a bounded run
    /// goes on; what it stored is then read back through its query API and set against the record.
    @Test(.enabled(if: prometheus != nil && !curlMissing, "needs prometheus (Debian's prometheus package) and curl"))
    func aRealPrometheusScrapesTheRun() throws {
        let prometheus = try #require(Self.prometheus)
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-prometheus-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let metricsPort = try freePort(), apiPort = try freePort()
        try #require(metricsPort != apiPort)
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: portstorm
                scrape_interval: 1s
                scrape_timeout: 900ms
                static_configs:
                  - targets: ['127.0.0.1:\(metricsPort)']
            """
        try config.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: prometheus)
        p.arguments = ["--config.file=\(dir.path)/prometheus.yml", "--storage.tsdb.path=\(dir.path)/data",
                       "--web.listen-address=127.0.0.1:\(apiPort)", "--log.level=warn"]
        let logPath = dir.appendingPathComponent("prometheus.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        defer { try? log?.close() }
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        let api = "http://127.0.0.1:\(apiPort)"
        // Ready within 60 s (a busy machine), or the test fails saying so.
        var ready = false
        for _ in 0..<120 where !ready && p.isRunning {
            ready = (try? tool("/usr/bin/curl", ["-sf", "--max-time", "1", "\(api)/-/ready"]))?.0 == 0
            if !ready { usleep(500_000) }
        }
        try #require(ready, "prometheus did not become ready on \(api): \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        // Its discovery hands targets to the scrapers in batches (every 5 s): wait until ours is there.
        var listed = false
        for _ in 0..<60 where !listed {
            listed = (try? tool("/usr/bin/curl", ["-s", "--max-time", "1", "\(api)/api/v1/targets"]))?.1.contains("127.0.0.1:\(metricsPort)") == true
            if !listed { usleep(500_000) }
        }
        try #require(listed, "prometheus never listed the target 127.0.0.1:\(metricsPort)")

        let record = dir.appendingPathComponent("run.json").path
        let run = try CLIProcess.run(["run", server.address.description, "--rate", "300", "-d", "4s", "--close", "client",
                                      "--metrics-listen", "127.0.0.1:\(metricsPort)", "-o", record, "--progress", "none"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: record)))
        // Let the last scrape land in the database (its head is queryable at once).
        usleep(1_500_000)
        // The run's endpoint is gone, so the series are stale now: read what was stored over the last minute.
        let attempts = try query(api, "max_over_time(portstorm_attempts_total{job=\"portstorm\"}[1m])")
        let scrapes = try query(api, "count_over_time(portstorm_attempts_total{job=\"portstorm\"}[1m])")
        let ok = try query(api, "max_over_time(portstorm_outcomes_total{job=\"portstorm\",outcome=\"ok\"}[1m])")
        let up = try query(api, "max_over_time(up{job=\"portstorm\"}[1m])")
        #expect(up == [1], "prometheus scraped the endpoint successfully at least once: \(up)")
        try #require(attempts.count == 1, "one attempts series: \(attempts)")
        #expect(attempts[0] > 0 && attempts[0] <= Double(r.totals.attempted), "stored \(attempts[0]), the record has \(r.totals.attempted)")
        #expect(scrapes.first ?? 0 >= 2, "scraped at least twice during a 4 s run: \(scrapes)")
        #expect(ok.count == 1 && ok[0] <= attempts[0] && ok[0] <= Double(r.totals.outcomes[.ok]), "ok \(ok) of \(attempts)")
    }

    @Test func aBadOrTakenAddressStopsTheRunBeforeItStarts() throws {
        let bad = try CLIProcess.run(["run", "127.0.0.1:9", "-n", "1", "--metrics-listen", "example.com:9464"])
        #expect(bad.status == 64 && bad.stderr.contains("--metrics-listen 'example.com:9464' must be a numeric address"), "\(bad.stderr)")
        let fd = try Socket.listener(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 1, nonBlocking: false)
        defer { close(fd) }
        let port = try #require(Socket.localAddress(fd)?.port)
        let taken = try CLIProcess.run(["run", "127.0.0.1:9", "-n", "1", "--metrics-listen", "127.0.0.1:\(port)"])
        #expect(taken.status == 69 && taken.stderr.contains("cannot listen there"), "\(taken.stderr)")
        #expect(!taken.stdout.contains("attempted"), "no attempt was made")
    }
}
