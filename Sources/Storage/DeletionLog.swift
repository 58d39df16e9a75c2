import RESP

/// Keys a shard deleted on its own (lazy or active expiry, eviction) while
/// the append-only file is on. Redis propagates each as a DEL (or UNLINK);
/// the thread that holds the shard turns them into log records before the
/// next command's record, so a replay deletes the key at the same point.
/// Nil on every keyspace while appendonly is no: expiry pays one load.
public final class DeletionLog {
    /// Records: db (4 bytes LE), evicted flag (1), key length (4 LE), key.
    public let buf = ByteBuf(capacity: 256)
    public init() {}

    @inline(__always) public var isEmpty: Bool { buf.isEmpty }

    public func note(db: Int, evicted: Bool, _ key: UnsafePointer<UInt8>, _ n: Int) {
        put32(db)
        buf.append(evicted ? 1 : 0)
        put32(n)
        buf.append(key, n)
    }

    private func put32(_ v: Int) {
        for i in 0..<4 { buf.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    /// Calls `body(db, evicted, key, length)` for each record in order, then empties the log.
    public func drain(_ body: (Int, Bool, UnsafePointer<UInt8>, Int) -> Void) {
        let p = UnsafePointer(buf.base)
        var off = 0
        func get32(_ at: Int) -> Int {
            Int(p[at]) | Int(p[at + 1]) << 8 | Int(p[at + 2]) << 16 | Int(p[at + 3]) << 24
        }
        while off + 9 <= buf.count {
            let db = get32(off)
            let ev = p[off + 4] != 0
            let n = get32(off + 5)
            body(db, ev, p + off + 9, n)
            off += 9 + n
        }
        buf.clear()
        if buf.capacity > 1 << 20 { buf.shrink(to: 256) }
    }
}
