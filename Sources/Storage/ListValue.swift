#if canImport(Glibc)
import Glibc
#endif

/// One quicklist node: elements packed as `PackedBuffer` packs them (varint
/// length, bytes; `PackedIterator` reads them), in a block this file sizes
/// itself. PackedBuffer's growth would round a full 8 KiB node up to a
/// 9 KiB block; a node here grows by doubling up to the node limit and is
/// cut to its exact size once it is full, so a long list costs its bytes
/// plus one byte per element (Redis's listpack: two).
@usableFromInline struct ListNode {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var used: Int
    @usableFromInline var capacity: Int
    @usableFromInline var count: Int

    init(capacity c: Int) {
        let c = max(c, 16)
        base = malloc(c)!
        used = 0
        capacity = c
        count = 0
    }

    @inlinable var bytes: UnsafePointer<UInt8> { UnsafePointer(base.assumingMemoryBound(to: UInt8.self)) }

    /// The element whose varint starts at `off`, and the offset after it.
    @inline(__always) func element(at off: Int) -> (UnsafeBufferPointer<UInt8>, Int) {
        var o = off
        let n = readVarint(base, &o)
        return (UnsafeBufferPointer(start: bytes + o, count: n), o + n)
    }

    /// Byte offset of element `k` (0...count), walking from the start.
    func offset(of k: Int) -> Int {
        var off = 0
        for _ in 0..<k {
            let n = readVarint(base, &off)
            off += n
        }
        return off
    }

    /// Offset just past `k` elements starting at `off`.
    func skip(_ k: Int, from off: Int) -> Int {
        var o = off
        for _ in 0..<k {
            let n = readVarint(base, &o)
            o += n
        }
        return o
    }

    /// Room for `need` bytes: doubling, but not past the node limit unless
    /// one element needs it, so nodes do not overshoot their final size.
    mutating func reserve(_ need: Int, limit: Int) {
        if need <= capacity { return }
        var c = max(capacity * 2, 64)
        if c > limit { c = limit }
        if c < need { c = need }
        base = realloc(base, c)!
        capacity = c
    }

    /// Gives slack back to malloc: a full node, or one that lost most of its bytes.
    mutating func fit() {
        guard capacity - used >= 32 else { return }
        let c = max(used, 16)
        base = realloc(base, c)!
        capacity = c
    }

    mutating func insert(_ p: UnsafePointer<UInt8>?, _ n: Int, size sz: Int, at off: Int, limit: Int) {
        reserve(used + sz, limit: limit)
        if off < used { memmove(base + off + sz, base + off, used - off) }
        var w = off
        writePacked(base, &w, p, n)
        used += sz
        count += 1
    }

    mutating func removeBytes(at off: Int, length len: Int, elements k: Int) {
        if off + len < used { memmove(base + off, base + off + len, used - off - len) }
        used -= len
        count -= k
        if capacity > 2 * used + 256 { fit() }
    }

    /// Removes elements equal to `p`/`n`: passes over the first `skip`
    /// matches, removes at most `max` after them. Returns how many went.
    mutating func removeMatching(_ p: UnsafePointer<UInt8>, _ n: Int, skip: Int, max: Int) -> Int {
        var r = 0, w = 0, run = 0, seen = 0, removed = 0
        // [run, r) is a run of kept bytes not yet moved down to w.
        while r < used && removed < max {
            var o = r
            let len = readVarint(base, &o)
            let next = o + len
            if len == n && memcmp(base + o, p, n) == 0 {
                seen += 1
                if seen > skip {
                    if run < r {
                        if w != run { memmove(base + w, base + run, r - run) }
                        w += r - run
                    }
                    run = next
                    removed += 1
                }
            }
            r = next
        }
        if removed == 0 { return 0 }
        if run < used {
            memmove(base + w, base + run, used - run)
            w += used - run
        }
        used = w
        count -= removed
        if capacity > 2 * used + 256 { fit() }
        return removed
    }

