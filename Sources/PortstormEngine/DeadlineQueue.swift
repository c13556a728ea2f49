/// Deadlines of one kind (connect, or answer), in the order they were set. Every attempt of a run
/// gets the same timeout, so deadlines fall due in insertion order and a FIFO replaces a timer per
/// operation: the worker looks at the head and cancels only operations that really overran.
///
/// Entries are not removed when their operation completes; an entry whose slot has moved on (its
/// epoch changed) is skipped when it reaches the head. Growth doubles the buffer (amortized; never
/// per attempt once warm).
public struct DeadlineQueue {
    public struct Entry: Sendable {
        public var dueNs: UInt64
        public var slot: Int32
        /// The slot's epoch when the deadline was set; the worker finds the operation to cancel
        /// from the slot's phase when the deadline falls due.
        public var epoch: UInt32

        public init(dueNs: UInt64, slot: Int32, epoch: UInt32) {
            self.dueNs = dueNs
            self.slot = slot
            self.epoch = epoch
        }
    }

    private var buffer: UnsafeMutablePointer<Entry>
    private var capacity: Int
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        var c = 64
        while c < capacity { c <<= 1 }
        self.capacity = c
        buffer = .allocate(capacity: c)
    }

    public func deallocate() { buffer.deallocate() }

    @inline(__always)
    public mutating func push(_ e: Entry) {
        if count == capacity { grow() }
        buffer[(head + count) & (capacity - 1)] = e
        count += 1
    }

    @inline(__always)
    public var first: Entry? { count > 0 ? buffer[head] : nil }

    @inline(__always)
    public mutating func popFirst() {
        head = (head + 1) & (capacity - 1)
        count -= 1
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
        for i in 0..<count { bigger[i] = buffer[(head + i) & (capacity - 1)] }
        buffer.deallocate()
        buffer = bigger
        head = 0
        capacity *= 2
    }
}
