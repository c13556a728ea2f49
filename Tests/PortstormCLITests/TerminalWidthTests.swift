import Foundation
import Glibc
import PortstormLab
import PortstormSystem
import Testing
@testable import portstorm

/// The live line's width follows the terminal: read with TIOCGWINSZ on every line, so a resize
/// applies from the next one. Checked on a pseudo-terminal this test makes (no terminal needed),
/// then end to end with a terminal resized while a run draws its line.
@Suite(.serialized) struct TerminalWidthTests {
    /// A pseudo-terminal pair from /dev/ptmx, neither becoming the controlling terminal. (Glibc's
    /// module does not export posix_openpt and friends: unlockpt and ptsname are these two ioctls,
    /// _IOW('T', 0x31, int) and _IOR('T', 0x30, unsigned int) in the kernel's generic encoding.)
    func pseudoTerminal() throws -> (master: Int32, slave: Int32) {
        let TIOCSPTLCK: UInt = 0x4004_5431, TIOCGPTN: UInt = 0x8004_5430
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0, "open /dev/ptmx: errno \(errno)")
        var unlock: Int32 = 0, number: UInt32 = 0
        try #require(ioctl(master, TIOCSPTLCK, &unlock) == 0 && ioctl(master, TIOCGPTN, &number) == 0, "errno \(errno)")
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        try #require(slave >= 0, "open /dev/pts/\(number): errno \(errno)")
        return (master, slave)
    }

    func resize(_ fd: Int32, columns: UInt16) {
        var ws = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &ws) { ioctl(fd, UInt(TIOCSWINSZ), $0) }
    }

    @Test func theWidthIsReadAfreshOnEveryCall() throws {
        let (master, slave) = try pseudoTerminal()
        defer { close(master); close(slave) }
        resize(master, columns: 132)
        #expect(Terminal.columns(of: slave) == 132)
        resize(master, columns: 47)
        #expect(Terminal.columns(of: slave) == 47, "a resize applies from the next call")
        // Not a terminal: the environment's COLUMNS (the test runner sets none, or a number), else 80.
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(Terminal.windowColumns(fds[1]) == nil)
        let env = getenv("COLUMNS").map { String(cString: $0) }.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        #expect(Terminal.columns(of: fds[1]) == (env ?? 80))
    }

    static let scriptMissing = !FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

    @Test(.enabled(if: !scriptMissing, "needs script(1) from util-linux for a pseudo-terminal"))
    func theLiveLineFollowsAResizeDuringTheRun() throws {
        let server = try TargetServer.start(mode: .acceptClose, listen: SocketAddress(ip: "127.0.0.1", port: 0)!)
        defer { server.stop() }
        // 140 columns, then 50 from 2.5 s into a 5 s run (stty on the same terminal: the kernel
        // sends SIGWINCH to the run); the marker line tells the lines before from those after.
        let run = ([CLIProcess.binary.path, "run", server.address.description, "--rate", "200", "-d", "5s", "--close", "server"])
            .joined(separator: " ")
        let command = "stty cols 140 rows 24; (sleep 2.5; stty cols 50 < /dev/tty; echo; echo RESIZED) & exec \(run)"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "COLUMNS" }
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        let halves = text.components(separatedBy: "RESIZED")
        try #require(halves.count == 2, "\(text)")
        func drawn(_ part: String) -> [String] {
            part.components(separatedBy: "\r\u{1B}[2K").dropFirst().map { $0.components(separatedBy: "\r\n")[0] }
                .map { $0.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression) }
                .filter { $0.contains("attempts") }
        }
        let before = drawn(halves[0]), after = drawn(halves[1])
        #expect(!before.isEmpty && before.allSatisfy { $0.count < 140 }, "\(before)")
        #expect(before.contains { $0.count >= 50 }, "at 140 columns the line is wider than 50: \(before)")
        #expect(after.count >= 1, "lines drawn after the resize: \(text)")
        for line in after { #expect(line.count < 50, "\(line.count) columns after the resize to 50: \(line)") }
    }
}
