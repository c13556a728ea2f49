import Glibc
import PortstormSystem

/// The values that the ring path's linked setsockopt and BIND requests point at. The kernel reads
/// them when each request runs, so they live as long as the worker: SO_LINGER {1, 0} (--close rst),
/// the IP_LOCAL_PORT_RANGE word, the 1 of IP_BIND_ADDRESS_NO_PORT, and every --source address.
struct SocketOptionValues {
    let linger: UnsafeMutablePointer<Glibc.linger>
    let portRange: UnsafeMutablePointer<UInt32>
    let one: UnsafeMutablePointer<Int32>
    /// The --source addresses, `sourceLength` bytes apart.
    private let sources: UnsafeMutableRawPointer?
    let sourceLength: socklen_t

    init(localPorts: ClosedRange<UInt16>?, sources list: [SocketAddress]) {
        linger = .allocate(capacity: 1)
        linger.initialize(to: Glibc.linger(l_onoff: 1, l_linger: 0))
        portRange = .allocate(capacity: 1)
        // The upper bound in the high 16 bits, the lower in the low 16 (as Socket.setLocalPortRange).
        portRange.initialize(to: localPorts.map { UInt32($0.upperBound) << 16 | UInt32($0.lowerBound) } ?? 0)
        one = .allocate(capacity: 1)
        one.initialize(to: 1)
        let length = list.first?.storage.count ?? 0
        sourceLength = socklen_t(length)
        if length > 0 {
            let p = UnsafeMutableRawPointer.allocate(byteCount: length * list.count, alignment: 16)
            for (k, address) in list.enumerated() {
                address.storage.withUnsafeBytes { (p + k * length).copyMemory(from: $0.baseAddress!, byteCount: length) }
            }
            sources = p
        } else {
            sources = nil
        }
    }

    @inline(__always)
    func source(_ k: Int) -> UnsafePointer<sockaddr> {
        UnsafePointer((sources! + k * Int(sourceLength)).assumingMemoryBound(to: sockaddr.self))
    }

    func deallocate() {
        linger.deallocate()
        portRange.deallocate()
        one.deallocate()
        sources?.deallocate()
    }
}
