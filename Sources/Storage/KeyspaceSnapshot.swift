/// One keyspace's part of a forkless background snapshot: the RDB records
/// (EXPIRETIME_MS, type, key, value) of every key the keyspace held at the
/// cut, produced while the shard keeps serving.
///
/// The cut flips the keyspace's `snapParity`; from then on an entry whose
/// `snapMark` differs is one the snapshot still owes. Two producers fill the
/// same buffer:
/// * the walk (`step`), a bounded run of table slots per loop iteration;
/// * copy-on-write (`preserve`): every place that changes, replaces, frees or
///   moves an entry first hands the old entry here (Keyspace's hooks), so a
///   write never waits for the walk or the disk, and nothing is copied but
///   the records themselves.
/// Either one marks the entry, so each key is written once; entries installed
/// after the cut are marked as they are put and never appear.
///
/// The walk goes in slot order. Entries move only when the table rehashes
/// (or is emptied), which bumps `HashTable.moves`; the walk then starts
/// over at slot 0 and the marks skip what is done. It ends after one pass
/// over the whole table with no move in between: at that point every entry
/// in the table is marked, so nothing more can be owed and the keyspace's
/// hooks are detached.
public final class KeyspaceSnapshot {
    public var w: RdbWriter
    @usableFromInline let parity: Bool
    var cursor = 0
    var moves = -1
    /// Bytes written by copy-on-write rather than by the walk (INFO rdb_last_cow_size).
    public private(set) var cowBytes = 0
    /// Keys written so far.
    public private(set) var keys = 0
    /// A value had no RDB form: the snapshot cannot be complete.
    public private(set) var failed = false
    public private(set) var done = false

    init(parity: Bool, compress: Bool) {
        self.parity = parity
        w = RdbWriter(compress: compress)
    }

    /// Writes `e` unless it is written already or was installed after the cut.
    @inlinable @inline(__always) func preserve(_ e: Entry) {
        if e.snapMark != parity { copy(e, cow: true) }
    }

    @usableFromInline func copy(_ e: Entry, cow: Bool) {
        let start = w.out.count
        if !w.record(e) { failed = true }
        e.snapMark = parity
        keys += 1
        if cow { cowBytes += w.out.count - start }
    }

    /// Before the table is emptied (FLUSHDB, FLUSHALL): everything still owed, at once.
    func preserveAll(_ ks: Keyspace) {
        let t = ks.table
        for i in 0..<t.capacity where t.isLive(i) { preserve(t.entry(at: i)) }
    }

    /// Walks up to `slots` table slots, stopping early once `bytes` are
    /// buffered. True when the keyspace is complete (its hooks are off then).
    public func step(_ ks: Keyspace, slots: Int, bytes: Int) -> Bool {
        if done { return true }
        let t = ks.table
        if t.moves != moves {
            moves = t.moves
            cursor = 0
        }
        let end = min(t.capacity, cursor + slots)
        while cursor < end && w.out.count < bytes {
            if t.isLive(cursor) {
                let e = t.entry(at: cursor)
                if e.snapMark != parity { copy(e, cow: false) }
            }
            cursor += 1
        }
        if cursor == t.capacity {
            done = true
            ks.snapshot = nil
        }
        return done
    }

    /// The records produced since the last call.
    public func take() -> [UInt8] {
        let b = w.out
        w.out = []
        w.out.reserveCapacity(1 << 16)
        return b
    }
}

extension Keyspace {
    /// The cut, for this keyspace: flips the parity (every entry now reads
    /// "owed") and, when there is anything to save, attaches the snapshot.
    /// Nil for an empty keyspace. Only one snapshot may run at a time.
    public func beginSnapshot(compress: Bool) -> KeyspaceSnapshot? {
        precondition(snapshot == nil, "a snapshot of this keyspace is already running")
        snapParity.toggle()
        if table.count == 0 { return nil }
        let s = KeyspaceSnapshot(parity: snapParity, compress: compress)
        snapshot = s
        return s
    }
}
