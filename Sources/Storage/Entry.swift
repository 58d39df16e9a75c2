import RESP
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// glibc's malloc_usable_size (malloc.h is not in Swift's Glibc module).
@usableFromInline @_silgen_name("malloc_usable_size")
func mallocUsableSize(_ p: UnsafeMutableRawPointer) -> Int

/// The Redis type of a value. Strings are stored inline in the entry; the
/// other types hang off it as objects with their own compact encodings.
public enum ValueType: UInt8, Sendable {
    case string = 0, list = 1, set = 2, zset = 3, hash = 4, stream = 5

    public var name: StaticString {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        case .hash: return "hash"
        case .stream: return "stream"
        }
    }
}

/// How an entry's payload is stored.
public enum Payload: UInt8, Sendable {
    /// varint length + bytes (OBJECT ENCODING says embstr or raw by length).
    case bytes = 0
    /// A string that is a canonical 64-bit integer, stored as 8 bytes.
    case int = 1
    /// A retained object for list/set/zset/hash/stream values.
    case object = 2
}

/// Objects behind non-string values implement this; the entry keeps them
/// retained and releases them when it is freed.
public protocol ValueObject: AnyObject {
    var encodingName: StaticString { get }
    func copy() -> ValueObject
    /// Bytes allocated for the value beyond the entry: the object's own
    /// block and every block it owns.
    var allocatedBytes: Int { get }
    /// `allocatedBytes`, or an estimate from at most `samples` elements
    /// (nodes, fields) for encodings that can only count by walking them:
    /// MEMORY USAGE's SAMPLES bound, as Redis's objectComputeSize.
    func sampledBytes(samples: Int) -> Int
    /// Roughly how many allocations freeing it takes (Redis's
    /// lazyfreeGetFreeEffort); above `LazyFree.threshold` it is freed in
    /// the background. O(1).
    var freeEffort: Int { get }
}

extension ValueObject {
    public var freeEffort: Int { 1 }
    public func sampledBytes(samples: Int) -> Int { allocatedBytes }
}

/// One key and its value in a single malloc block, so a small string key
/// costs one allocation and no pointers beyond the table slot.
///
///     0      type (low nibble) | payload kind (high nibble)
///     1      flags: bit 0 = has expiry (1..3: below)
///     2..4   LRU clock, seconds, 24 bits (OBJECT IDLETIME)
///     [5..12 expire-at ms, 13..16 index in the keyspace's expiry list]
///     varint key length, key bytes
///     payload: varint length + bytes | 8-byte Int64 | 8-byte object pointer
public struct Entry: Equatable {
    public let raw: UnsafeMutableRawPointer

    @inlinable public init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    @inlinable public var type: ValueType { ValueType(rawValue: raw.load(as: UInt8.self) & 0x0F)! }
    @inlinable public var payload: Payload { Payload(rawValue: raw.load(as: UInt8.self) >> 4)! }
    @inlinable public var hasExpire: Bool { raw.load(fromByteOffset: 1, as: UInt8.self) & 1 != 0 }

    /// Flags bit 1: a `.bytes` string that Redis would hold as a "raw" sds
    /// whatever its length (APPEND and SETRANGE results), so OBJECT ENCODING
    /// says raw, not embstr. Copies (withExpire, copy) keep it.
    @inlinable public var isRawString: Bool {
        get { raw.load(fromByteOffset: 1, as: UInt8.self) & 2 != 0 }
        nonmutating set {
            let f = raw.load(fromByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: newValue ? f | 2 : f & ~2, toByteOffset: 1, as: UInt8.self)
        }
    }

    /// Flags bit 2: an int string that Redis would hold as a private object
    /// rather than one of its shared integers 0..9999 (COPY duplicates the
    /// object), so OBJECT REFCOUNT says 1. Copies keep it; setIntValue clears it.
    @inlinable public var isUnsharedInt: Bool {
        get { raw.load(fromByteOffset: 1, as: UInt8.self) & 4 != 0 }
        nonmutating set {
            let f = raw.load(fromByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: newValue ? f | 4 : f & ~4, toByteOffset: 1, as: UInt8.self)
        }
    }

