import PortstormAnalysis
import PortstormRecord
import PortstormTestSupport
import Testing

/// Sentences a report used to print while its own record contradicted them (issue 9, item 6).
@Suite struct SaidWrongTests {
    /// No report sentence may contradict the record.
    func consistent(_ r: RunRecord, sourceLocation: SourceLocation = #_sourceLocation) -> [Finding] {
        let findings = RunAnalysis.analyze(r).findings
        let problems = ReportConsistency.problems(record: r, findings: findings)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        return findings
    }

    @Test func aNegativeCorrelationIsNotCalledFollowing() throws {
        // The range is full throughout while the failures fade: r is negative.
        var seconds: [LiteralSecond] = []
        for t in 0..<8 {
            seconds.append(LiteralSecond(ok: 10, failures: ["eaddrnotavail": UInt64(80 - 10 * t)], portsInUse: 950 + 5 * t, timeWait: 900))
        }
        let f = try #require(consistent(literalRecord(seconds)).first { $0.topic == "port-exhaustion" })
        let line = try #require(f.evidence.first { $0.contains("r = ") })
        #expect(!line.contains("follow"), "\(line)")
        #expect(line.contains("do not rise with port occupancy"))
    }

    @Test func aStrongCorrelationOverEnoughSecondsIsCalledFollowing() throws {
        var seconds: [LiteralSecond] = []
        for t in 0..<8 {
            let failed: [String: UInt64] = t >= 3 ? ["eaddrnotavail": 100] : [:]
            seconds.append(LiteralSecond(ok: 10, failures: failed, portsInUse: min(1000, 700 + 100 * t), timeWait: 500))
        }
        let f = try #require(consistent(literalRecord(seconds)).first { $0.topic == "port-exhaustion" })
        #expect(f.evidence.contains { $0.hasPrefix("failures per second follow the busiest tuple's port occupancy: r = 0.89") && $0.hasSuffix("over 8 seconds") })
    }
}
