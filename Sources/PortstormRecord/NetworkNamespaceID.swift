/// Which network namespace a run ran in: runs with the same one shared one kernel's counters,
/// sockets and port ranges, so a merge counts them once.
public struct NetworkNamespaceID: Codable, Sendable, Hashable {
    /// The inode of /proc/thread-self/ns/net (stat(2)): unique among the namespaces alive on one
    /// machine, and the same number on every machine for its first namespace.
    public var inode: UInt64
    /// /proc/sys/kernel/random/boot_id: tells machines (and boots) apart.
    public var bootId: String

    public init(inode: UInt64, bootId: String) {
        self.inode = inode
        self.bootId = bootId
    }
}

extension RunRecord {
    /// The records (by index) that ran in one network namespace, in groups of two or more: the same
    /// `networkNamespace` when both records have one, else (an older record) the same `hostName`,
    /// which is then taken to mean the same namespace.
    public static func sharedNamespaces(_ ids: [(namespace: NetworkNamespaceID?, hostName: String?)]) -> [[Int]] {
        var group = Array(ids.indices)
        func root(_ i: Int) -> Int { group[i] == i ? i : root(group[i]) }
        for i in ids.indices {
            for j in 0..<i {
                let same: Bool
                if let a = ids[i].namespace, let b = ids[j].namespace { same = a == b }
                else if let a = ids[i].hostName, let b = ids[j].hostName { same = a == b }
                else { same = false }
                if same { group[root(i)] = root(j) }
            }
        }
        var out: [Int: [Int]] = [:]
        for i in ids.indices { out[root(i), default: []].append(i) }
        return out.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
    }
}
