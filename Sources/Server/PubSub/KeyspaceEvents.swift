import Commands
import RESP
import Storage

/// Keyspace notifications. Handlers, lazy and active expiry and key
/// insertion log events in the shard's `KeyEvents` (Storage); the worker
/// that holds the shard publishes them here, through the pub/sub hook, as
/// soon as the command, the blocked pop or the expiry cycle that made them
/// ends, and before the shard is handed back when it was lent. One shard's
/// events therefore reach each subscriber in the order they happened.
extension Worker {
    /// Publishes what a shard's log holds (most often nothing: one load).
    /// `writer`: the client whose command made them (NOLOOP), 0 for none.
    @inline(__always) func flushKeyEvents(_ s: ShardStore, writer: Int = 0) {
        if s.events.used != 0 { publishKeyEvents(s, writer: writer) }
    }

    /// Each event also names a key that changed: with CLIENT TRACKING on,
    /// its trackers are told (Tracking.swift), as Redis's
    /// signalModifiedKey does next to its notifyKeyspaceEvent.
    /// `message`: the hop whose command made them, if any (BCAST keys go
    /// back with it).
    func publishKeyEvents(_ s: ShardStore, writer: Int, message: ShardMessage? = nil) {
        // A script's commands run on the script connection (id 0): their changes are its caller's.
        let writer = writer == 0 ? pubsub.callerID : writer
        let ev = s.events
        let flags = ev.config.flags
        let ch = pubsub.eventChannel
        ev.drain { c, db, event, key in
            if flags & NotifyClass.tracking.rawValue != 0 && c != .keyMiss && !c.contains(.unsignalled) { invalidateKey(s, key, writer: writer, message: message) }
            if c.rawValue & flags == 0 { return }
            if flags & NotifyClass.keyspace.rawValue != 0 {
                ch.clear()
                ch.append("__keyspace@")
                ch.appendDecimal(db)
                ch.append("__:")
                if let k = key.baseAddress { ch.append(k, key.count) }
                publishFromShard(channel: UnsafeBufferPointer(start: ch.base, count: ch.count), message: event)
            }
            if flags & NotifyClass.keyevent.rawValue != 0 {
                ch.clear()
                ch.append("__keyevent@")
                ch.appendDecimal(db)
                ch.append("__:")
                if let e = event.baseAddress { ch.append(e, event.count) }
                publishFromShard(channel: UnsafeBufferPointer(start: ch.base, count: ch.count), message: key)
            }
        }
    }

    /// The flags every shard reads: the directive, plus `.tracking` while
    /// any client tracks keys.
    /// Workers starting and stopping tracking race here: each sets what
    /// the count says and looks again, so the last writer agrees with it.
    func applyNotifyConfig() {
        let base = state.config.settings.notifyKeyspaceEvents
        while true {
            let n = state.trackingClients.value
            state.notify.set(n > 0 ? base | NotifyClass.tracking.rawValue : base)
            if state.trackingClients.value == n { return }
        }
    }
}
