import Commands
import Synchronization
import RESP
import Storage

/// CLIENT TRACKING state of one connection.
final class ClientTracking {
    var optin = false
    var optout = false
    var noloop = false
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) given for the next command.
    var caching = false
    /// The previous command was a CLIENT subcommand, which keeps the flag.
    var prevClient = false
    /// REDIRECT: the client that receives the invalidations (0: this one).
    var redirect = 0
    var brokenRedirect = false
}

/// Client id -> its worker and slot, for every connection: CLIENT TRACKING
/// REDIRECT checks that the target exists and sends it invalidations.
/// Touched at connect and close and by redirecting invalidations only.
final class ClientDirectory: Sendable {
    struct Place: Sendable {
        let worker: Int
        let index: Int
        let generation: UInt32
    }
    private let places = Mutex<[Int: Place]>([:])
    func add(_ id: Int, _ p: Place) { places.withLock { $0[id] = p } }
    func remove(_ id: Int) { _ = places.withLock { $0.removeValue(forKey: id) } }
    func find(_ id: Int) -> Place? { places.withLock { $0[id] } }
}

/// Client-side caching (CLIENT TRACKING, default mode).
///
/// A read-only command of a tracking client records its keys in the
/// `TrackingTable` of the shard that owns them, with the client's token
/// (its worker and id). When that shard changes a key (the write point
/// WATCH uses: the keyspace's mutation counter moved, and the command's
/// key specs say it writes the key), expires or evicts it, the key's
/// tokens are taken out and each client gets an `invalidate` push on its
/// own worker, by an `.invalidate` hop when that is another one. FLUSHALL
/// and FLUSHDB send every tracking client a null invalidation.
/// With REDIRECT the invalidations go to another connection (any worker):
/// a RESP3 one gets the push, a RESP2 one in Pub/Sub mode a message on
/// `__redis__:invalidate`. BCAST and PREFIX are refused for now (CLIENT
/// TRACKING answers an error naming them).
extension Worker {
    /// Token of client `id` on this worker; bit 0 says NOLOOP.
    @inline(__always) func trackingToken(_ c: Client, _ t: ClientTracking) -> Int {
        (id << 40) | (c.id << 1) | (t.noloop ? 1 : 0)
    }

    /// The token under which this command of `c` records the keys it reads
    /// (0: none): OPTIN records only after CLIENT CACHING YES, OPTOUT not
    /// after CLIENT CACHING NO.
    @inline(__always) func readTracker(_ c: Client) -> Int {
        guard let t = c.tracking else { return 0 }
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
        let limit = state.config.settings.trackingTableMaxKeys
        if limit > 0 {
            let perShard = max(1, limit / shardCount)
            while table.count > perShard, let (k, tokens) = table.takeAny() {
                k.withUnsafeBufferPointer { kb in
                    for t in tokens { sendInvalidation(t, kb, writer: 0) }
                }
            }
        }
    }

    /// A write command changed `store`: its written keys are invalidated.
    func invalidateWritten(_ spec: CommandSpec, _ a: ArgVector, writer: Int) {
        let table = store.tracking
        spec.forEachWrittenKey(a) { i in
            guard let tokens = table.take(a[i].ptr, a[i].count) else { return }
            for t in tokens { sendInvalidation(t, a[i].buffer, writer: writer) }
        }
    }

    /// A key expired or was evicted on `s`.
    func invalidateKey(_ s: ShardStore, _ key: UnsafeBufferPointer<UInt8>) {
        guard let k = key.baseAddress, let tokens = s.tracking.take(k, key.count) else { return }
        for t in tokens { sendInvalidation(t, key, writer: 0) }
    }

