import Foundation
import FuzzDriver
import PortstormAnalysis
import PortstormRecord
import PortstormRender

/// libFuzzer entry point over what `portstorm report` does with a record: decode and check it,
/// analyse it, render every format. A record is refused (an error) or rendered; a trap is a bug.
///
/// Two modes, by the first byte:
/// - `{`: the input is a record's JSON as it is (the corpus holds real records).
/// - anything else: structured. The numbers of a real record (BaseRecord.swift) are replaced, three
///   bytes per change (which number, then which value), by the values that break arithmetic:
///   0, 2^64-1, Int64.min, 1e308, -1, NaN-like extremes. Byte-level mutation of JSON rarely keeps
///   it valid; this mode reaches the analysis and the renderers on almost every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecord(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let json: Data
    if bytes.first == UInt8(ascii: "{") {
        json = Data(bytes)
    } else {
        guard let mutated = Structured.mutate(bytes) else { return 0 }
        json = mutated
    }
    guard let record = try? RunRecord.load(from: json) else {
        Tally.refused += 1
        return 0
    }
    for format in ReportFormat.allCases { _ = format.render(record) }
    _ = SummaryText.render(record)
    Tally.rendered += 1
    return 0
}

/// Inputs that loaded and went through every renderer, and inputs refused (bad JSON or bad values).
/// libFuzzer runs the target on one thread.
enum Tally {
    nonisolated(unsafe) static var rendered = 0
    nonisolated(unsafe) static var refused = 0
    static func print() {
        FileHandle.standardError.write(Data("FuzzRecord: \(rendered) inputs rendered in every format, \(refused) refused\n".utf8))
    }
}

enum Structured {
    /// Values that have broken arithmetic before, as JSON number literals.
    static let specials: [String] = [
        "0", "1", "-1", "2", "18446744073709551615", "18446744073709551614", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "4294967295", "65535", "65536", "9007199254740993", "1e308", "-1e308", "1.7976931348623157e308",
        "5e-324", "0.5", "-0.0", "1e15", "3600000001", "60", "1000000",
    ]

    /// The base record as a template: its text cut at every number (in a fixed order), and the
    /// numbers as written. Built once; each input then only swaps some numbers and joins.
    nonisolated(unsafe) static let template: (pieces: [String], numbers: [String]) = {
        let base = try! JSONSerialization.jsonObject(with: Data(baseRecordJSON.utf8))
        var numbers: [String] = []
        let marked = mark(base, &numbers)
        let text = String(decoding: try! JSONSerialization.data(withJSONObject: marked, options: [.sortedKeys]), as: UTF8.self)
        // Cut at the markers in the order they appear in the text (the serializer's key order).
        var pieces: [String] = [], inTextOrder: [String] = []
        var rest = Substring(text)
        while let r = rest.range(of: "\"@@") {
            let close = rest[r.upperBound...].range(of: "@@\"")!
            inTextOrder.append(numbers[Int(rest[r.upperBound..<close.lowerBound])!])
            pieces.append(String(rest[..<r.lowerBound]))
            rest = rest[close.upperBound...]
        }
        pieces.append(String(rest))
        numbers = inTextOrder
        return (pieces, numbers)
    }()

    /// Replaces every number of the tree by a marker string, collecting the numbers in order.
    static func mark(_ node: Any, _ numbers: inout [String]) -> Any {
        if let d = node as? [String: Any] {
            var out: [String: Any] = [:]
            for k in d.keys.sorted() { out[k] = mark(d[k]!, &numbers) }
            return out
        } else if let a = node as? [Any] {
            return a.map { mark($0, &numbers) }
        } else if let n = node as? NSNumber {
            numbers.append("\(n)")
            return "@@\(numbers.count - 1)@@"
        }
        return node
    }

    /// Three bytes per change: which number (two bytes), then which value (a special, or one
    /// derived from the byte). At most 16 changes.
    static func mutate(_ bytes: [UInt8]) -> Data? {
        var numbers = template.numbers
        guard !numbers.isEmpty else { return nil }
        var i = 1, changes = 0
        while i + 2 < bytes.count && changes < 16 {
            let leaf = (Int(bytes[i]) << 8 | Int(bytes[i + 1])) % numbers.count
            let pick = Int(bytes[i + 2])
            numbers[leaf] = pick < specials.count ? specials[pick] : String(Int64(pick) * Int64(pick) * 7919 - 100_000)
            i += 3
            changes += 1
        }
        var text = template.pieces[0]
        for (n, piece) in zip(numbers, template.pieces.dropFirst()) { text += n; text += piece }
        return Data(text.utf8)
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver, with the target above.
@_cdecl("FuzzRecord_main")
public func fuzzRecordMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    atexit { Tally.print() }
    return portstorm_fuzz_run(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzRecord(UnsafeRawPointer(data), size)
    }
}
