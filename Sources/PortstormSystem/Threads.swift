import Glibc

/// A joinable OS thread (pthread_create): rings created with SINGLE_ISSUER must stay on the
/// thread that made them, so each worker gets a dedicated thread, not the cooperative pool.
public final class OSThread: @unchecked Sendable {
    private var handle = pthread_t()

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    public init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to end (pthread_join).
    public func join() { pthread_join(handle, nil) }
}
