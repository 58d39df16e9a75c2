/// Fast non-cryptographic 64-bit hash over raw key bytes (multiply-mix over
/// 8-byte words, then a murmur3 finaliser). Placement and table probing use it.
@inlinable
public func hashBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    let k: UInt64 = 0x9E37_79B9_7F4A_7C15
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ (UInt64(truncatingIfNeeded: n) &* k)
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 8 <= n {
        let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* k
        h = (h << 31) | (h >> 33)
        i += 8
    }
    if i < n {
        var w: UInt64 = 0
        var s: UInt64 = 0
        while i < n {
            w |= UInt64(p[i]) << s
            s += 8
            i += 1
        }
        h = (h ^ w) &* k
        h = (h << 31) | (h >> 33)
    }
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h = h &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 33
    return h
}

/// The bytes that decide a key's shard: the `{tag}` if the key has a
/// non-empty one, as in Redis Cluster, so related keys can share a shard.
@inlinable
public func placementBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> (UnsafePointer<UInt8>, Int) {
    var s = 0
    while s < n && p[s] != 123 /* { */ { s += 1 }
    if s == n { return (p, n) }
    var e = s + 1
    while e < n && p[e] != 125 /* } */ { e += 1 }
    if e == n || e == s + 1 { return (p, n) }
    return (p + s + 1, e - s - 1)
}

/// The shard that owns a key.
@inlinable
public func shardOf(_ p: UnsafePointer<UInt8>, _ n: Int, shards: Int) -> Int {
    if shards == 1 { return 0 }
    let (tp, tn) = placementBytes(p, n)
    // Use the high half so shard choice stays independent of the bucket bits.
    return Int((hashBytes(tp, tn) >> 32) % UInt64(shards))
}
