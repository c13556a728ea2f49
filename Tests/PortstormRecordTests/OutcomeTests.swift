import Foundation
import Glibc
import PortstormRecord
import Testing

@Suite struct OutcomeTests {
    @Test func errnosMapToStableNamesAndCauses() {
        let cases: [(Int32, String, Outcome.Cause)] = [
            (EADDRNOTAVAIL, "eaddrnotavail", .local), (EADDRINUSE, "eaddrinuse", .local),
            (ECONNREFUSED, "econnrefused", .remote), (ETIMEDOUT, "etimedout", .remote),
            (ECONNRESET, "econnreset", .remote), (EHOSTUNREACH, "ehostunreach", .remote),
            (ENETUNREACH, "enetunreach", .remote), (EMFILE, "emfile", .local), (ENFILE, "enfile", .local),
            (ENOBUFS, "enobufs", .local), (EPROTO, "errno_71", .remote), (EACCES, "errno_13", .local),
        ]
        for (e, name, cause) in cases {
            let o = Outcome(errno: e)
            #expect(o.name == name)
            #expect(o.cause == cause, "\(name)")
            #expect(Outcome(name: name) == o)
            #expect(o.errno == e)
        }
        #expect(Outcome.connectTimeout.name == "connect_timeout" && Outcome.connectTimeout.errno == nil)
        #expect(Outcome.ok.cause == .none)
        #expect(Outcome(name: "errno_0") == nil && Outcome(name: "bogus") == nil)
    }

    /// Named codes are appended, never renumbered: a code written as a number anywhere (a
    /// dashboard, an older build's counters) must keep its name.
    @Test func namedCodesAreStable() {
        let names = ["ok", "eaddrnotavail", "eaddrinuse", "econnrefused", "etimedout", "connect_timeout", "econnreset",
                     "ehostunreach", "enetunreach", "emfile", "enfile", "enobufs", "protocol_mismatch", "response_timeout",
                     "http_status", "no_route", "tls_handshake_failed", "tls_cert_expired", "tls_cert_untrusted",
                     "tls_cert_name_mismatch", "tls_plain_server", "tls_required", "tls_handshake_timeout",
                     "tls_failed_after_handshake"]
        #expect(Outcome.allNamed.map(\.name) == names)
        #expect(Outcome.tlsFailedAfterHandshake.code == 23 && Outcome.tlsFailedAfterHandshake.cause == .remote)
    }

    @Test func everyCodeHasADistinctName() {
        let names = (0..<Outcome.codeCount).map { Outcome(code: UInt16($0)).name }
        #expect(Set(names).count == names.count)
    }

    @Test func countsAddMergeAndRoundTripThroughJSON() throws {
        var a = OutcomeCounts()
        a.add(.ok, 5)
        a.add(.econnrefused)
        a.add(Outcome(errno: EPROTO), 2)
        var b = OutcomeCounts()
        b.add(.ok, 3)
        a.merge(b)
        #expect(a[.ok] == 8 && a.total == 11 && a.failures == 3)
        let data = try JSONEncoder().encode(a)
        let json = try #require(String(data: data, encoding: .utf8))
        #expect(json.contains("\"errno_71\":2"))
        #expect(try JSONDecoder().decode(OutcomeCounts.self, from: data) == a)
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(OutcomeCounts.self, from: Data("{\"nonsense\":1}".utf8))
        }
    }
}

@Suite struct LatencyHistogramTests {
    @Test func percentilesSurviveTheSparseEncoding() throws {
        var h = LatencyHistogram()
        for us in 1...10_000 { h.record(micros: UInt64(us)) }
        h.record(micros: 2_000_000)
        let back = try JSONDecoder().decode(LatencyHistogram.self, from: JSONEncoder().encode(h))
        #expect(back.count == h.count)
        // Equal to within the histogram's resolution (3 significant digits): same bucket.
        for p in [50.0, 90, 99, 99.9, 100] {
            #expect(h.hdr.valuesAreEquivalent(back.percentile(p), h.percentile(p)), "p\(p)")
        }
        #expect(back.percentile(50) == h.percentile(50))
        #expect(h.percentile(50) >= 4_990 && h.percentile(50) <= 5_010)
        #expect(h.max >= 1_999_000)
    }

    @Test func mergeAddsCounts() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        a.record(micros: 100)
        b.record(micros: 300, count: 3)
        a.merge(b)
        #expect(a.count == 4 && a.percentile(50) == b.percentile(50))
        #expect(LatencyHistogram().summary.p99 == 0)
    }
}
