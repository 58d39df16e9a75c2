#if canImport(Glibc)
import Glibc
#endif

/// A small hash stored inline in its entry (OBJECT ENCODING "listpack"):
/// the entry's compact payload holds field, value, field, value... as packed
/// elements, in insertion order, which is the order Redis's listpack keeps
/// and so the order HGETALL and HKEYS reply in. The payload's element count
/// is twice the number of fields.
public struct CompactHash {
    public let payload: CompactPayload

    @inlinable public init(_ e: Entry) { payload = CompactPayload(e) }

    /// Fields held (HLEN).
    @inlinable public var count: Int { payload.count >> 1 }

    @inlinable public var base: UnsafePointer<UInt8> { payload.base }

    /// The field/value pairs in order.
    @inlinable public var pairs: CompactHashPairs { CompactHashPairs(payload.elements) }

    /// Where `field` is, or nil.
    @inlinable
    public func find(_ f: UnsafePointer<UInt8>, _ n: Int) -> CompactHashHit? {
        compactHashFind(payload.base, from: payload.first, end: payload.end, f, n)
    }

    /// The value of `field`, or nil.
    @inlinable
    public func get(_ f: UnsafePointer<UInt8>, _ n: Int) -> UnsafeBufferPointer<UInt8>? {
        find(f, n)?.value
    }
}

/// A field found in a packed run: byte offsets of the field's element, of
/// its value's element and of the end of the pair, and the value's bytes.
public struct CompactHashHit {
    public let fieldAt: Int
    public let valueAt: Int
    public let end: Int
    public let value: UnsafeBufferPointer<UInt8>

    @inlinable init(fieldAt: Int, valueAt: Int, end: Int, value: UnsafeBufferPointer<UInt8>) {
        self.fieldAt = fieldAt
        self.valueAt = valueAt
        self.end = end
        self.value = value
    }
}

/// Walks field/value pairs from `from` to `end`, comparing only fields.
@inlinable
public func compactHashFind(_ base: UnsafePointer<UInt8>, from: Int, end: Int,
                            _ f: UnsafePointer<UInt8>, _ n: Int) -> CompactHashHit? {
    let raw = UnsafeMutableRawPointer(mutating: base)
    var pos = from
    while pos < end {
        let fieldAt = pos
        let fl = readVarint(raw, &pos)
        let match = fl == n && (n == 0 || memcmp(base + pos, f, n) == 0)
        pos += fl
        let valueAt = pos
        let vl = readVarint(raw, &pos)
        let v = pos
        pos += vl
        if match {
            return CompactHashHit(fieldAt: fieldAt, valueAt: valueAt, end: pos,
                                  value: UnsafeBufferPointer(start: base + v, count: vl))
        }
    }
    return nil
}

/// Iterates (field, value) pairs of a packed run.
public struct CompactHashPairs {
    public var it: PackedIterator

    @inlinable public init(_ it: PackedIterator) { self.it = it }

    @inlinable
    public mutating func next() -> (field: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>)? {
        guard let f = it.next(), let v = it.next() else { return nil }
        return (f, v)
    }
}

/// Edits a compact hash in a caller-provided buffer (a stack or scratch
/// allocation sized for the result), so a multi-field HSET or HDEL builds
/// its result once and the entry is rebuilt once.
public struct CompactHashEditor {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    /// Bytes of packed elements held.
    public internal(set) var used: Int
    /// Fields held.
    public internal(set) var count: Int

    /// Starts from `source`'s pairs (nil: empty). `capacity` must cover the
    /// source's element bytes plus every pair that will be added.
    public init(buffer: UnsafeMutableRawPointer, capacity: Int, copying source: CompactHash?) {
        base = buffer
        self.capacity = capacity
        if let s = source {
            let n = s.payload.elementBytes
            precondition(n <= capacity)
            if n > 0 { buffer.copyMemory(from: s.payload.base + s.payload.first, byteCount: n) }
            used = n
            count = s.count
        } else {
            used = 0
            count = 0
        }
    }

    @inlinable var bytes: UnsafePointer<UInt8> { UnsafePointer(base.assumingMemoryBound(to: UInt8.self)) }

    @inlinable
    public func find(_ f: UnsafePointer<UInt8>, _ n: Int) -> CompactHashHit? {
        compactHashFind(bytes, from: 0, end: used, f, n)
    }

    @inlinable public var pairs: CompactHashPairs { CompactHashPairs(PackedIterator(bytes, from: 0, end: used)) }

    /// Sets `field` to `value`; true when the field is new (appended at the
    /// end, as listpack appends), false when its value was replaced in place.
    @discardableResult
    public mutating func set(_ f: UnsafePointer<UInt8>?, _ fn: Int, _ v: UnsafePointer<UInt8>?, _ vn: Int) -> Bool {
        let fp = f ?? UnsafePointer(bitPattern: 1)!
        if let hit = find(fp, fn) {
            let oldLen = hit.end - hit.valueAt
            let newLen = packedSize(vn)
            precondition(used - oldLen + newLen <= capacity)
            if newLen != oldLen && hit.end < used {
                memmove(base + hit.valueAt + newLen, base + hit.end, used - hit.end)
            }
            var w = hit.valueAt
            writePacked(base, &w, v, vn)
            used += newLen - oldLen
            return false
        }
        precondition(used + packedSize(fn) + packedSize(vn) <= capacity)
        writePacked(base, &used, f, fn)
        writePacked(base, &used, v, vn)
        count += 1
        return true
    }

