import Commands
import RESP
import Storage

/// How a write command is logged: as it came, or in the deterministic form
/// Redis 7.0 propagates (relative times become absolute PXAT/PEXPIREAT,
/// random or blocking pops become the plain pops or removals they did).
enum AofRule {
    case plain
    case expire(msPerUnit: Int64, absolute: Bool)   // EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
    case setex(msPerUnit: Int64)                     // SETEX, PSETEX
    case set, getex, getdel, incrbyfloat, hincrbyfloat, spop, restore, xadd, xreadgroup
    case migrate                                      // MIGRATE → DEL of the keys it moved
    /// XCLAIM / XAUTOCLAIM: the IDs they claimed, with min-idle-time 0, so
    /// a replay at another time claims the same ones (deleted ones: XACK).
    case xclaim(auto: Bool)
    /// XACK: logged as given when it acknowledged something.
    case xack
    case blockingPop(StaticString)                   // BLPOP → LPOP key
    case blockingMove                                 // BLMOVE → LMOVE, BRPOPLPUSH → RPOPLPUSH
    case mpop(list: Bool, blocking: Bool)             // [B]LMPOP, [B]ZMPOP → [LR]POP / ZPOPMIN|MAX key count

    /// By CommandSpec.id.
    static let table: [AofRule] = CommandTable.shared.specs.map { rule($0.name) }

    static func rule(_ name: String) -> AofRule {
        switch name {
        case "expire": return .expire(msPerUnit: 1000, absolute: false)
        case "pexpire": return .expire(msPerUnit: 1, absolute: false)
        case "expireat": return .expire(msPerUnit: 1000, absolute: true)
        case "pexpireat": return .expire(msPerUnit: 1, absolute: true)
        case "setex": return .setex(msPerUnit: 1000)
        case "psetex": return .setex(msPerUnit: 1)
        case "set": return .set
        case "getex": return .getex
        case "getdel": return .getdel
        case "incrbyfloat": return .incrbyfloat
        case "hincrbyfloat": return .hincrbyfloat
        case "spop": return .spop
        case "restore": return .restore
        case "xadd": return .xadd
        case "xreadgroup": return .xreadgroup
        case "xclaim": return .xclaim(auto: false)
        case "xautoclaim": return .xclaim(auto: true)
        case "xack": return .xack
        case "migrate": return .migrate
        case "blpop": return .blockingPop("LPOP")
        case "brpop": return .blockingPop("RPOP")
        case "bzpopmin": return .blockingPop("ZPOPMIN")
        case "bzpopmax": return .blockingPop("ZPOPMAX")
        case "blmove", "brpoplpush": return .blockingMove
        case "lmpop": return .mpop(list: true, blocking: false)
        case "blmpop": return .mpop(list: true, blocking: true)
        case "zmpop": return .mpop(list: false, blocking: false)
        case "bzmpop": return .mpop(list: false, blocking: true)
        default: return .plain
        }
    }
}

/// Reads the reply a command just wrote (RESP2 or RESP3), for the values a
/// deterministic form needs: SPOP's members, INCRBYFLOAT's result, XADD's ID.
struct ReplyScan {
    let p: UnsafePointer<UInt8>
    let end: Int
    var off: Int

    /// An aggregate's or a number's header: its type byte and value.
    mutating func header() -> (UInt8, Int)? {
        guard off < end else { return nil }
        let t = p[off]
        var i = off + 1
        var neg = false
        if i < end && p[i] == 45 { neg = true; i += 1 }
        var v = 0
        while i < end && p[i] != 13 {
            guard p[i] >= 48 && p[i] <= 57 else { return nil }
            v = v &* 10 &+ Int(p[i] - 48)
            i += 1
        }
        guard i + 1 < end else { return nil }
        off = i + 2
        return (t, neg ? -v : v)
    }

    /// Steps over one whole value.
    mutating func skip() {
        guard off < end else { return }
        let t = p[off]
        guard let (_, n) = header() else { off = end; return }
        switch t {
        case 36, 61, 33: off += max(0, n) + 2            // $ = !
        case 42, 126, 62: for _ in 0..<max(0, n) { skip() }  // * ~ >
        case 37, 124: for _ in 0..<max(0, 2 * n) { skip() }  // % |
        default: break
        }
    }

