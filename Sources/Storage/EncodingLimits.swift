import Synchronization

/// The thresholds at which a collection leaves its compact encoding, with
/// Redis 7.0's directive names and defaults. Workers store them when the
/// config changes; encoders read them relaxed, so a CONFIG SET applies to
/// the next write, as in Redis.
public enum EncodingLimits {
    public static let hashMaxListpackEntries = Atomic<Int>(512)
    public static let hashMaxListpackValue = Atomic<Int>(64)
    public static let setMaxIntsetEntries = Atomic<Int>(512)
    public static let zsetMaxListpackEntries = Atomic<Int>(128)
    public static let zsetMaxListpackValue = Atomic<Int>(64)
    /// list-max-listpack-size: > 0 caps a quicklist node's entries, -1..-5
    /// caps its bytes at 4, 8, 16, 32 or 64 KiB.
    public static let listMaxListpackSize = Atomic<Int>(-2)
    public static let listCompressDepth = Atomic<Int>(0)
    /// hll-sparse-max-bytes: a sparse HyperLogLog that would grow past it
    /// becomes dense.
    public static let hllSparseMaxBytes = Atomic<Int>(3000)
    /// A stream node's bounds (0: none; bytes above 1 GiB are 1 GiB).
    public static let streamNodeMaxEntries = Atomic<Int>(100)
    public static let streamNodeMaxBytes = Atomic<Int>(4096)

    @inlinable public static var hashEntries: Int { hashMaxListpackEntries.load(ordering: .relaxed) }
    @inlinable public static var hashValue: Int { hashMaxListpackValue.load(ordering: .relaxed) }
    @inlinable public static var intsetEntries: Int { setMaxIntsetEntries.load(ordering: .relaxed) }
    @inlinable public static var zsetEntries: Int { zsetMaxListpackEntries.load(ordering: .relaxed) }
    @inlinable public static var hllSparseBytes: Int { hllSparseMaxBytes.load(ordering: .relaxed) }
    @inlinable public static var zsetValue: Int { zsetMaxListpackValue.load(ordering: .relaxed) }

    /// A quicklist node's limits from list-max-listpack-size: (entries, bytes).
    @inlinable public static var listNodeLimits: (entries: Int, bytes: Int) {
        let v = listMaxListpackSize.load(ordering: .relaxed)
        if v > 0 { return (v, 1 << 30) }
        let kb = [4, 8, 16, 32, 64][min(max(-v, 1), 5) - 1]
        return (Int.max, kb * 1024)
    }
}
