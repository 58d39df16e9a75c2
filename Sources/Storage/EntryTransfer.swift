/// Moving one entry between shards (cross-shard RENAME, RENAMENX, COPY).
///
/// The source shard serialises the entry into a blob (`exportEntry`), the
/// blob travels in a reply, and the destination shard rebuilds an entry from
/// it (`importEntry`). Blob layout, little-endian:
///
///     0        ValueType raw value
///     1        Payload raw value
///     2        string flags: bit 0 = `isRawString`, bit 1 = `isUnsharedInt`
///     3..10    expire-at ms, Int64 (-1 = no expiry)
///     11..14   LRU clock, UInt32 (kept, as RENAME keeps the Redis object)
///     15..     value: .bytes = the bytes (length = rest of blob)
///                     .int = 8-byte Int64
///                     .object = 8-byte pointer bits of a retained object
///
/// Objects: the exporter deep-copies the object on the source shard's
/// thread and retains the copy, so the two shards never share a mutable
/// object; `importEntry` adopts that retain. A blob holding an object must
/// therefore be imported exactly once, or the copy leaks.

public enum EntryTransfer {
    public static let headerSize = 15
}

/// Serialises `e` (its key is not included: the importer names the key).
public func exportEntry(_ e: Entry) -> [UInt8] {
    var out: [UInt8] = []
    let h = EntryTransfer.headerSize
    switch e.payload {
    case .bytes: out.reserveCapacity(h + e.bytes.count)
    case .int, .object: out.reserveCapacity(h + 8)
    }
    out.append(e.type.rawValue)
    out.append(e.payload.rawValue)
    var flags: UInt8 = 0
    if e.payload == .bytes && e.isRawString { flags |= 1 }
    if e.payload == .int && e.isUnsharedInt { flags |= 2 }
    out.append(flags)
    appendLE(&out, UInt64(bitPattern: e.expireAt))
    appendLE(&out, UInt64(e.lru), bytes: 4)
    switch e.payload {
    case .bytes:
        out.append(contentsOf: e.bytes)
    case .int:
        appendLE(&out, UInt64(bitPattern: Int64(e.intValue)))
    case .object:
        let copy = e.object.copy()
        let bits = UInt(bitPattern: Unmanaged<AnyObject>.passRetained(copy).toOpaque())
        appendLE(&out, UInt64(bits))
    }
    return out
}

/// Rebuilds an entry named `key` from an `exportEntry` blob. The caller owns
/// the result (free it, or store it in a keyspace).
public func importEntry(_ blob: UnsafeBufferPointer<UInt8>, key: UnsafePointer<UInt8>, keyLen: Int) -> Entry {
    precondition(blob.count >= EntryTransfer.headerSize, "entry blob too short")
    let type = ValueType(rawValue: blob[0])!
    let payload = Payload(rawValue: blob[1])!
    let expireAt = Int64(bitPattern: readLE(blob, 3, 8))
    let lru = UInt32(truncatingIfNeeded: readLE(blob, 11, 4))
    let body = EntryTransfer.headerSize
    switch payload {
    case .bytes where type != .string:
        // A compact collection: its payload bytes as they were.
        let n = blob.count - body
        let (e, off) = Entry.makeCompact(type: type, key: key, keyLen: keyLen, length: n, expireAt: expireAt, lru: lru)
        if n > 0 { (e.raw + off).copyMemory(from: blob.baseAddress! + body, byteCount: n) }
        return e
    case .bytes:
        let n = blob.count - body
        // tryInt: false keeps the exported encoding (an embstr "12" stays bytes).
        let e = Entry.makeString(key: key, keyLen: keyLen, value: blob.baseAddress! + body, valueLen: n,
                                 expireAt: expireAt, lru: lru, tryInt: false)
        if blob[2] & 1 != 0 { e.isRawString = true }
        return e
    case .int:
        precondition(blob.count >= body + 8, "entry blob too short")
        let e = Entry.makeInt(key: key, keyLen: keyLen, value: Int(Int64(bitPattern: readLE(blob, body, 8))),
                              expireAt: expireAt, lru: lru)
        if blob[2] & 2 != 0 { e.isUnsharedInt = true }
        return e
    case .object:
        precondition(blob.count >= body + 8, "entry blob too short")
        let bits = UInt(readLE(blob, body, 8))
        let (e, off) = Entry.allocate(type: type, key: key, keyLen: keyLen, payload: .object, valueLen: 8,
                                      expireAt: expireAt, lru: lru)
        // Adopt the exporter's retain: no passRetained here.
        e.raw.storeBytes(of: bits, toByteOffset: off, as: UInt.self)
        return e
    }
}

@inline(__always) private func appendLE(_ out: inout [UInt8], _ v: UInt64, bytes: Int = 8) {
    for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: v >> (UInt64(i) * 8))) }
}

@inline(__always) private func readLE(_ b: UnsafeBufferPointer<UInt8>, _ off: Int, _ n: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<n { v |= UInt64(b[off + i]) << (UInt64(i) * 8) }
    return v
}
