/// One WATCH of one client: dirty once any watched key is modified. Shared
/// between the client's worker and the shards that hold its keys; EXEC reads
/// it while those shards are locked for it, so the read is ordered.
final class WatchToken: @unchecked Sendable {
    let dirty = AtomicCounter(0)
    /// UNWATCH, EXEC, DISCARD or a closed connection: shards drop it lazily.
    let cancelled = AtomicCounter(0)
}

/// A shard's watched keys (Redis's db->watched_keys).
final class WatchTable {
    struct Record {
        let token: WatchToken
        /// The key was already logically expired at WATCH: its later removal is no change.
        let expiredAtWatch: Bool
        /// The key was live at WATCH, so an active expiry that removes it is a change.
        let liveAtWatch: Bool
    }
    private(set) var byKey: [DBKey: [Record]] = [:]

    var isEmpty: Bool { byKey.isEmpty }

    func add(_ k: DBKey, _ t: WatchToken, expired: Bool, live: Bool) {
        var list = byKey[k] ?? []
        list.removeAll { $0.token.cancelled.value != 0 }
        list.append(Record(token: t, expiredAtWatch: expired, liveAtWatch: live))
        byKey[k] = list
    }

    func isWatched(_ k: DBKey) -> Bool { byKey[k] != nil }

    func touch(_ k: DBKey) {
        guard let list = byKey.removeValue(forKey: k) else { return }
        for r in list where r.token.cancelled.value == 0 { r.token.dirty.store(1) }
    }

    func record(_ k: DBKey, _ t: WatchToken) -> Record? {
        byKey[k]?.first { $0.token === t }
    }

    /// The watched keys for which `affected` holds (FLUSHDB, SWAPDB, active expiry).
    func touchAll(where affected: (DBKey, [Record]) -> Bool) {
        for (k, list) in byKey where affected(k, list) { touch(k) }
    }

    /// Drops the records of tokens that are gone (cron).
    func purge() {
        for k in Array(byKey.keys) {
            var list = byKey[k]!
            list.removeAll { $0.token.cancelled.value != 0 }
            byKey[k] = list.isEmpty ? nil : list
        }
    }
}
