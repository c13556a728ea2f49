import Glibc
import Synchronization

/// Where the CLI writes: stdout for results, stderr for progress and errors.
///
/// SIGPIPE is ignored (`prepare`), so a reader that goes away (`| head`, `| true`) shows up
/// as EPIPE from write(2): standard output is then marked gone, later output to it is dropped,
/// and the command carries on (a run still writes its record). `main` exits with
/// `ExitStatus.outputClosed` when that happened.
enum Terminal {
    private static let stdoutGone = Atomic<Bool>(false)
    /// The descriptor human-readable text goes to: 1, or 2 while standard output carries data (`-o -`).
    private static let humanFD = Atomic<Int32>(1)

    static var stderrIsTTY: Bool { isatty(2) == 1 }

    /// Whether the descriptor human-readable text goes to is a terminal.
    static var humanIsTTY: Bool { isatty(humanFD.load(ordering: .relaxed)) == 1 }

    /// The width of the terminal on `fd` (stderr, where the live line goes), from TIOCGWINSZ,
    /// read afresh on every call: the live line asks once a second, so after a resize (the
    /// kernel's SIGWINCH, which needs no handler here) the next line fits the new width. Not a
    /// terminal: $COLUMNS, else 80.
    static func columns(of fd: Int32 = 2) -> Int {
        if let n = windowColumns(fd) { return n }
        if let text = getenv("COLUMNS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        return 80
    }

    /// The columns of the terminal on `fd` (TIOCGWINSZ), or nil when it is not one or reports none.
    static func windowColumns(_ fd: Int32) -> Int? {
        var ws = winsize()
        guard withUnsafeMutablePointer(to: &ws, { ioctl(fd, UInt(TIOCGWINSZ), $0) }) == 0, ws.ws_col > 0 else { return nil }
        return Int(ws.ws_col)
    }

    /// Colours are used on a terminal unless NO_COLOR is set to anything non-empty (no-color.org)
    /// or --no-color is given.
    static func colorWanted(tty: Bool, noColorFlag: Bool) -> Bool {
        guard tty, !noColorFlag else { return false }
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        return true
    }

    /// True once a write to standard output failed (its reader closed it, or it was never open).
    static var stdoutIsGone: Bool { stdoutGone.load(ordering: .relaxed) }

    /// Ignores SIGPIPE for the whole process, before any thread starts, and puts /dev/null on
    /// any of descriptors 0-2 the caller closed (`>&-`): otherwise the next file opened (a
    /// record's temporary file) would take number 1 and receive the summary.
    static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) == -1 {
            let null = open("/dev/null", O_RDWR)
            if null >= 0 && null != fd { dup2(null, fd); close(null) }
            if fd == 1 { stdoutGone.store(true, ordering: .relaxed) }
        }
    }

    /// Sends human-readable text to stderr from now on, because standard output carries a record.
    static func reserveStdoutForData() { humanFD.store(2, ordering: .relaxed) }

    static func out(_ s: String) { _ = write(fd: humanFD.load(ordering: .relaxed), Array(s.utf8)) }

    static func err(_ s: String) { _ = write(fd: 2, Array(s.utf8)) }

    /// Writes data (a record, a report) to standard output; false when it could not all be written.
    static func data(_ bytes: [UInt8]) -> Bool { write(fd: 1, bytes) }

    /// write(2) straight to the descriptor (no stdio buffering to flush before exit). Waits out
    /// EINTR and EAGAIN (a non-blocking descriptor shared with another process); any other
    /// error on standard output marks it gone. Errors on stderr are dropped: nothing is left to tell.
    private static func write(fd: Int32, _ bytes: [UInt8]) -> Bool {
        if fd == 1 && stdoutIsGone { return false }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n > 0 { off += n; continue }
            let e = errno
            if n < 0 && e == EINTR { continue }
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, 1000) >= 0 { continue }
            }
            if fd == 1 { stdoutGone.store(true, ordering: .relaxed) }
            return false
        }
        return true
    }
}