    /// Removes `field`; false when it was not there.
    public mutating func delete(_ f: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        guard let hit = find(f, n) else { return false }
        if hit.end < used { memmove(base + hit.fieldAt, base + hit.end, used - hit.end) }
        used -= hit.end - hit.fieldAt
        count -= 1
        return true
    }

    /// Bytes of the compact payload `write` produces.
    @inlinable public var payloadLength: Int { varintSize(count * 2) + used }

    /// Writes the compact payload (element count, then the elements).
    @inlinable public func write(to p: UnsafeMutableRawPointer) {
        var off = 0
        writeVarint(p, &off, count * 2)
        if used > 0 { (p + off).copyMemory(from: base, byteCount: used) }
    }
}

/// Payload bytes for a compact hash with `fields` fields whose packed
/// elements take `elementBytes` bytes.
@inlinable public func compactHashPayloadLength(fields: Int, elementBytes: Int) -> Int {
    varintSize(fields * 2) + elementBytes
}

/// Writes a compact hash payload header (the element count) and returns
/// the offset where the elements start.
@inlinable public func compactHashWriteHeader(_ p: UnsafeMutableRawPointer, fields: Int) -> Int {
    var off = 0
    writeVarint(p, &off, fields * 2)
    return off
}

// MARK: one-field rewrites, straight from the old payload into the new entry

extension CompactHash {
    /// Overwrites the value at `hit` when the new value has the same length,
    /// so the entry keeps its block. The caller reports the change (WATCH).
    @inlinable
    public func overwriteValue(_ hit: CompactHashHit, _ v: UnsafePointer<UInt8>?, _ n: Int) {
        precondition(hit.value.count == n)
        if n > 0, let v { UnsafeMutableRawPointer(mutating: hit.value.baseAddress!).copyMemory(from: v, byteCount: n) }
    }

    /// Payload length once the value at `hit` becomes `n` bytes long.
    @inlinable public func lengthReplacing(_ hit: CompactHashHit, valueLength n: Int) -> Int {
        payload.end - (hit.end - hit.valueAt) + packedSize(n)
    }

    /// Writes this payload with the value at `hit` replaced.
    @inlinable
    public func writeReplacing(_ hit: CompactHashHit, _ v: UnsafePointer<UInt8>?, _ n: Int,
                               to p: UnsafeMutableRawPointer) {
        p.copyMemory(from: payload.base, byteCount: hit.valueAt)
        var w = hit.valueAt
        writePacked(p, &w, v, n)
        let tail = payload.end - hit.end
        if tail > 0 { (p + w).copyMemory(from: payload.base + hit.end, byteCount: tail) }
    }

    /// Payload length once a new `fn`-byte field with an `vn`-byte value is appended.
    @inlinable public func lengthAppending(fieldLength fn: Int, valueLength vn: Int) -> Int {
        compactHashPayloadLength(fields: count + 1, elementBytes: payload.elementBytes + packedSize(fn) + packedSize(vn))
    }

    /// Writes this payload plus one new pair at the end.
    @inlinable
    public func writeAppending(_ f: UnsafePointer<UInt8>?, _ fn: Int, _ v: UnsafePointer<UInt8>?, _ vn: Int,
                               to p: UnsafeMutableRawPointer) {
        var w = compactHashWriteHeader(p, fields: count + 1)
        let n = payload.elementBytes
        if n > 0 { (p + w).copyMemory(from: payload.base + payload.first, byteCount: n) }
        w += n
        writePacked(p, &w, f, fn)
        writePacked(p, &w, v, vn)
    }

    /// Payload length without the pair at `hit`.
    @inlinable public func lengthRemoving(_ hit: CompactHashHit) -> Int {
        compactHashPayloadLength(fields: count - 1, elementBytes: payload.elementBytes - (hit.end - hit.fieldAt))
    }

    /// Writes this payload without the pair at `hit`.
    @inlinable
    public func writeRemoving(_ hit: CompactHashHit, to p: UnsafeMutableRawPointer) {
        var w = compactHashWriteHeader(p, fields: count - 1)
        let head = hit.fieldAt - payload.first
        if head > 0 { (p + w).copyMemory(from: payload.base + payload.first, byteCount: head) }
        w += head
        let tail = payload.end - hit.end
        if tail > 0 { (p + w).copyMemory(from: payload.base + hit.end, byteCount: tail) }
    }

    /// A payload holding one pair (a new key).
    @inlinable public static func lengthOfOne(fieldLength fn: Int, valueLength vn: Int) -> Int {
        compactHashPayloadLength(fields: 1, elementBytes: packedSize(fn) + packedSize(vn))
    }

    @inlinable
    public static func writeOne(_ f: UnsafePointer<UInt8>?, _ fn: Int, _ v: UnsafePointer<UInt8>?, _ vn: Int,
                                to p: UnsafeMutableRawPointer) {
        var w = compactHashWriteHeader(p, fields: 1)
        writePacked(p, &w, f, fn)
        writePacked(p, &w, v, vn)
    }
}
