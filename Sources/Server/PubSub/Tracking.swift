import Commands
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
/// RESP2 clients need REDIRECT, which, like BCAST and PREFIX, is refused for
/// now (CLIENT TRACKING answers an error naming it).
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
        let m: ShardMessage
        if let last = outgoing[w].last, last.kind == .request, case .invalidate = last.op {
            m = last
        } else {
            m = newMessage(for: nil, target: w)
            m.op = .invalidate
            outgoing[w].append(m)
        }
        var idBuf = (0, 0, 0)
        withUnsafeMutableBytes(of: &idBuf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = formatDecimal(cid, into: p)
            if let k = key {
                arrayHeader(m.requests, 2)
                appendBulkArg(m.requests, p, n)
                appendBulkArg(m.requests, k.baseAddress ?? UnsafePointer(bitPattern: 1)!, k.count)
            } else {
                arrayHeader(m.requests, 1)
                appendBulkArg(m.requests, p, n)
            }
        }
        m.commandCount += 1
    }

    /// Target side of an `.invalidate` hop.
    func runInvalidations(_ m: ShardMessage) {
        let p = UnsafePointer(m.requests.base)
        let n = m.requests.count
        var off = 0
        while off < n, case .command(let used) = parseCommand(p + off, n - off, into: batchArgs, limits: trustedLimits) {
            off += used
            let cid = parseStrictInt(batchArgs[0].ptr, batchArgs[0].count) ?? 0
            if cid == 0 {
                for k in pubsub.trackers.keys { pushInvalidation(k, nil) }
            } else {
                pushInvalidation(cid, batchArgs.count > 1 ? batchArgs[1].buffer : nil)
            }
        }
        m.kind = .response
        outgoing[m.source].append(m)
    }

    /// The `invalidate` push (RESP3) to this worker's client `cid`; a null
    /// key list for a flush.
    func pushInvalidation(_ cid: Int, _ key: UnsafeBufferPointer<UInt8>?) {
        guard let c = pubsub.trackers[cid], c.tracking != nil, c.proto == 3 else { return }
        let f = pubsub.frame
        f.clear()
        let r = Reply(f, proto: 3)
        r.push(2)
        r.bulk(static: "invalidate")
        if let k = key {
            r.array(1)
            r.bulk(k)
        } else {
            r.null()
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

    /// CLIENT TRACKING ON|OFF [OPTIN] [OPTOUT] [NOLOOP]; REDIRECT, BCAST
    /// and PREFIX are refused.
    func clientTracking(_ c: Client, _ r: Reply) {
        var optin = false, optout = false, noloop = false
        var j = 3
        while j < args.count {
            let a = args[j]
            let more = args.count - 1 - j
            if a.equalsLower("redirect") && more > 0 {
                return r.error("ERR CLIENT TRACKING REDIRECT is not supported yet (use RESP3: HELLO 3)")
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
            r.set(flags.count)
            for f in flags { r.bulk(static: f) }
        } else {
            r.set(1)
            r.bulk(static: "off")
        }
        r.bulk(static: "redirect")
        r.int(c.tracking == nil ? -1 : 0)
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
