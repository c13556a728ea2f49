import Foundation
import Glibc

/// One output of a command (`-o`, `--report`), checked before any work and written at the end.
///
/// - `-` is standard output (human-readable text then goes to stderr).
/// - A regular file, new or existing, is written whole into a temporary file in the same folder,
///   then renamed over the name: a failure (a full disk) leaves the old file as it was.
/// - An existing character device or pipe (`/dev/null`, a FIFO, `/dev/stdout`, `/dev/fd/N`) is
///   written in place, never replaced by a regular file. Sockets and block devices are refused.
struct OutputFile {
    enum Kind: Equatable {
        case standardOutput
        /// Temporary file and rename; `mode`/`owner` of the file it replaces, if any.
        case regular(mode: mode_t?, owner: (uid_t, gid_t)?)
        case inPlace

        static func == (a: Kind, b: Kind) -> Bool {
            switch (a, b) {
            case (.standardOutput, .standardOutput), (.inPlace, .inPlace), (.regular, .regular): return true
            default: return false
            }
        }
    }

    /// As the user gave it.
    let path: String
    /// "the record", "the report", "the plan": for the messages.
    let what: String
    let kind: Kind

    var isStandardOutput: Bool { kind == .standardOutput }

    /// Checks that `path` can be written, without writing it (a probe file is created and removed
    /// in the folder of a regular file). Throws one sentence naming the file and the reason.
    static func check(_ path: String, what: String) throws(CLIError) -> OutputFile {
        func refuse(_ why: String) -> CLIError { .cannotWrite("cannot write \(what) to \(path.isEmpty ? "''" : path): \(why)") }
        if path.isEmpty { throw refuse("the file name is empty (give a path, or - for standard output)") }
        if ["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"].contains(path) { return OutputFile(path: path, what: what, kind: .standardOutput) }
        // Descriptors handed over by the shell are written in place, as `>` would.
        if ["/dev/stdout", "/dev/stderr"].contains(path) || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/fd/") {
            guard access(path, W_OK) == 0 else { throw refuse(FileProblem.reason(errno)) }
            return OutputFile(path: path, what: what, kind: .inPlace)
        }
        if path.hasSuffix("/") { throw refuse("the name ends with /, so it names a folder, not a file") }
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR: throw refuse("it is a folder")
            case S_IFCHR, S_IFIFO:
                guard access(path, W_OK) == 0 else { throw refuse(FileProblem.reason(errno)) }
                return OutputFile(path: path, what: what, kind: .inPlace)
            case S_IFSOCK: throw refuse("it is a socket, not a file")
            case S_IFBLK: throw refuse("it is a block device (a disk), not a file; portstorm does not write there")
            default:
                guard access(path, W_OK) == 0 else {
                    throw refuse(errno == EACCES ? "the file is not writable (permission denied)" : FileProblem.reason(errno))
                }
                let target = resolved(path)
                try probeFolder(of: target, refuse)
                return OutputFile(path: path, what: what, kind: .regular(mode: st.st_mode & 0o7777, owner: (st.st_uid, st.st_gid)))
            }
        }
        let e = errno
        guard e == ENOENT else {
            switch e {
            case ENOTDIR: throw refuse("\(firstNonFolder(in: path) ?? "a part of the path") is not a folder")
            case EACCES: throw refuse("permission denied: folder \(split(path).folder) cannot be entered")
            default: throw refuse(FileProblem.reason(e))
            }
        }
        var lst = stat()
        if lstat(path, &lst) == 0, lst.st_mode & S_IFMT == S_IFLNK { throw refuse("it is a symbolic link to a missing file") }
        let folder = split(path).folder
        if folder == "/dev" || (folder.hasPrefix("/dev/") && !folder.hasPrefix("/dev/shm")) {
            throw refuse("no such device, and \(folder) holds device nodes: portstorm does not create files there")
        }
        try probeFolder(of: path, refuse)
        return OutputFile(path: path, what: what, kind: .regular(mode: nil, owner: nil))
    }

    /// Writes `bytes` whole, or throws one sentence (and leaves an existing file untouched).
    func write(_ bytes: [UInt8]) throws(CLIError) {
        func fail(_ why: String) -> CLIError { .cannotWrite("cannot write \(what) to \(path == "-" ? "standard output" : path): \(why)") }
        switch kind {
        case .standardOutput:
            guard Terminal.data(bytes) else { throw fail("it was closed before \(what) was written in full") }
        case .inPlace:
            let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw fail(FileProblem.reason(errno)) }
            if let e = Self.writeAll(fd, bytes) { close(fd); throw fail(FileProblem.reason(e)) }
            if close(fd) != 0 && errno != EINTR { throw fail(FileProblem.reason(errno)) }
        case .regular(let mode, let owner):
            let target = Self.resolved(path)
            let (folder, name) = Self.split(target)
            var template = Array("\(folder)/.\(name).XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw fail(errno == ENOENT ? "folder \(folder) no longer exists" : FileProblem.reason(errno)) }
            let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            var problem = Self.writeAll(fd, bytes)
            if problem == nil {
                // Keep the mode (and, as root, the owner) of the file being replaced; a new file
                // gets 0666 less the umask, as the shell's `>` would give it.
                let m = mode ?? { let u = umask(0); umask(u); return 0o666 & ~u }()
                _ = fchmod(fd, m)
                if let (uid, gid) = owner, uid != geteuid() || gid != getegid() { _ = fchown(fd, uid, gid) }
                if fsync(fd) != 0 && errno != EINVAL { problem = errno }
            }
            if close(fd) != 0 && problem == nil && errno != EINTR { problem = errno }
            if problem == nil && rename(temp, target) != 0 { problem = errno }
            if let problem {
                unlink(temp)
                throw fail(FileProblem.reason(problem))
            }
        }
    }

    func write(_ text: String) throws(CLIError) { try write(Array(text.utf8)) }
    func write(_ data: Data) throws(CLIError) { try write([UInt8](data)) }

    /// A short name for "record: FILE" lines.
    var shownName: String { isStandardOutput ? "standard output" : path }

    /// write(2) until done; the errno of the first failure, else nil.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? errno : EIO
        }
        return nil
    }

    /// Creates and removes a file in the folder `path` would be written to.
    private static func probeFolder(of path: String, _ refuse: (String) -> CLIError) throws(CLIError) {
        let (folder, _) = split(path)
        var st = stat()
        guard stat(folder, &st) == 0 else {
            let e = errno
            throw refuse(e == ENOENT ? "folder \(folder) does not exist" : "folder \(folder): \(FileProblem.reason(e))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw refuse("\(folder) is not a folder") }
        var template = Array("\(folder)/.portstorm-probe.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let e = errno
            switch e {
            case EACCES, EPERM: throw refuse("folder \(folder) is not writable (permission denied)")
            case EROFS: throw refuse("folder \(folder) is on a read-only file system")
            default: throw refuse("no file can be created in folder \(folder) (\(FileProblem.reason(e)))")
            }
        }
        close(fd)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    /// The file a symbolic link points to (so the link survives the rename), else the path itself.
    private static func resolved(_ path: String) -> String {
        var lst = stat()
        guard lstat(path, &lst) == 0, lst.st_mode & S_IFMT == S_IFLNK, let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// The folder and the last name of a path ("." for a bare name).
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// The first existing prefix of `path` that is not a folder (for ENOTDIR).
    private static func firstNonFolder(in path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            var st = stat()
            if stat(prefix, &st) == 0, st.st_mode & S_IFMT != S_IFDIR {
                return prefix.hasPrefix("./") ? String(prefix.dropFirst(2)) : prefix
            }
        }
        return nil
    }
}