    /// Flags bit 3: the background snapshot's mark. An entry whose mark
    /// differs from its keyspace's `snapParity` is not yet in the running
    /// snapshot (Storage/KeyspaceSnapshot.swift). Copies do not keep it:
    /// whoever installs an entry sets it.
    @inlinable public var snapMark: Bool {
        get { raw.load(fromByteOffset: 1, as: UInt8.self) & 8 != 0 }
        nonmutating set {
            let f = raw.load(fromByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: newValue ? f | 8 : f & ~8, toByteOffset: 1, as: UInt8.self)
        }
    }

    @inlinable public var expireAt: Int64 {
        get { hasExpire ? raw.loadUnaligned(fromByteOffset: 5, as: Int64.self) : -1 }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 5, as: Int64.self) }
    }

    @inlinable var expireIndex: Int {
        get { Int(raw.loadUnaligned(fromByteOffset: 13, as: UInt32.self)) }
        nonmutating set { raw.storeBytes(of: UInt32(truncatingIfNeeded: newValue), toByteOffset: 13, as: UInt32.self) }
    }

    @inlinable public var lru: UInt32 {
        get {
            UInt32(raw.load(fromByteOffset: 2, as: UInt8.self))
                | UInt32(raw.load(fromByteOffset: 3, as: UInt8.self)) << 8
                | UInt32(raw.load(fromByteOffset: 4, as: UInt8.self)) << 16
        }
        nonmutating set {
            raw.storeBytes(of: UInt8(truncatingIfNeeded: newValue), toByteOffset: 2, as: UInt8.self)
            raw.storeBytes(of: UInt8(truncatingIfNeeded: newValue >> 8), toByteOffset: 3, as: UInt8.self)
            raw.storeBytes(of: UInt8(truncatingIfNeeded: newValue >> 16), toByteOffset: 4, as: UInt8.self)
        }
    }

    @inlinable var keyOffset: Int { hasExpire ? 17 : 5 }

    @inlinable public var key: UnsafeBufferPointer<UInt8> {
        var off = keyOffset
        let len = readVarint(raw, &off)
        return UnsafeBufferPointer(start: (raw + off).assumingMemoryBound(to: UInt8.self), count: len)
    }

    @inlinable var payloadOffset: Int {
        var off = keyOffset
        let len = readVarint(raw, &off)
        return off + len
    }

    /// The bytes of a `.bytes` payload.
    @inlinable public var bytes: UnsafeBufferPointer<UInt8> {
        var off = payloadOffset
        let len = readVarint(raw, &off)
        return UnsafeBufferPointer(start: (raw + off).assumingMemoryBound(to: UInt8.self), count: len)
    }

    @inlinable public var intValue: Int { raw.loadUnaligned(fromByteOffset: payloadOffset, as: Int.self) }

    /// Overwrites an int payload in place (INCR on an int-encoded value).
    @inlinable public func setIntValue(_ v: Int) {
        raw.storeBytes(of: v, toByteOffset: payloadOffset, as: Int.self)
        isUnsharedInt = false   // Redis gives an INCR result a shared integer when it can
    }

    public var object: ValueObject {
        let bits = raw.loadUnaligned(fromByteOffset: payloadOffset, as: UInt.self)
        return Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).takeUnretainedValue() as! ValueObject
    }

    /// The object behind an `.object` payload as its concrete class, without
    /// a dynamic cast: the caller knows the class from `type`.
    @inlinable public func objectRef<T: AnyObject>(_: T.Type) -> T {
        let bits = raw.loadUnaligned(fromByteOffset: payloadOffset, as: UInt.self)
        return Unmanaged<T>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).takeUnretainedValue()
    }

    /// A compact collection's payload (type other than string, `.bytes` payload).
    @inlinable public var compact: CompactPayload { CompactPayload(self) }

    /// The value's length as a string (STRLEN), formatting ints on the fly.
    @inlinable public var stringLength: Int {
        switch payload {
        case .bytes: return bytes.count
        case .int:
            var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
            return withUnsafeMutableBytes(of: &tmp) { formatDecimal(intValue, into: $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        case .object: return 0
        }
    }

    /// Calls `body` with the string value's bytes, formatting ints on the stack.
    @inlinable public func withStringBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if payload == .int {
            var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
            return withUnsafeMutableBytes(of: &tmp) { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let n = formatDecimal(intValue, into: p)
                return body(UnsafeBufferPointer(start: p, count: n))
            }
        }
        return body(bytes)
    }

    @inlinable public func keyEquals(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let k = key
        return k.count == n && memcmp(k.baseAddress!, p, n) == 0
    }

    // MARK: building

    public static func sizeFor(keyLen: Int, payload: Payload, valueLen: Int, expire: Bool) -> Int {
        var s = (expire ? 17 : 5) + varintSize(keyLen) + keyLen
        switch payload {
        case .bytes: s += varintSize(valueLen) + valueLen
        case .int, .object: s += 8
        }
        return s
    }

    /// Allocates an entry and copies the key in; the caller writes the value
    /// at the returned payload offset.
    @inlinable
    public static func allocate(type: ValueType, key: UnsafePointer<UInt8>, keyLen: Int, payload: Payload,
                                valueLen: Int, expireAt: Int64, lru: UInt32) -> (Entry, Int) {
        let hasExp = expireAt >= 0
        let size = sizeFor(keyLen: keyLen, payload: payload, valueLen: valueLen, expire: hasExp)
        let raw = malloc(size)!
        raw.storeBytes(of: type.rawValue | payload.rawValue << 4, as: UInt8.self)
        raw.storeBytes(of: hasExp ? 1 : 0, toByteOffset: 1, as: UInt8.self)
        let e = Entry(raw)
        e.lru = lru
        var off = 5
        if hasExp {
            raw.storeBytes(of: expireAt, toByteOffset: 5, as: Int64.self)
            raw.storeBytes(of: UInt32(0), toByteOffset: 13, as: UInt32.self)
            off = 17
        }
        writeVarint(raw, &off, keyLen)
        if keyLen > 0 { (raw + off).copyMemory(from: key, byteCount: keyLen) }
        off += keyLen
        if payload == .bytes { writeVarint(raw, &off, valueLen) }
        return (e, off)
    }

    /// SET over an existing string: rewrites the value inside the same block
    /// when it fits (and no expiry is involved), saving a malloc and a free.
    /// The block is kept only when it is not much bigger than needed, so a
    /// small value never pins a big allocation. False: allocate a new entry.
    @inlinable
    public func overwriteString(_ value: UnsafePointer<UInt8>, _ n: Int, lru: UInt32) -> Bool {
        let head = raw.load(as: UInt8.self)
        guard head & 0x0F == ValueType.string.rawValue, head >> 4 != Payload.object.rawValue,
              raw.load(fromByteOffset: 1, as: UInt8.self) & 1 == 0 else { return false }
        let off = payloadOffset
        let usable = mallocUsableSize(raw)
        // Only the snapshot mark survives: the entry stays what the running snapshot knows of it.
        let flags = raw.load(fromByteOffset: 1, as: UInt8.self) & 8
        if n <= 20, let iv = parseStrictInt(value, n) {
            let need = off + 8
            guard usable >= need, usable <= need * 2 + 32 else { return false }
            raw.storeBytes(of: ValueType.string.rawValue | Payload.int.rawValue << 4, as: UInt8.self)
            raw.storeBytes(of: flags, toByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: iv, toByteOffset: off, as: Int.self)
        } else {
            let need = off + varintSize(n) + n
            guard usable >= need, usable <= need * 2 + 32 else { return false }
            raw.storeBytes(of: ValueType.string.rawValue | Payload.bytes.rawValue << 4, as: UInt8.self)
            raw.storeBytes(of: flags, toByteOffset: 1, as: UInt8.self)
            var o = off
            writeVarint(raw, &o, n)
            if n > 0 { (raw + o).copyMemory(from: value, byteCount: n) }
        }
        if !AccessTracking.lfu.load(ordering: .relaxed) { self.lru = lru }
        return true
    }

    @inlinable
    public static func makeString(key: UnsafePointer<UInt8>, keyLen: Int, value: UnsafePointer<UInt8>?, valueLen: Int,
                                  expireAt: Int64, lru: UInt32, tryInt: Bool = true) -> Entry {
        // Values that look like canonical integers are stored as 8 bytes, as Redis does.
        if tryInt, valueLen <= 20, let v = value, let n = parseStrictInt(v, valueLen) {
            return makeInt(key: key, keyLen: keyLen, value: n, expireAt: expireAt, lru: lru)
        }
        let (e, off) = allocate(type: .string, key: key, keyLen: keyLen, payload: .bytes, valueLen: valueLen,
                                expireAt: expireAt, lru: lru)
        if valueLen > 0, let v = value { (e.raw + off).copyMemory(from: v, byteCount: valueLen) }
        return e
    }

    @inlinable
    public static func makeInt(key: UnsafePointer<UInt8>, keyLen: Int, value: Int, expireAt: Int64, lru: UInt32) -> Entry {
        let (e, off) = allocate(type: .string, key: key, keyLen: keyLen, payload: .int, valueLen: 8,
                                expireAt: expireAt, lru: lru)
        e.raw.storeBytes(of: value, toByteOffset: off, as: Int.self)
        return e
    }

    public static func makeObject(type: ValueType, key: UnsafePointer<UInt8>, keyLen: Int, object: ValueObject,
                                  expireAt: Int64, lru: UInt32) -> Entry {
        let (e, off) = allocate(type: type, key: key, keyLen: keyLen, payload: .object, valueLen: 8,
                                expireAt: expireAt, lru: lru)
        let bits = UInt(bitPattern: Unmanaged<AnyObject>.passRetained(object).toOpaque())
        e.raw.storeBytes(of: bits, toByteOffset: off, as: UInt.self)
        return e
    }

    /// A new entry for a compact collection with room for a `length`-byte
    /// payload at the returned offset.
    @inlinable
    public static func makeCompact(type: ValueType, key: UnsafePointer<UInt8>, keyLen: Int, length: Int,
                                   expireAt: Int64, lru: UInt32) -> (Entry, Int) {
        allocate(type: type, key: key, keyLen: keyLen, payload: .bytes, valueLen: length, expireAt: expireAt, lru: lru)
    }

    /// The same key and value with a different expiry (the block size changes).
    public func withExpire(_ at: Int64) -> Entry {
        let k = key
        let e: Entry
        switch payload {
        case .bytes:
            let b = bytes
            let (n, off) = Entry.allocate(type: type, key: k.baseAddress!, keyLen: k.count, payload: .bytes,
                                          valueLen: b.count, expireAt: at, lru: lru)
            if b.count > 0 { (n.raw + off).copyMemory(from: b.baseAddress!, byteCount: b.count) }
            if isRawString { n.isRawString = true }
            e = n
        case .int:
            e = Entry.makeInt(key: k.baseAddress!, keyLen: k.count, value: intValue, expireAt: at, lru: lru)
            if isUnsharedInt { e.isUnsharedInt = true }
        case .object:
            let (n, off) = Entry.allocate(type: type, key: k.baseAddress!, keyLen: k.count, payload: .object,
                                          valueLen: 8, expireAt: at, lru: lru)
            // The object moves to the new block; free() of the old one must not release it.
            n.raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: payloadOffset, as: UInt.self), toByteOffset: off, as: UInt.self)
            raw.storeBytes(of: raw.load(as: UInt8.self) & 0x0F, as: UInt8.self)
            e = n
        }
        return e
    }

    /// A copy under another key (RENAME, COPY, MOVE), keeping or dropping expiry.
    public func copy(newKey: UnsafePointer<UInt8>, _ newKeyLen: Int, expireAt: Int64, shareObject: Bool) -> Entry {
        switch payload {
        case .bytes:
            let b = bytes
            let (n, off) = Entry.allocate(type: type, key: newKey, keyLen: newKeyLen, payload: .bytes,
                                          valueLen: b.count, expireAt: expireAt, lru: lru)
            if b.count > 0 { (n.raw + off).copyMemory(from: b.baseAddress!, byteCount: b.count) }
            if isRawString { n.isRawString = true }
            return n
        case .int:
            let n = Entry.makeInt(key: newKey, keyLen: newKeyLen, value: intValue, expireAt: expireAt, lru: lru)
            if isUnsharedInt { n.isUnsharedInt = true }
            return n
        case .object:
            let o = shareObject ? object : object.copy()
            return Entry.makeObject(type: type, key: newKey, keyLen: newKeyLen, object: o, expireAt: expireAt, lru: lru)
        }
    }

    /// Resizes a `.bytes` string payload to `newLen` bytes with realloc, so
    /// APPEND and SETRANGE can grow a big value without copying it every time.
    /// Keeps the key, TTL, LRU and the first min(old, new) value bytes; bytes
    /// past the old length are uninitialised. The block may move: the caller
    /// must store the returned entry in the table slot in place of this one,
    /// and must not use this on an entry with an expiry (the keyspace's expiry
    /// list holds its address).
    public func resizedString(_ newLen: Int) -> Entry {
        precondition(payload == .bytes && !hasExpire)
        let start = payloadOffset
        var off = start
        let oldLen = readVarint(raw, &off)
        let oldHead = off - start
        let newHead = varintSize(newLen)
        let keep = min(oldLen, newLen)
        let newSize = start + newHead + newLen
        var p = raw
        if newHead < oldHead {
            // Shift the value down before the block shrinks (or stays).
            if keep > 0 { memmove(p + start + newHead, p + start + oldHead, keep) }
            p = realloc(p, max(newSize, 1))!
        } else {
            p = realloc(p, max(newSize, start + oldHead + keep))!
            if newHead > oldHead && keep > 0 {
                memmove(p + start + newHead, p + start + oldHead, keep)
            }
        }
        var w = start
        writeVarint(p, &w, newLen)
        return Entry(p)
    }

    /// Frees the block, releasing an owned object (a big one in the background).
    public func free() {
        if payload == .object {
            let bits = raw.loadUnaligned(fromByteOffset: payloadOffset, as: UInt.self)
            if object.freeEffort > LazyFree.threshold {
                LazyFree.shared.release(bits)
            } else {
                Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release()
            }
        }
        Glibc.free(raw)
    }
}

