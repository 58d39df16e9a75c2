/// Per lock key, how many parts hold it shared and exclusively: an
/// open-addressing table (linear probing, backward-shift deletion) keyed by
/// the key's 64-bit hash, which `LockKey` already is. A Dictionary hashed
/// that hash again with SipHash, twice per key on acquire and twice on
/// release (four SipHash runs per key of every cross-shard MGET part).
/// Storage grows at half full and never shrinks, like the Dictionary did.
struct LockCounts {
    private var keys: UnsafeMutablePointer<UInt64>
    /// Shared and exclusive counts of a slot; 0 and 0: the slot is free.
    private var shared: UnsafeMutablePointer<Int32>
    private var exclusive: UnsafeMutablePointer<Int32>
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        var cap = 8
        while cap < capacity { cap <<= 1 }
        (keys, shared, exclusive) = Self.slots(cap)
        mask = cap - 1
    }

    /// `cap` free slots.
    private static func slots(_ cap: Int)
        -> (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) {
        let k = UnsafeMutablePointer<UInt64>.allocate(capacity: cap)
        let s = UnsafeMutablePointer<Int32>.allocate(capacity: cap)
        let x = UnsafeMutablePointer<Int32>.allocate(capacity: cap)
        k.initialize(repeating: 0, count: cap)
        s.initialize(repeating: 0, count: cap)
        x.initialize(repeating: 0, count: cap)
        return (k, s, x)
    }

    /// The owner (LockTable's deinit) frees the storage: a struct has no deinit.
    func deallocate() {
        keys.deallocate()
        shared.deallocate()
        exclusive.deallocate()
    }

    @inline(__always) private func used(_ i: Int) -> Bool { shared[i] != 0 || exclusive[i] != 0 }
    @inline(__always) private func home(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h ^ (h >> 29)) & mask }

    /// Slot holding `h`, or -1.
    @inline(__always) func find(_ h: UInt64) -> Int {
        var i = home(h)
        while used(i) {
            if keys[i] == h { return i }
            i = (i + 1) & mask
        }
        return -1
    }

    /// (shared, exclusive) holds of `h`.
    func counts(_ h: UInt64) -> (Int, Int) {
        let i = find(h)
        return i < 0 ? (0, 0) : (Int(shared[i]), Int(exclusive[i]))
    }

    mutating func add(_ h: UInt64, exclusive x: Bool) {
        if (count + 1) * 2 > mask + 1 { grow() }
        var i = home(h)
        while used(i) {
            if keys[i] == h { break }
            i = (i + 1) & mask
        }
        if !used(i) {
            keys[i] = h
            count += 1
        }
        if x { exclusive[i] += 1 } else { shared[i] += 1 }
    }

    /// Drops one hold; a key held no more leaves the table. False when
    /// `h` held nothing.
    @discardableResult
    mutating func remove(_ h: UInt64, exclusive x: Bool) -> Bool {
        let i = find(h)
        if i < 0 { return false }
        if x { exclusive[i] -= 1 } else { shared[i] -= 1 }
        if !used(i) { vacate(i) }
        return true
    }

    /// Backward-shift deletion: later entries of the run move into the gap
    /// unless their home lies cyclically in (gap, their slot].
    private mutating func vacate(_ slot: Int) {
        count -= 1
        var gap = slot
        var j = slot
        while true {
            j = (j + 1) & mask
            if !used(j) { break }
            let hj = home(keys[j])
            let stays = gap <= j ? (gap < hj && hj <= j) : (gap < hj || hj <= j)
            if stays { continue }
            keys[gap] = keys[j]
            shared[gap] = shared[j]
            exclusive[gap] = exclusive[j]
            shared[j] = 0
            exclusive[j] = 0
            gap = j
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldShared = shared, oldExclusive = exclusive, oldCap = mask + 1
        (keys, shared, exclusive) = Self.slots(oldCap * 2)
        mask = oldCap * 2 - 1
        for i in 0..<oldCap where oldShared[i] != 0 || oldExclusive[i] != 0 {
            var k = home(oldKeys[i])
            while used(k) { k = (k + 1) & mask }
            keys[k] = oldKeys[i]
            shared[k] = oldShared[i]
            exclusive[k] = oldExclusive[i]
        }
        oldKeys.deallocate()
        oldShared.deallocate()
        oldExclusive.deallocate()
    }
}
