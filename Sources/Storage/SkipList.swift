#if canImport(Glibc)
import Glibc
#endif

/// A skiplist node: one malloc block holding its links and its member, so
/// a sorted set member costs one allocation (Redis: node + sds + dictEntry).
///
///     0        score (Double)
///     8        backward node (0 for the first)
///     16       level count L
///     17       L levels: forward node (8 bytes), span (UInt32)
///     17+12L   an `Entry`-shaped view of the member (5-byte header with
///              byte 2 = L, varint length, member bytes), which the member
///              index (`HashTable`) stores and compares as a key
public struct SLNode: Equatable {
    public let raw: UnsafeMutableRawPointer

    @inlinable public init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    @inlinable public var score: Double {
        get { raw.loadUnaligned(as: Double.self) }
        nonmutating set { raw.storeBytes(of: newValue, as: Double.self) }
    }

    @inlinable var backwardRaw: UnsafeMutableRawPointer? {
        get { UnsafeMutableRawPointer(bitPattern: raw.loadUnaligned(fromByteOffset: 8, as: UInt.self)) }
        nonmutating set { raw.storeBytes(of: UInt(bitPattern: newValue), toByteOffset: 8, as: UInt.self) }
    }

    /// The previous node, nil for the first.
    @inlinable public var backward: SLNode? { backwardRaw.map(SLNode.init) }
    /// The next node, nil for the last.
    @inlinable public var next: SLNode? { forward(0).map(SLNode.init) }

    @inlinable public var levels: Int { Int(raw.load(fromByteOffset: 16, as: UInt8.self)) }

    @inlinable func forward(_ i: Int) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: raw.loadUnaligned(fromByteOffset: 17 + 12 * i, as: UInt.self))
    }

    @inlinable func setForward(_ i: Int, _ p: UnsafeMutableRawPointer?) {
        raw.storeBytes(of: UInt(bitPattern: p), toByteOffset: 17 + 12 * i, as: UInt.self)
    }

    @inlinable func span(_ i: Int) -> Int { Int(raw.loadUnaligned(fromByteOffset: 25 + 12 * i, as: UInt32.self)) }

    @inlinable func setSpan(_ i: Int, _ v: Int) {
        raw.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: 25 + 12 * i, as: UInt32.self)
    }

    /// The member as an entry key, for the member index.
    @inlinable public var entry: Entry { Entry(raw + 17 + 12 * levels) }

    @inlinable public var member: UnsafeBufferPointer<UInt8> {
        let e = raw + 22 + 12 * levels
        var off = 0
        let n = readVarint(e, &off)
        return UnsafeBufferPointer(start: (e + off).assumingMemoryBound(to: UInt8.self), count: n)
    }

    /// The node whose member view is `e` (an entry from the member index).
    @inlinable public static func from(entry e: Entry) -> SLNode {
        SLNode(e.raw - 17 - 12 * Int(e.raw.load(fromByteOffset: 2, as: UInt8.self)))
    }

    /// Is this node ordered before (score, member)?
    @inlinable func less(_ s: Double, _ m: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
        let v = score
        if v != s { return v < s }
        let b = member
        return compareMembers(b.baseAddress, b.count, m, n) < 0
    }
}

/// Redis's skiplist (t_zset.c): nodes ordered by (score, member bytes),
/// each level link carrying the number of nodes it skips, so rank lookups
/// and rank ranges are O(log n). Levels are drawn with p = 1/4, at most 32.
///
/// The list owns its nodes; `free()` releases them all. Ranks are 1-based
/// here, as in Redis (the header has rank 0).
public struct SkipList {
    public static let maxLevel = 32

    public let head: SLNode
    public private(set) var tail: SLNode?
    public private(set) var count = 0
    public private(set) var level = 1
    /// malloc's size of every node, for MEMORY USAGE.
    public private(set) var nodeBytes = 0
    @usableFromInline var seed: UInt64

    public init() {
        let size = 17 + 12 * SkipList.maxLevel
        let h = malloc(size)!
        memset(h, 0, size)
        h.storeBytes(of: UInt8(SkipList.maxLevel), toByteOffset: 16, as: UInt8.self)
        head = SLNode(h)
        seed = UInt64.random(in: 1...UInt64.max)
    }

