#if canImport(Glibc)
import Glibc
#endif

/// A hash past its compact limits (OBJECT ENCODING "hashtable"): each field
/// is an `Entry` whose key is the field and whose payload is the value, in
/// the keyspace's own open-addressing table, so one field costs one malloc
/// block and one slot. Values stay bytes (never int-encoded): replies must
/// give back exactly what was stored.
public final class HashValue: ValueObject {
    public private(set) var table: HashTable

    public init(capacity: Int = 16) {
        // The table grows past 4/5 load: size for `capacity` fields up front.
        table = HashTable(capacity: capacity + capacity / 4 + 1)
    }

    /// The scalable form of a compact hash (Redis's hashTypeConvert).
    public convenience init(_ c: CompactHash) {
        self.init(capacity: c.count)
        var it = c.pairs
        while let (f, v) = it.next() { _ = set(f.baseAddress, f.count, v.baseAddress, v.count) }
    }

    public convenience init(_ c: CompactHashEditor) {
        self.init(capacity: c.count)
        var it = c.pairs
        while let (f, v) = it.next() { _ = set(f.baseAddress, f.count, v.baseAddress, v.count) }
    }

    deinit {
        table.removeAll()
        table.deallocate()
    }

    public var encodingName: StaticString { "hashtable" }

    @inlinable public var count: Int { table.count }

    public func copy() -> ValueObject {
        let h = HashValue(capacity: count)
        for i in 0..<table.capacity where table.isLive(i) {
            let e = table.entry(at: i)
            let f = e.key, v = e.bytes
            _ = h.set(f.baseAddress, f.count, v.baseAddress, v.count)
        }
        return h
    }

    public var allocatedBytes: Int { sampledBytes(samples: .max) }

    /// The slot of `field`, or -1.
    @inlinable public func find(_ f: UnsafePointer<UInt8>, _ n: Int) -> Int {
        table.find(f, n, hash: hashBytes(f, n))
    }

    @inlinable public func get(_ f: UnsafePointer<UInt8>, _ n: Int) -> UnsafeBufferPointer<UInt8>? {
        let s = find(f, n)
        return s < 0 ? nil : table.entry(at: s).bytes
    }

    @inlinable public func field(at slot: Int) -> UnsafeBufferPointer<UInt8> { table.entry(at: slot).key }
    @inlinable public func value(at slot: Int) -> UnsafeBufferPointer<UInt8> { table.entry(at: slot).bytes }

    /// Sets `field` to `value`; true when the field is new.
    public func set(_ f: UnsafePointer<UInt8>?, _ fn: Int, _ v: UnsafePointer<UInt8>?, _ vn: Int) -> Bool {
        let fp = f ?? UnsafePointer(bitPattern: 1)!
        let h = hashBytes(fp, fn)
        let s = table.find(fp, fn, hash: h)
        if s >= 0 {
            replaceValue(at: s, v, vn)
            return false
        }
        let e = Entry.makeString(key: fp, keyLen: fn, value: v, valueLen: vn, expireAt: -1, lru: 0, tryInt: false)
        table.insert(e, hash: h)
        return true
    }

    /// Rewrites the value in the field's own block when it fits (and the
    /// block is not much bigger than needed), else swaps in a new block.
    public func replaceValue(at s: Int, _ v: UnsafePointer<UInt8>?, _ vn: Int) {
        let e = table.entry(at: s)
        let off = e.payloadOffset
        let need = off + varintSize(vn) + vn
        let usable = mallocUsableSize(e.raw)
        if usable >= need && usable <= need * 2 + 32 {
            var w = off
            writeVarint(e.raw, &w, vn)
            if vn > 0, let v { (e.raw + w).copyMemory(from: v, byteCount: vn) }
            return
        }
        let k = e.key
        let n = Entry.makeString(key: k.baseAddress!, keyLen: k.count, value: v, valueLen: vn, expireAt: -1, lru: 0,
                                 tryInt: false)
        table.replace(at: s, with: n)
        e.free()
    }

    /// Removes `field`; false when it was not there.
    public func delete(_ f: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let s = find(f, n)
        if s < 0 { return false }
        let e = table.entry(at: s)
        table.remove(at: s)
        e.free()
        return true
    }

    /// A random live slot, or -1 when empty. The table is kept at least a
    /// tenth full (it shrinks on delete), so this takes a few draws.
    @inlinable public func randomSlot<G: RandomNumberGenerator>(using g: inout G) -> Int {
        if table.count == 0 { return -1 }
        while true {
            let i = Int.random(in: 0...table.mask, using: &g)
            if table.isLive(i) { return i }
        }
    }

    /// Live slots, for walks in table order (HGETALL, HKEYS, HVALS).
    @inlinable public var slotCount: Int { table.capacity }
    @inlinable public func isLive(_ i: Int) -> Bool { table.isLive(i) }

    /// One SCAN step (Redis's reverse-binary cursor over home buckets).
    @inlinable public func scan(_ cursor: UInt64, _ body: (Entry) -> Void) -> UInt64 { table.scan(cursor, body) }
}
