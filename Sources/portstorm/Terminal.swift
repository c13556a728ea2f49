import Glibc

/// Where the CLI writes: stdout for results, stderr for progress and errors.
enum Terminal {
    static var stderrIsTTY: Bool { isatty(2) == 1 }

    static func out(_ s: String) { write(fd: 1, s) }

    static func err(_ s: String) { write(fd: 2, s) }

    /// write(2) straight to the descriptor (no stdio buffering to flush before exit).
    private static func write(fd: Int32, _ s: String) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
    }

    /// One line for the user on stderr, prefixed `portstorm: error:`, then exit `code`.
    static func fail(_ message: String, code: Int32) -> Never {
        err("portstorm: error: \(message)\n")
        exit(code)
    }
}

/// Exit statuses (sysexits.h where one fits).
enum ExitStatus {
    /// diagnose: the target fails, or a problem or warning was found.
    static let targetFails: Int32 = 1
    static let usage: Int32 = 64
    static let unavailable: Int32 = 69
    static let cannotWrite: Int32 = 73
    static let interrupted: Int32 = 130
}
