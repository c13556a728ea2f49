import Glibc

/// Lists inside help texts (exit statuses, labs), wrapped with a hanging indent to the width the
/// argument parser wraps to, so that it never has to break them: a continuation line then starts
/// under the description, not at the left margin. Paragraphs need none of this: they are written
/// as one line each (a backslash ends each source line) and the parser wraps them.
enum HelpText {
    /// The width ArgumentParser wraps help to: $COLUMNS, else the terminal on standard output, else 80.
    static var width: Int {
        if let text = getenv("COLUMNS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        var ws = winsize()
        if withUnsafeMutablePointer(to: &ws, { ioctl(1, UInt(TIOCGWINSZ), $0) }) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 80
    }

    /// "  name  description", the descriptions aligned after the longest name and wrapped under themselves.
    static func list(_ items: [(String, String)], width: Int = HelpText.width) -> String {
        let column = 2 + (items.map(\.0.count).max() ?? 0) + 2
        let room = max(20, width - 1 - column)
        return items.map { name, text in
            var lines: [String] = [], line = ""
            for word in text.split(separator: " ") {
                if !line.isEmpty && line.count + 1 + word.count > room { lines.append(line); line = "" }
                line += (line.isEmpty ? "" : " ") + word
            }
            lines.append(line)
            let pad = String(repeating: " ", count: column)
            let first = "  " + name + String(repeating: " ", count: column - 2 - name.count) + lines[0]
            return ([first] + lines.dropFirst().map { pad + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