    func matches(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var o = 0, m = 0
        while o < used {
            let len = readVarint(base, &o)
            if len == n && memcmp(base + o, p, n) == 0 { m += 1 }
            o += len
        }
        return m
    }
}

/// list-max-listpack-size as node bounds. A count bound keeps Redis's 8 KiB
/// safety cap on bytes (quicklist's SIZE_SAFETY_LIMIT).
@usableFromInline struct NodeLimits {
    let entries: Int
    let bytes: Int

    @inline(__always) static func current() -> NodeLimits {
        let v = EncodingLimits.listMaxListpackSize.load(ordering: .relaxed)
        if v > 0 { return NodeLimits(entries: v, bytes: 8192) }
        return NodeLimits(entries: Int.max, bytes: 4096 << (min(max(-v, 1), 5) - 1))
    }

    @inline(__always) func admits(_ n: ListNode, _ sz: Int) -> Bool {
        n.count < entries && n.used + sz <= bytes
    }
}

/// A Redis list: a quicklist, as Redis 7.0 keeps every list (OBJECT ENCODING
/// "quicklist"). Nodes live in a ring so both ends push and pop in O(1);
/// an index is found by walking node counts from the nearer end.
///
/// Element buffers handed to callbacks point into the nodes: valid until the
/// list next changes, and callbacks must not change the list.
public final class ListValue: ValueObject {
    @usableFromInline var ring: UnsafeMutablePointer<ListNode>
    @usableFromInline var mask: Int
    /// Ring slot of node 0.
    @usableFromInline var first = 0
    public private(set) var nodeCount = 0
    public private(set) var count = 0
    /// Offsets of the last node's elements, so RPOP does not rescan the node
    /// it pops from: packed elements can only be walked forwards. A ring
    /// (element 0 at `tailLo`) of offsets stored plus `tailBias`, so a push
    /// or pop at the head of a one-node list (a queue) shifts every offset
    /// in O(1). Kept in step by the end operations; anything else that
    /// reshapes the last node drops it (`tailValid`), and the next pop
    /// rebuilds it.
    var tailOffsets: UnsafeMutablePointer<UInt32>? = nil
    var tailCap = 0
    var tailLo = 0
    var tailBias: UInt32 = 0
    var tailValid = false

    public init() {
        ring = .allocate(capacity: 1)
        mask = 0
    }

    deinit {
        for j in 0..<nodeCount { Glibc.free(node(j).pointee.base) }
        ring.deallocate()
        tailOffsets?.deallocate()
    }

    public var encodingName: StaticString { "quicklist" }

    public var allocatedBytes: Int { sampledBytes(samples: .max) }

    public func copy() -> ValueObject {
        let c = ListValue()
        c.ring.deallocate()
        c.ring = .allocate(capacity: mask + 1)
        c.mask = mask
        for j in 0..<nodeCount {
            let src = node(j).pointee
            var n = ListNode(capacity: src.used)
            memcpy(n.base, src.base, src.used)
            n.used = src.used
            n.count = src.count
            (c.ring + j).initialize(to: n)
        }
        c.nodeCount = nodeCount
        c.count = count
        return c
    }

    // MARK: nodes

    @inline(__always) func node(_ j: Int) -> UnsafeMutablePointer<ListNode> { ring + ((first + j) & mask) }

    /// Elements per node, head to tail (tests check splits and merges).
    var nodeSizes: [Int] { (0..<nodeCount).map { node($0).pointee.count } }

    func insertNode(_ n: ListNode, at p: Int) {
        if nodeCount == mask + 1 { growRing() }
        if p == nodeCount { tailValid = false }
        if p < nodeCount - p {
            first = (first - 1) & mask
            for j in 0..<p { node(j).pointee = node(j + 1).pointee }
        } else {
            var j = nodeCount
            while j > p { node(j).pointee = node(j - 1).pointee; j -= 1 }
        }
        node(p).pointee = n
        nodeCount += 1
    }

