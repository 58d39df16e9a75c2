import RESP
#if canImport(Glibc)
import Glibc
#endif

/// A Redis stream (OBJECT ENCODING "stream"): entries packed into
/// `StreamNode`s kept in ID order in one array (nodes[head...]), found by
/// binary search on their first IDs; consumer groups in name order.
/// Trimming drops nodes from the front by moving `head`, so MAXLEN on a
/// long stream is O(1) per dropped node.
public final class StreamValue: ValueObject {
    public internal(set) var nodes: [StreamNode] = []
    public private(set) var head = 0
    public var length = 0
    public var lastID = StreamID.zero
    /// First live entry's ID (0-0 when empty).
    public var firstID = StreamID.zero
    public var maxDeletedID = StreamID.zero
    public var entriesAdded: Int64 = 0
    public private(set) var groups: [ConsumerGroup] = []
    var scratch: [Int32] = []

    public init() {}

    deinit {
        for i in head..<nodes.count { nodes[i].free() }
    }

    public var encodingName: StaticString { "stream" }
    @inlinable public var nodeCount: Int { nodes.count - head }

    public var allocatedBytes: Int {
        var n = objectBlockSize(self) + nodes.capacity * MemoryLayout<StreamNode>.stride
        for i in head..<nodes.count { n += nodes[i].allocated }
        for g in groups { n += g.allocatedBytes }
        return n
    }

    public func sampledBytes(samples: Int) -> Int {
        let total = nodeCount
        if samples <= 0 || total <= samples { return allocatedBytes }
        var n = objectBlockSize(self) + nodes.capacity * MemoryLayout<StreamNode>.stride
        var s = 0
        for i in head..<(head + samples) { s += nodes[i].allocated }
        n += Int(Double(s) / Double(samples) * Double(total))
        for g in groups { n += g.allocatedBytes }
        return n
    }

    public var freeEffort: Int { nodeCount + groups.count }

    public func copy() -> ValueObject {
        let s = StreamValue()
        s.nodes.reserveCapacity(nodeCount)
        for i in head..<nodes.count {
            var n = nodes[i]
            let b = malloc(Int(n.used))!
            memcpy(b, n.base, Int(n.used))
            n.base = b
            n.capacity = n.used
            s.nodes.append(n)
        }
        s.length = length
        s.lastID = lastID
        s.firstID = firstID
        s.maxDeletedID = maxDeletedID
        s.entriesAdded = entriesAdded
        s.groups = groups.map { $0.copy() }
        return s
    }

    // MARK: appending

    /// Appends an entry with `id` (> lastID: the caller checked). `pairs`
    /// alternate fields and values.
    public func append(_ id: StreamID, pairs: UnsafeBufferPointer<Arg>) {
        var maxBytes = EncodingLimits.streamNodeMaxBytes.load(ordering: .relaxed)
        if maxBytes <= 0 || maxBytes > 1 << 30 { maxBytes = 1 << 30 }
        let maxEntries = EncodingLimits.streamNodeMaxEntries.load(ordering: .relaxed)
        var raw = 0
        for p in pairs { raw += p.count }
        var fits = nodes.count > head
        if fits {
            let t = nodes[nodes.count - 1]
            if t.redisBytes + raw >= maxBytes {
                fits = false
            } else if maxEntries > 0 && Int(t.live + t.deleted) >= maxEntries {
                fits = false
            }
            if !fits { nodes[nodes.count - 1].fit() }
        }
        if !fits {
            // A stream's nodes tend to fill to the same size: sizing the new
            // one like the last full one saves the growth reallocs, and the
            // holes a shrink-to-fit would leave behind.
            let hint = nodes.count > head ? Int(nodes[nodes.count - 1].used) + 32 : 64
            nodes.append(StreamNode(first: id, pairs: pairs, capacity: min(hint, maxBytes)))
        }
        nodes[nodes.count - 1].append(id, pairs: pairs, limit: max(maxBytes, 64))
        length += 1
        entriesAdded += 1
        lastID = id
        if length == 1 { firstID = id }
    }

    // MARK: finding

    /// Index of the last node whose first ID is <= `id`, or `head` when none is.
    func nodeIndex(atOrBefore id: StreamID) -> Int {
        var lo = head, hi = nodes.count
        while lo < hi {
            let m = (lo + hi) >> 1
            if nodes[m].master <= id { lo = m + 1 } else { hi = m }
        }
        return max(lo - 1, head)
    }

