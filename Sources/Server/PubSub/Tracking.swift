import Commands
import Synchronization
import RESP
import Storage

/// Client-side caching (CLIENT TRACKING).
///
/// A read-only command of a tracking client records its keys in the
/// `TrackingTable` of the shard that owns them, with the client's token
/// (its worker and id). Changes are found where keyspace events are: while
/// any client tracks, every event is logged (`NotifyClass.tracking`), and
/// each names a key its command changed, expired or evicted, at the moment
/// Redis calls signalModifiedKey. Publishing the log takes the key's tokens
/// out and each client gets an `invalidate` push on its own worker, by an
/// `.invalidate` hop when that is another one. FLUSHALL and FLUSHDB send
/// every tracking client a null invalidation.
/// With REDIRECT the invalidations go to another connection (any worker):
/// a RESP3 one gets the push, a RESP2 one in Pub/Sub mode a message on
/// `__redis__:invalidate`. BCAST clients register prefixes server-wide
/// (`BcastRegistry`); each worker batches the keys changed on it per
/// prefix and sends them at the end of its iteration, as Redis does before
/// it sleeps.
extension Worker {
    /// Token of client `id` on this worker; bit 0 says NOLOOP.
    @inline(__always) func trackingToken(_ c: Client, _ t: ClientTracking) -> Int {
        (id << 40) | (c.id << 1) | (t.noloop ? 1 : 0)
    }

    /// The token under which this command of `c` records the keys it reads
    /// (0: none): OPTIN records only after CLIENT CACHING YES, OPTOUT not
    /// after CLIENT CACHING NO.
    @inline(__always) func readTracker(_ c: Client) -> Int {
        guard let t = c.tracking, !t.bcast else { return 0 }
        if (t.optin && !t.caching) || (t.optout && t.caching) { return 0 }
        return trackingToken(c, t)
    }

    /// Before each command of a tracking client. Redis clears the CACHING
    /// flag after every command but a CLIENT subcommand, so it holds for
    /// the first other command after CLIENT CACHING.
    func trackingBeforeCommand(_ c: Client, _ t: ClientTracking) {
        if t.caching && !t.prevClient { t.caching = false }
        t.prevClient = args.count > 0 && args[0].equalsLower("client")
    }

    /// After a read-only command ran on `store`: its keys are tracked for `token`.
    func trackRead(_ spec: CommandSpec, _ a: ArgVector, token: Int) {
        let table = store.tracking
        _ = spec.forEachKey(a) { i in table.record(a[i].ptr, a[i].count, token: token) }
        enforceTrackingLimit()
    }

    /// A script's command read: its caller tracks the script's declared
    /// keys (Redis 7.0 remembers the EVAL's keys, not the command's), each
    /// in its owner's table; the script holds those shards.
    func trackScriptKeys(_ run: ScriptRun) {
        for k in run.trackKeys {
            withLentShard(shardOf(k.ptr, k.count, shards: shardCount)) {
                store.tracking.record(k.ptr, k.count, token: run.tracker)
                enforceTrackingLimit()
            }
        }
    }

    /// tracking-table-max-keys, split evenly over the shards: past it, keys
    /// are forgotten and their clients told, as Redis evicts them.
    func enforceTrackingLimit() {
        let table = store.tracking
        let limit = state.config.settings.trackingTableMaxKeys
        if limit > 0 {
            let perShard = max(1, limit / shardCount)
            while table.count > perShard, let (k, tokens) = table.takeAny() {
                k.withUnsafeBufferPointer { kb in
                    for t in tokens { sendInvalidation(t, .one(kb), writer: 0) }
                }
            }
        }
    }

    /// A changed key, for the BCAST clients whose prefix it has: sent with
    /// the iteration's other changes (`flushBroadcasts`), as Redis sends
    /// them before it sleeps. A key changed by a hop's command travels
    /// back with the hop (`message`), so the worker that started the
    /// command sends all of its keys together (`takeBroadcasts`).
    func rememberBroadcast(_ key: UnsafeBufferPointer<UInt8>, writer: Int, message: ShardMessage? = nil) {
        let g = state.bcast.generation.value
        if g != pubsub.bcastGeneration {
            pubsub.bcastTable = state.bcast.table()
            pubsub.bcastGeneration = g
        }
        var k: [UInt8]? = nil
        for (prefix, _) in pubsub.bcastTable where key.starts(with: prefix) {
            let kb = k ?? Array(key)
            if let m = message { return m.bcast.append((kb, writer)) }
            k = kb
            if pubsub.bcastPending[prefix, default: [:]][kb] == nil { pubsub.bcastPending[prefix, default: [:]][kb] = writer }
        }
    }

