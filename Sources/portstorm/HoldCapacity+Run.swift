import PortstormAnalysis
import PortstormEngine
import PortstormProbes
import PortstormRecord
import PortstormSystem

extension HoldCapacity {
    /// The limits of a run about to start, read now: the socket path the engine will take (its
    /// probe), RLIMIT_NOFILE (getrlimit, after raising the soft limit as the engine will),
    /// MemAvailable (/proc/meminfo), the effective port range of `snapshot`, and portstorm's own
    /// servers when they listen on a loopback target.
    static func forRun(_ config: RunConfig, plan: RunPlan, snapshot: SystemSnapshot) -> HoldCapacity {
        // With --rate and --hold, about rate x hold are open at once; with --rate alone an attempt
        // lasts its connect and exchange, so -c does not size its ports (the rate does: TIME_WAIT).
        let load = PlannedLoad(rate: config.rate, concurrency: config.concurrency, connections: config.connections,
                               holdSeconds: config.holdMs.map { Double($0) / 1000 })
        let wanted = config.rate != nil && config.holdMs != nil ? load.openAtOnce : min(config.concurrency, config.connections ?? Int.max)
        let limit: UInt64
        if let asked = config.openFiles {
            limit = min(UInt64(asked), ResourceLimits.openFiles().hard)
        } else {
            limit = ResourceLimits.raiseOpenFiles(to: UInt64(wanted) + UInt64(HoldCapacity.descriptorHeadroom)).soft
        }
        let server = plan.target.isLoopback ? HostResources.localServers(target: plan.target) : nil
        return HoldCapacity(Inputs(
            wanted: wanted, threads: config.threads, openFiles: limit, openFilesGiven: config.openFiles != nil,
            socketsInRing: Engine.plannedSocketPath(plan) == .ring, maxRings: Engine.maxRings,
            memAvailableBytes: HostResources.memAvailableBytes(),
            bytesPerConnection: HoldCapacity.estimatedBytes(serverOnThisMachine: plan.target.isLoopback),
            portsPerSource: PortBudget.effectiveRange(snapshot, perSocket: config.localPorts).size,
            sources: plan.sources.count, destination: plan.target.description,
            server: server.map { LocalServerRoom(processes: $0.processes, room: $0.room) },
            portsHeldAtOnce: config.rate == nil || config.holdMs != nil))
    }
}