    /// Calls `body` with each live entry in [start, end], ascending or
    /// descending, until it returns false.
    @inline(__always)
    public func forEach(from start: StreamID, to end: StreamID, reverse: Bool, _ body: (StreamEntry) -> Bool) {
        if length == 0 || start > end { return }
        if !reverse {
            var i = nodeIndex(atOrBefore: start)
            while i < nodes.count {
                let n = nodes[i]
                if n.master > end { return }
                var o = Int(n.entriesStart)
                while o < Int(n.used) {
                    let e = n.entry(at: o)
                    if e.id > end { return }
                    if !e.isDeleted && e.id >= start && !body(e) { return }
                    o = e.next
                }
                i += 1
            }
        } else {
            // Offsets of one node at a time, walked backwards; the buffer is
            // the stream's, reused (only its owner shard iterates it).
            var offs = scratch
            scratch = []
            defer { scratch = offs }
            var i = nodeIndex(atOrBefore: end)
            while i >= head {
                let n = nodes[i]
                n.offsets(into: &offs)
                var k = offs.count - 1
                while k >= 0 {
                    let e = n.entry(at: Int(offs[k]))
                    if e.id < start { return }
                    if !e.isDeleted && e.id <= end && !body(e) { return }
                    k -= 1
                }
                if n.master <= start { return }
                i -= 1
            }
        }
    }

    /// The first or last live entry's ID, or nil when empty.
    public func edgeID(first: Bool) -> StreamID? {
        if !first, head < nodes.count, nodes[nodes.count - 1].live > 0 {
            // The tail node has a live entry: its last one, by a forward walk.
            let n = nodes[nodes.count - 1]
            var o = Int(n.entriesStart)
            var last = n.master
            while o < Int(n.used) {
                let e = n.entry(at: o)
                if !e.isDeleted { last = e.id }
                o = e.next
            }
            return last
        }
        var r: StreamID? = nil
        forEach(from: .zero, to: .max, reverse: !first) { r = $0.id; return false }
        return r
    }

    /// The node index and offset of live entry `id`, or nil.
    func locate(_ id: StreamID) -> (Int, Int)? {
        guard length > 0 else { return nil }
        let i = nodeIndex(atOrBefore: id)
        let n = nodes[i]
        var o = Int(n.entriesStart)
        while o < Int(n.used) {
            let e = n.entry(at: o)
            if e.id == id { return e.isDeleted ? nil : (i, o) }
            if e.id > id { return nil }
            o = e.next
        }
        return nil
    }

    public func contains(_ id: StreamID) -> Bool { locate(id) != nil }

    /// The live entry `id`, or nil.
    public func entry(_ id: StreamID) -> StreamEntry? {
        guard let (i, o) = locate(id) else { return nil }
        return nodes[i].entry(at: o)
    }

    // MARK: removing

    /// XDEL of one ID: false when it is not a live entry. Like Redis, the
    /// node's last live entry takes the whole node with it.
    public func delete(_ id: StreamID) -> Bool {
        guard let (i, o) = locate(id) else { return false }
        if nodes[i].live == 1 {
            removeNode(i)
        } else {
            nodes[i].markDeleted(at: o)
        }
        length -= 1
        return true
    }

    func removeNode(_ i: Int) {
        nodes[i].free()
        if i == head {
            head += 1
            compactHead()
        } else {
            nodes.remove(at: i)
        }
    }

    /// Drops the array's dead prefix once it is most of the array.
    func compactHead() {
        if head == nodes.count {
            nodes.removeAll(keepingCapacity: nodes.capacity <= 64)
            head = 0
        } else if head >= 32 && head * 2 >= nodes.count {
            nodes.removeSubrange(0..<head)
            head = 0
        }
    }

    public enum Trim {
        case none
        case maxLen(Int)
        case minID(StreamID)
    }

