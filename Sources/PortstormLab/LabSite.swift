/// Where a lab runs: a network namespace of its own (`NetworkNamespace`), whose sysctls, servers
/// and runs are the lab's alone. Tests stand in for it without root.
public protocol LabSite: AnyObject {
    var name: String { get }
    /// Sets a sysctl inside the site only.
    func sysctl(_ key: String, _ value: String) throws
    /// Runs a set-up command to completion; throws when it fails.
    func exec(_ args: [String]) throws
    /// Starts a long-lived command (a server), stopped by `remove`.
    func spawn(_ args: [String]) throws
    /// Runs a command to completion and returns its exit status.
    func status(_ args: [String]) throws -> Int32
    /// Stops what runs inside and removes the site (idempotent).
    func remove()
}

extension NetworkNamespace: LabSite {}
