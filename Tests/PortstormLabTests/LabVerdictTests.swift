import PortstormLab
import PortstormRecord
import PortstormTestSupport
import Testing

/// Lab verdicts judged from synthetic records: what a broken run and a fix must show.
@Suite struct LabVerdictTests {
    /// Ten seconds of a 1,000-port range filling, then eaddrnotavail once it is full.
    static func exhausted() -> RunRecord {
        literalRecord((0..<10).map { t in
            let used = min(1000, 200 * (t + 1))
            return LiteralSecond(ok: 200, failures: used >= 1000 ? ["eaddrnotavail": UInt64(200 * (t - 3))] : [:], portsInUse: used,
                                 timeWait: used - 10)
        })
    }

    static func seconds(ok: UInt64, _ failures: [String: UInt64] = [:]) -> RunRecord {
        literalRecord((0..<3).map { _ in LiteralSecond(ok: ok, failures: failures, portsInUse: 50) })
    }

    static let broken = LabVariant(role: .broken, title: "b", runArguments: ["127.0.0.1:8080"], expected: .eaddrnotavail)
    static let fix = LabVariant(role: .fix, title: "f", runArguments: ["127.0.0.1:8081"], expected: .ok)

    @Test func aBrokenRunPassesWhenItFailsMostlyAsTheLabSaysAndIsExplained() throws {
        let j = LabVerdict.judge(Self.broken, record: Self.exhausted())
        // 200 ok a second, and 200 x (t - 3) eaddrnotavail a second from second 4 on: 4,200 in all.
        #expect(j.variant.outcomes == ["ok": 2000, "eaddrnotavail": 4200])
        #expect(j.variant.dominant == "eaddrnotavail" && j.variant.asExpected)
        #expect(j.variant.topFinding == "port-exhaustion" && j.top?.topic == "port-exhaustion")
        #expect(abs(j.variant.failureShare - 4200.0 / 6200) < 1e-9)
        #expect(j.fix == nil)
    }

    @Test func aBrokenRunThatFailsOtherwiseIsNotAsExpected() {
        // Mostly ok, and its failures are refusals, not the port exhaustion the lab promised.
        let j = LabVerdict.judge(Self.broken, record: Self.seconds(ok: 100, ["econnrefused": 5]))
        #expect(j.variant.dominant == "econnrefused" && !j.variant.asExpected)
        let none = LabVerdict.judge(Self.broken, record: Self.seconds(ok: 100))
        #expect(none.variant.dominant == "ok" && !none.variant.asExpected, "a broken run that never failed did not reproduce anything")
    }

    @Test func aFixToOkPassesUnderOnePercentFailures() throws {
        let clean = LabVerdict.judge(Self.fix, record: Self.seconds(ok: 1000, ["econnreset": 5]), reproduced: [.eaddrnotavail])
        #expect(clean.variant.asExpected)
        let check = try #require(clean.fix)
        #expect(check.fixed && check.reproduced == ["eaddrnotavail"])
        #expect(check.others == [FixCheck.OutcomeCount(name: "econnreset", count: 15)])

        let still = LabVerdict.judge(Self.fix, record: Self.seconds(ok: 1000, ["eaddrnotavail": 20]), reproduced: [.eaddrnotavail])
        #expect(!still.variant.asExpected, "2% failures is not fixed")
        #expect(still.fix?.stillFailing == [FixCheck.OutcomeCount(name: "eaddrnotavail", count: 60)] && still.fix?.fixed == false)
    }

    @Test func aFixWithAnotherExpectedOutcomeMustEndMostlyInIt() {
        let v = LabVariant(role: .fix, title: "f", runArguments: [], expected: .responseTimeout)
        #expect(LabVerdict.judge(v, record: Self.seconds(ok: 10, ["response_timeout": 90]), reproduced: [.emfile]).variant.asExpected)
        #expect(!LabVerdict.judge(v, record: Self.seconds(ok: 90, ["response_timeout": 10]), reproduced: [.emfile]).variant.asExpected)
    }

    @Test func theLabAsAWholeNeedsEveryVariantRunAndAsExpected() {
        let lab = Lab(name: "x", summary: "", sysctls: [], variants: [Self.broken, Self.fix])
        let good = LabVerdict.judge(Self.broken, record: Self.exhausted()).variant
        let fixed = LabVerdict.judge(Self.fix, record: Self.seconds(ok: 100), reproduced: [.eaddrnotavail]).variant
        #expect(LabVerdict.allAsExpected(lab, [good, fixed]))
        #expect(!LabVerdict.allAsExpected(lab, [good]), "one variant short: interrupted")
        var bad = fixed
        bad.asExpected = false
        #expect(!LabVerdict.allAsExpected(lab, [good, bad]))
    }

    @Test func everyCatalogueLabExpectsAFailureWhereItBreaksAndHasAFix() {
        for lab in LabCatalog.all {
            #expect(lab.variants.contains { $0.role == .broken && !$0.expected.isOK }, "\(lab.name)")
            #expect(lab.variants.contains { $0.role == .fix }, "\(lab.name)")
        }
    }
}