    /// The IDs of an XCLAIM-style entry list: `$id`, or `[$id, fields]`, or null.
    mutating func entryIDs() -> [Arg] {
        var ids: [Arg] = []
        guard let (_, n) = header(), n > 0 else { return ids }
        for _ in 0..<n {
            guard off < end else { break }
            if p[off] == 36 {
                if let id = bulk() { ids.append(id) }
            } else if p[off] == 42 || p[off] == 126 {
                let save = off
                if let (_, m) = header(), m == 2, let id = bulk() {
                    ids.append(id)
                    skip()
                } else {
                    off = save
                    skip()
                }
            } else {
                skip()
            }
        }
        return ids
    }

    /// A bulk string (or a simple string / double / integer line).
    mutating func bulk() -> Arg? {
        guard off < end else { return nil }
        let t = p[off]
        if t == 36 /* $ */ {
            guard let (_, n) = header(), n >= 0, off + n + 2 <= end else { return nil }
            let a = Arg(p + off, n)
            off += n + 2
            return a
        }
        guard t == 43 || t == 44 || t == 58 else { return nil }
        var i = off + 1
        while i < end && p[i] != 13 { i += 1 }
        guard i + 1 < end else { return nil }
        let a = Arg(p + off + 1, i - off - 1)
        off = i + 2
        return a
    }
}

extension Worker {
    @inline(__always) var aofCapturing: Bool { state.aof.capturing.value != 0 }

    /// What tells that a handler changed a shard: Redis's dirty, and the
    /// keyspace writes themselves (a cross-shard RENAME's destination half
    /// writes a key but counts no dirty: its source half does).
    struct Changes: Equatable {
        var dirty: Int
        var extra: Int
    }

    @inline(__always) func aofChanges(_ s: ShardStore) -> Changes { Changes(dirty: s.dirty, extra: s.dirtyExtra) }

    /// After a handler ran on `store`: the shard's own deletions first, then
    /// the command if it changed anything, in its logged form.
    func aofAfterHandler(_ spec: CommandSpec, _ a: ArgVector, out: ByteBuf, at before: Int, db: Int, before c0: Changes) {
        aofDrainDeletions(store, shard: execShard)
        if aofChanges(store) != c0 || aofGroupChange(spec, out, at: before) {
            aofRecord(spec, a, out: out, at: before, db: db, mask: 1 << UInt64(execShard))
        }
    }

    /// The same for a handler run with every store lent (runLent).
    func aofAfterLent(_ spec: CommandSpec, _ a: ArgVector, out: ByteBuf, at before: Int, db: Int, before c0: [Changes],
                      held: [Bool]) {
        var mask: UInt64 = 0
        for (i, s) in lentStores.enumerated() where held[i] {
            aofDrainDeletions(s, shard: i)
            if aofChanges(s) != c0[i] { mask |= 1 << UInt64(i) }
        }
        if mask == 0 && aofGroupChange(spec, out, at: before) {
            let k = a.count > 1 ? a[spec.firstKey > 0 && spec.firstKey < a.count ? spec.firstKey : 1] : a[0]
            mask = 1 << UInt64(shardOf(k.ptr, k.count, shards: shardCount))
        }
        if mask != 0 { aofRecord(spec, a, out: out, at: before, db: db, mask: mask) }
    }

    /// Consumer-group bookkeeping is no keyspace write here (no dirty), but
    /// Redis logs it: XREADGROUP that delivered, XCLAIM/XAUTOCLAIM that
    /// claimed, XACK that acknowledged. Told from the reply.
    func aofGroupChange(_ spec: CommandSpec, _ out: ByteBuf, at before: Int) -> Bool {
        switch AofRule.table[spec.id] {
        case .xreadgroup, .xclaim, .xack:
            var s = ReplyScan(p: UnsafePointer(out.base), end: out.count, off: before)
            guard before < out.count, out.base[before] != 45 /* - */, let (t, n) = s.header() else { return false }
            return t == 58 /* : */ ? n > 0 : n > 0 && t != 95 /* _ */
        default:
            return false
        }
    }

