import Foundation
import PortstormRecord

/// Reads this namespace's firewall rules and picks the reject and drop rules that name a port.
/// `nft list ruleset` first, `iptables-save` when nft is missing or refused; both need CAP_NET_ADMIN.
public enum FirewallRules {
    public static func reading(port: UInt16) -> DiagnoseObservations.FirewallReading {
        var why: [String] = []
        if let nft = executable(["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]) {
            let r = run(nft, ["list", "ruleset"])
            if r.status == 0 { return .init(tool: "nft", matching: nftMatching(r.output, port: port)) }
            why.append("nft list ruleset: " + (r.error.split(separator: "\n").first.map(String.init) ?? "exit \(r.status)"))
        }
        if let save = executable(["/usr/sbin/iptables-save", "/sbin/iptables-save"]) {
            let r = run(save, [])
            if r.status == 0 { return .init(tool: "iptables-save", matching: iptablesMatching(r.output, port: port)) }
            why.append("iptables-save: exit \(r.status)")
        }
        return .init(tool: nil, unreadable: why.isEmpty ? "neither nft nor iptables-save is installed" : why.joined(separator: "; "))
    }

    /// Rules of `nft list ruleset` output with a reject or drop verdict whose dport match includes
    /// `port` (a number, a set `{ 80, 9000 }` or a range `9000-9010`), as `table NAME chain NAME: rule`.
    public static func nftMatching(_ text: String, port: UInt16) -> [String] {
        var table = "", chain = "", out: [String] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("table ") { table = String(line.dropFirst(6).dropLast(2)); continue }
            if line.hasPrefix("chain ") { chain = String(line.dropFirst(6).dropLast(2)); continue }
            let words = line.split(separator: " ").map(String.init)
            guard words.contains("reject") || words.last == "drop" || words.contains("drop") else { continue }
            guard let i = words.firstIndex(of: "dport"), i + 1 < words.count else { continue }
            var spec = words[i + 1]
            if spec == "{", let end = words[(i + 1)...].firstIndex(of: "}") { spec = words[(i + 2)..<end].joined() }
            if portSpec(spec, contains: port) { out.append("table \(table) chain \(chain): \(line)") }
        }
        return out
    }

    /// `-A` lines of `iptables-save` with `--dport`/`--dports` including `port` and `-j REJECT|DROP`.
    public static func iptablesMatching(_ text: String, port: UInt16) -> [String] {
        var table = "", out: [String] = []
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("*") { table = String(line.dropFirst()); continue }
            let words = line.split(separator: " ").map(String.init)
            guard words.first == "-A", let j = words.firstIndex(of: "-j"), j + 1 < words.count,
                  ["REJECT", "DROP"].contains(words[j + 1]) else { continue }
            guard let i = words.firstIndex(where: { $0 == "--dport" || $0 == "--dports" }), i + 1 < words.count else { continue }
            if portSpec(words[i + 1].replacingOccurrences(of: ":", with: "-"), contains: port) { out.append("table \(table): \(line)") }
        }
        return out
    }

    /// `9000`, `80,9000`, `9000-9010` (commas and ranges mixed).
    static func portSpec(_ spec: String, contains port: UInt16) -> Bool {
        spec.split(separator: ",").contains { part in
            let bounds = part.split(separator: "-").compactMap { UInt16($0) }
            if bounds.count == 1 { return bounds[0] == port }
            if bounds.count == 2 { return (bounds[0]...max(bounds[0], bounds[1])).contains(port) }
            return false
        }
    }

    static func executable(_ paths: [String]) -> String? {
        paths.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ path: String, _ args: [String]) -> (status: Int32, output: String, error: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return (127, "", "\(error)") }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
