/// A worker's fixed table of attempt slots and the stack of free ones. It owns both buffers: it
/// cannot be copied, and frees them when it goes (after the worker has closed its ring, which may
/// still complete requests naming these slots).
struct SlotTable: ~Copyable {
    /// The slots, `capacity` of them; a slot's index is also its socket's index in the ring's
    /// fixed-file table on the ring path.
    let slots: UnsafeMutablePointer<Slot>
    let capacity: Int
    private let freeList: UnsafeMutablePointer<Int32>
    private(set) var freeCount: Int

    init(capacity n: Int) {
        capacity = n
        slots = .allocate(capacity: n)
        slots.initialize(repeating: Slot(), count: n)
        freeList = .allocate(capacity: n)
        // Lowest index first.
        for i in 0..<n { freeList[i] = Int32(n - 1 - i) }
        freeCount = n
    }

    deinit {
        slots.deallocate()
        freeList.deallocate()
    }

    /// A free slot's index; the caller checked `freeCount > 0`.
    @inline(__always)
    mutating func take() -> Int {
        precondition(freeCount > 0, "no free slot")
        freeCount -= 1
        return Int(freeList[freeCount])
    }

    /// Gives slot `i` back, once every completion owed for it has come.
    @inline(__always)
    mutating func give(_ i: Int) {
        freeList[freeCount] = Int32(i)
        freeCount += 1
    }
}
