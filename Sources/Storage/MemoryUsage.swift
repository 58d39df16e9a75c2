#if canImport(Glibc)
import Glibc
#endif

/// malloc's size of a Swift object's own block (header and stored
/// properties). Swift allocates instances with malloc on Linux.
@inlinable func objectBlockSize(_ o: AnyObject) -> Int {
    mallocUsableSize(Unmanaged.passUnretained(o).toOpaque())
}

extension Entry {
    /// MEMORY USAGE: the entry's malloc block (header, key, inline value or
    /// compact collection), its slot in the keyspace table, and for a
    /// scalable encoding the object behind it, sampled as `sampledBytes`.
    public func memoryUsage(samples: Int) -> Int {
        var n = mallocUsableSize(raw) + MemoryLayout<UInt64>.size
        if payload == .object { n += object.sampledBytes(samples: samples) }
        return n
    }
}

extension HashValue {
    /// Every field's block is counted by walking the table: for a big hash
    /// the first `samples` live fields stand for all of them, as Redis
    /// samples a dict-encoded hash.
    public func sampledBytes(samples: Int) -> Int {
        let total = table.count
        var n = objectBlockSize(self) + table.capacity * 8
        if total == 0 { return n }
        var seen = 0, bytes = 0
        var i = 0
        let cap = table.capacity
        while i < cap && seen < samples {
            if table.isLive(i) {
                bytes += mallocUsableSize(table.entry(at: i).raw)
                seen += 1
            }
            i += 1
        }
        n += seen == total ? bytes : Int((Double(bytes) / Double(seen) * Double(total)).rounded())
        return n
    }
}

extension ListValue {
    /// The ring of node headers and the tail index are counted whole; node
    /// blocks from the head up to `samples` of them stand for all nodes, as
    /// Redis samples quicklist nodes.
    public func sampledBytes(samples: Int) -> Int {
        var n = objectBlockSize(self) + (mask + 1) * MemoryLayout<ListNode>.stride + tailCap * 4
        if nodeCount == 0 { return n }
        let k = min(samples, nodeCount)
        var bytes = 0
        for j in 0..<k { bytes += mallocUsableSize(node(j).pointee.base) }
        n += k == nodeCount ? bytes : Int((Double(bytes) / Double(k) * Double(nodeCount)).rounded())
        return n
    }

    /// Calls `body` with each quicklist node's element count and elements,
    /// head to tail (DEBUG OBJECT's quicklist figures, RDB size estimates).
    public func forEachNode(_ body: (_ count: Int, _ elements: PackedIterator) -> Void) {
        for j in 0..<nodeCount {
            let nd = node(j).pointee
            body(nd.count, PackedIterator(nd.bytes, from: 0, end: nd.used))
        }
    }
}

extension Keyspace {
    /// Bytes of the main table's slots (MEMORY STATS overhead.hashtable.main).
    public var tableBytes: Int { table.capacity * 8 }
    /// Bytes of the list of entries with an expiry (overhead.hashtable.expires).
    public var expiringBytes: Int { expiringCap * MemoryLayout<UnsafeMutableRawPointer?>.size }
}
