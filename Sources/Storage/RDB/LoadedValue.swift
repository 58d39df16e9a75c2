/// A value read from RDB, in the encoding RingKV keeps for it under the
/// current thresholds, not yet attached to a key.
public enum LoadedValue {
    case string([UInt8])
    /// A compact collection's inline payload (intset, listpack hash/zset).
    case compact(ValueType, [UInt8])
    case object(ValueType, ValueObject)

    public var type: ValueType {
        switch self {
        case .string: return .string
        case .compact(let t, _), .object(let t, _): return t
        }
    }

    /// The entry for `key`; the caller owns it.
    public func makeEntry(key: UnsafePointer<UInt8>, keyLen: Int, expireAt: Int64, lru: UInt32) -> Entry {
        switch self {
        case .string(let b):
            return b.withUnsafeBufferPointer {
                Entry.makeString(key: key, keyLen: keyLen, value: $0.baseAddress, valueLen: $0.count,
                                 expireAt: expireAt, lru: lru)
            }
        case .compact(let t, let p):
            let (e, off) = Entry.makeCompact(type: t, key: key, keyLen: keyLen, length: p.count, expireAt: expireAt, lru: lru)
            p.withUnsafeBytes { if $0.count > 0 { (e.raw + off).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            return e
        case .object(let t, let o):
            return Entry.makeObject(type: t, key: key, keyLen: keyLen, object: o, expireAt: expireAt, lru: lru)
        }
    }
}
