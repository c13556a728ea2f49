import PortstormEngine
import PortstormLab
import PortstormProbes
import PortstormRecord
import PortstormSystem
import PortstormTestSupport
import Testing

/// Runs through the engine with the kernel observer, as `portstorm run` does.
func observedRun(_ config: RunConfig) throws -> RunRecord {
    let plan = try RunPlan.make(config).get()
    return try Engine.run(plan, control: RunControl(),
                          observer: KernelObserver(target: plan.target, localPorts: config.localPorts))
}

@Suite(.serialized) struct ObservedRunTests {
    @Test func exhaustionShowsTheTuplesPortsAllInUse() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let window = try #require(ProcNetTCP.freeWindow(size: 10, avoiding: server.address.port))
        var c = RunConfig(target: server.address.description, concurrency: 20, durationSeconds: 30, connections: 20)
        c.localPorts = PortRange(low: window.lowerBound, high: window.upperBound)
        let r = try observedRun(c)
        #expect(r.totals.outcomes[.eaddrnotavail] == 10)
        let censuses = r.timeline.compactMap { $0.kernel?.census }
        let after = try #require(censuses.last, "no census recorded")
        let tuple = try #require(after.busiest)
        #expect(tuple.rangeSize == 10 && tuple.rangeLow == window.lowerBound && tuple.rangeHigh == window.upperBound)
        #expect(tuple.portsInUse == 10, "\(tuple)")
        #expect(tuple.occupancy == 1.0)
        #expect(tuple.buckets.reduce(0, +) == 10)
        #expect(r.system.tcpTwReuse != nil && r.system.ipLocalPortRange != nil)
    }

    @Test func timeWaitGrowthIsOnTheTimeline() throws {
        let server = try TargetServer.start(mode: .hold, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        var c = RunConfig(target: server.address.description, rate: 200, concurrency: 100, durationSeconds: 2.5)
        c.close = .client
        let r = try observedRun(c)
        #expect(r.totals.outcomes[.ok] == r.totals.attempted)
        let kernel = r.timeline.compactMap(\.kernel)
        #expect(kernel.count >= 2)
        #expect(kernel.allSatisfy { $0.sockstat != nil })
        // About 200 connects a second: ActiveOpens (/proc/net/snmp) grows by about that much.
        let opens = r.timeline.prefix(2).compactMap { $0.kernel?.counters["ActiveOpens"] }
        #expect(opens.count == 2 && opens.allSatisfy { $0 >= 150 }, "\(opens)")
        // This side closes first: the census sees TIME_WAIT pile up toward the target.
        let tw = r.timeline.compactMap { $0.kernel?.census?.busiest?.states["TIME_WAIT"] }
        #expect(tw.count >= 2)
        #expect((tw.last ?? 0) >= 350, "\(tw)")
        #expect(tw == tw.sorted(), "TIME_WAIT only grows during a 2.5 s run: \(tw)")
    }

    @Test func aMissingProcFileReadsAsNothing() {
        #expect(KernelInfo.readSmallFile("/proc/net/no-such-table") == nil)
        #expect(KernelInfo.sysctlInt("net/ipv4/no_such_setting") == nil)
    }
}
