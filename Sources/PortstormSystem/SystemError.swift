import Glibc
import SystemPackage

/// A failed system call: the call's name and the errno it set.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Errno

    public init(_ call: String, errno code: Int32) {
        self.call = call
        self.errno = Errno(rawValue: code)
    }

    /// Captures the calling thread's errno after a call returned -1.
    public static func last(_ call: String) -> SystemError {
        SystemError(call, errno: Glibc.errno)
    }

    public var description: String { "\(call): \(String(cString: strerror(errno.rawValue)))" }
}

/// Runs `body` until it does not fail with EINTR; the only place system calls are retried.
@inline(__always)
func retryingOnInterrupt(_ body: () -> Int32) -> Int32 {
    while true {
        let r = body()
        if r >= 0 || Glibc.errno != EINTR { return r }
    }
}
