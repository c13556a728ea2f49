import Dispatch
import Glibc
import PortstormEngine

/// Turns SIGINT/SIGTERM into stop requests: the first drains, the second cancels what is in flight.
final class SignalWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(control: RunControl, onSignal: @escaping @Sendable (Int) -> Void) {
        for sig in [SIGINT, SIGTERM] {
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
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