    /// Lazy and active expiry and eviction: DEL, or UNLINK under lazyfree-lazy-expire / -eviction.
    func aofDrainDeletions(_ s: ShardStore, shard: Int) {
        guard let d = s.deletions, !d.isEmpty else { return }
        let cfg = state.config
        let unlinkExpired = cfg.get("lazyfree-lazy-expire") == "yes"
        let unlinkEvicted = cfg.get("lazyfree-lazy-eviction") == "yes"
        d.drain { db, evicted, k, n in
            let b = aofLog.open(mask: 1 << UInt64(shard), db: db)
            arrayHeader(b, 2)
            appendBulkArg(b, (evicted ? unlinkEvicted : unlinkExpired) ? "UNLINK" : "DEL")
            appendBulkArg(b, k, n)
        }
    }

    /// Hands this iteration's records to the writer; under appendfsync
    /// always, returns once they are on disk (before any reply leaves).
    func aofHandover() {
        if !aofCapturing {
            if !aofLog.isEmpty { aofLog.discard() }
            // Not while held: the holder's rewrite start sets `deletions` (ThreadSanitizer).
            if locks.wholeExclusive == 0 && execShard == id && store.deletions != nil { store.deletions = nil }
            return
        }
        // A shard held by a coordinator is its to log until released.
        if locks.wholeExclusive == 0 && execShard == id { aofDrainDeletions(store, shard: id) }
        if aofLog.isEmpty { return }
        let seq = state.aof.submit(aofLog.take())
        if state.aof.fsyncMode.value == AofFsync.always.rawValue { state.aof.waitDurable(seq) }
    }

    /// lentDepth crossed zero: a lent run's records are a chunk of their own.
    func aofLentChanged() {
        aofLog.lent = lentDepth > 0
        if aofLog.cur != nil { aofLog.cut() }
    }

    /// FUNCTION LOAD / DELETE / FLUSH / RESTORE are logged as given, as
    /// Redis does: libraries are no shard's data (mask 0), so the writer
    /// never holds them back; FCALL itself is logged by its effects.
    func aofFunctionCommand(_ out: ByteBuf, from mark: Int, db: Int) {
        let sub = args[1]
        guard sub.equalsLower("load") || sub.equalsLower("delete") || sub.equalsLower("flush")
                || sub.equalsLower("restore") else { return }
        if mark < out.count && out.base[mark] == 45 /* - */ { return }
        encodeCommand(aofLog.open(mask: 0, db: db), args, from: 0)
    }

    /// One shard's part of FLUSHALL, FLUSHDB or SWAPDB.
    func aofGlobal(db: Int, _ build: (ByteBuf) -> Void) {
        if !aofCapturing { return }
        aofDrainDeletions(store, shard: execShard)
        aofLog.global(shard: execShard, db: db, build)
    }

