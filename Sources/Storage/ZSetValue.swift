#if canImport(Glibc)
import Glibc
#endif

/// The scalable sorted set (OBJECT ENCODING "skiplist"): a skiplist in
/// (score, member) order for ranks and ranges, and a member index for
/// O(1) lookups. The index is a `HashTable` whose entries are the nodes'
/// member views (`SLNode.entry`), so each member is stored once, in its node.
public final class ZSetValue: ValueObject {
    public var list = SkipList()
    public var index: HashTable

    public init(capacity: Int = 16) {
        index = HashTable(capacity: capacity)
    }

    deinit {
        list.free()
        index.deallocate()
    }

    public var encodingName: StaticString { "skiplist" }
    @inlinable public var count: Int { list.count }

    public var allocatedBytes: Int { objectBlockSize(self) + list.nodeBytes + list.headerBytes + index.capacity * 8 }

    /// Same members and scores, same encoding (COPY, RESTORE of a copy).
    public func copy() -> ValueObject {
        let z = ZSetValue(capacity: count * 2)
        // From the tail: each insert lands at the front, so it is O(1).
        var p = list.tail
        while let n = p {
            let m = n.member
            _ = z.insert(m.baseAddress, m.count, score: n.score)
            p = n.backward
        }
        return z
    }

    /// The node of member `m`, or nil.
    @inlinable public func find(_ m: UnsafePointer<UInt8>?, _ n: Int) -> SLNode? {
        let p = m ?? UnsafePointer(bitPattern: 8)!
        let s = index.find(p, n, hash: hashBytes(p, n))
        return s < 0 ? nil : SLNode.from(entry: index.entry(at: s))
    }

    /// Adds a member that is not in the set.
    @discardableResult
    public func insert(_ m: UnsafePointer<UInt8>?, _ n: Int, score: Double) -> SLNode {
        let node = list.insert(score: score, m, n)
        let mb = node.member
        index.insert(node.entry, hash: hashBytes(mb.baseAddress!, n))
        return node
    }

    /// ZUNION's accumulator: a member indexed but not yet in order, so
    /// its score can change freely; `orderStaged` must follow before the
    /// set is read or released.
    @discardableResult
    public func stage(_ m: UnsafePointer<UInt8>?, _ n: Int, score: Double) -> SLNode {
        let node = list.allocate(score: score, m, n)
        let mb = node.member
        index.insert(node.entry, hash: hashBytes(mb.baseAddress!, n))
        return node
    }

    /// Links every staged member in (score, member) order.
    public func orderStaged() {
        for i in 0..<index.capacity where index.isLive(i) {
            list.link(SLNode.from(entry: index.entry(at: i)))
        }
    }

    /// Removes and frees a member's node.
    public func remove(_ node: SLNode) {
        unindex(node)
        list.unlink(node)
        list.freeNode(node)
    }

    func unindex(_ node: SLNode) {
        let mb = node.member
        let s = index.find(mb.baseAddress!, mb.count, hash: hashBytes(mb.baseAddress!, mb.count))
        precondition(s >= 0, "zset: member missing from its index")
        index.remove(at: s)
    }

    public func updateScore(_ node: SLNode, _ s: Double) { list.updateScore(node, s) }

    /// Removes the `n` members from 0-based rank `start` on.
    public func removeRange(fromRank start: Int, count n: Int) {
        list.removeRange(fromRank: start + 1, count: n) { unindex($0) }
    }

    /// 0-based rank of a member's node.
    @inlinable public func rank(of node: SLNode) -> Int { list.rank(of: node) - 1 }

    /// The node of 0-based rank `r`, or nil.
    @inlinable public func node(atRank r: Int) -> SLNode? { list.node(atRank: r + 1) }
}
