import RESP
import Storage

/// A key in one database, as WATCH names it. Bytes, never a String:
/// Redis keys compare bytewise.
struct DBKey: Hashable {
    let db: Int
    let bytes: [UInt8]
    init(db: Int, _ a: Arg) {
        self.db = db
        bytes = Array(a.buffer)
    }
    init(db: Int, bytes: [UInt8]) {
        self.db = db
        self.bytes = bytes
    }
}

/// What an intent lock is taken on: the key's 64-bit hash mixed with its
/// database. Two keys that collide share a lock, which can only make a part
/// wait longer, never run early; in exchange a lock costs no allocation and
/// no byte comparison, which matters for a 400k-key EXISTS.
struct LockKey: Hashable {
    let h: UInt64
    init(db: Int, _ a: Arg) { h = hashBytes(a.ptr, a.count) &+ UInt64(truncatingIfNeeded: db) &* 0x9E37_79B9_7F4A_7C15 }
    init(db: Int, bytes: [UInt8]) {
        h = bytes.withUnsafeBufferPointer { b in
            hashBytes(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)
        } &+ UInt64(truncatingIfNeeded: db) &* 0x9E37_79B9_7F4A_7C15
    }
}

enum WholeLock { case none, shared, exclusive }

/// The intent locks one transaction part takes on one shard: keys with their
/// mode, and optionally the whole shard (KEYS and DBSIZE share it; FLUSHALL,
/// SWAPDB and an EXEC that borrows the shard take it exclusively).
struct LockSet {
    private(set) var keys: [LockKey] = []
    private(set) var exclusive: [Bool] = []
    var whole = WholeLock.none

    var isEmpty: Bool { keys.isEmpty && whole == .none }

    /// A key named twice is held twice: `acquire` checks every key before
    /// it counts any, so a part never waits for itself.
    mutating func add(_ k: LockKey, exclusive x: Bool) {
        keys.append(k)
        exclusive.append(x)
    }

    /// Empty, keeping the arrays' storage for a pooled message's next part.
    mutating func clear() {
        if !keys.isEmpty {
            keys.removeAll(keepingCapacity: true)
            exclusive.removeAll(keepingCapacity: true)
        }
        whole = .none
    }
}

/// A shard's intent locks (VLL): per key, how many queued or running parts
/// hold it shared and exclusively. Counts, not owners: a part that finds
/// every count compatible when it arrives may run at once; any other waits
/// until it heads the shard's `TxQueue`.
final class LockTable {
    private var held = LockCounts()
    private(set) var wholeShared = 0
    private(set) var wholeExclusive = 0
    /// Exclusive key holds, for a whole-shard shared lock's check.
    private var keyExclusive = 0
    /// Every hold of any kind. The single-shard fast path reads only this.
    private(set) var holds = 0

    deinit { held.deallocate() }

    func conflicts(_ k: LockKey, exclusive x: Bool) -> Bool {
        if wholeExclusive > 0 || (x && wholeShared > 0) { return true }
        let (shared, exclusive) = held.counts(k.h)
        return exclusive > 0 || (x && shared > 0)
    }

    func conflicts(_ s: LockSet) -> Bool {
        switch s.whole {
        case .exclusive: if holds > 0 { return true }
        case .shared: if wholeExclusive > 0 || keyExclusive > 0 { return true }
        case .none: break
        }
        for (i, k) in s.keys.enumerated() where conflicts(k, exclusive: s.exclusive[i]) { return true }
        return false
    }

    /// Adds the set's holds; returns whether they were all free before.
    func acquire(_ s: LockSet) -> Bool {
        let free = !conflicts(s)
        switch s.whole {
        case .exclusive: wholeExclusive += 1; holds += 1
        case .shared: wholeShared += 1; holds += 1
        case .none: break
        }
        for (i, k) in s.keys.enumerated() {
            let x = s.exclusive[i]
            held.add(k.h, exclusive: x)
            if x { keyExclusive += 1 }
            holds += 1
        }
        return free
    }

    func release(_ s: LockSet) {
        switch s.whole {
        case .exclusive: wholeExclusive -= 1; holds -= 1
        case .shared: wholeShared -= 1; holds -= 1
        case .none: break
        }
        for (i, k) in s.keys.enumerated() {
            let x = s.exclusive[i]
            guard held.remove(k.h, exclusive: x) else { continue }
            if x { keyExclusive -= 1 }
            holds -= 1
        }
    }
}