    /// Frees every node and the header.
    public mutating func free() {
        var p = head.forward(0)
        while let n = p {
            p = SLNode(n).forward(0)
            Glibc.free(n)
        }
        Glibc.free(head.raw)
        count = 0
        tail = nil
    }

    @inlinable public var first: SLNode? { head.forward(0).map(SLNode.init) }
    public var headerBytes: Int { mallocUsableSize(head.raw) }

    mutating func randomLevel() -> Int {
        // xorshift64*: two bits per level, so each level is 1/4 as likely.
        seed ^= seed >> 12
        seed ^= seed << 25
        seed ^= seed >> 27
        let r = seed &* 0x2545_F491_4F6C_DD1D
        return min(1 + r.trailingZeroBitCount / 2, SkipList.maxLevel)
    }

    /// A new node (not linked) for a member and score.
    func makeNode(levels l: Int, score: Double, _ m: UnsafePointer<UInt8>?, _ n: Int) -> SLNode {
        let size = 22 + 12 * l + varintSize(n) + n
        let raw = malloc(size)!
        let node = SLNode(raw)
        node.score = score
        node.backwardRaw = nil
        raw.storeBytes(of: UInt8(l), toByteOffset: 16, as: UInt8.self)
        for i in 0..<l {
            node.setForward(i, nil)
            node.setSpan(i, 0)
        }
        // The entry view: type string, no flags, byte 2 = level count.
        let e = 17 + 12 * l
        raw.storeBytes(of: UInt8(0), toByteOffset: e, as: UInt8.self)
        raw.storeBytes(of: UInt8(0), toByteOffset: e + 1, as: UInt8.self)
        raw.storeBytes(of: UInt8(l), toByteOffset: e + 2, as: UInt8.self)
        raw.storeBytes(of: UInt16(0), toByteOffset: e + 3, as: UInt16.self)
        var off = e + 5
        writeVarint(raw, &off, n)
        if n > 0 { (raw + off).copyMemory(from: m!, byteCount: n) }
        return node
    }

    /// Inserts a member that is not in the list; returns its node.
    @discardableResult
    public mutating func insert(score: Double, _ m: UnsafePointer<UInt8>?, _ n: Int) -> SLNode {
        let node = allocate(score: score, m, n)
        link(node)
        return node
    }

    /// A node for a member that is not linked yet (`link` places it).
    public mutating func allocate(score: Double, _ m: UnsafePointer<UInt8>?, _ n: Int) -> SLNode {
        let node = makeNode(levels: randomLevel(), score: score, m, n)
        nodeBytes += mallocUsableSize(node.raw)
        return node
    }

