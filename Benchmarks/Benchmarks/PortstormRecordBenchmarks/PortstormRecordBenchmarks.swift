// Hot-path microbenchmarks for PortstormRecord: what a worker does once per attempt.
//
// Every benchmark builds its state (counter table, histogram, input values) before
// `benchmark.startMeasurement()`, so the measured loop contains only the call under test.
// The checked-in static thresholds in ../../Thresholds/ hold `mallocCountTotal` at 0 for
// each of them; `swift package benchmark thresholds check` fails (exit 2) on any malloc.

import Benchmark
import Glibc
@_spi(Benchmarks) import PortstormEngine
import PortstormLab
import PortstormRecord
import PortstormSystem

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        // 1,000 calls per sample: the malloc count checked is per sample, so even one
        // allocation in 1,000 calls shows up as a non-zero sample.
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 10_000,
        // Used by `thresholds check` against Thresholds/*.p90.json: no tolerance at all.
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    // Recording one outcome into a worker's dense counter table.
    Benchmark("OutcomeCounts.add") { benchmark in
        var counts = OutcomeCounts()  // allocates its table: not measured
        // Rotate through a few outcomes so the compiler can't fold the loop into one add.
        let outcomes: [Outcome] = [.ok, .econnrefused, .ok, .etimedout, .ok, .eaddrnotavail, .ok, Outcome(errno: EPIPE)]
        let mask = outcomes.count - 1
        var i = identity(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            counts.add(outcomes[i & mask])
            i &+= 1
        }
        benchmark.stopMeasurement()
        blackHole(counts.total)
    }

    // The call exactly as the brief states it: one fixed outcome.
    Benchmark("OutcomeCounts.add.econnrefused") { benchmark in
        var counts = OutcomeCounts()
        let outcome = identity(Outcome.econnrefused)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            counts.add(outcome)
            blackHole(counts[outcome])
        }
        benchmark.stopMeasurement()
        blackHole(counts.total)
    }

    // Recording one connect latency into the HDR histogram.
    Benchmark("LatencyHistogram.record") { benchmark in
        var histogram = LatencyHistogram()  // allocates its buckets: not measured
        // Latencies from 0 us (clamped to 1) up to past one hour (clamped to one hour),
        // so every bucket range and both clamps are exercised.
        var values = [UInt64](repeating: 0, count: 1024)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for j in values.indices {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            values[j] = x % (j % 4 == 0 ? 5_000_000_000 : 50_000)
        }
        let mask = values.count - 1
        var i = identity(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            histogram.record(micros: values[i & mask])
            i &+= 1
        }
        benchmark.stopMeasurement()
        blackHole(histogram.count)
    }

    // Mapping a failed call's errno to its outcome (named ones, others, out of range).
    Benchmark("Outcome.init_errno") { benchmark in
        let errnos: [Int32] = [
            ECONNREFUSED, EADDRNOTAVAIL, ETIMEDOUT, ECONNRESET, EADDRINUSE, EHOSTUNREACH, ENETUNREACH, EMFILE,
            ENFILE, ENOBUFS, EPIPE, EPROTO, EINVAL, 0, -1, 100_000,
        ]
        let mask = errnos.count - 1
        blackHole(Outcome(errno: EPIPE))  // first use of Outcome's static tables: not measured
        var i = identity(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(Outcome(errno: errnos[i & mask]))
            i &+= 1
        }
    }

    // The worker's per-attempt deadline bookkeeping: one push when an operation starts, one pop
    // when its deadline reaches the head (grown once before measuring, so no growth inside).
    Benchmark("DeadlineQueue.pushPop") { benchmark in
        var queue = DeadlineQueue(capacity: 1024)
        for k in 0..<512 { queue.push(.init(dueNs: UInt64(k), slot: Int32(k), epoch: 1)) }
        var due = identity(UInt64(512))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            queue.push(.init(dueNs: due, slot: 7, epoch: 1))
            if let head = queue.first, head.dueNs <= due { queue.popFirst() }
            due &+= 1
        }
        benchmark.stopMeasurement()
        blackHole(queue.count)
    }

    // Reading a whole HTTP answer (status, headers, body; once per attempt with --protocol http).
    Benchmark("HTTPResponseReader.consume") { benchmark in
        let answer = Array("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok".utf8)
        benchmark.startMeasurement()
        answer.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                var reader = HTTPResponseReader()
                blackHole(reader.consume(bytes, eof: false))
                blackHole(reader.status)
            }
        }
        benchmark.stopMeasurement()
    }

    // Judging a WebSocket upgrade answer (once per attempt with --protocol ws).
    Benchmark("AnswerCheck.webSocket") { benchmark in
        let check = AnswerCheck.webSocket(accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let answer = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".utf8)
        benchmark.startMeasurement()
        answer.withUnsafeBytes { head in
            for _ in benchmark.scaledIterations {
                blackHole(check.judge(head, eof: false))
            }
        }
        benchmark.stopMeasurement()
    }

    // Chain preparation and completion handling on a real ring: a CONNECT and a CLOSE per
    // attempt, submitted, and their completions drained. The descriptor is invalid (-1), so each
    // CONNECT completes at once with -EBADF and nothing touches the network.
    Benchmark("Ring.prepareSubmitDrain") { benchmark in
        guard let ring = try? Ring(entries: 1024, cqEntries: 4096) else { return }  // io_uring unavailable: nothing to measure
        let address = SocketAddress(ip: "127.0.0.1", port: 9)!
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: address.storage.count, alignment: 16)
        storage.copyBytes(from: address.storage)
        let sa = UnsafePointer(storage.baseAddress!.assumingMemoryBound(to: sockaddr.self))
        var seen = 0
        benchmark.startMeasurement()
        for k in benchmark.scaledIterations {
            ring.connect(fd: -1, address: sa, length: socklen_t(storage.count), userData: UInt64(k))
            ring.close(fd: -1, userData: UInt64(k) | 1 << 40)
            if k & 255 == 255 {
                ring.submitAndGetEvents()
                seen &+= ring.drainCompletions { _, res in blackHole(res) }
            }
        }
        ring.submitAndGetEvents()
        seen &+= ring.drainCompletions { _, res in blackHole(res) }
        benchmark.stopMeasurement()
        blackHole(seen)
        storage.deallocate()
    }

    // Whole turns of a worker's loop on a real ring, in steady state: raw churn (socket, connect,
    // SO_ERROR check, close; all in the ring where the kernel allows) against portstorm's
    // accept-and-close server on 127.0.0.1, 200 attempts per sample: one allocation per attempt
    // would show as 200. The loop's own bookkeeping allocates twice every 200 ms (the live status
    // it publishes) and when a second of the timeline closes; a sample of about 5 ms crosses one of
    // those in a few percent of samples, above the p99 but not the p90 that the threshold checks.
    Benchmark("Worker.turns.rawChurn", configuration: churnConfiguration) { benchmark in
        guard let worker = SteadyChurn.shared?.worker else { return }  // no ring or no port: nothing to measure
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { worker.churn(200) }
        benchmark.stopMeasurement()
        blackHole(worker.ok)
    }
}

/// The benchmark's closure runs once per sample: the server and the worker are made once, warmed
/// up (every slot used, every buffer touched), and kept for the whole process.
final class SteadyChurn: @unchecked Sendable {
    let server: TargetServer
    let worker: SteadyWorker

    static let shared: SteadyChurn? = {
        guard let server = try? TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!),
              let worker = try? SteadyWorker(target: server.address, concurrency: 64) else { return nil }
        worker.churn(5_000)
        return SteadyChurn(server: server, worker: worker)
    }()

    private init(server: TargetServer, worker: SteadyWorker) {
        self.server = server
        self.worker = worker
    }
}

/// The defaults with single calls per sample (one sample = 200 attempts) and up to 3 s of samples.
var churnConfiguration: Benchmark.Configuration {
    var c = Benchmark.defaultConfiguration
    c.scalingFactor = .one
    c.maxDuration = .seconds(3)
    c.maxIterations = 1_000
    return c
}
