import RESP

/// One connection's Pub/Sub subscriptions. Channels are sets, as Redis's
/// per-client dicts; patterns keep subscription order, as Redis 7.0's list.
final class ClientSubscriptions {
    var channels = Set<[UInt8]>()
    var shardChannels = Set<[UInt8]>()
    var patterns: [[UInt8]] = []

    /// What SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE and PUNSUBSCRIBE report.
    var count: Int { channels.count + patterns.count }
    /// Redis's CLIENT_PUBSUB: set while any subscription remains.
    var total: Int { count + shardChannels.count }
}

/// A worker's subscribers by channel, shard channel and pattern. Lists keep
/// subscription order, which is delivery order, as in Redis.
final class PubSubLocal {
    var channels: [[UInt8]: Subscribers] = [:]
    var shardChannels: [[UInt8]: Subscribers] = [:]
    var patterns: [[UInt8]: Subscribers] = [:]
    /// Subscriptions of this worker's clients (a plain copy of
    /// `WorkerHandle.subscriptions`, read without an atomic).
    var total = 0
    /// This worker's MONITOR clients, in the order they started.
    var monitors: [Client] = []
    /// Reused lookup key, so a PUBLISH allocates nothing for its channel.
    var key: [UInt8] = []
    /// A message's frame, encoded once per PUBLISH for all its receivers.
    let frame = ByteBuf(capacity: 256)
    /// This worker's CLIENT TRACKING clients by id.
    var trackers: [Int: Client] = [:]
    /// BCAST prefixes (sorted) with their clients' tokens, as of
    /// `bcastGeneration` of the server-wide registry.
    var bcastTable: [([UInt8], [Int])] = []
    var bcastGeneration = -1
    /// Keys changed on this worker's shards this iteration, per prefix,
    /// with the first client that changed each (for NOLOOP).
    var bcastPending: [[UInt8]: [[UInt8]: Int]] = [:]
    /// A keyspace event's channel name, built once per event.
    let eventChannel = ByteBuf(capacity: 128)
    /// While a script or EXEC block runs for a client: the client on this worker (nil:
    /// none, or it is on another worker) and its id. Its changes are its
    /// own for NOLOOP, and invalidations of keys it tracks wait in `held`
    /// until its reply is written, as Redis's tracking_pending_keys.
    var caller: Client?
    var callerID = 0
    let held = ByteBuf(capacity: 64)

    /// The channel PUBLISH looked up last and its subscribers (nil: none),
    /// valid until a subscription changes: a run of messages to one
    /// channel compares its name instead of hashing it each time.
    var lastChannel: [UInt8] = []
    var lastSubscribers: Subscribers?
    var lastValid = false

    func channelSubscribers(_ ch: UnsafeBufferPointer<UInt8>) -> Subscribers? {
        if lastValid && lastChannel.elementsEqual(ch) { return lastSubscribers }
        setKey(ch)
        lastSubscribers = channels[key]
        swap(&lastChannel, &key)
        lastValid = true
        return lastSubscribers
    }

    func setKey(_ p: UnsafeBufferPointer<UInt8>) {
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: p)
    }
}

/// One channel's, shard channel's or pattern's subscribers on this worker,
/// in subscription order. Held unretained: a closing or RESET connection
/// leaves every list (`dropSubscriptions`) while its worker still holds it,
/// so a delivery walks the list with no retain and release per receiver.
final class Subscribers {
    var clients: [Unmanaged<Client>] = []

    init(_ c: Client) { clients.append(.passUnretained(c)) }

    /// Removes `c`; says whether the list is empty now.
    func remove(_ c: Client) -> Bool {
        if let i = clients.firstIndex(where: { $0.toOpaque() == Unmanaged.passUnretained(c).toOpaque() }) {
            clients.remove(at: i)
        }
        return clients.isEmpty
    }
}