    /// Redis's streamTrim: whole nodes from the front, then (unless
    /// `approx`) entries of the next node; at most `limit` entries when
    /// it is not 0. Returns how many entries went.
    public func trim(_ t: Trim, approx: Bool, limit: Int) -> Int {
        if case .none = t { return 0 }
        var deleted = 0
        while head < nodes.count {
            if case .maxLen(let m) = t, length <= m { break }
            let n = nodes[head]
            let entries = Int(n.live)
            if limit != 0 && deleted + entries > limit { break }
            let whole: Bool
            switch t {
            case .maxLen(let m): whole = length - entries >= m
            case .minID(let id): whole = n.lastID < id
            case .none: whole = false
            }
            if whole {
                removeNode(head)
                length -= entries
                deleted += entries
                continue
            }
            if approx { break }
            var o = Int(n.entriesStart)
            while o < Int(n.used) {
                let e = nodes[head].entry(at: o)
                switch t {
                case .maxLen(let m): if length <= m { o = Int(n.used); continue }
                case .minID(let id): if e.id >= id { o = Int(n.used); continue }
                case .none: break
                }
                if !e.isDeleted {
                    nodes[head].markDeleted(at: o)
                    length -= 1
                    deleted += 1
                }
                o = e.next
            }
            break
        }
        if length == 0 {
            firstID = .zero
        } else if deleted > 0 {
            firstID = edgeID(first: true) ?? .zero
        }
        return deleted
    }

    // MARK: groups

    func groupIndex(_ p: UnsafeBufferPointer<UInt8>) -> (Int, Bool) {
        var lo = 0, hi = groups.count
        while lo < hi {
            let m = (lo + hi) >> 1
            let c = compareBytes(groups[m].name, p)
            if c == 0 { return (m, true) }
            if c < 0 { lo = m + 1 } else { hi = m }
        }
        return (lo, false)
    }

    public func group(_ p: UnsafeBufferPointer<UInt8>) -> ConsumerGroup? {
        let (i, hit) = groupIndex(p)
        return hit ? groups[i] : nil
    }

    /// Creates a group; nil when one of that name exists.
    public func createGroup(_ p: UnsafeBufferPointer<UInt8>, lastID: StreamID, entriesRead: Int64) -> ConsumerGroup? {
        let (i, hit) = groupIndex(p)
        if hit { return nil }
        let g = ConsumerGroup(name: Array(p), lastID: lastID, entriesRead: entriesRead)
        groups.insert(g, at: i)
        return g
    }

    public func destroyGroup(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let (i, hit) = groupIndex(p)
        if hit { groups.remove(at: i) }
        return hit
    }

    // MARK: lag (Redis 7.0's entries-read bookkeeping)

    /// Whether a deleted entry may lie in [start, end] (streamRangeHasTombstones).
    public func rangeHasTombstones(from start: StreamID, to end: StreamID = .max) -> Bool {
        if length == 0 || maxDeletedID.isZero { return false }
        if firstID > maxDeletedID { return false }
        return start <= maxDeletedID && maxDeletedID <= end
    }

    /// streamEstimateDistanceFromFirstEverEntry: the logical read counter
    /// of `id`, or -1 when it cannot be known.
    public func estimateDistance(_ id: StreamID) -> Int64 {
        if entriesAdded == 0 { return 0 }
        if length == 0 && id <= lastID { return entriesAdded }
        if id == lastID { return entriesAdded }
        if id > lastID { return ConsumerGroup.invalidEntriesRead }
        if maxDeletedID.isZero || maxDeletedID < firstID {
            if id < firstID { return entriesAdded - Int64(length) }
            if id == firstID { return entriesAdded - Int64(length) + 1 }
        }
        return ConsumerGroup.invalidEntriesRead
    }

    /// A group's lag, or nil when unknown (streamReplyWithCGLag).
    public func lag(_ g: ConsumerGroup) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if g.entriesRead != ConsumerGroup.invalidEntriesRead && !rangeHasTombstones(from: g.lastID) {
            return entriesAdded - g.entriesRead
        }
        let r = estimateDistance(g.lastID)
        return r == ConsumerGroup.invalidEntriesRead ? nil : entriesAdded - r
    }

    /// A group read `id` (> its last ID): advances its last ID and counter.
    public func advance(_ g: ConsumerGroup, to id: StreamID) {
        if g.entriesRead != ConsumerGroup.invalidEntriesRead && !rangeHasTombstones(from: id) {
            g.entriesRead += 1
        } else if entriesAdded != 0 {
            g.entriesRead = estimateDistance(id)
        }
        g.lastID = id
    }
}