@inlinable func varintSize(_ v: Int) -> Int {
    var n = 1
    var x = UInt(v) >> 7
    while x != 0 { n += 1; x >>= 7 }
    return n
}

/// LEB128-style varints: entry lengths (Int) and stream ID deltas (UInt64) share one coder.
@inlinable func writeIDVarint(_ p: UnsafeMutableRawPointer, _ off: inout Int, _ v: UInt64) {
    var x = v
    while x >= 0x80 {
        p.storeBytes(of: UInt8(truncatingIfNeeded: x) | 0x80, toByteOffset: off, as: UInt8.self)
        x >>= 7
        off += 1
    }
    p.storeBytes(of: UInt8(x), toByteOffset: off, as: UInt8.self)
    off += 1
}

@inlinable func readIDVarint(_ p: UnsafeMutableRawPointer, _ off: inout Int) -> UInt64 {
    var b = p.load(fromByteOffset: off, as: UInt8.self)
    off += 1
    if b < 0x80 { return UInt64(b) }
    var x = UInt64(b & 0x7F)
    var s: UInt64 = 7
    repeat {
        b = p.load(fromByteOffset: off, as: UInt8.self)
        off += 1
        x |= UInt64(b & 0x7F) << s
        s += 7
    } while b >= 0x80
    return x
}

@inlinable func writeVarint(_ p: UnsafeMutableRawPointer, _ off: inout Int, _ v: Int) {
    writeIDVarint(p, &off, UInt64(UInt(v)))
}

@inlinable func readVarint(_ p: UnsafeMutableRawPointer, _ off: inout Int) -> Int {
    Int(readIDVarint(p, &off))
}

