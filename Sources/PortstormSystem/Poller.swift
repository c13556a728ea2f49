import CLibURing
import Glibc

/// A level-triggered epoll set (epoll_create1 / epoll_ctl / epoll_wait) for the built-in servers.
public final class Poller {
    private let epfd: Int32
    private var events: UnsafeMutablePointer<epoll_event>
    private let capacity = 1024

    public init() throws(SystemError) {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw SystemError.last("epoll_create1") }
        events = .allocate(capacity: capacity)
    }

    deinit {
        Glibc.close(epfd)
        events.deallocate()
    }

    /// Watches `fd` for input (and peer hang-up).
    public func watch(_ fd: Int32) {
        var e = epoll_event()
        e.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        e.data.fd = fd
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e)
    }

    /// Stops watching `fd` (close() also does it).
    public func unwatch(_ fd: Int32) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    /// Waits up to `timeoutMs` and calls `body` with each ready descriptor.
    public func wait(timeoutMs: Int32, _ body: (Int32) -> Void) {
        let n = epoll_wait(epfd, events, Int32(capacity), timeoutMs)
        guard n > 0 else { return }
        for i in 0..<Int(n) { body(events[i].data.fd) }
    }
}
