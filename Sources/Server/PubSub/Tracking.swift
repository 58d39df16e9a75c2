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
    /// BCAST and its prefixes, sorted.
    var bcast = false
    var prefixes: [[UInt8]] = []
}

/// Every BCAST client's prefixes, server-wide: a key changed on any shard is
/// matched against them. Workers keep a copy, refreshed when `generation`
/// moves; `active` counts the entries, so without BCAST clients a write
/// pays one load.
final class BcastRegistry: @unchecked Sendable {
    struct Entry { let prefix: [UInt8]; let token: Int }
    private let entries = Mutex<[Entry]>([])
    let generation = AtomicCounter(0)
    let active = AtomicCounter(0)

    func add(_ prefixes: [[UInt8]], token: Int) {
        entries.withLock { e in
            for p in prefixes where !e.contains(where: { $0.token == token && $0.prefix == p }) {
                e.append(Entry(prefix: p, token: token))
                active.add(1)
            }
        }
        generation.add(1)
    }

    func remove(token: Int) {
        entries.withLock { e in
            let before = e.count
            e.removeAll { $0.token >> 1 == token >> 1 }
            active.add(e.count - before)
        }
        generation.add(1)
    }

    /// Prefixes in byte order, each with its tokens.
    func table() -> [([UInt8], [Int])] {
        entries.withLock { e in
            var d: [[UInt8]: [Int]] = [:]
            for x in e { d[x.prefix, default: []].append(x.token) }
            return d.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
        }
    }
}

/// The keys of one invalidation message: none (a flush's null), one key,
/// or a BCAST batch.
enum InvalidKeys {
    case null
    case one(UnsafeBufferPointer<UInt8>)
    case many([[UInt8]])

    func forEach(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch self {
        case .null: break
        case .one(let k): body(k)
        case .many(let ks): for k in ks { k.withUnsafeBufferPointer(body) }
        }
    }

    var count: Int {
        switch self {
        case .null: return 0
        case .one: return 1
        case .many(let ks): return ks.count
        }
    }

    func write(_ r: Reply) {
        if case .null = self { return r.null() }
        r.array(count)
        forEach { r.bulk($0) }
    }
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
/// (its worker and id). Changes are found where keyspace events are: while
/// any client tracks, every event is logged (`NotifyClass.tracking`), and
/// each names a key its command changed, expired or evicted, at the moment
/// Redis calls signalModifiedKey. Publishing the log takes the key's tokens
/// out and each client gets an `invalidate` push on its own worker, by an
/// `.invalidate` hop when that is another one. FLUSHALL and FLUSHDB send
/// every tracking client a null invalidation.
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
    /// them before it sleeps.
    func rememberBroadcast(_ key: UnsafeBufferPointer<UInt8>, writer: Int) {
        let g = state.bcast.generation.value
        if g != pubsub.bcastGeneration {
            pubsub.bcastTable = state.bcast.table()
            pubsub.bcastGeneration = g
        }
        var k: [UInt8]? = nil
        for (prefix, _) in pubsub.bcastTable where key.starts(with: prefix) {
            let kb = k ?? Array(key)
            k = kb
            if pubsub.bcastPending[prefix, default: [:]][kb] == nil { pubsub.bcastPending[prefix, default: [:]][kb] = writer }
        }
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
    func invalidateKey(_ s: ShardStore, _ key: UnsafeBufferPointer<UInt8>, writer: Int) {
        if state.bcast.active.value > 0 { rememberBroadcast(key, writer: writer) }
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
        outgoing[m.source].append(m)
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
        pushFrame(c, f)
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

    func startTracking(_ c: Client, _ t: ClientTracking) {
        if c.tracking == nil {
            pubsub.trackers[c.id] = c
            handle.trackers.add(1)
            state.trackingClients.add(1)
            applyNotifyConfig()
        }
        c.tracking = t
    }

    func stopTracking(_ c: Client) {
        guard let t = c.tracking else { return }
        if t.bcast { state.bcast.remove(token: trackingToken(c, t)) }
        c.tracking = nil
        pubsub.trackers[c.id] = nil
        handle.trackers.add(-1)
        state.trackingClients.add(-1)
        applyNotifyConfig()
    }

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [OPTIN] [OPTOUT] [NOLOOP];
    /// BCAST [PREFIX p ...].
    func clientTracking(_ c: Client, _ r: Reply) {
        var optin = false, optout = false, noloop = false
        var redirect = 0
        var bcast = false
        var prefixes: [[UInt8]] = []
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
                bcast = true
            } else if a.equalsLower("prefix") && more > 0 {
                j += 1
                prefixes.append(args[j].bytes)
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
            if !bcast && !prefixes.isEmpty { return r.error("ERR PREFIX option requires BCAST mode to be enabled") }
            if let t = c.tracking, t.bcast != bcast {
                return r.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if bcast && (optin || optout) { return r.error("ERR OPTIN and OPTOUT are not compatible with BCAST") }
            if optin && optout { return r.error("ERR You can't specify both OPTIN mode and OPTOUT mode") }
            if let t = c.tracking, (optin && t.optout) || (optout && t.optin) {
                return r.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if bcast, let e = prefixCollision(c.tracking?.prefixes ?? [], prefixes) { return r.error(string: e) }
            let t = c.tracking ?? ClientTracking()
            t.optin = optin
            t.optout = optout
            t.noloop = noloop
            t.redirect = redirect
            t.brokenRedirect = false
            startTracking(c, t)
            if bcast {
                t.bcast = true
                if prefixes.isEmpty { prefixes = [[]] }
                for p in prefixes where !t.prefixes.contains(p) { t.prefixes.append(p) }
                t.prefixes.sort { $0.lexicographicallyPrecedes($1) }
                state.bcast.add(prefixes, token: trackingToken(c, t))
            }
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
            if t.bcast { flags.append("bcast") }
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
        let ps = c.tracking?.prefixes ?? []
        r.array(ps.count)
        for p in ps { r.bulk(p) }
    }

    /// Redis's checkPrefixCollisionsOrReply: a client's prefixes may not
    /// be prefixes of one another.
    func prefixCollision(_ existing: [[UInt8]], _ given: [[UInt8]]) -> String? {
        func overlap(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.starts(with: b) || b.starts(with: a) }
        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        for (i, p) in given.enumerated() {
            if let e = existing.first(where: { overlap($0, p) }) {
                return "ERR Prefix '\(text(p))' overlaps with an existing prefix '\(text(e))'. Prefixes for a single client must not overlap."
            }
            if let o = given[(i + 1)...].first(where: { overlap($0, p) }) {
                return "ERR Prefix '\(text(p))' overlaps with another provided prefix '\(text(o))'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }
}
