#if canImport(Glibc)
import Glibc
#endif

/// A pending (delivered, not acknowledged) entry of a consumer group:
/// shared by the group's PEL and its consumer's, as Redis's streamNACK.
public final class PendingEntry {
    public var deliveryTime: Int64
    public var deliveryCount: Int64
    public unowned var consumer: StreamConsumer

    public init(consumer: StreamConsumer, time: Int64) {
        self.consumer = consumer
        deliveryTime = time
        deliveryCount = 1
    }
}

/// IDs to pending entries in ID order: sorted arrays with a dead prefix,
/// so appends (XREADGROUP's deliveries) and removals at the front (XACK in
/// delivery order) are O(1), and a lookup is a binary search.
public struct PendingList {
    @usableFromInline var ids: [StreamID] = []
    @usableFromInline var entries: [PendingEntry] = []
    /// Elements before `head` are gone (kept until compaction).
    @usableFromInline var head = 0

    public init() {}

    @inlinable public var count: Int { ids.count - head }
    @inlinable public var isEmpty: Bool { ids.count == head }
    /// The `i`th pending ID and entry, in ID order.
    @inlinable public func id(_ i: Int) -> StreamID { ids[head + i] }
    @inlinable public func entry(_ i: Int) -> PendingEntry { entries[head + i] }

    /// Index of the first ID >= `id`.
    public func lowerBound(_ id: StreamID) -> Int {
        var lo = head, hi = ids.count
        while lo < hi {
            let m = (lo + hi) >> 1
            if ids[m] < id { lo = m + 1 } else { hi = m }
        }
        return lo - head
    }

    public func find(_ id: StreamID) -> PendingEntry? {
        let i = lowerBound(id)
        return i < count && self.id(i) == id ? entry(i) : nil
    }

    /// Inserts unless present; returns false when `id` was already there.
    @discardableResult
    public mutating func insert(_ id: StreamID, _ e: PendingEntry) -> Bool {
        if isEmpty || ids[ids.count - 1] < id {
            ids.append(id)
            entries.append(e)
            return true
        }
        let i = lowerBound(id)
        if i < count && self.id(i) == id { return false }
        if i == 0 && head > 0 {
            head -= 1
            ids[head] = id
            entries[head] = e
            return true
        }
        ids.insert(id, at: head + i)
        entries.insert(e, at: head + i)
        return true
    }

    @discardableResult
    public mutating func remove(_ id: StreamID) -> PendingEntry? {
        let i = lowerBound(id)
        guard i < count && self.id(i) == id else { return nil }
        let e = entry(i)
        if i == 0 {
            head += 1
            if head == ids.count {
                removeAll()
            } else if head >= 64 && head * 2 >= ids.count {
                ids.removeSubrange(0..<head)
                entries.removeSubrange(0..<head)
                head = 0
            }
        } else {
            ids.remove(at: head + i)
            entries.remove(at: head + i)
        }
        return e
    }

    public mutating func removeAll() {
        ids.removeAll()
        entries.removeAll()
        head = 0
    }
}

public final class StreamConsumer {
    public let name: [UInt8]
    /// Last time it read or claimed (XINFO CONSUMERS' idle).
    public var seenTime: Int64
    public var pending = PendingList()

    public init(name: [UInt8], now: Int64) {
        self.name = name
        seenTime = now
    }
}

/// A consumer group: its last delivered ID, its logical read counter
/// (entries-read; -1 when unknown, Redis's SCG_INVALID_ENTRIES_READ), its
/// PEL, and its consumers in name order (XINFO CONSUMERS lists them so).
public final class ConsumerGroup {
    public static let invalidEntriesRead: Int64 = -1

    public let name: [UInt8]
    public var lastID: StreamID
    public var entriesRead: Int64
    public var pending = PendingList()
    public private(set) var consumers: [StreamConsumer] = []

    public init(name: [UInt8], lastID: StreamID, entriesRead: Int64) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
    }

    func consumerIndex(_ p: UnsafeBufferPointer<UInt8>) -> (Int, Bool) {
        var lo = 0, hi = consumers.count
        while lo < hi {
            let m = (lo + hi) >> 1
            let c = compareBytes(consumers[m].name, p)
            if c == 0 { return (m, true) }
            if c < 0 { lo = m + 1 } else { hi = m }
        }
        return (lo, false)
    }

    public func consumer(_ p: UnsafeBufferPointer<UInt8>) -> StreamConsumer? {
        let (i, hit) = consumerIndex(p)
        return hit ? consumers[i] : nil
    }

    /// Creates the consumer unless it exists; returns it and whether it is new.
    public func createConsumer(_ p: UnsafeBufferPointer<UInt8>, now: Int64) -> (StreamConsumer, Bool) {
        let (i, hit) = consumerIndex(p)
        if hit { return (consumers[i], false) }
        let c = StreamConsumer(name: Array(p), now: now)
        consumers.insert(c, at: i)
        return (c, true)
    }

    /// Deletes a consumer and its pending entries from the group's PEL;
    /// returns how many were pending.
    public func deleteConsumer(_ c: StreamConsumer) -> Int {
        let n = c.pending.count
        for i in 0..<c.pending.count { pending.remove(c.pending.id(i)) }
        c.pending.removeAll()
        let (i, hit) = consumerIndex(c.name.withUnsafeBufferPointer { $0 })
        if hit { consumers.remove(at: i) }
        return n
    }

    /// Bytes malloc holds for the group (estimate for MEMORY USAGE).
    var allocatedBytes: Int {
        var n = 64 + name.count + pending.count * 64
        for c in consumers { n += 64 + c.name.count + c.pending.count * 24 }
        return n
    }

    func copy() -> ConsumerGroup {
        let g = ConsumerGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        for c in consumers {
            let nc = StreamConsumer(name: c.name, now: c.seenTime)
            g.consumers.append(nc)
            for i in 0..<c.pending.count {
                let id = c.pending.id(i)
                let old = c.pending.entry(i)
                let e = PendingEntry(consumer: nc, time: old.deliveryTime)
                e.deliveryCount = old.deliveryCount
                nc.pending.insert(id, e)
                g.pending.insert(id, e)
            }
        }
        return g
    }
}

/// memcmp order, shorter first on a common prefix (rax's key order).
@inlinable public func compareBytes(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Int {
    a.withUnsafeBufferPointer { ab -> Int in
        let n = Swift.min(ab.count, b.count)
        if n > 0 {
            let c = memcmp(ab.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return ab.count - b.count
    }
}
