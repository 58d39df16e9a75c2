/// One shard's client-side caching table (Redis's TrackingTable, split by
/// shard): each key a tracking client has read, with the clients (tokens:
/// worker and client id) to tell when it changes. Keys are names, not
/// (db, name) pairs, as in Redis. A key is forgotten once it has been
/// invalidated: its clients read it again to track it again.
public final class TrackingTable {
    var keys: [[UInt8]: [Int]] = [:]
    /// Tokens over all keys (Redis's TrackingTableTotalItems).
    public private(set) var items = 0
    /// A reused lookup key, so a write allocates nothing to look.
    var probe: [UInt8] = []

    public init() {}

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    func setProbe(_ p: UnsafePointer<UInt8>, _ n: Int) {
        probe.removeAll(keepingCapacity: true)
        probe.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    }

    /// Client `token` has read `key`.
    public func record(_ p: UnsafePointer<UInt8>, _ n: Int, token: Int) {
        setProbe(p, n)
        if var list = keys[probe] {
            if list.contains(token) { return }
            keys[probe] = nil
            list.append(token)
            keys[probe] = list
        } else {
            keys[probe] = [token]
        }
        items += 1
    }

    /// The clients tracking `key`, which is forgotten; nil when none.
    public func take(_ p: UnsafePointer<UInt8>, _ n: Int) -> [Int]? {
        setProbe(p, n)
        guard let list = keys.removeValue(forKey: probe) else { return nil }
        items -= list.count
        return list
    }

    /// Any one key and its clients, forgotten (tracking-table-max-keys).
    public func takeAny() -> ([UInt8], [Int])? {
        guard let (k, list) = keys.first else { return nil }
        keys.removeValue(forKey: k)
        items -= list.count
        return (k, list)
    }

    /// FLUSHALL / FLUSHDB: everything is forgotten.
    public func removeAll() {
        keys.removeAll()
        items = 0
    }
}
