import Foundation
import Glibc
import PortstormLab
import PortstormRecord
import PortstormSystem
import Testing

/// Where a record or report goes: checked before the first attempt, written whole or not at
/// all, device nodes and pipes written in place and never replaced.
@Suite(.serialized) struct OutputFileTests {
    static let isRoot = geteuid() == 0

    /// A fresh folder of its own under the temporary folder, removed by the caller.
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-out-\(getpid())-\(Int.random(in: 0..<1_000_000))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    static let badOutputs: [([String], Int32, String)] = [
        (["run", "{t}", "-n", "50", "-o", "{dir}"], 73, "cannot write the record to {dir}: it is a folder"),
        (["run", "{t}", "-n", "50", "-o", ""], 73, "cannot write the record to '': the file name is empty"),
        (["run", "{t}", "-n", "50", "-o", "/no/such/dir/x.json"], 73, "cannot write the record to /no/such/dir/x.json: folder /no/such/dir does not exist"),
        (["run", "{t}", "-n", "50", "--report", "{dir}/"], 73, "cannot write the report to {dir}/: the name ends with /"),
        (["run", "{t}", "-n", "50", "-o", "{dir}/x.json", "--report", "{dir}/x.json"], 64, "-o and --report name the same file, {dir}/x.json"),
        (["run", "{t}", "-n", "50", "-o", "-", "--report", "-"], 64, "both ask for standard output"),
        (["run", "{t}", "-n", "50", "-o", "/proc/version"], 73, "cannot write the record to /proc/version: no file can be created in folder /proc"),
        (["run", "{t}", "-n", "50", "-o", "/dev/portstorm-no-such-node"], 73, "/dev holds device nodes"),
        (["run", "{t}", "-n", "50", "-o", "{dir}/file.json/x.json"], 73, "{dir}/file.json is not a folder"),
        (["plan", "{t}", "--to", "100", "-o", "/no/such/dir/plan.json"], 73, "cannot write the plan to /no/such/dir/plan.json: folder /no/such/dir does not exist"),
        (["plan", "{t}", "--to", "100", "--report", "{dir}"], 73, "cannot write the report to {dir}: it is a folder"),
        (["demo", "-d", "1s", "-o", "{dir}"], 73, "cannot write the record to {dir}: it is a folder"),
        (["report", "{dir}/file.json", "-o", "{dir}"], 73, "cannot write the report to {dir}: it is a folder"),
    ]

