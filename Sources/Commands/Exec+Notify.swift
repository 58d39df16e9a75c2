import RESP
import Storage

/// Keyspace notifications (Redis's notifyKeyspaceEvent). A handler calls
/// `notify` where Redis does, after the change; the event is logged in the
/// key's owner shard's `KeyEvents` and published by the worker when the
/// command (or the transaction holding the shard) ends. With notifications
/// off this costs one load and one branch.
extension Exec {
    /// Event `event` of class `c` on key argument `i`.
    @inline(__always) public func notify(_ c: NotifyClass, _ event: StaticString, _ i: Int) {
        if !store.events.wants(c) { return }
        let a = args[i]
        keyspace(of: i).events?.append(c, event, db: db, a.ptr, a.count)
    }

    /// The same in another database (MOVE's and COPY's destination).
    @inline(__always) public func notify(_ c: NotifyClass, _ event: StaticString, _ i: Int, db d: Int) {
        if !store.events.wants(c) { return }
        let a = args[i]
        let ks = lent.map { $0[shardOf(a.ptr, a.count, shards: $0.count)].events } ?? store.events
        ks.append(c, event, db: d, a.ptr, a.count)
    }

    /// Runs `body`, which stores key argument `i` after deleting it; when
    /// the key `existed`, Redis overwrote it in place, so no `new` fires.
    @inline(__always) public func overwriting(_ i: Int, existed: Bool, _ body: () -> Void) {
        guard existed, let ev = keyspace(of: i).events else { return body() }
        ev.muteNew = true
        body()
        ev.muteNew = false
    }

    /// Redis's lookupKeyRead miss: `keymiss`.
    @inline(__always) public func noteMiss(_ i: Int) {
        if quietMiss { return }
        notify(.keyMiss, "keymiss", i)
    }
}
