import Foundation
import Glibc

/// Reads an input file (a run record, a scenario) whole, with one sentence naming the file and
/// the reason when it cannot: open(2)/read(2), `-` for standard input.
enum InputFile {
    /// Far above any record a run writes (an hour with a census each second is a few MiB);
    /// stops `/dev/zero` and the like from filling memory.
    static let maxBytes = 256 << 20

    static func read(_ path: String, what: String) throws(CLIError) -> Data {
        func refuse(_ why: String) -> CLIError { .usage("cannot read \(what) \(path.isEmpty ? "''" : path): \(why)") }
        if path.isEmpty { throw refuse("the file name is empty") }
        let fd = path == "-" ? dup(0) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw refuse(FileProblem.reason(errno)) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR { throw refuse("it is a folder") }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw refuse(FileProblem.reason(errno)) }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if data.count > maxBytes { throw refuse("it is larger than \(maxBytes >> 20) MiB, far more than portstorm writes") }
        }
        if data.isEmpty { throw refuse("it is empty") }
        return data
    }
}
