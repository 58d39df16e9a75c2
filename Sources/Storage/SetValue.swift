import RESP
#if canImport(Glibc)
import Glibc
#endif

/// The scalable set encoding (OBJECT ENCODING "hashtable"): a `HashTable`
/// whose entries are the members, each an `Entry` keyed by the member with an
/// empty payload. A set arrives here from an intset, never goes back, and is
/// walked in table order (SMEMBERS, SSCAN), as Redis walks its dict.
public final class SetValue: ValueObject {
    public private(set) var table: HashTable
    /// malloc's size of every member entry, so MEMORY USAGE costs no walk.
    public private(set) var memberBytes = 0

    /// Room for `capacity` members without a rehash.
    public init(capacity: Int = 0) {
        table = HashTable(capacity: capacity + capacity / 4 + 1)
    }

    deinit {
        let t = table
        for i in 0..<t.capacity where t.isLive(i) { t.entry(at: i).free() }
        t.deallocate()
    }

    public var encodingName: StaticString { "hashtable" }

    public var allocatedBytes: Int { objectBlockSize(self) + table.capacity * 8 + memberBytes }

    /// One free per member, as Redis counts a dict-encoded set.
    public var freeEffort: Int { table.count }

    public func copy() -> ValueObject {
        let c = SetValue(capacity: count)
        for i in 0..<table.capacity where table.isLive(i) {
            let k = table.entry(at: i).key
            c.add(k.baseAddress!, k.count)
        }
        return c
    }

    @inlinable public var count: Int { table.count }

    /// The slot holding member `p[0..<n]`, or -1.
    @inlinable public func find(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        table.find(p, n, hash: hashBytes(p, n))
    }

    @inlinable public func contains(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool { find(p, n) >= 0 }

    /// Whether the decimal form of `v` is a member.
    public func contains(int v: Int) -> Bool {
        withDecimal(v) { contains($0, $1) }
    }

    /// Adds a member; false when it was there already.
    @discardableResult
    public func add(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let h = hashBytes(p, n)
        if table.find(p, n, hash: h) >= 0 { return false }
        let e = Entry.makeString(key: p, keyLen: n, value: nil, valueLen: 0, expireAt: -1, lru: 0, tryInt: false)
        memberBytes += mallocUsableSize(e.raw)
        table.insert(e, hash: h)
        return true
    }

    /// Adds the decimal form of `v`.
    @discardableResult
    public func add(int v: Int) -> Bool {
        withDecimal(v) { add($0, $1) }
    }

    /// Removes a member; false when it was not there.
    @discardableResult
    public func remove(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let s = find(p, n)
        if s < 0 { return false }
        remove(slot: s)
        return true
    }

    /// Removes the member in a live slot. The table may shrink: other slots
    /// found before are stale afterwards.
    public func remove(slot s: Int) {
        let e = table.entry(at: s)
        memberBytes -= mallocUsableSize(e.raw)
        table.remove(at: s)
        e.free()
    }

    /// The member in a live slot.
    @inlinable public func member(at s: Int) -> UnsafeBufferPointer<UInt8> { table.entry(at: s).key }

    @inlinable public func isLive(_ s: Int) -> Bool { table.isLive(s) }

    /// Slots to walk with `isLive`, in table order.
    @inlinable public var capacity: Int { table.capacity }

    /// A uniformly chosen live slot (-1 when empty).
    @inlinable public func randomSlot<G: RandomNumberGenerator>(using g: inout G) -> Int {
        if table.count == 0 { return -1 }
        let m = UInt64(table.capacity - 1)
        while true {
            let s = Int(truncatingIfNeeded: g.next() & m)
            if table.isLive(s) { return s }
        }
    }

    /// SSCAN's step: the members whose home bucket is `cursor`'s, then the
    /// next cursor (0 when the walk is done).
    @inlinable public func scan(_ cursor: UInt64, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> UInt64 {
        table.scan(cursor) { body($0.key) }
    }
}

/// Calls `body` with the decimal text of `v`, formatted on the stack.
@inlinable public func withDecimal<R>(_ v: Int, _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return withUnsafeMutableBytes(of: &tmp) { raw in
        let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let n = formatDecimal(v, into: p)
        return body(UnsafePointer(p), n)
    }
}