    /// Frees node `p` and closes the gap.
    func removeNode(at p: Int) {
        if p == nodeCount - 1 { tailValid = false }
        Glibc.free(node(p).pointee.base)
        if p < nodeCount - 1 - p {
            var j = p
            while j > 0 { node(j).pointee = node(j - 1).pointee; j -= 1 }
            first = (first + 1) & mask
        } else {
            for j in p..<(nodeCount - 1) { node(j).pointee = node(j + 1).pointee }
        }
        nodeCount -= 1
        if nodeCount == 0 { first = 0 }
        if mask >= 16 && nodeCount * 4 < mask + 1 { resizeRing((mask + 1) / 2) }
    }

    func growRing() { resizeRing((mask + 1) * 2) }

    func resizeRing(_ cap: Int) {
        let r = UnsafeMutablePointer<ListNode>.allocate(capacity: cap)
        for j in 0..<nodeCount { (r + j).initialize(to: node(j).pointee) }
        ring.deallocate()
        ring = r
        mask = cap - 1
        first = 0
    }

    /// Merges node `j + 1` into node `j` when the two fit in one.
    func mergeIfFits(_ j: Int, _ L: NodeLimits) {
        guard j >= 0, j + 1 < nodeCount else { return }
        let a = node(j), b = node(j + 1).pointee
        guard a.pointee.count + b.count <= L.entries, a.pointee.used + b.used <= L.bytes else { return }
        a.pointee.reserve(a.pointee.used + b.used, limit: L.bytes)
        memcpy(a.pointee.base + a.pointee.used, b.base, b.used)
        a.pointee.used += b.used
        a.pointee.count += b.count
        if j + 1 == nodeCount - 1 { tailValid = false }
        removeNode(at: j + 1)
    }

    /// Node and index within it of element `i` (0 <= i < count), walking
    /// from the nearer end.
    @usableFromInline func locate(_ i: Int) -> (node: Int, index: Int) {
        if i < count / 2 {
            var j = 0, r = i
            while r >= node(j).pointee.count { r -= node(j).pointee.count; j += 1 }
            return (j, r)
        }
        var j = nodeCount - 1, r = count - 1 - i
        while r >= node(j).pointee.count { r -= node(j).pointee.count; j -= 1 }
        return (j, node(j).pointee.count - 1 - r)
    }

    /// Byte offset of element `k` of node `j`.
    func offset(node j: Int, index k: Int) -> Int {
        if k == 0 { return 0 }
        if tailValid && j == nodeCount - 1 { return tailOffset(k) }
        return node(j).pointee.offset(of: k)
    }

    @inline(__always) func tailOffset(_ k: Int) -> Int {
        Int(tailOffsets![(tailLo + k) & (tailCap - 1)] &- tailBias)
    }

    @inline(__always) func setTailOffset(_ k: Int, _ off: Int) {
        tailOffsets![(tailLo + k) & (tailCap - 1)] = UInt32(truncatingIfNeeded: off) &+ tailBias
    }

    /// Room for `need` entries, keeping the first `valid`.
    func reserveTail(_ need: Int, valid: Int) {
        if need <= tailCap { return }
        var c = max(tailCap * 2, 32)
        while c < need { c *= 2 }
        let p = UnsafeMutablePointer<UInt32>.allocate(capacity: c)
        if let old = tailOffsets {
            for i in 0..<valid { p[i] = old[(tailLo + i) & (tailCap - 1)] }
            old.deallocate()
        }
        tailOffsets = p
        tailCap = c
        tailLo = 0
    }

