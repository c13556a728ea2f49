import Glibc
import PortstormSystem
import PortstormTLS
import Synchronization

/// A built-in target on one listening socket, served by one epoll thread.
/// Used by `portstorm serve`, the demo and the tests (in-process).
public final class TargetServer: Sendable {
    public let mode: ServerMode
    /// The address it listens on, with the port the kernel chose when asked for port 0.
    public let address: SocketAddress
    private let state: ServerState
    private let thread: OSThread
    /// TLS modes: the server's certificate (its PEM when self-signed: clients pass it to --cacert).
    public let tls: TLSServerContext?

    /// Binds, listens and starts serving. Port 0 picks a free port (see `address`). With
    /// `reusePort`, other servers may listen on the same address (SO_REUSEPORT) and share its load.
    /// A TLS mode without `tls` makes a self-signed certificate for localhost, 127.0.0.1 and ::1.
    public static func start(mode: ServerMode, listen: SocketAddress, reusePort: Bool = false,
                             tls given: TLSServerContext? = nil) throws(SystemError) -> TargetServer {
        var tls: TLSServerContext? = nil
        if mode.isTLS {
            if let given {
                tls = given
            } else {
                do throws(TLSSetupError) {
                    tls = try TLSServerContext(selfSignedFor: [listen.ip].filter { !["0.0.0.0", "::", "127.0.0.1", "::1"].contains($0) })
                } catch {
                    throw SystemError("a TLS certificate: \(error.message)", errno: EPROTO)
                }
            }
        }
        ResourceLimits.raiseOpenFiles(to: 1 << 20)
        let backlog: Int32 = mode == .blackhole ? 0 : mode == .slowAccept ? 4 : 65_535
        let fd = try Socket.listener(listen, backlog: backlog, nonBlocking: true, reusePort: reusePort)
        guard let bound = Socket.localAddress(fd) else {
            Socket.close(fd)
            throw SystemError("getsockname", errno: EBADF)
        }
        var filler: Int32 = -1
        if mode == .blackhole {
            // One connection fits in a backlog-0 queue; take that place ourselves so that
            // every client SYN finds the queue full and is dropped (ListenOverflows grows).
            filler = Socket.tcp(domain: bound.domain)
            var peer = bound
            if bound.ip == "0.0.0.0" { peer = SocketAddress(ip: "127.0.0.1", port: bound.port)! }
            if bound.ip == "::" { peer = SocketAddress(ip: "::1", port: bound.port)! }
            _ = Socket.connectBlocking(filler, peer)
        }
        let poller = try Poller()
        let state = ServerState()
        let loop = ServeLoop(mode: mode, listener: fd, poller: poller, state: state, filler: filler, tls: tls)
        let thread = OSThread { loop.run() }
        return TargetServer(mode: mode, address: bound, state: state, thread: thread, tls: tls)
    }

    private init(mode: ServerMode, address: SocketAddress, state: ServerState, thread: OSThread, tls: TLSServerContext?) {
        self.mode = mode
        self.tls = tls
        self.address = address
        self.state = state
        self.thread = thread
    }

    /// Connections accepted so far.
    public var accepted: UInt64 { state.accepted.load(ordering: .relaxed) }
    /// Connections open right now (hold, echo, http).
    public var open: UInt64 { state.open.load(ordering: .relaxed) }

    /// Stops serving, closes every connection and the listener, and waits for the thread.
    public func stop() {
        if state.stopping.exchange(true, ordering: .relaxed) { return }
        thread.join()
    }

    deinit { stop() }
}

final class ServerState: Sendable {
    let stopping = Atomic<Bool>(false)
    let accepted = Atomic<UInt64>(0)
    let open = Atomic<UInt64>(0)
}
