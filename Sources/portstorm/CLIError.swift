/// Why a command stopped short, as one sentence for the user. Commands throw these; only
/// `Portstorm.main` turns them into an exit status (`ExitStatus.of`).
enum CLIError: Error {
    /// Bad flags, a bad scenario file, or an input record that cannot be read or is not one.
    case usage(String)
    /// io_uring cannot be used, or the process's limits are too low to start.
    case unavailable(String)
    /// An output file cannot be written (checked before the run, or failed after it).
    case cannotWrite(String)

    var message: String {
        switch self {
        case .usage(let m), .unavailable(let m), .cannotWrite(let m): return m
        }
    }
}

/// How a command that did its work ended short of success: it has printed why (findings, a
/// failed threshold, a lab's verdict), so only the exit status is left to give. Commands throw
/// these; `ExitStatus.of` maps them.
enum CommandEnd: Error {
    /// A lab did not end as expected, or doctor found a problem.
    case notAsExpected
    /// diagnose: the target fails, or a problem or warning was found.
    case targetFails
    /// run: a --threshold failed.
    case thresholdFailed
    /// A stop signal ended the command early (its outputs are written).
    case interrupted
}
