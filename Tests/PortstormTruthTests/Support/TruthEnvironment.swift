import Foundation
import Glibc
import Testing

/// Whether the truth suite can run here, and why not. Checked once per test process.
enum TruthEnvironment {
    /// nil when namespaces can be made (root, iproute2, and `ip netns add` really works).
    static let unavailable: String? = {
        if geteuid() != 0 { return "the truth suite needs root: it creates network namespaces" }
        guard (try? Command.run(["ip", "-V"], timeout: 10))?.succeeded == true else {
            return "the truth suite needs iproute2's ip command (apt-get install iproute2)"
        }
        TruthNet.sweepLeftovers()
        let probe = "pst-truth-probe-\(getpid())"
        let add = try? Command.run(["ip", "netns", "add", probe], timeout: 10)
        _ = try? Command.run(["ip", "netns", "del", probe], timeout: 10)
        guard add?.succeeded == true else { return "'ip netns add' fails here: \(add?.stderr ?? "")" }
        guard FileManager.default.isExecutableFile(atPath: Portstorm.binary.path) else {
            return "the portstorm binary is not built beside the tests (swift build --build-tests)"
        }
        return nil
    }()

    static var ready: Bool { unavailable == nil }
    static var reason: Comment { Comment(rawValue: unavailable ?? "") }

    static let nftMissing: String? = {
        (try? Command.run(["nft", "--version"], timeout: 10))?.succeeded == true ? nil : "nft (nftables) is not installed"
    }()

    static let nginxPath = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Any python3 (for the small servers the suite writes itself).
    static let python: String? = {
        (try? Command.run(["python3", "-c", "pass"], timeout: 20))?.succeeded == true ? "python3" : nil
    }()

    /// A Python with the `cryptography` package (the TLS tests make an expired certificate with it).
    static let cryptographyPython: String? = {
        for python in ["python3", "/usr/bin/python3"] {
            if (try? Command.run([python, "-c", "import cryptography.x509"], timeout: 20))?.succeeded == true { return python }
        }
        return nil
    }()

    /// The openssl command (the TLS tests make their certificates with it).
    static let openssl: Bool = (try? Command.run(["openssl", "version"], timeout: 20))?.succeeded == true

    /// A Python that can import websockets: python3 from PATH (pip) or Debian's (python3-websockets).
    static let websocketsPython: String? = {
        for python in ["python3", "/usr/bin/python3"] {
            if (try? Command.run([python, "-c", "import websockets"], timeout: 20))?.succeeded == true { return python }
        }
        return nil
    }()
}

extension TruthEnvironment {
    static let straceMissing: String? = {
        (try? Command.run(["strace", "-V"], timeout: 10))?.succeeded == true ? nil : "strace is not installed (apt-get install strace)"
    }()

    /// The kernel's version as (major, minor), from uname(2).
    static let kernel: (Int, Int) = {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }()

    /// Sockets, options and bind can all run in the ring (IORING_OP_BIND is 6.11, the ring's
    /// setsockopt 6.7): portstorm must then take the ring path by default.
    static var kernelHasRingSockets: Bool { kernel >= (6, 11) }
}
