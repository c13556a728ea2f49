import Foundation
import PortstormAnalysis
import PortstormRecord
import PortstormRender
import PortstormTestSupport
import Testing

/// Headless Chromium, when installed (Debian: `apt-get install chromium`; .ci/run installs it).
enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first(where: FileManager.default.isExecutableFile)

    /// Runs chromium headless on a file at a window size; its standard output, nil when it failed or
    /// took longer than 90 s (then it is ended).
    static func run(_ file: URL, width: Int, height: Int, extra: [String]) throws -> String? {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-chromium-\(getpid())-\(Int.random(in: 0..<1_000_000))")
        defer { try? FileManager.default.removeItem(at: profile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path!)
        // --no-sandbox: the tests run as root under `make test`; the page is a local file without network.
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio",
                       "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)"] + extra + [file.absoluteString]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = DispatchTime.now() + .seconds(90)
        DispatchQueue.global().asyncAfter(deadline: deadline) { if p.isRunning { p.terminate() } }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationReason == .exit && p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}

/// The reports laid out by a real browser at a desktop and a phone width: screenshots taken, and
/// the layout measured by a script added to a copy of the page (the report itself has none).
@Suite(.serialized, .enabled(if: Chromium.path != nil, "chromium is not installed (apt-get install chromium)"))
struct ReportScreenshotTests {
    /// Finds what looked wrong: the page wider than the window, a chart wider than its column, a
    /// chart's text outside its viewBox (cut), or two of a chart's labels on top of each other.
    static let layoutCheck = """
    <script>
    (function () {
      const out = [];
      const root = document.documentElement;
      if (root.scrollWidth > window.innerWidth + 1) out.push("page " + root.scrollWidth + "px wide in a " + window.innerWidth + "px window");
      document.querySelectorAll("svg.chart").forEach(function (svg, i) {
        const vb = svg.viewBox.baseVal;
        if (svg.getBoundingClientRect().right > window.innerWidth + 1) out.push("chart " + i + " runs past the window");
        const boxes = [];
        svg.querySelectorAll("text").forEach(function (t) {
          const b = t.getBBox();
          if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5)
            out.push("chart " + i + ": '" + t.textContent + "' cut at the edge");
          boxes.push([t.textContent, b]);
        });
        for (let a = 0; a < boxes.length; a++) for (let c = a + 1; c < boxes.length; c++) {
          const p = boxes[a][1], q = boxes[c][1];
          if (p.x + 1 < q.x + q.width && q.x + 1 < p.x + p.width && p.y + 1 < q.y + q.height && q.y + 1 < p.y + p.height)
            out.push("chart " + i + ": '" + boxes[a][0] + "' overlaps '" + boxes[c][0] + "'");
        }
      });
      document.body.setAttribute("data-layout", out.length ? out.join(" | ") : "ok");
    })();
    </script>
    """

    static func pages() -> [(name: String, html: String)] {
        let sub = literalRecord([LiteralSecond(ok: 240, portsInUse: 240, timeWait: 200)],
                                config: RunConfig(target: "127.0.0.1:8080", rate: 400, durationSeconds: 0.6))
        return [("exhaustion", ReportFormat.html.render(exhaustionRecord())), ("sub-second", ReportFormat.html.render(sub)),
                ("plan", ReportFormat.html.render(portsPlan())), ("tls", ReportFormat.html.render(tlsRunRecord()))]
    }

    /// PORTSTORM_SCREENSHOTS=DIR keeps the screenshots there to look at; else they go to a scratch folder.
    @Test(arguments: [1280, 390])
    func reportsLayOutCleanly(width: Int) throws {
        let keep = ProcessInfo.processInfo.environment["PORTSTORM_SCREENSHOTS"]
        let dir = keep.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("portstorm-shots-\(getpid())-\(width)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
        for (name, html) in Self.pages() {
            let page = dir.appendingPathComponent("\(name).html"), probe = dir.appendingPathComponent("\(name)-probe.html")
            try html.write(to: page, atomically: true, encoding: .utf8)
            try html.replacingOccurrences(of: "</body>", with: Self.layoutCheck + "</body>").write(to: probe, atomically: true, encoding: .utf8)

            let shot = dir.appendingPathComponent("\(name)-\(width).png")
            _ = try Chromium.run(page, width: width, height: 2400, extra: ["--screenshot=\(shot.path)"])
            let png = try Data(contentsOf: shot)
            #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47]), "\(name): a PNG")
            #expect(png.count > 24 && png[16..<20].reduce(0) { $0 << 8 | Int($1) } == width, "\(name): the screenshot is \(width) px wide")

            let dom = try #require(try Chromium.run(probe, width: width, height: 2400, extra: ["--dump-dom"]), "\(name): chromium failed")
            let verdict = dom.components(separatedBy: "data-layout=\"").dropFirst().first?.components(separatedBy: "\"").first
            #expect(verdict == "ok", "\(name) at \(width) px: \(verdict ?? "the check did not run")")
        }
    }
}