    /// To the client behind `token`, here or on its worker. NOLOOP skips
    /// the client's own writes.
    func sendInvalidation(_ token: Int, _ key: UnsafeBufferPointer<UInt8>?, writer: Int) {
        let cid = (token >> 1) & ((1 << 39) - 1)
        if token & 1 != 0 && cid == writer { return }
        let w = token >> 40
        if w == id { return pushInvalidation(cid, key) }
        let m = invalidateMessage(to: w)
        appendInvalidation(m, [0, cid], key)
    }

    /// One `[kind, numbers..., key?]` entry of an `.invalidate` hop.
    func appendInvalidation(_ m: ShardMessage, _ nums: [Int], _ key: UnsafeBufferPointer<UInt8>?) {
        arrayHeader(m.requests, nums.count + (key == nil ? 0 : 1))
        var buf = (0, 0, 0)
        withUnsafeMutableBytes(of: &buf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for v in nums { appendBulkArg(m.requests, p, formatDecimal(v, into: p)) }
        }
        if let k = key { appendBulkArg(m.requests, k.baseAddress ?? UnsafePointer(bitPattern: 1)!, k.count) }
        m.commandCount += 1
    }

    func invalidateMessage(to w: Int) -> ShardMessage {
        if let last = outgoing[w].last, last.kind == .request, case .invalidate = last.op { return last }
        let m = newMessage(for: nil, target: w)
        m.op = .invalidate
        outgoing[w].append(m)
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
            if num(0) == 1 {
                // Already redirected: straight to the receiving connection.
                if let r = client(at: num(1), generation: UInt32(num(2))) {
                    deliverInvalidation(r, batchArgs.count > 3 ? batchArgs[3].buffer : nil, redirected: true)
                }
                continue
            }
            let cid = num(1)
            if cid == 0 {
                for k in pubsub.trackers.keys { pushInvalidation(k, nil) }
            } else {
                pushInvalidation(cid, batchArgs.count > 2 ? batchArgs[2].buffer : nil)
            }
        }
        m.kind = .response
        outgoing[m.source].append(m)
    }

    /// An invalidation for this worker's tracking client `cid` (a null key
    /// list for a flush): to it, or to the client it redirects to.
    func pushInvalidation(_ cid: Int, _ key: UnsafeBufferPointer<UInt8>?) {
        guard let c = pubsub.trackers[cid], let t = c.tracking else { return }
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
                pushFrame(c, f)
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
    func deliverInvalidation(_ c: Client, _ key: UnsafeBufferPointer<UInt8>?, redirected: Bool) {
        let f = pubsub.frame
        f.clear()
        if c.proto == 3 {
            let r = Reply(f, proto: 3)
            r.push(2)
            r.bulk(static: "invalidate")
            if let k = key {
                r.array(1)
                r.bulk(k)
            } else {
                r.null()
            }
        } else if redirected, let s = c.subs, s.count + s.shardChannels.count > 0 {
            let r = Reply(f, proto: 2)
            r.array(3)
            r.bulk(static: "message")
            r.bulk(static: "__redis__:invalidate")
            if let k = key {
                r.array(1)
                r.bulk(k)
            } else {
                r.null()
            }
        } else {
            return
        }
        pushFrame(c, f)
    }

    /// FLUSHALL/FLUSHDB on shard `shard`'s step: its table is emptied and
    /// that worker's tracking clients get a null invalidation (each worker
    /// gets one step per flush, so each client gets one).
    func invalidateFlush(_ s: ShardStore, shard: Int) {
        s.tracking.removeAll()
        if shard == id {
            for cid in pubsub.trackers.keys { pushInvalidation(cid, nil) }
        } else if state.handles[shard].trackers.value > 0 {
            sendInvalidation((shard << 40) | (0 << 1), nil, writer: -1)
        }
    }

    func startTracking(_ c: Client, _ t: ClientTracking) {
        if c.tracking == nil {
            pubsub.trackers[c.id] = c
            handle.trackers.add(1)
            if state.trackingClients.add(1) == 1 { applyNotifyConfig() }
        }
        c.tracking = t
    }

    func stopTracking(_ c: Client) {
        guard c.tracking != nil else { return }
        c.tracking = nil
        pubsub.trackers[c.id] = nil
        handle.trackers.add(-1)
        if state.trackingClients.add(-1) == 0 { applyNotifyConfig() }
    }

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [OPTIN] [OPTOUT] [NOLOOP];
    /// BCAST and PREFIX are refused.
    func clientTracking(_ c: Client, _ r: Reply) {
        var optin = false, optout = false, noloop = false
        var redirect = 0
        var j = 3
        while j < args.count {
            let a = args[j]
            let more = args.count - 1 - j
            if a.equalsLower("redirect") && more > 0 {
                j += 1
                if redirect != 0 { return r.error("ERR A client can only redirect to a single other client") }
                guard let v = parseStrictInt(args[j].ptr, args[j].count) else { return r.error(Err.notInteger) }
                if state.clientDirectory.find(v) == nil {
                    return r.error("ERR The client ID you want redirect to does not exist")
                }
                redirect = v
            } else if a.equalsLower("bcast") {
                return r.error("ERR CLIENT TRACKING BCAST is not supported yet")
            } else if a.equalsLower("prefix") && more > 0 {
                return r.error("ERR CLIENT TRACKING PREFIX is not supported yet")
            } else if a.equalsLower("optin") {
                optin = true
            } else if a.equalsLower("optout") {
                optout = true
            } else if a.equalsLower("noloop") {
                noloop = true
            } else {
                return r.error(Err.syntax)
            }
            j += 1
        }
        if args[2].equalsLower("on") {
            if optin && optout { return r.error("ERR You can't specify both OPTIN mode and OPTOUT mode") }
            if let t = c.tracking, (optin && t.optout) || (optout && t.optin) {
                return r.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            let t = c.tracking ?? ClientTracking()
            t.optin = optin
            t.optout = optout
            t.noloop = noloop
            t.redirect = redirect
            t.brokenRedirect = false
            startTracking(c, t)
        } else if args[2].equalsLower("off") {
            stopTracking(c)
        } else {
            return r.error(Err.syntax)
        }
        r.ok()
    }

    func clientCaching(_ c: Client, _ r: Reply) {
        guard let t = c.tracking else {
            return r.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        }
        if args[2].equalsLower("yes") {
            if !t.optin { return r.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.") }
        } else if args[2].equalsLower("no") {
            if !t.optout { return r.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.") }
        } else {
            return r.error(Err.syntax)
        }
        t.caching = true
        r.ok()
    }

    func clientTrackingInfo(_ c: Client, _ r: Reply) {
        r.map(3)
        r.bulk(static: "flags")
        if let t = c.tracking {
            var flags: [StaticString] = ["on"]
            if t.optin { flags.append("optin") }
            if t.optout { flags.append("optout") }
            if t.caching { flags.append(t.optin ? "caching-yes" : "caching-no") }
            if t.noloop { flags.append("noloop") }
            if t.brokenRedirect { flags.append("broken_redirect") }
            r.set(flags.count)
            for f in flags { r.bulk(static: f) }
        } else {
            r.set(1)
            r.bulk(static: "off")
        }
        r.bulk(static: "redirect")
        r.int(c.tracking?.redirect ?? -1)
        r.bulk(static: "prefixes")
        r.array(0)
    }
}

extension Worker {
    /// Inside `withLentShard`: the written keys that live on the lent shard.
    func invalidateOwnedWritten(_ spec: CommandSpec, _ a: ArgVector, writer: Int) {
        let table = store.tracking
        spec.forEachWrittenKey(a) { i in
            guard shardOf(a[i].ptr, a[i].count, shards: shardCount) == execShard,
                  let tokens = table.take(a[i].ptr, a[i].count) else { return }
            for t in tokens { sendInvalidation(t, a[i].buffer, writer: writer) }
        }
    }
}
