import PortstormRecord

extension Engine {
    /// The socket path a run of `plan` will take, decided as `run` decides it at start (the same
    /// probe of the kernel and the same overrides), for the preflight's capacity sentence.
    public static func plannedSocketPath(_ plan: RunPlan) -> SocketPath {
        socketPath(plan.config, withSources: !plan.sources.isEmpty, connectCheck: connectCheck()).0
    }

    /// The most worker rings a run may have; on the ring path each holds at most RLIMIT_NOFILE sockets.
    public static let maxRings = RunPlan.maxThreads
}
