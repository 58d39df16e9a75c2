#if canImport(Glibc)
import Glibc
#endif

/// The packed element run behind every compact encoding (small hashes, sets
/// of strings, sorted sets, list nodes): each element is a varint length and
/// its bytes, back to back, so a small collection is one block with one or
/// two bytes of overhead per element, as Redis's listpack.
///
/// A compact collection stored in an entry keeps its payload as
/// `[varint element count][elements...]` (see `CompactPayload`).
public struct PackedIterator {
    public let base: UnsafePointer<UInt8>
    public let end: Int
    public var pos: Int

    @inlinable public init(_ base: UnsafePointer<UInt8>, from: Int, end: Int) {
        self.base = base
        self.pos = from
        self.end = end
    }

    /// Offset of the next element's varint, for callers that splice.
    @inlinable public var offset: Int { pos }

    @inlinable public var atEnd: Bool { pos >= end }

    @inlinable public mutating func next() -> UnsafeBufferPointer<UInt8>? {
        if pos >= end { return nil }
        var off = pos
        let n = readVarint(UnsafeMutableRawPointer(mutating: base), &off)
        pos = off + n
        return UnsafeBufferPointer(start: base + off, count: n)
    }

    /// Skips `k` elements.
    @inlinable public mutating func skip(_ k: Int) {
        for _ in 0..<k { _ = next() }
    }
}

/// Bytes one element takes in a packed run.
@inlinable public func packedSize(_ n: Int) -> Int { varintSize(n) + n }

/// Writes one element at `off` and advances it.
@inlinable public func writePacked(_ p: UnsafeMutableRawPointer, _ off: inout Int, _ src: UnsafePointer<UInt8>?, _ n: Int) {
    writeVarint(p, &off, n)
    if n > 0, let s = src { (p + off).copyMemory(from: s, byteCount: n) }
    off += n
}

@inlinable public func writePacked(_ p: UnsafeMutableRawPointer, _ off: inout Int, _ b: UnsafeBufferPointer<UInt8>) {
    writePacked(p, &off, b.baseAddress, b.count)
}

/// Public varint access for encoders outside Storage's entry layout.
@inlinable public func packedVarintSize(_ v: Int) -> Int { varintSize(v) }
@inlinable public func packedWriteVarint(_ p: UnsafeMutableRawPointer, _ off: inout Int, _ v: Int) { writeVarint(p, &off, v) }
@inlinable public func packedReadVarint(_ p: UnsafeRawPointer, _ off: inout Int) -> Int {
    readVarint(UnsafeMutableRawPointer(mutating: p), &off)
}

/// The payload of a compact collection inside its entry: an element count,
/// then the packed elements.
public struct CompactPayload {
    public let base: UnsafePointer<UInt8>
    public let count: Int
    /// Offset of the first element from `base`.
    public let first: Int
    public let end: Int

    @inlinable public init(_ e: Entry) {
        let b = e.bytes
        base = b.baseAddress ?? UnsafePointer(bitPattern: 8)!
        var off = 0
        count = b.count == 0 ? 0 : readVarint(UnsafeMutableRawPointer(mutating: base), &off)
        first = off
        end = b.count
    }

    @inlinable public var elements: PackedIterator { PackedIterator(base, from: first, end: end) }
    /// Bytes of the elements alone (without the count).
    @inlinable public var elementBytes: Int { end - first }
}

/// A growable malloc'd packed run: a quicklist node, or a scratch buffer an
/// encoder builds into. The owner calls `free()`.
public struct PackedBuffer {
    public private(set) var base: UnsafeMutableRawPointer?
    public private(set) var used = 0
    public private(set) var capacity = 0
    /// Elements held.
    public var count = 0

    public init() {}

    public init(capacity: Int) { reserve(capacity) }

    @inlinable public var bytes: UnsafePointer<UInt8> {
        UnsafePointer((base ?? UnsafeMutableRawPointer(bitPattern: 8)!).assumingMemoryBound(to: UInt8.self))
    }

    @inlinable public var elements: PackedIterator { PackedIterator(bytes, from: 0, end: used) }

    public mutating func reserve(_ n: Int) {
        if n <= capacity { return }
        var c = max(capacity, 16)
        while c < n { c = c < 4096 ? c * 2 : c + c / 2 }
        base = realloc(base, c)!
        capacity = c
    }

    /// Returns capacity beyond `used` to malloc (after a big shrink).
    public mutating func shrinkToFit() {
        guard capacity > used * 2 + 64, let b = base else { return }
        let c = max(used, 16)
        base = realloc(b, c)!
        capacity = c
    }

    public mutating func append(_ p: UnsafePointer<UInt8>?, _ n: Int) {
        reserve(used + packedSize(n))
        writePacked(base!, &used, p, n)
        count += 1
    }

    public mutating func append(_ b: UnsafeBufferPointer<UInt8>) { append(b.baseAddress, b.count) }

    /// Inserts one element at byte offset `off` (an element boundary).
    public mutating func insert(_ p: UnsafePointer<UInt8>?, _ n: Int, at off: Int) {
        let sz = packedSize(n)
        reserve(used + sz)
        if off < used { memmove(base! + off + sz, base! + off, used - off) }
        var w = off
        writePacked(base!, &w, p, n)
        used += sz
        count += 1
    }

    /// Removes `elements` elements occupying bytes `off ..< off+len`.
    public mutating func remove(at off: Int, length len: Int, elements k: Int) {
        if off + len < used { memmove(base! + off, base! + off + len, used - off - len) }
        used -= len
        count -= k
    }

    /// Replaces the element at `off` (of `oldLen` bytes in all) with `n` bytes.
    public mutating func replace(at off: Int, oldLength oldLen: Int, with p: UnsafePointer<UInt8>?, _ n: Int) {
        let sz = packedSize(n)
        if sz > oldLen { reserve(used + sz - oldLen) }
        if sz != oldLen && off + oldLen < used {
            memmove(base! + off + sz, base! + off + oldLen, used - off - oldLen)
        }
        var w = off
        writePacked(base!, &w, p, n)
        used += sz - oldLen
    }

    /// Raw bytes appended as they are (already packed elements).
    public mutating func appendRaw(_ p: UnsafeRawPointer, _ n: Int, elements k: Int) {
        reserve(used + n)
        if n > 0 { (base! + used).copyMemory(from: p, byteCount: n) }
        used += n
        count += k
    }

    public mutating func removeAll() {
        used = 0
        count = 0
    }

    public mutating func free() {
        Glibc.free(base)
        base = nil
        used = 0
        capacity = 0
        count = 0
    }

    /// malloc's real size of the block, for MEMORY USAGE.
    public var allocatedBytes: Int { base.map { mallocUsableSize($0) } ?? 0 }
}
