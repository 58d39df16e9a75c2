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
    @inline(__always) func flushKeyEvents(_ s: ShardStore) {
        if s.events.used != 0 { publishKeyEvents(s) }
    }

    func publishKeyEvents(_ s: ShardStore) {
        let ev = s.events
        let flags = ev.config.flags
        let ch = pubsub.eventChannel
        ev.drain { c, db, event, key in
            if c.contains(.tracking) && !s.tracking.isEmpty { invalidateKey(s, key) }
            if c.rawValue & flags & ~NotifyClass.tracking.rawValue == 0 { return }
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
    func applyNotifyConfig() {
        var f = state.config.settings.notifyKeyspaceEvents
        if state.trackingClients.value > 0 { f |= NotifyClass.tracking.rawValue }
        state.notify.set(f)
    }
}
