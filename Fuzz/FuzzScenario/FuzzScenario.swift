import Foundation
import FuzzDriver
import Glibc

/// libFuzzer entry point over the scenario parser (`Scenario.load`, the same file the executable
/// compiles, linked here): any bytes as a scenario file are parsed or refused with an InputError;
/// a trap is a bug. The file goes through /dev/shm because the parser reads a path, as the CLI does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenario(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let path = ScenarioFile.path
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: start, count: count)) else { return 0 }
    if let s = try? Scenario.load(path) {
        _ = (s.name, s.description)
        switch s.kind {
        case .lab(let name): _ = name.count
        case .run(let args, let serve), .ramp(let args, let serve): _ = (args.count, serve?.mode, serve?.listen)
        }
    }
    return 0
}

enum ScenarioFile {
    static let path = "/dev/shm/portstorm-fuzz-scenario-\(getpid()).yaml"
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver, with the target above.
@_cdecl("FuzzScenario_main")
public func fuzzScenarioMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    portstorm_fuzz_run(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzScenario(UnsafeRawPointer(data), size)
    }
}
