import Foundation
import Glibc
import PortstormEngine
import PortstormRecord

/// What a lab is doing, as it goes: the command prints these (or nothing, with --json).
public enum LabEvent: Sendable {
    /// The site is made; its sysctls are set next.
    case started(Lab, site: String)
    /// A variant's servers are up and its run starts with these `portstorm run` arguments.
    case running(LabVariant, arguments: [String])
    /// A variant's run ended and was judged.
    case judged(LabJudgement)
    /// Every variant ran (or a stop request ended the lab early); the site is removed.
    case finished(LabResult)
}

/// A run inside a lab could not start (io_uring or the open-file limit inside the namespace).
public struct LabRunUnavailable: Error, CustomStringConvertible {
    public let description: String
}

/// Runs one lab in a site: its sysctls and set-up, then each variant's servers and bounded run
/// (`portstorm run ... -o FILE`, the executable again inside the site), each judged from the record
/// it wrote. Stops between variants when `control` has a stop request; removes the site at the end.
public struct LabRunner {
    public let lab: Lab
    /// The portstorm binary run inside the site (the running one: /proc/self/exe resolved).
    public let executable: String
    /// How long servers get to start listening before the run (microseconds).
    public var serverStartMicros: UInt32 = 400_000
    /// `portstorm run`'s exit status when it cannot start (ExitStatus.unavailable, sysexits EX_UNAVAILABLE).
    static let runUnavailableStatus: Int32 = 69

    public init(lab: Lab, executable: String) {
        self.lab = lab
        self.executable = executable
    }

    public func run(in site: some LabSite, control: RunControl, progress: (LabEvent) -> Void = { _ in }) throws -> LabResult {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-lab-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        defer { site.remove() }

        progress(.started(lab, site: site.name))
        for (k, v) in lab.sysctls { try site.sysctl(k, v) }
        for cmd in lab.setup { try site.exec(cmd) }

        var variants: [LabResult.Variant] = []
        var reproduced = Set<Outcome>()
        // The self-signed certificate of the last TLS server started (see LabCatalog.serverCertificate).
        var certificate = work.appendingPathComponent("none.pem").path
        for (i, v) in lab.variants.enumerated() where control.level == 0 {
            for (k, value) in v.sysctls { try site.sysctl(k, value) }
            for s in v.servers {
                var tls: [String] = []
                if s.mode.isTLS {
                    certificate = work.appendingPathComponent("server-\(i).pem").path
                    tls = ["--cert-out", certificate]
                }
                try site.spawn([executable, "serve", "--mode", s.mode.rawValue, "--listen", s.listen, "-d", "300s"] + tls)
            }
            if !v.servers.isEmpty { usleep(serverStartMicros) }
            let file = work.appendingPathComponent("run-\(i).json").path
            progress(.running(v, arguments: v.runArguments.map { $0 == LabCatalog.serverCertificate ? "server.pem" : $0 }))
            let arguments = v.runArguments.map { $0 == LabCatalog.serverCertificate ? certificate : $0 }
            let status = try site.status([executable, "run"] + arguments + ["--quiet", "-o", file])
            if status == Self.runUnavailableStatus {
                throw LabRunUnavailable(description: "the run of '\(v.title)' could not start inside namespace \(site.name) (exit \(status)): io_uring or the open-file limit; try portstorm doctor")
            }
            guard let data = FileManager.default.contents(atPath: file), let record = try? RunRecord.load(from: data) else {
                throw LabError("the run of '\(v.title)' wrote no record (exit \(status))")
            }
            let judgement = LabVerdict.judge(v, record: record, reproduced: reproduced)
            if v.role == .broken { reproduced.insert(v.expected) }
            variants.append(judgement.variant)
            progress(.judged(judgement))
        }
        site.remove()
        let result = LabResult(lab: lab.name, namespace: site.name, variants: variants, interrupted: control.level > 0,
                               asExpected: LabVerdict.allAsExpected(lab, variants))
        progress(.finished(result))
        return result
    }
}