    /// Source side of a hop that changed BCAST keys: they join this
    /// worker's batch once every part of the command has answered (one
    /// MSET or DEL over several shards is one message, as in Redis).
    func takeBroadcasts(_ m: ShardMessage) {
        var keys = m.bcast
        m.bcast.removeAll()
        if let s = m.ticket {
            s.bcast += keys
            if s.pending > 1 { return }
            keys = s.bcast
            s.bcast.removeAll()
        }
        for (k, w) in keys { k.withUnsafeBufferPointer { rememberBroadcast($0, writer: w) } }
    }

    /// One message per prefix and client with the keys changed here this
    /// iteration, in byte order; NOLOOP leaves out the client's own.
    func flushBroadcasts() {
        let pending = pubsub.bcastPending
        pubsub.bcastPending = [:]
        for (prefix, tokens) in pubsub.bcastTable {
            guard let keys = pending[prefix] else { continue }
            let sorted = keys.keys.sorted { $0.lexicographicallyPrecedes($1) }
            for t in tokens {
                let cid = (t >> 1) & ((1 << 39) - 1)
                let list = t & 1 != 0 ? sorted.filter { keys[$0] != cid } : sorted
                if list.isEmpty { continue }
                sendInvalidation(t, .many(list), writer: -1, bcast: true)
            }
        }
    }

    /// A key of `s` changed (written, expired, evicted) by `writer`'s command.
    func invalidateKey(_ s: ShardStore, _ key: UnsafeBufferPointer<UInt8>, writer: Int, message: ShardMessage? = nil) {
        if state.bcast.active.value > 0 { rememberBroadcast(key, writer: writer, message: message) }
        guard let k = key.baseAddress, let tokens = s.tracking.take(k, key.count) else { return }
        for t in tokens { sendInvalidation(t, .one(key), writer: writer) }
    }

    /// To the client behind `token`, here or on its worker. NOLOOP skips
    /// the client's own writes.
    /// `bcast`: a BCAST batch or a flush, which BCAST clients take; a
    /// default-mode key they may still have in a table is not for them.
    func sendInvalidation(_ token: Int, _ key: InvalidKeys, writer: Int, bcast: Bool = false) {
        let cid = (token >> 1) & ((1 << 39) - 1)
        if token & 1 != 0 && cid == writer { return }
        let w = token >> 40
        if w == id { return pushInvalidation(cid, key, bcast: bcast) }
        let m = invalidateMessage(to: w)
        appendInvalidation(m, [bcast ? 2 : 0, cid], key)
    }

    /// One `[kind, numbers..., keys...]` entry of an `.invalidate` hop (no
    /// keys: null).
    func appendInvalidation(_ m: ShardMessage, _ nums: [Int], _ key: InvalidKeys) {
        arrayHeader(m.requests, nums.count + key.count)
        var buf = (0, 0, 0)
        withUnsafeMutableBytes(of: &buf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for v in nums { appendBulkArg(m.requests, p, formatDecimal(v, into: p)) }
        }
        key.forEach { k in appendBulkArg(m.requests, k.baseAddress ?? UnsafePointer(bitPattern: 1)!, k.count) }
        m.commandCount += 1
    }

    func invalidateMessage(to w: Int) -> ShardMessage {
        if let last = outgoing[w].last, last.kind == .request, case .invalidate = last.op { return last }
        let m = newMessage(for: nil, target: w)
        m.op = .invalidate
        enqueue(m, to: w)
        return m
    }

