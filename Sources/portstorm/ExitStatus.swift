import ArgumentParser
import PortstormEngine
import PortstormLab
import PortstormSystem

/// Exit statuses (sysexits.h where one fits), the one table the help and the README list.
enum ExitStatus {
    static let success: Int32 = 0
    /// A lab or a doctor check did not end as expected.
    static let notAsExpected: Int32 = 1
    /// diagnose: the target fails, or a problem or warning was found (the same status as above).
    static let targetFails: Int32 = notAsExpected
    static let usage: Int32 = 64
    static let unavailable: Int32 = 69
    static let cannotWrite: Int32 = 73
    /// Standard output was closed early (as in `| head`): the summary was cut short.
    static let outputClosed: Int32 = 74
    /// A `--threshold` failed (k6's code for the same thing).
    static let thresholdFailed: Int32 = 99
    static let interrupted: Int32 = 130

    /// Status and meaning, in the order the help prints them.
    static let table: [(Int32, String)] = [
        (success, "done (a run counts failed connections as data, not as an error)"),
        (notAsExpected, "diagnose found the target failing, doctor a problem, or a lab did not end as expected"),
        (usage, "bad input: flags, a scenario file, or a record that is not a readable portstorm.run/2 record"),
        (unavailable, "cannot start: io_uring unavailable, the open-file limit too low, or a server port taken"),
        (cannotWrite, "an output file (-o, --report) cannot be written; checked before the run starts"),
        (outputClosed, "standard output was closed early (| head): output cut short, files still written"),
        (thresholdFailed, "run: a --threshold failed (each is printed with its measured value and kept in the record)"),
        (interrupted, "stopped by Ctrl-C, SIGTERM or SIGHUP: the summary and the record are still written"),
    ]

    static var helpText: String {
        "Exit status:\n" + HelpText.list(table.map { (String($0.0), $0.1) })
    }

    /// The one mapping from a typed error to a status.
    static func of(_ error: Error) -> Int32? {
        switch error {
        case let e as CLIError:
            switch e {
            case .usage: return usage
            case .unavailable: return unavailable
            case .cannotWrite: return cannotWrite
            }
        case let e as CommandEnd:
            switch e {
            case .notAsExpected: return notAsExpected
            case .targetFails: return targetFails
            case .thresholdFailed: return thresholdFailed
            case .interrupted: return interrupted
            }
        case is InputError: return usage
        case is EngineError, is RingUnavailable, is LabRunUnavailable: return unavailable
        case is LabError: return notAsExpected
        default: return nil
        }
    }

    /// The sentence printed for a typed error (nil: ArgumentParser's own errors and exit codes,
    /// and a `CommandEnd`, whose command has printed why).
    static func message(_ error: Error) -> String? {
        switch error {
        case let e as CLIError: return e.message
        case let e as InputError: return e.message
        case let e as EngineError: return e.description
        case let e as RingUnavailable: return e.description
        case let e as LabError: return e.description
        case let e as LabRunUnavailable: return e.description
        default: return nil
        }
    }
}