    func aofRecord(_ spec: CommandSpec, _ a: ArgVector, out: ByteBuf, at before: Int, db: Int, mask: UInt64) {
        let b = aofLog.open(mask: mask, db: db)
        var scan = ReplyScan(p: UnsafePointer(out.base), end: out.count, off: before)
        let n = a.count
        func arg(_ i: Int) { appendBulkArg(b, a[i].ptr, a[i].count) }
        func word(_ s: StaticString) { appendBulkArg(b, s) }
        func int(_ v: Int64) { appendBulkArg(b, String(v)) }
        func plain() { encodeCommand(b, a, from: 0) }
        func number(_ i: Int) -> Int64? { parseStrictInt(a[i].ptr, a[i].count).map { Int64($0) } }
        /// The key was deleted by an expiry in the past (Redis's checkAlreadyExpired).
        func deleted(_ key: Int) {
            arrayHeader(b, 2)
            word(state.config.get("lazyfree-lazy-expire") == "yes" ? "UNLINK" : "DEL")
            arg(key)
        }
        switch AofRule.table[spec.id] {
        case .plain, .xack:
            plain()
        case .migrate:
            // Redis rewrites MIGRATE as DEL of the keys it moved (without
            // COPY); a key still here failed to move and stays.
            var gone: [Int] = []
            var i = 3
            if a[3].count == 0 {
                i = 6
                while i < n && !a[i].equalsLower("keys") { i += 1 }
                i += 1
            }
            let last = a[3].count == 0 ? n : 4
            while i < last {
                let sh = shardOf(a[i].ptr, a[i].count, shards: shardCount)
                let s = sh == execShard || lentStores.isEmpty ? store : lentStores[sh]
                if s.dbs[db].table.find(a[i].ptr, a[i].count, hash: hashBytes(a[i].ptr, a[i].count)) < 0 {
                    gone.append(i)
                }
                i += 1
            }
            if gone.isEmpty { return }
            arrayHeader(b, gone.count + 1)
            word("DEL")
            for k in gone { arg(k) }
        case .expire(let unit, let absolute):
            guard n >= 3, let v = number(2) else { return plain() }
            let at = absolute ? v &* unit : now &+ v &* unit
            if at <= now { return deleted(1) }
            arrayHeader(b, n)
            word("PEXPIREAT")
            arg(1)
            int(at)
            for i in 3..<n { arg(i) }
        case .setex(let unit):
            guard n == 4, let v = number(2) else { return plain() }
            arrayHeader(b, 5)
            word("SET")
            arg(1)
            arg(3)
            word("PXAT")
            int(now &+ v &* unit)
        case .set:
            var at: Int64? = nil
            var i = 3
            while i < n {
                let o = a[i]
                if i + 1 < n, let v = number(i + 1) {
                    if o.equalsLower("ex") { at = now &+ v &* 1000 }
                    else if o.equalsLower("px") { at = now &+ v }
                    else if o.equalsLower("exat") { at = v &* 1000 }
                }
                i += 1
            }
            guard let t = at else { return plain() }
            arrayHeader(b, 5)
            word("SET")
            arg(1)
            arg(2)
            word("PXAT")
            int(t)
        case .getex:
            var at: Int64? = nil
            var persist = false
            var i = 2
            while i < n {
                let o = a[i]
                if o.equalsLower("persist") { persist = true }
                else if i + 1 < n, let v = number(i + 1) {
                    if o.equalsLower("ex") { at = now &+ v &* 1000 }
                    else if o.equalsLower("px") { at = now &+ v }
                    else if o.equalsLower("exat") { at = v &* 1000 }
                    else if o.equalsLower("pxat") { at = v }
                }
                i += 1
            }
            if persist {
                arrayHeader(b, 2)
                word("PERSIST")
                arg(1)
            } else if let t = at {
                if t <= now { return deleted(1) }
                arrayHeader(b, 3)
                word("PEXPIREAT")
                arg(1)
                int(t)
            } else {
                plain()
            }
        case .getdel:
            arrayHeader(b, 2)
            word("DEL")
            arg(1)
        case .incrbyfloat:
            guard let v = scan.bulk() else { return plain() }
            arrayHeader(b, 4)
            word("SET")
            arg(1)
            appendBulkArg(b, v.ptr, v.count)
            word("KEEPTTL")
        case .hincrbyfloat:
            guard let v = scan.bulk() else { return plain() }
            arrayHeader(b, 4)
            word("HSET")
            arg(1)
            arg(2)
            appendBulkArg(b, v.ptr, v.count)
        case .spop:
            // The members it popped, from its reply: one, or an array/set.
            var members: [Arg] = []
            if n == 2 {
                if let m = scan.bulk() { members.append(m) }
            } else if let (_, count) = scan.header(), count > 0 {
                for _ in 0..<count { if let m = scan.bulk() { members.append(m) } }
            }
            if members.isEmpty { return plain() }
            arrayHeader(b, 2 + members.count)
            word("SREM")
            arg(1)
            for m in members { appendBulkArg(b, m.ptr, m.count) }
        case .restore:
            var abs = false
            for i in 4..<max(4, n) where a[i].equalsLower("absttl") { abs = true }
            guard n >= 4, let ttl = number(2), ttl > 0, !abs else { return plain() }
            arrayHeader(b, n + 1)
            for i in 0..<n { if i == 2 { int(now &+ ttl) } else { arg(i) } }
            word("ABSTTL")
        case .xadd:
            // The ID it chose (`*` or a partial ID) from its reply.
            guard let id = scan.bulk() else { return plain() }
            var i = 2
            while i < n {
                let o = a[i]
                if o.equalsLower("nomkstream") { i += 1; continue }
                if o.equalsLower("maxlen") || o.equalsLower("minid") {
                    i += 1
                    if i < n && (a[i].equalsLower("=") || a[i].equalsLower("~")) { i += 1 }
                    i += 1
                    if i < n && a[i].equalsLower("limit") { i += 2 }
                    continue
                }
                break
            }
            guard i < n else { return plain() }
            arrayHeader(b, n)
            for j in 0..<n { if j == i { appendBulkArg(b, id.ptr, id.count) } else { arg(j) } }
        case .xreadgroup:
            // Served now: the same read without waiting.
            var keep = [Bool](repeating: true, count: n)
            var i = 1
            while i < n && !a[i].equalsLower("streams") {
                if a[i].equalsLower("block") && i + 1 < n { keep[i] = false; keep[i + 1] = false; i += 1 }
                i += 1
            }
            arrayHeader(b, keep.filter { $0 }.count)
            for j in 0..<n where keep[j] { arg(j) }
        case .xclaim(let auto):
            var justid = false
            var keep: [Int] = []   // RETRYCOUNT n / LASTID id, kept as given
            var i = auto ? 6 : 5
            while i < n {
                if a[i].equalsLower("justid") { justid = true }
                if (a[i].equalsLower("retrycount") || a[i].equalsLower("lastid")) && i + 1 < n { keep += [i, i + 1] }
                i += 1
            }
            var deleted: [Arg] = []
            let ids: [Arg]
            if auto {
                guard let (_, three) = scan.header(), three >= 2 else { return plain() }
                scan.skip()
                ids = scan.entryIDs()
                if three >= 3, let (_, m) = scan.header(), m > 0 {
                    for _ in 0..<m { if let d = scan.bulk() { deleted.append(d) } }
                }
            } else {
                ids = scan.entryIDs()
            }
            if !ids.isEmpty {
                arrayHeader(b, 5 + ids.count + keep.count + (justid ? 1 : 0))
                word("XCLAIM")
                for j in 1...3 { arg(j) }
                word("0")
                for id in ids { appendBulkArg(b, id.ptr, id.count) }
                for j in keep { arg(j) }
                if justid { word("JUSTID") }
            }
            if !deleted.isEmpty {
                arrayHeader(b, 3 + deleted.count)
                word("XACK")
                arg(1)
                arg(2)
                for d in deleted { appendBulkArg(b, d.ptr, d.count) }
            }
        case .blockingPop(let pop):
            guard let (_, count) = scan.header(), count >= 2, let key = scan.bulk() else { return plain() }
            arrayHeader(b, 2)
            word(pop)
            appendBulkArg(b, key.ptr, key.count)
        case .blockingMove:
            if a[0].equalsLower("brpoplpush") {
                arrayHeader(b, 3)
                word("RPOPLPUSH")
                arg(1)
                arg(2)
            } else {
                arrayHeader(b, 5)
                word("LMOVE")
                for i in 1...4 { arg(i) }
            }
        case .mpop(let list, let blocking):
            let base = blocking ? 2 : 1
            guard let nk = number(base), let (_, two) = scan.header(), two == 2, let key = scan.bulk(),
                  let (_, popped) = scan.header(), base + 1 + Int(nk) < n else { return plain() }
            let dir = a[base + 1 + Int(nk)]
            arrayHeader(b, 3)
            if list {
                word(dir.equalsLower("left") ? "LPOP" : "RPOP")
            } else {
                word(dir.equalsLower("min") ? "ZPOPMIN" : "ZPOPMAX")
            }
            appendBulkArg(b, key.ptr, key.count)
            int(Int64(popped))
        }
    }
}
