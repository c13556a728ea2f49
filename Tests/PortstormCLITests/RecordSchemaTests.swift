import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

/// Why records cannot be validated here (RecordSchemaTests.skipReason), or nil when they can.
let recordValidatorMissing: String? = RecordSchemaTests.skipReason

/// The records `portstorm run -o FILE` writes must pass docs/validate-record.py --strict, which
/// checks them against docs/run-record.schema.json (closed objects everywhere) and the invariants
/// the schema cannot express. A field added to RunRecord without a schema update fails here.
/// Needs python3 with the jsonschema module; without them the runner skips the suite, saying so.
@Suite(.serialized, .enabled(if: recordValidatorMissing == nil, "needs python3 with the jsonschema module (pip install jsonschema)"))
struct RecordSchemaTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs")
    static let validator = docs.appendingPathComponent("validate-record.py")

    /// Why records cannot be validated here, or nil when they can. Evaluated once.
    static let skipReason: String? = {
        guard FileManager.default.fileExists(atPath: validator.path) else { return "\(validator.path) not found" }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else { return "no /usr/bin/env to find python3 with" }
        guard let r = try? python(["-c", "import jsonschema"]) else { return "python3 could not be started" }
        if r.status == 127 { return "python3 is not installed" }
        if r.status != 0 { return "the python3 jsonschema module is missing (pip install jsonschema)" }
        return nil
    }()

    @Test func anObservedRunThatRunsOutOfLocalPortsIsValid() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let (file, window) = try exhaustedRecord(server)
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)

        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.totals.attempted == 20)
        // 20 attempts over 10 ports: the kernel was watched, and the census saw the window.
        let censuses = r.timeline.compactMap { $0.kernel?.census }
        let tuple = try #require(censuses.last?.tuples.first { $0.source == "127.0.0.1" }, "no census of the window: \(censuses)")
        #expect(tuple.rangeLow == window.lowerBound && tuple.rangeHigh == window.upperBound && tuple.rangeSize == 10)
        #expect(r.system.tcpTwReuse != nil || r.system.ipLocalReservedPorts != nil, "observed runs read the sysctls")
    }

    @Test func anHTTPRunOnTwoThreadsIsValid() throws {
        let server = try TargetServer.start(mode: .http, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = try record("http", [server.address.description, "--protocol", "http", "--rate", "300", "-d", "1s",
                                       "-c", "50", "--threads", "2"])
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)
        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.config.wireProtocol == .http && r.config.threads == 2)
        #expect(r.totals.outcomes[.ok] > 0, "\(r.totals.outcomes)")
    }

    @Test func anHTTPSRunWithItsHandshakesPerSecondIsValid() throws {
        let server = try TargetServer.start(mode: .https, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let ca = temporaryFile("https-ca")
        defer { try? FileManager.default.removeItem(at: ca) }
        try #require(server.tls?.selfSignedPEM).write(to: ca, atomically: true, encoding: .utf8)
        let file = try record("https", ["https://127.0.0.1:\(server.address.port)/", "--cacert", ca.path, "--rate", "100", "-d", "2s"])
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)
        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.tls?.handshakes ?? 0 > 0 && r.timeline.contains { $0.handshakeLatencyUs != nil }, "\(String(describing: r.tls))")
        // A server that asks for no client certificate: the count is written, and 0.
        #expect(r.tls?.clientCertificateRequests == 0, "\(String(describing: r.tls))")
    }

    @Test func aRunWithThresholdsIsValid() throws {
        let server = try TargetServer.start(mode: .http, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = try record("thresholds", ["http://\(server.address)/", "-n", "50", "-c", "5", "--threshold", "failures<1%",
                                             "--threshold", "connect_p99<5s", "--threshold", "http_status_5xx==0"])
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)
        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.thresholds?.map(\.expression) == ["failures<1%", "connect_p99<5s", "http_status_5xx==0"])
        #expect(r.thresholds?.allSatisfy { $0.passed && $0.measured != nil } == true, "\(String(describing: r.thresholds))")
    }

    @Test func aRunWithoutObservationIsValidAndHasNoKernelFields() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let file = try record("no-observe", [server.address.description, "-n", "200", "-c", "10", "--no-observe"])
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)
        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.totals.attempted == 200)
        #expect(r.timeline.allSatisfy { $0.kernel == nil })
    }

    @Test func aRefusedRunIsValid() throws {
        // A bound but not listening socket holds the port: connects to it are refused.
        let fd = Socket.tcp(domain: AF_INET)
        defer { Socket.close(fd) }
        #expect(Socket.bind(fd, SocketAddress(ip: "127.0.0.1", port: 0)!) == 0)
        let port = try #require(Socket.localAddress(fd)).port
        let file = try record("refused", ["127.0.0.1:\(port)", "-n", "100", "-c", "10"])
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)
        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.totals.outcomes[.econnrefused] == 100)
    }

    @Test(.enabled(if: HostCapabilities.ipv6Loopback, "::1 is not configured on this machine (no IPv6 loopback)"))
    func anIPv6RunIsValid() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "::1", port: 0)!)
        defer { server.stop() }
        let file = try record("ipv6", [server.address.description, "-n", "300", "-c", "20", "--threads", "2"])
        defer { try? FileManager.default.removeItem(at: file) }
        try expectValid(file)
        let r = try RunRecord.load(from: Data(contentsOf: file))
        #expect(r.target.used.hasPrefix("[::1]:"))
    }

    @Test func brokenCopiesOfARecordAreRejected() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let (file, _) = try exhaustedRecord(server)
        defer { try? FileManager.default.removeItem(at: file) }
        let original = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])

        // The copy itself (re-serialized, unchanged) passes: what fails below is the change alone.
        try expectVerdict(original, name: "unchanged", status: 0, mentioning: "valid portstorm.run/2 record")

        var extraKey = original
        extraKey["surprise"] = true
        try expectVerdict(extraKey, name: "extra-key", status: 1, mentioning: "'surprise' was unexpected")

        var extraSystem = original
        var system = try #require(original["system"] as? [String: Any])
        system["tcpNewSetting"] = 1
        extraSystem["system"] = system
        try expectVerdict(extraSystem, name: "extra-system", status: 1, mentioning: "'tcpNewSetting' was unexpected")

        let noStates = try withFirstCensusTuple(original) { $0["states"] = nil }
        try expectVerdict(noStates, name: "no-states", status: 1, mentioning: "'states' is a required property")

        let badTrigger = try withFirstCensus(original) { $0["trigger"] = "sometimes" }
        try expectVerdict(badTrigger, name: "bad-trigger", status: 1, mentioning: "'sometimes' is not one of")

        // Schema-valid, but the buckets no longer add up to portsInUse: an invariant of the validator.
        let badBuckets = try withFirstCensusTuple(original) { tuple in
            var buckets = tuple["buckets"] as? [Int] ?? []
            if !buckets.isEmpty { buckets[0] += 1 }
            tuple["buckets"] = buckets
        }
        try expectVerdict(badBuckets, name: "bad-buckets", status: 1, mentioning: "portsInUse is")
    }

    // MARK: - Helpers

    /// Runs python3 (found on PATH) with `args`.
    static func python(_ args: [String]) throws -> CLIProcess.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIProcess.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                                 stderr: String(decoding: e, as: UTF8.self))
    }

    func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-schema-\(getpid())-\(name).json")
    }

    /// `portstorm run ARGS --quiet -o FILE`; returns FILE.
    func record(_ name: String, _ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let file = temporaryFile(name)
        let r = try CLIProcess.run(["run"] + args + ["--quiet", "-o", file.path])
        try #require(r.status == 0, "portstorm run \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)",
                     sourceLocation: sourceLocation)
        return file
    }

    /// 20 attempts at once through a 10-port --local-ports window nobody uses: about half fail
    /// with eaddrnotavail, which makes the observer take a burst census.
    func exhaustedRecord(_ server: TargetServer) throws -> (URL, ClosedRange<UInt16>) {
        let window = try #require(Self.freeWindow(size: 10, avoiding: server.address.port), "no free 10-port window")
        let file = try record("exhausted", [server.address.description, "--local-ports",
                                            "\(window.lowerBound)-\(window.upperBound)", "-n", "20", "-c", "20"])
        return (file, window)
    }

    func expectValid(_ file: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try Self.python([Self.validator.path, "--strict", file.path])
        #expect(r.status == 0, "\(r.stderr)\n\((try? String(contentsOf: file, encoding: .utf8)) ?? "")",
                sourceLocation: sourceLocation)
    }

    /// Writes `object` to a file and checks the validator's exit status and what it says.
    func expectVerdict(_ object: [String: Any], name: String, status: Int32, mentioning fragment: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = temporaryFile("broken-\(name)")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: file)
        let r = try Self.python([Self.validator.path, "--strict", file.path])
        #expect(r.status == status, "\(name): exit \(r.status)\n\(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
        #expect((r.stdout + r.stderr).contains(fragment), "\(name): \(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
    }

    /// A copy of `record` with `change` applied to the first census that has tuples.
    func withFirstCensus(_ record: [String: Any], _ change: (inout [String: Any]) -> Void) throws -> [String: Any] {
        var timeline = try #require(record["timeline"] as? [[String: Any]])
        let i = try #require(timeline.firstIndex { second in
            let census = (second["kernel"] as? [String: Any])?["census"] as? [String: Any]
            return (census?["tuples"] as? [Any])?.isEmpty == false
        }, "no census with tuples in the record")
        var kernel = try #require(timeline[i]["kernel"] as? [String: Any])
        var census = try #require(kernel["census"] as? [String: Any])
        change(&census)
        kernel["census"] = census
        timeline[i]["kernel"] = kernel
        var copy = record
        copy["timeline"] = timeline
        return copy
    }

    func withFirstCensusTuple(_ record: [String: Any], _ change: (inout [String: Any]) -> Void) throws -> [String: Any] {
        try withFirstCensus(record) { census in
            guard var tuples = census["tuples"] as? [[String: Any]], !tuples.isEmpty else { return }
            change(&tuples[0])
            census["tuples"] = tuples
        }
    }

    /// `size` consecutive ports near the top of the namespace's ephemeral range that no socket
    /// has as its local port (from /proc/net/tcp and tcp6), avoiding `avoid`.
    static func freeWindow(size: Int, avoiding avoid: UInt16) -> ClosedRange<UInt16>? {
        guard let range = KernelInfo.localPortRange() else { return nil }
        var used = Set<UInt16>()
        for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = KernelInfo.readSmallFile(path, limit: 256 << 20) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count > 1, let hex = fields[1].split(separator: ":").last, let port = UInt16(hex, radix: 16) {
                    used.insert(port)
                }
            }
        }
        var high = Int(range.upperBound) - 100
        while high - size + 1 >= Int(range.lowerBound) {
            let window = UInt16(high - size + 1)...UInt16(high)
            if !window.contains(avoid) && window.allSatisfy({ !used.contains($0) }) { return window }
            high -= size
        }
        return nil
    }
}