    /// Target side of an `.invalidate` hop.
    func runInvalidations(_ m: ShardMessage) {
        let p = UnsafePointer(m.requests.base)
        let n = m.requests.count
        var off = 0
        while off < n, case .command(let used) = parseCommand(p + off, n - off, into: batchArgs, limits: trustedLimits) {
            off += used
            func num(_ i: Int) -> Int { parseStrictInt(batchArgs[i].ptr, batchArgs[i].count) ?? 0 }
            func keys(from i: Int) -> InvalidKeys {
                if batchArgs.count <= i { return .null }
                if batchArgs.count == i + 1 { return .one(batchArgs[i].buffer) }
                return .many((i..<batchArgs.count).map { batchArgs[$0].bytes })
            }
            if num(0) == 1 {
                // Already redirected: straight to the receiving connection.
                if let r = client(at: num(1), generation: UInt32(num(2))) {
                    deliverInvalidation(r, keys(from: 3), redirected: true)
                }
                continue
            }
            let cid = num(1)
            if cid == 0 {
                for k in pubsub.trackers.keys { pushInvalidation(k, .null, bcast: true) }
            } else {
                pushInvalidation(cid, keys(from: 2), bcast: num(0) == 2)
            }
        }
        m.kind = .response
        enqueue(m, to: m.source)
    }

    /// An invalidation for this worker's tracking client `cid` (a null key
    /// list for a flush): to it, or to the client it redirects to.
    func pushInvalidation(_ cid: Int, _ key: InvalidKeys, bcast: Bool) {
        guard let c = pubsub.trackers[cid], let t = c.tracking, bcast || !t.bcast else { return }
        if t.redirect == 0 { return deliverInvalidation(c, key, redirected: false) }
        guard let p = state.clientDirectory.find(t.redirect) else {
            // Redis's broken redirect: said once per invalidation, in RESP3 only.
            t.brokenRedirect = true
            if c.proto == 3 {
                let f = pubsub.frame
                f.clear()
                let r = Reply(f, proto: 3)
                r.push(2)
                r.bulk(static: "tracking-redir-broken")
                r.int(t.redirect)
                pushTracking(c, f)
            }
            return
        }
        if p.worker == id {
            if let r = client(at: p.index, generation: p.generation) { deliverInvalidation(r, key, redirected: true) }
        } else {
            appendInvalidation(invalidateMessage(to: p.worker), [1, p.index, Int(p.generation)], key)
        }
    }

    /// The frame itself: a RESP3 `invalidate` push, or for a redirect to a
    /// RESP2 connection in Pub/Sub mode a message on `__redis__:invalidate`.
    func deliverInvalidation(_ c: Client, _ key: InvalidKeys, redirected: Bool) {
        let f = pubsub.frame
        f.clear()
        if c.proto == 3 {
            let r = Reply(f, proto: 3)
            r.push(2)
            r.bulk(static: "invalidate")
            key.write(r)
        } else if redirected, let s = c.subs, s.count + s.shardChannels.count > 0 {
            let r = Reply(f, proto: 2)
            r.array(3)
            r.bulk(static: "message")
            r.bulk(static: "__redis__:invalidate")
            key.write(r)
        } else {
            return
        }
        pushTracking(c, f)
    }

    /// A tracking frame for `c`, held back while `c`'s script or EXEC runs.
    func pushTracking(_ c: Client, _ f: ByteBuf) {
        if let h = pubsub.caller, h === c { return pubsub.held.append(f) }
        pushFrame(c, f)
    }

    /// Around a script or EXEC block `c` runs (`writer`: its id when it is
    /// on another worker): the invalidations it earned go after its reply.
    func beginHeldPushes(_ c: Client?, writer: Int) -> (Client?, Int) {
        let outer = (pubsub.caller, pubsub.callerID)
        pubsub.caller = c
        pubsub.callerID = c?.id ?? writer
        return outer
    }

    func endHeldPushes(_ outer: (Client?, Int)) {
        if let c = pubsub.caller, !pubsub.held.isEmpty {
            pushFrame(c, pubsub.held)
            pubsub.held.clear()
        }
        (pubsub.caller, pubsub.callerID) = outer
    }

    /// FLUSHALL/FLUSHDB on shard `shard`'s step: its table is emptied and
    /// that worker's tracking clients get a null invalidation (each worker
    /// gets one step per flush, so each client gets one).
    func invalidateFlush(_ s: ShardStore, shard: Int) {
        s.tracking.removeAll()
        if shard == id {
            for cid in pubsub.trackers.keys { pushInvalidation(cid, .null, bcast: true) }
        } else if state.handles[shard].trackers.value > 0 {
            sendInvalidation((shard << 40) | (0 << 1), .null, writer: -1)
        }
    }
}