    @Test(arguments: badOutputs)
    func aBadOutputIsRefusedBeforeTheFirstAttempt(args: [String], status: Int32, expected: String) throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("file.json"))
        let fill = { (s: String) in s.replacingOccurrences(of: "{t}", with: server.address.description).replacingOccurrences(of: "{dir}", with: dir.path) }
        let r = try CLIProcess.run(args.map(fill))
        // A build without the check creates the missing node as a regular file: remove it.
        if Self.fileType("/dev/portstorm-no-such-node") == S_IFREG { unlink("/dev/portstorm-no-such-node") }
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("portstorm: error: ") && r.stderr.contains(fill(expected)), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("The operation could not be completed"))
        #expect(r.stdout.isEmpty, "nothing ran: \(r.stdout)")
        #expect(server.accepted == 0, "no attempt before the output is known to be writable")
    }

    @Test(.enabled(if: isRoot, "mknod needs root (CAP_MKNOD)"))
    func aDeviceNodeIsWrittenInPlaceNeverReplaced() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let null = dir.appendingPathComponent("null").path, full = dir.appendingPathComponent("full").path
        // Copies of /dev/null (1,3) and /dev/full (1,7); the makedev encoding for small numbers.
        #expect(mknod(null, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
        #expect(mknod(full, S_IFCHR | 0o666, dev_t((1 << 8) | 7)) == 0)
        let record = dir.appendingPathComponent("run.json").path
        for args in [["-o", null], ["-o", record, "--report", null]] {
            let r = try CLIProcess.run(["run", server.address.description, "-n", "50", "--quiet"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(Self.fileType(null) == S_IFCHR, "the copy of /dev/null is still a character device")
        }
        let rep = try CLIProcess.run(["report", record, "-o", null])
        #expect(rep.status == 0, "\(rep.stderr)")
        #expect(Self.fileType(null) == S_IFCHR)
        // /dev/full: every write fails with ENOSPC; the message says so in words.
        let f = try CLIProcess.run(["run", server.address.description, "-n", "50", "--quiet", "-o", full])
        #expect(f.status == 73)
        #expect(f.stderr.contains("cannot write the record to \(full): the disk is full"), "\(f.stderr)")
        #expect(f.stdout.contains("attempted 50"), "the summary is still printed")
        #expect(Self.fileType(full) == S_IFCHR)
    }

    @Test func aFifoIsWrittenInPlaceAndItsReaderGetsTheRecord() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o644) == 0)
        // The reader's end, opened first without blocking; the record (a few KiB) fits in the pipe.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let r = try CLIProcess.run(["run", server.address.description, "-n", "60", "--quiet", "-o", fifo])
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.fileType(fifo) == S_IFIFO, "the FIFO is still a FIFO")
        let record = try RunRecord.load(from: data)
        #expect(record.totals.attempted == 60 && record.totals.isBalanced)
    }

    @Test func aRegularFileIsReplacedWholeAndKeepsItsMode() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("run.json").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o640)
        let link = dir.appendingPathComponent("link.json").path
        #expect(symlink(file, link) == 0)
        let r = try CLIProcess.run(["run", server.address.description, "-n", "40", "--quiet", "-o", link])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.fileType(link) == S_IFLNK, "the symbolic link is kept; the file it points to is replaced")
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o640)
        #expect(try RunRecord.load(from: Data(contentsOf: URL(fileURLWithPath: file))).totals.attempted == 40)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["link.json", "run.json"], "no temporary file left: \(left)")
    }

    @Test(.enabled(if: isRoot, "mounting a small tmpfs needs root"))
    func aFullDiskLeavesTheOldRecordAndNoTemporaryFile() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A private mount namespace: the tmpfs is gone when the shell ends, whatever happens.
        let script = """
        mount -t tmpfs -o size=12k tmpfs "$1" && echo old > "$1/run.json" && dd if=/dev/zero of="$1/fill" bs=1k count=8 2>/dev/null; \
        "$2" run "$3" -n 2000 -c 20 --quiet -o "$1/run.json"; echo "status $?"; cat "$1/run.json"; ls -a "$1"
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-m", "--propagation", "private", "sh", "-c", script, "sh", dir.path, CLIProcess.binary.path, server.address.description]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.contains("status 73"), "\(text)\(errors)")
        #expect(errors.contains("cannot write the record to \(dir.path)/run.json: the disk is full"), "\(errors)")
        #expect(text.contains("\nold\n"), "the previous record is untouched: \(text)")
        #expect(!text.contains(".run.json."), "no temporary file is left: \(text)")
    }

    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv to run as nobody"))
    func permissionProblemsNameTheFolderOrFileAsNobody() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        chmod(dir.path, 0o755)
        let binary = dir.appendingPathComponent("portstorm").path
        try FileManager.default.copyItem(atPath: CLIProcess.binary.path, toPath: binary)
        let locked = dir.appendingPathComponent("locked").path, readOnly = dir.appendingPathComponent("ro.json").path
        #expect(mkdir(locked, 0o700) == 0)
        try Data("x".utf8).write(to: URL(fileURLWithPath: readOnly))
        chmod(readOnly, 0o444)
        for (args, expected) in [
            (["run", "127.0.0.1:9", "-n", "1", "-o", "\(locked)/x.json"], "cannot write the record to \(locked)/x.json: permission denied: folder \(locked) cannot be entered"),
            (["run", "127.0.0.1:9", "-n", "1", "-o", readOnly], "cannot write the record to \(readOnly): the file is not writable (permission denied)"),
            (["run", "127.0.0.1:9", "-n", "1", "-o", "\(dir.path)/new.json"], "cannot write the record to \(dir.path)/new.json: folder \(dir.path) is not writable (permission denied)"),
        ] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", binary] + args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 73 && text == "portstorm: error: \(expected)\n", "\(text)")
        }
    }

    @Test func dashWritesTheRecordToStandardOutputAndTheSummaryToStderr() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        let r = try CLIProcess.run(["run", server.address.description, "-n", "30", "-o", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try RunRecord.load(from: Data(r.stdout.utf8))
        #expect(record.totals.attempted == 30)
        #expect(r.stderr.contains("attempted 30"), "the summary goes to stderr: \(r.stderr)")
    }
}
