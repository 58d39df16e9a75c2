#if canImport(Glibc)
import Glibc
#endif

/// Open-addressing table of entry pointers with linear probing.
///
/// A slot is 8 bytes: 0 = empty, 1 = tombstone, otherwise the entry pointer
/// with 16 bits of its hash in the unused top bits, so most misses never touch
/// the entry. Deletes leave tombstones rather than shifting entries back, so an
/// entry never moves while the table keeps its size: that, plus SCAN walking
/// home buckets in Redis's reverse-binary order, keeps SCAN's guarantee across
/// resizes.
public struct HashTable {
    public private(set) var slots: UnsafeMutablePointer<UInt64>
    public private(set) var mask: Int
    public private(set) var count: Int = 0
    /// Live entries plus tombstones: what probe lengths depend on.
    @usableFromInline var filled: Int = 0
    /// Bumped whenever entries move (rehash, removeAll): a walk in slot
    /// order (the background snapshot) must start over then.
    public private(set) var moves = 0

    public static let empty: UInt64 = 0
    public static let tomb: UInt64 = 1
    public static let ptrMask: UInt64 = 0x0000_FFFF_FFFF_FFFF

    public init(capacity: Int = 16) {
        var c = 16
        while c < capacity { c <<= 1 }
        slots = .allocate(capacity: c)
        slots.initialize(repeating: 0, count: c)
        mask = c - 1
    }

    public var capacity: Int { mask + 1 }

    @inlinable static func tag(_ h: UInt64) -> UInt64 { h & ~ptrMask }

    @inlinable public func entry(at i: Int) -> Entry {
        Entry(UnsafeMutableRawPointer(bitPattern: UInt(slots[i] & HashTable.ptrMask))!)
    }

    @inlinable public func isLive(_ i: Int) -> Bool { slots[i] > 1 }

    /// The slot holding `key`, or -1.
    @inlinable
    public func find(_ key: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64) -> Int {
        let t = HashTable.tag(h)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s == 0 { return -1 }
            if s & ~HashTable.ptrMask == t && s != 1 {
                let e = Entry(UnsafeMutableRawPointer(bitPattern: UInt(s & HashTable.ptrMask))!)
                if e.keyEquals(key, n) { return i }
            }
            i = (i + 1) & mask
        }
    }

    /// Puts a new entry (its key must be absent) and returns its slot.
    @discardableResult
    public mutating func insert(_ e: Entry, hash h: UInt64) -> Int {
        if (filled + 1) * 5 > capacity * 4 { rehash(count + 1) }
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] > 1 { i = (i + 1) & mask }
        if slots[i] == 0 { filled += 1 }
        slots[i] = HashTable.tag(h) | UInt64(UInt(bitPattern: e.raw))
        count += 1
        return i
    }

    /// Swaps the entry in a live slot (its key must be the same).
    @inlinable public mutating func replace(at i: Int, with e: Entry) {
        slots[i] = (slots[i] & ~HashTable.ptrMask) | UInt64(UInt(bitPattern: e.raw))
    }

    /// Empties a slot; the caller frees the entry.
    public mutating func remove(at i: Int) {
        count -= 1
        // A slot followed by an empty one ends no probe chain: clear it (and
        // any tombstones before it) instead of leaving a tombstone.
        if slots[(i + 1) & mask] == 0 {
            slots[i] = 0
            filled -= 1
            var j = (i - 1) & mask
            while slots[j] == 1 {
                slots[j] = 0
                filled -= 1
                j = (j - 1) & mask
            }
        } else {
            slots[i] = 1
        }
        if count * 10 < capacity && capacity > 64 { rehash(count) }
    }

    /// Rebuilds at the smallest power of two that keeps load under 1/2.
    mutating func rehash(_ want: Int) {
        var c = 16
        while c < want * 2 { c <<= 1 }
        let old = slots
        let oldCap = capacity
        slots = .allocate(capacity: c)
        slots.initialize(repeating: 0, count: c)
        mask = c - 1
        filled = 0
        moves &+= 1
        for j in 0..<oldCap where old[j] > 1 {
            let e = Entry(UnsafeMutableRawPointer(bitPattern: UInt(old[j] & HashTable.ptrMask))!)
            let k = e.key
            let h = hashBytes(k.baseAddress!, k.count)
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = old[j]
            filled += 1
        }
        old.deallocate()
    }

    /// Frees every entry and shrinks back to the minimum.
    public mutating func removeAll() {
        for j in 0..<capacity where slots[j] > 1 { entry(at: j).free() }
        slots.deallocate()
        slots = .allocate(capacity: 16)
        slots.initialize(repeating: 0, count: 16)
        mask = 15
        count = 0
        filled = 0
        moves &+= 1
    }

    public func deallocate() { slots.deallocate() }

    /// Calls `body` with every entry whose home bucket is `cursor & mask`,
    /// then returns the next cursor in reverse-binary order (0 when done).
    public func scan(_ cursor: UInt64, _ body: (Entry) -> Void) -> UInt64 {
        let m = UInt64(mask)
        let home = Int(cursor & m)
        var i = home
        while slots[i] != 0 {
            if slots[i] > 1 {
                let e = entry(at: i)
                let k = e.key
                if Int(truncatingIfNeeded: hashBytes(k.baseAddress!, k.count)) & mask == home { body(e) }
            }
            i = (i + 1) & mask
            if i == home { break }
        }
        var v = cursor | ~m
        v = v.bitSwapped
        v &+= 1
        return v.bitSwapped
    }

    /// A random live slot, or -1 when empty.
    public func randomSlot<G: RandomNumberGenerator>(using g: inout G) -> Int {
        if count == 0 { return -1 }
        while true {
            let i = Int.random(in: 0...mask, using: &g)
            if slots[i] > 1 { return i }
        }
    }
}

extension UInt64 {
    @inlinable var bitSwapped: UInt64 {
        var v = self
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}