    /// Offset of the last node's last element; indexes the node when it is
    /// big enough for a rescan per pop to matter.
    func lastOffset() -> Int {
        let t = node(nodeCount - 1).pointee
        let k = t.count - 1
        if k == 0 { return 0 }
        if tailValid { return tailOffset(k) }
        if k < 16 { return t.offset(of: k) }
        reserveTail(t.count, valid: 0)
        tailLo = 0
        tailBias = 0
        var off = 0
        for i in 0..<t.count {
            tailOffsets![i] = UInt32(truncatingIfNeeded: off)
            let n = readVarint(t.base, &off)
            off += n
        }
        tailValid = true
        return tailOffset(k)
    }

    // MARK: ends

    public func pushBack(_ p: UnsafePointer<UInt8>?, _ n: Int) {
        let L = NodeLimits.current(), sz = packedSize(n)
        count += 1
        if nodeCount > 0 {
            let t = node(nodeCount - 1)
            if L.admits(t.pointee, sz) {
                let off = t.pointee.used
                t.pointee.insert(p, n, size: sz, at: off, limit: L.bytes)
                if tailValid {
                    let k = t.pointee.count - 1
                    reserveTail(k + 1, valid: k)
                    setTailOffset(k, off)
                }
                return
            }
            t.pointee.fit()
        }
        var nn = ListNode(capacity: sz)
        nn.insert(p, n, size: sz, at: 0, limit: L.bytes)
        insertNode(nn, at: nodeCount)
    }

    public func pushFront(_ p: UnsafePointer<UInt8>?, _ n: Int) {
        let L = NodeLimits.current(), sz = packedSize(n)
        count += 1
        if nodeCount > 0 {
            let h = node(0)
            if L.admits(h.pointee, sz) {
                h.pointee.insert(p, n, size: sz, at: 0, limit: L.bytes)
                if nodeCount == 1 && tailValid {
                    // Every offset grows by sz; the new element sits at 0.
                    let k = h.pointee.count - 1
                    reserveTail(k + 1, valid: k)
                    tailBias &-= UInt32(truncatingIfNeeded: sz)
                    tailLo = (tailLo - 1) & (tailCap - 1)
                    setTailOffset(0, 0)
                }
                return
            }
            h.pointee.fit()
        }
        var nn = ListNode(capacity: sz)
        nn.insert(p, n, size: sz, at: 0, limit: L.bytes)
        insertNode(nn, at: 0)
    }

    public func pushBack(_ b: UnsafeBufferPointer<UInt8>) { pushBack(b.baseAddress, b.count) }
    public func pushFront(_ b: UnsafeBufferPointer<UInt8>) { pushFront(b.baseAddress, b.count) }