    /// Links an unlinked node at its place by (score, member).
    public mutating func link(_ node: SLNode) {
        let l = node.levels
        let mb = node.member
        let s = node.score
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: SkipList.maxLevel) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: SkipList.maxLevel) { rank in
                var x = head
                for i in stride(from: level - 1, through: 0, by: -1) {
                    rank[i] = i == level - 1 ? 0 : rank[i + 1]
                    while let f = x.forward(i), SLNode(f).less(s, mb.baseAddress, mb.count) {
                        rank[i] += x.span(i)
                        x = SLNode(f)
                    }
                    update[i] = x.raw
                }
                if l > level {
                    for i in level..<l {
                        rank[i] = 0
                        update[i] = head.raw
                        head.setSpan(i, count)
                    }
                    level = l
                }
                for i in 0..<l {
                    let u = SLNode(update[i])
                    node.setForward(i, u.forward(i))
                    u.setForward(i, node.raw)
                    node.setSpan(i, u.span(i) - (rank[0] - rank[i]))
                    u.setSpan(i, rank[0] - rank[i] + 1)
                }
                if l < level {
                    for i in l..<level { SLNode(update[i]).setSpan(i, SLNode(update[i]).span(i) + 1) }
                }
                node.backwardRaw = update[0] == head.raw ? nil : update[0]
                if let f = node.forward(0) { SLNode(f).backwardRaw = node.raw } else { tail = node }
                count += 1
            }
        }
    }

    /// Takes a node out of the list without freeing it.
    public mutating func unlink(_ node: SLNode) {
        let mb = node.member
        let s = node.score
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: SkipList.maxLevel) { update in
            var x = head
            for i in stride(from: level - 1, through: 0, by: -1) {
                while let f = x.forward(i), f != node.raw, SLNode(f).less(s, mb.baseAddress, mb.count) {
                    x = SLNode(f)
                }
                update[i] = x.raw
            }
            precondition(x.forward(0) == node.raw, "skiplist: unlinking a node that is not in the list")
            unlink(node, update)
        }
    }

    mutating func unlink(_ node: SLNode, _ update: UnsafeMutableBufferPointer<UnsafeMutableRawPointer>) {
        for i in 0..<level {
            let u = SLNode(update[i])
            if u.forward(i) == node.raw {
                u.setSpan(i, u.span(i) + node.span(i) - 1)
                u.setForward(i, node.forward(i))
            } else {
                u.setSpan(i, u.span(i) - 1)
            }
        }
        if let f = node.forward(0) { SLNode(f).backwardRaw = node.backwardRaw } else { tail = node.backward }
        while level > 1 && head.forward(level - 1) == nil { level -= 1 }
        count -= 1
    }

    /// Releases an unlinked node.
    public mutating func freeNode(_ node: SLNode) {
        nodeBytes -= mallocUsableSize(node.raw)
        Glibc.free(node.raw)
    }

    /// Gives a linked node a new score, moving it only when its place
    /// changes; the node (and so the member index's view of it) stays.
    public mutating func updateScore(_ node: SLNode, _ s: Double) {
        if (node.backward.map { $0.score < s } ?? true) && (node.next.map { $0.score > s } ?? true) {
            node.score = s
            return
        }
        unlink(node)
        node.score = s
        link(node)
    }

    /// 1-based rank of a linked node.
    public func rank(of node: SLNode) -> Int {
        let mb = node.member
        let s = node.score
        var x = head
        var r = 0
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i) {
                let fn = SLNode(f)
                if fn.raw != node.raw && !fn.less(s, mb.baseAddress, mb.count) { break }
                r += x.span(i)
                x = fn
                if x.raw == node.raw { return r }
            }
        }
        return x.raw == node.raw ? r : 0
    }

    /// The node of 1-based rank `r`, or nil.
    public func node(atRank r: Int) -> SLNode? {
        if r < 1 || r > count { return nil }
        var x = head
        var t = 0
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i), t + x.span(i) <= r {
                t += x.span(i)
                x = SLNode(f)
            }
            if t == r { return x }
        }
        return nil
    }

    /// The last node of the prefix for which `pred` holds (pred must be
    /// true for a prefix of the list) and its rank; (0, head) when none.
    @inlinable
    public func lastWhere(_ pred: (SLNode) -> Bool) -> (rank: Int, node: SLNode) {
        var x = head
        var r = 0
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let f = x.forward(i), pred(SLNode(f)) {
                r += x.span(i)
                x = SLNode(f)
            }
        }
        return (r, x)
    }

    /// Unlinks and frees the `n` nodes from 1-based rank `start` on, showing
    /// each to `body` first, in order.
    public mutating func removeRange(fromRank start: Int, count n: Int, _ body: (SLNode) -> Void) {
        if n <= 0 { return }
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: SkipList.maxLevel) { update in
            var x = head
            var t = 0
            for i in stride(from: level - 1, through: 0, by: -1) {
                while let f = x.forward(i), t + x.span(i) < start {
                    t += x.span(i)
                    x = SLNode(f)
                }
                update[i] = x.raw
            }
            var p = x.forward(0)
            var left = n
            while let node = p, left > 0 {
                p = SLNode(node).forward(0)
                unlink(SLNode(node), update)
                body(SLNode(node))
                freeNode(SLNode(node))
                left -= 1
            }
        }
    }
}
