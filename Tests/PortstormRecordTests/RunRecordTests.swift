import Foundation
import PortstormRecord
import PortstormTestSupport
import Testing

@Suite struct RunRecordTests {
    @Test func roundTripsThroughJSON() throws {
        let r = sampleRecord()
        #expect(r.totals.isBalanced)
        let data = try r.jsonData()
        let back = try RunRecord.load(from: data)
        #expect(back.totals == r.totals)
        #expect(back.config == r.config)
        #expect(back.timeline == r.timeline)
        #expect(back.latency.connect == r.latency.connect)
        #expect(back.startedAt == r.startedAt)
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["schema"] as? String == "portstorm.run/2")
        let totals = try #require(object["totals"] as? [String: Any])
        #expect((totals["causes"] as? [String: String])?["eaddrnotavail"] == "local")
        #expect((object["config"] as? [String: Any])?["protocol"] as? String == "tcp")
    }

    @Test func anUnbalancedRecordIsDetected() {
        var r = sampleRecord()
        r.totals.attempted += 1
        #expect(!r.totals.isBalanced)
    }
}

@Suite struct LiveBucketTests {
    @Test func mergingLiveStatusesAddsTheirBuckets() {
        var a = LiveStatus(), b = LiveStatus()
        a.connectBuckets = [1, 2, 3]; a.connectCount = 3; a.connectSumUs = 30
        b.connectBuckets = [0, 5, 5]; b.connectCount = 5; b.connectSumUs = 50
        var empty = LiveStatus()
        empty.merge(a)
        empty.merge(b)
        #expect(empty.connectBuckets == [1, 7, 8] && empty.connectCount == 8 && empty.connectSumUs == 80)
    }
}
