import ArgumentParser
import PortstormLab
import PortstormRecord

@main
struct Portstorm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portstorm",
        abstract: "Open waves of short-lived TCP connections and tell exactly why they fail.",
        discussion: """
        portstorm drives io_uring to churn through connections (a new one per attempt) and counts
        every attempt under its real cause: eaddrnotavail, econnrefused, connect_timeout, ...,
        each marked local (this machine) or remote (the path or the server).

        Start with `portstorm demo`, or point `portstorm run` at a server you are allowed to load.
        """,
        version: PortstormVersion.current,
        subcommands: [Run.self, Report.self, Merge.self, Plan.self, LabCmd.self, Diagnose.self, Serve.self, Demo.self, Doctor.self]
    )
}

extension CloseMode: ExpressibleByArgument {}
extension WireProtocol: ExpressibleByArgument {}
extension ServerMode: ExpressibleByArgument {}