    /// Calls `body` with the first element, then removes it; nil when empty.
    @discardableResult
    public func popFront<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard nodeCount > 0 else { return nil }
        let h = node(0)
        let (e, next) = h.pointee.element(at: 0)
        let r = body(e)
        count -= 1
        if h.pointee.count == 1 {
            removeNode(at: 0)
        } else {
            h.pointee.removeBytes(at: 0, length: next, elements: 1)
            if nodeCount == 1 && tailValid {
                tailBias &+= UInt32(truncatingIfNeeded: next)
                tailLo = (tailLo + 1) & (tailCap - 1)
            }
        }
        return r
    }

    /// Calls `body` with the last element, then removes it; nil when empty.
    @discardableResult
    public func popBack<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard nodeCount > 0 else { return nil }
        let off = lastOffset()
        let t = node(nodeCount - 1)
        let (e, _) = t.pointee.element(at: off)
        let r = body(e)
        count -= 1
        if t.pointee.count == 1 {
            removeNode(at: nodeCount - 1)
        } else {
            t.pointee.used = off
            t.pointee.count -= 1
        }
        return r
    }

    /// Removes the last `k` elements (at most all of them).
    public func removeLast(_ k: Int) {
        var left = min(k, count)
        count -= left
        while left > 0 {
            let t = node(nodeCount - 1)
            let c = t.pointee.count
            if left >= c {
                left -= c
                removeNode(at: nodeCount - 1)
                continue
            }
            // The offsets of the elements kept stay right.
            t.pointee.used = offset(node: nodeCount - 1, index: c - left)
            t.pointee.count = c - left
            left = 0
        }
    }

    /// Removes the first `k` elements (at most all of them).
    public func removeFirst(_ k: Int) { removeRange(0, min(k, count)) }

    // MARK: by index

    /// Element `i`, 0 <= i < count.
    public func element(at i: Int) -> UnsafeBufferPointer<UInt8> {
        let (j, k) = locate(i)
        return node(j).pointee.element(at: offset(node: j, index: k)).0
    }

    /// Calls `body` with elements from index `start` towards the tail until
    /// it returns false or the list ends.
    public func forEach(from start: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) {
        guard start >= 0 && start < count else { return }
        let (j0, k0) = locate(start)
        var j = j0
        var off = offset(node: j0, index: k0)
        while j < nodeCount {
            let nd = node(j).pointee
            var it = PackedIterator(nd.bytes, from: off, end: nd.used)
            while let e = it.next() {
                if !body(e) { return }
            }
            j += 1
            off = 0
        }
    }

    /// Calls `body` with elements from index `start` towards the head until
    /// it returns false or the list ends.
    public func forEachReverse(from start: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) {
        guard start >= 0 && start < count else { return }
        var (j, k) = locate(start)
        while j >= 0 {
            let nd = node(j).pointee
            if tailValid && j == nodeCount - 1 {
                var i = k
                while i >= 0 {
                    if !body(nd.element(at: tailOffset(i)).0) { return }
                    i -= 1
                }
            } else {
                // Packed elements read forwards only: note where each starts.
                let go = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: k + 1) { offs -> Bool in
                    var off = 0
                    for i in 0...k {
                        offs[i] = UInt32(truncatingIfNeeded: off)
                        let n = readVarint(nd.base, &off)
                        off += n
                    }
                    var i = k
                    while i >= 0 {
                        if !body(nd.element(at: Int(offs[i])).0) { return false }
                        i -= 1
                    }
                    return true
                }
                if !go { return }
            }
            j -= 1
            if j >= 0 { k = node(j).pointee.count - 1 }
        }
    }

    /// Inserts an element so that it becomes element `i` (0...count).
    public func insert(_ p: UnsafePointer<UInt8>?, _ n: Int, at i: Int) {
        if i <= 0 { return pushFront(p, n) }
        if i >= count { return pushBack(p, n) }
        let L = NodeLimits.current(), sz = packedSize(n)
        let (j, k) = locate(i)
        count += 1
        if j == nodeCount - 1 { tailValid = false }
        let nd = node(j)
        if L.admits(nd.pointee, sz) {
            nd.pointee.insert(p, n, size: sz, at: offset(node: j, index: k), limit: L.bytes)
            return
        }
        // Full node: the previous node may take it at its end (as quicklist
        // tries its neighbours), else a new node or a split.
        if k == 0 {
            if j > 0 && L.admits(node(j - 1).pointee, sz) {
                let pv = node(j - 1)
                pv.pointee.insert(p, n, size: sz, at: pv.pointee.used, limit: L.bytes)
            } else {
                var nn = ListNode(capacity: sz)
                nn.insert(p, n, size: sz, at: 0, limit: L.bytes)
                insertNode(nn, at: j)
            }
            return
        }
        let off = offset(node: j, index: k)
        var right = ListNode(capacity: nd.pointee.used - off)
        memcpy(right.base, nd.pointee.base + off, nd.pointee.used - off)
        right.used = nd.pointee.used - off
        right.count = nd.pointee.count - k
        nd.pointee.used = off
        nd.pointee.count = k
        if L.admits(nd.pointee, sz) {
            nd.pointee.insert(p, n, size: sz, at: off, limit: L.bytes)
            insertNode(right, at: j + 1)
        } else if L.admits(right, sz) {
            right.insert(p, n, size: sz, at: 0, limit: L.bytes)
            insertNode(right, at: j + 1)
        } else {
            var nn = ListNode(capacity: sz)
            nn.insert(p, n, size: sz, at: 0, limit: L.bytes)
            insertNode(right, at: j + 1)
            insertNode(nn, at: j + 1)
        }
    }

    /// Replaces element `i` (0 <= i < count).
    public func replace(at i: Int, with p: UnsafePointer<UInt8>?, _ n: Int) {
        let L = NodeLimits.current(), sz = packedSize(n)
        let (j, k) = locate(i)
        let nd = node(j)
        let off = offset(node: j, index: k)
        let (_, next) = nd.pointee.element(at: off)
        let old = next - off
        if sz != old && j == nodeCount - 1 { tailValid = false }
        if nd.pointee.count == 1 || nd.pointee.used - old + sz <= L.bytes {
            nd.pointee.reserve(nd.pointee.used - old + sz, limit: L.bytes)
            let b = nd.pointee.base
            if sz != old && next < nd.pointee.used { memmove(b + off + sz, b + next, nd.pointee.used - next) }
            var w = off
            writePacked(b, &w, p, n)
            nd.pointee.used += sz - old
            return
        }
        // Too big for this node: out, then in through the splitting insert.
        if j == nodeCount - 1 { tailValid = false }
        nd.pointee.removeBytes(at: off, length: old, elements: 1)
        count -= 1
        insert(p, n, at: i)
    }

    /// Removes `n` elements from index `start` (a range inside the list).
    public func removeRange(_ start: Int, _ n: Int) {
        guard n > 0 else { return }
        let (j0, k0) = locate(start)
        var j = j0, k = k0
        count -= n
        var left = n
        while left > 0 {
            let nd = node(j)
            let c = nd.pointee.count
            if k == 0 && left >= c {
                left -= c
                removeNode(at: j)
                continue
            }
            let take = min(left, c - k)
            // Cutting a node's end keeps its earlier offsets right.
            if j == nodeCount - 1 && k + take != c { tailValid = false }
            let a = offset(node: j, index: k)
            let b = nd.pointee.skip(take, from: a)
            nd.pointee.removeBytes(at: a, length: b - a, elements: take)
            left -= take
            j += 1
            k = 0
        }
        // A cut in the middle may leave two thin nodes side by side: the
        // ones either side of the hole.
        let seam = k0 > 0 ? j0 : j0 - 1
        if seam >= 0 { mergeIfFits(seam, NodeLimits.current()) }
    }

    /// LREM: removes elements equal to `p`/`n`, at most `limit` (0: all),
    /// from the head or from the tail. Returns how many were removed.
    public func removeAll(matching p: UnsafePointer<UInt8>, _ n: Int, limit: Int, fromTail: Bool) -> Int {
        let cap = limit == 0 ? Int.max : limit
        var removed = 0
        tailValid = false
        if fromTail {
            var j = nodeCount - 1
            while j >= 0 && removed < cap {
                let m = node(j).pointee.matches(p, n)
                let want = min(m, cap - removed)
                if want > 0 {
                    removed += node(j).pointee.removeMatching(p, n, skip: m - want, max: want)
                    if node(j).pointee.count == 0 { removeNode(at: j) }
                }
                j -= 1
            }
        } else {
            var j = 0
            while j < nodeCount && removed < cap {
                removed += node(j).pointee.removeMatching(p, n, skip: 0, max: cap - removed)
                if node(j).pointee.count == 0 { removeNode(at: j) } else { j += 1 }
            }
        }
        if removed > 0 {
            count -= removed
            let L = NodeLimits.current()
            var j = 0
            while j + 1 < nodeCount {
                let before = nodeCount
                mergeIfFits(j, L)
                if nodeCount == before { j += 1 }
            }
        }
        return removed
    }
}
