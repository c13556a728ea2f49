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
