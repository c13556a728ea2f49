import Dispatch
import Glibc
import PortstormEngine

/// Turns SIGINT, SIGTERM and SIGHUP (the terminal closed) into stop requests: the first drains,
/// the second cancels what is in flight. Either way the command ends normally and writes its outputs.
final class SignalWatch: @unchecked Sendable {
    static let stopSignals = [SIGINT, SIGTERM, SIGHUP]
    private var sources: [DispatchSourceSignal] = []

    init(control: RunControl, onSignal: @escaping @Sendable (Int) -> Void) {
        for sig in Self.stopSignals {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                control.escalate()
                onSignal(control.level)
            }
            s.resume()
            sources.append(s)
        }
    }

    func cancel() {
        for s in sources { s.cancel() }
        for sig in Self.stopSignals { signal(sig, SIG_DFL) }
    }
}
