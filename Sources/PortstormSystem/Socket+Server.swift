import CLibURing
import Glibc

extension Socket {
    /// accept(2) on a non-blocking listener: the new fd, or -errno (-EAGAIN when none is waiting).
    /// The accepted socket is blocking and close-on-exec is not set: the servers never exec.
    @inline(__always)
    public static func accept(_ listener: Int32) -> Int32 {
        let fd = Glibc.accept(listener, nil, nil)
        return fd >= 0 ? fd : -errno
    }

    /// recv(2) into `buffer`; `wait: false` adds MSG_DONTWAIT. Returns bytes, 0 at EOF, or -errno.
    @inline(__always)
    public static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, wait: Bool) -> Int {
        let n = recv(fd, buffer.baseAddress, buffer.count, wait ? 0 : Int32(MSG_DONTWAIT))
        return n >= 0 ? n : -Int(errno)
    }

    /// send(2) with MSG_NOSIGNAL (a peer that reset gives EPIPE, not SIGPIPE). Returns bytes or -errno.
    @inline(__always)
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        return n >= 0 ? n : -Int(errno)
    }

    /// A blocking connect(2), used only where a server must fill its own accept queue.
    public static func connectBlocking(_ fd: Int32, _ address: SocketAddress) -> Int32 {
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        return rc == 0 ? 0 : -errno
    }
}
