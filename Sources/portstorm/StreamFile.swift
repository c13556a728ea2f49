import Glibc

/// `run --stream FILE|-`: a file (or standard output) that gets one line each second. Opened
/// before the run (so a bad path stops it before the first attempt) and written with write(2)
/// straight away, so each line is out as soon as it is made, with no buffer to flush.
final class StreamFile {
    private let fd: Int32
    private let owned: Bool

    private init(fd: Int32, owned: Bool) {
        self.fd = fd
        self.owned = owned
    }

    static func open(_ path: String, stdoutTaken: Bool) throws(CLIError) -> StreamFile {
        if path == "-" {
            guard !stdoutTaken else {
                throw .usage("--stream - asks for standard output, which -o -, --report - or --json already take: give --stream a file name")
            }
            Terminal.reserveStdoutForData()
            return StreamFile(fd: 1, owned: false)
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotWrite("cannot write the stream to \(path): \(String(cString: strerror(errno)))")
        }
        return StreamFile(fd: fd, owned: true)
    }

    /// Writes one line; a failure (a full disk, a reader gone) is dropped: the run and its record matter more.
    func write(_ line: String) {
        if fd == 1 { _ = Terminal.data(Array(line.utf8)); return }
        let bytes = Array(line.utf8)
        _ = OutputFile.writeAll(fd, bytes)
    }

    func close() { if owned { _ = Glibc.close(fd) } }
}
