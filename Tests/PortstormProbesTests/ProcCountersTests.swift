import Foundation
import PortstormProbes
import PortstormRecord
import Testing

func fixture(_ name: String) throws -> String {
    try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"),
               encoding: .utf8)
}

@Suite struct ProcCountersTests {
    @Test func parsesAWholeCapturedNetstatAndSnmp() throws {
        let text = try fixture("netstat.txt")
        let tables = ProcCounters.table(text)
        let header = try #require(text.split(separator: "\n").first { $0.hasPrefix("TcpExt:") })
        #expect(tables["TcpExt"]?.count == header.split(separator: " ").count - 1)
        #expect(tables["IpExt"] != nil)
        let snmp = ProcCounters.table(try fixture("snmp.txt"))
        let picked = ProcCounters.explainingCounters(tables.merging(snmp) { a, _ in a })
        for (_, name) in ProcCounters.explaining { #expect(picked[name] != nil, "\(name) missing") }
    }

    @Test func picksKnownValuesAndToleratesNewAndMissingCounters() throws {
        var tables = ProcCounters.table(try fixture("netstat-small.txt"))
        tables.merge(ProcCounters.table(try fixture("snmp-truncated.txt"))) { a, _ in a }
        let c = ProcCounters.explainingCounters(tables)
        #expect(c["TWRecycled"] == 20 && c["ListenOverflows"] == 3 && c["ListenDrops"] == 4)
        #expect(c["TCPSynRetrans"] == 15 && c["TCPTimeWaitOverflow"] == 7)
        #expect(c["ActiveOpens"] == 5000 && c["AttemptFails"] == 12 && c["EstabResets"] == 3 && c["OutRsts"] == 44)
        #expect(tables["TcpExt"]?["FutureCounter"] == 99)
        // The Udp header has no values line: skipped, not misread.
        #expect(tables["Udp"] == nil)
    }

    /// The witness's ICMP counters: LockDroppedIcmps (netstat), InDestUnreachs (snmp), and
    /// Icmp6InDestUnreachs from /proc/net/snmp6's one-pair-a-line layout.
    @Test func picksTheICMPCountersOfTheWitness() throws {
        var tables = ProcCounters.table(try fixture("netstat.txt"))
        tables.merge(ProcCounters.table(try fixture("snmp.txt"))) { a, _ in a }
        tables.merge(ProcCounters.snmp6("Ip6InReceives                   \t12\nIcmp6InMsgs 5\nIcmp6InDestUnreachs             \t3\nUdp6InErrors 0\n")) { a, _ in a }
        let c = ProcCounters.counters(ProcCounters.witnessed, tables)
        #expect(c["Icmp6InDestUnreachs"] == 3)
        #expect(c["LockDroppedIcmps"] != nil)
        #expect(c["InDestUnreachs"] != nil)
        #expect(ProcCounters.snmp6("").isEmpty)
    }

    @Test func rejectsMisalignedTables() {
        let t = ProcCounters.table("Tcp: A B C\nTcp: 1 2\nTcpExt: X\nIpExt: 5\n")
        #expect(t.isEmpty)
        #expect(ProcCounters.table("").isEmpty)
    }

    @Test func sockstatWithIPv6AndExtraFields() throws {
        let s = try #require(ProcCounters.sockstat(try fixture("sockstat-extra.txt"), try fixture("sockstat6.txt")))
        #expect(s == SockstatSample(inuse: 10, orphan: 1, tw: 60000, alloc: 9, mem: 12))
        let v4only = try #require(ProcCounters.sockstat(try fixture("sockstat-extra.txt"), nil))
        #expect(v4only.inuse == 3)
        let real = try #require(ProcCounters.sockstat(try fixture("sockstat.txt"), nil))
        #expect(real.tw >= 0 && real.inuse >= 0)
        #expect(ProcCounters.sockstat("UDP: inuse 0\n", nil) == nil)
    }

    @Test func reservedPortsAndTheEffectiveRange() {
        #expect(PortBudget.reservedPorts("8080,40000-40009\n") == [8080...8080, 40000...40009])
        #expect(PortBudget.reservedPorts("") == [])
        #expect(PortBudget.reservedPorts("9-3,x,70000") == [])
        var s = SystemSnapshot(kernel: "t", ipLocalPortRange: [32768, 60999], openFilesSoft: 1, openFilesHard: 1)
        #expect(PortBudget.effectiveRange(s, perSocket: nil).size == 28232)
        s.ipLocalReservedPorts = "40000-40009,50000"
        #expect(PortBudget.effectiveRange(s, perSocket: nil).size == 28232 - 11)
        let narrow = PortBudget.effectiveRange(s, perSocket: PortRange(low: 40000, high: 40099))
        #expect(narrow.low == 40000 && narrow.high == 40099 && narrow.size == 90)
        // A per-socket range outside the system range is ignored by the kernel.
        #expect(PortBudget.effectiveRange(s, perSocket: PortRange(low: 1000, high: 1009)).size == 28232 - 11)
    }
}
