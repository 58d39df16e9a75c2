import Config
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// How a pop replies (`SortedSetCommands.popReply`).
public enum ZPopShape: Sendable {
    /// BZPOPMIN/BZPOPMAX: [key, member, score], flat.
    case bzpop
    /// ZMPOP/BZMPOP: [key, [[member, score], ...]].
    case zmpop
    /// ZPOPMIN/ZPOPMAX: [member, score, ...] flat (RESP2, or no COUNT).
    case flat
    /// ZPOPMIN/ZPOPMAX with COUNT in RESP3: [[member, score], ...].
    case nested
}

/// Sorted sets (Redis 7.0's t_zset.c).
///
/// Split across files: this one has the table, the shared reading and
/// writing helpers and ZADD/ZINCRBY/ZREM/ZCARD/ZSCORE/ZMSCORE/ZRANK;
/// `+Ranges` the ZRANGE family, ZCOUNT, ZLEXCOUNT and ZREMRANGEBY*;
/// `+Pop` ZPOPMIN/ZPOPMAX/ZMPOP; `+Random` ZRANDMEMBER and ZSCAN;
/// `+Algebra` ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD.
public enum SortedSetCommands {
    static func spec(_ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
                     route: Route = .key, since: String, _ summary: String,
                     keysOf: (@Sendable (ArgVector) -> KeySpan?)? = nil, _ handler: @escaping Handler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: flags, keys: keys, route: route, group: "sorted-set",
                    summary: summary, since: since, acl: ["@sortedset"], keysOf: keysOf, handler: handler)
    }

    public static let specs: [CommandSpec] = [
        spec("zadd", -4, [.write, .denyoom, .fast], since: "1.2.0",
             "Add one or more members to a sorted set, or update its score if it already exists", zadd),
        spec("zincrby", 4, [.write, .denyoom, .fast], since: "1.2.0",
             "Increment the score of a member in a sorted set", zincrby),
        spec("zrem", -3, [.write, .fast], since: "1.2.0", "Remove one or more members from a sorted set", zrem),
        spec("zcard", 2, [.readonly, .fast], since: "1.2.0", "Get the number of members in a sorted set", zcard),
        spec("zscore", 3, [.readonly, .fast], since: "1.2.0",
             "Get the score associated with the given member in a sorted set", zscore),
        spec("zmscore", -3, [.readonly, .fast], since: "6.2.0",
             "Get the score associated with the given members in a sorted set", zmscore),
        spec("zrank", 3, [.readonly, .fast], since: "2.0.0", "Determine the index of a member in a sorted set",
             zrank),
        spec("zrevrank", 3, [.readonly, .fast], since: "2.0.0",
             "Determine the index of a member in a sorted set, with scores ordered from high to low", zrevrank),
        spec("zcount", 4, [.readonly, .fast], since: "2.0.0",
             "Count the members in a sorted set with scores within the given values", zcount),
        spec("zlexcount", 4, [.readonly, .fast], since: "2.8.9",
             "Count the number of members in a sorted set between a given lexicographical range", zlexcount),
        spec("zrange", -4, [.readonly], since: "1.2.0", "Return a range of members in a sorted set", zrange),
        spec("zrangestore", -5, [.write, .denyoom], keys: (1, 2, 1), route: .colocated, since: "6.2.0",
             "Store a range of members from sorted set into another key", zrangestore),
        spec("zrangebyscore", -4, [.readonly], since: "1.0.5",
             "Return a range of members in a sorted set, by score", zrangebyscore),
        spec("zrevrangebyscore", -4, [.readonly], since: "2.2.0",
             "Return a range of members in a sorted set, by score, with scores ordered from high to low",
             zrevrangebyscore),
        spec("zrangebylex", -4, [.readonly], since: "2.8.9",
             "Return a range of members in a sorted set, by lexicographical range", zrangebylex),
        spec("zrevrangebylex", -4, [.readonly], since: "2.8.9",
             "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
             zrevrangebylex),
        spec("zrevrange", -4, [.readonly], since: "1.2.0",
             "Return a range of members in a sorted set, by index, with scores ordered from high to low", zrevrange),
        spec("zremrangebyrank", 4, [.write], since: "2.0.0",
             "Remove all members in a sorted set within the given indexes", zremrangebyrank),
        spec("zremrangebyscore", 4, [.write], since: "1.2.0",
             "Remove all members in a sorted set within the given scores", zremrangebyscore),
        spec("zremrangebylex", 4, [.write], since: "2.8.9",
             "Remove all members in a sorted set between the given lexicographical range", zremrangebylex),
        spec("zpopmin", -2, [.write, .fast], since: "5.0.0",
             "Remove and return members with the lowest scores in a sorted set", zpopmin),
        spec("zpopmax", -2, [.write, .fast], since: "5.0.0",
             "Remove and return members with the highest scores in a sorted set", zpopmax),
        spec("zmpop", -4, [.write, .movableKeys], keys: (0, 0, 0), route: .colocated, since: "7.0.0",
             "Remove and return members with scores in a sorted set",
             keysOf: { numkeysSpan($0, at: 1, minTrailing: 1) }, zmpop),
        spec("zrandmember", -2, [.readonly], since: "6.2.0", "Get one or multiple random elements from a sorted set",
             zrandmember),
        spec("zunion", -3, [.readonly, .movableKeys], keys: (0, 0, 0), route: .colocated, since: "6.2.0",
             "Add multiple sorted sets", keysOf: { numkeysSpan($0, at: 1) }, zunion),
        spec("zinter", -3, [.readonly, .movableKeys], keys: (0, 0, 0), route: .colocated, since: "6.2.0",
             "Intersect multiple sorted sets", keysOf: { numkeysSpan($0, at: 1) }, zinter),
        spec("zdiff", -3, [.readonly, .movableKeys], keys: (0, 0, 0), route: .colocated, since: "6.2.0",
             "Subtract multiple sorted sets", keysOf: { numkeysSpan($0, at: 1) }, zdiff),
        spec("zunionstore", -4, [.write, .denyoom, .movableKeys], route: .colocated, since: "2.0.0",
             "Add multiple sorted sets and store the resulting sorted set in a new key",
             keysOf: { numkeysSpan($0, at: 2, destination: true) }, zunionstore),
        spec("zinterstore", -4, [.write, .denyoom, .movableKeys], route: .colocated, since: "2.0.0",
             "Intersect multiple sorted sets and store the resulting sorted set in a new key",
             keysOf: { numkeysSpan($0, at: 2, destination: true) }, zinterstore),
        spec("zdiffstore", -4, [.write, .denyoom, .movableKeys], route: .colocated, since: "6.2.0",
             "Subtract multiple sorted sets and store the resulting sorted set in a new key",
             keysOf: { numkeysSpan($0, at: 2, destination: true) }, zdiffstore),
        spec("zintercard", -3, [.readonly, .movableKeys], keys: (0, 0, 0), route: .colocated, since: "7.0.0",
             "Intersect multiple sorted sets and return the cardinality of the result",
             keysOf: { numkeysSpan($0, at: 1) }, zintercard),
        spec("zscan", -3, [.readonly], since: "2.8.0",
             "Incrementally iterate sorted sets elements and associated scores", zscan),
    ]

    /// Key positions of a numkeys command: the destination (argument 1)
    /// when there is one, then `numkeys` keys after the count. nil when the
    /// count is not a positive integer or names more keys than there are
    /// arguments (leaving `minTrailing` more), as the handlers reject those.
    static func numkeysSpan(_ a: ArgVector, at idx: Int, destination: Bool = false,
                            minTrailing: Int = 0) -> KeySpan? {
        guard idx < a.count, let n = parseStrictInt(a[idx].ptr, a[idx].count), n >= 1,
              n <= a.count - idx - 1 - minTrailing else { return nil }
        var ps: [Int] = destination ? [1] : []
        ps.reserveCapacity(n + 1)
        for i in 0..<n { ps.append(idx + 1 + i) }
        return .positions(ps)
    }

    // MARK: errors

    static let notFloatRange: StaticString = "ERR min or max is not a float"
    static let notLexRange: StaticString = "ERR min or max not valid string range item"
    static let nanResult: StaticString = "ERR resulting score is not a number (NaN)"

    // MARK: reading either encoding

    /// The entry in `slot` of key argument `i` (after a rewrite replaced it).
    @inline(__always) static func entry(_ x: Exec, _ i: Int, _ slot: Int) -> Entry {
        x.keyspace(of: i).entry(at: slot)
    }

    /// Slot of key argument `i` in its keyspace, or -1 (after an insert).
    @inline(__always) static func slotOf(_ x: Exec, _ i: Int) -> Int {
        let a = x[i]
        return x.keyspace(of: i).table.find(a.ptr, a.count, hash: hashBytes(a.ptr, a.count))
    }

    /// Config: zset-max-listpack-entries / -value, read once per command.
    @inline(__always) static func fitsCompact(count: Int, maxLength: Int) -> Bool {
        count <= EncodingLimits.zsetEntries && maxLength <= EncodingLimits.zsetValue
    }

    // MARK: writing

    /// Rewrites key `i`'s compact payload `c` (of the entry in `slot`):
    /// bytes `cut` removed, and `member` with `score` inserted at `insertAt`.
    static func splice(_ x: inout Exec, _ i: Int, slot: Int, _ c: CompactPayload, members: Int, cut: Range<Int>,
                       insertAt: Int = 0, member: UnsafeBufferPointer<UInt8>? = nil, score: Double = 0) {
        let len = CompactZSet.splicedLength(c, members: members, cut: cut, memberLength: member?.count, score: score)
        x.storeCompact(i, slot: slot, type: .zset, length: len) { p in
            CompactZSet.writeSpliced(p, from: c, members: members, cut: cut, insertAt: insertAt,
                                     member: member, score: score)
        }
    }

    /// The same members in the scalable encoding.
    static func toSkiplist(_ c: CompactPayload) -> ZSetValue {
        let z = ZSetValue(capacity: c.count * 2)
        var ps = CompactZSet.Pairs(c)
        while let p = ps.next() { z.insert(p.member.baseAddress, p.member.count, score: p.score) }
        return z
    }

    /// Stores a new sorted set under key argument `i`, replacing whatever
    /// is there (and its TTL, as Redis's setKey). `pairs` holds the members
    /// (`CompactZSet.appendPair`), in order when `compact`.
    static func storeResult(_ x: inout Exec, _ i: Int, pairs: PackedBuffer, members: Int, compact: Bool,
                            _ event: StaticString) {
        let existed = deleteIfExists(&x, i)
        x.overwriting(i, existed: existed) { storeResult(&x, i, pairs: pairs, members: members, compact: compact) }
        x.notify(.zset, event, i)
    }

    static func storeResult(_ x: inout Exec, _ i: Int, pairs: PackedBuffer, members: Int, compact: Bool) {
        if compact {
            storeCompactPairs(&x, i, members: members) { visit in
                var it = pairs.elements
                while let m = it.next(), let s = it.next() { visit(m, CompactZSet.decodeScore(s)) }
            }
        } else {
            let z = ZSetValue(capacity: members * 2)
            var it = pairs.elements
            while let m = it.next(), let s = it.next() {
                z.insert(m.baseAddress, m.count, score: CompactZSet.decodeScore(s))
            }
            x.storeObject(i, slot: -1, type: .zset, z)
        }
    }

    /// Stores a compact sorted set under key argument `i` (a new key) from
    /// the `members` pairs that `each` visits in order; `each` runs twice,
    /// to size the payload and to write it.
    static func storeCompactPairs(_ x: inout Exec, _ i: Int, members: Int,
                                  _ each: ((UnsafeBufferPointer<UInt8>, Double) -> Void) -> Void) {
        var len = packedVarintSize(members)
        each { m, s in len += CompactZSet.pairSize(memberLength: m.count, score: s) }
        x.storeCompact(i, slot: -1, type: .zset, length: len) { p in
            var off = 0
            packedWriteVarint(p, &off, members)
            each { m, s in CompactZSet.writePair(p, &off, m.baseAddress, m.count, s) }
        }
    }

    /// Deletes key argument `i` if it exists (a store whose result is empty).
    @discardableResult
    static func deleteIfExists(_ x: inout Exec, _ i: Int) -> Bool {
        guard let (_, slot) = x.findAny(i, read: false) else { return false }
        x.deleteKey(i, slot: slot)
        return true
    }

    /// A *STORE whose result is empty: the destination goes (`del`).
    static func storeEmpty(_ x: inout Exec, _ i: Int) {
        if deleteIfExists(&x, i) { x.notify(.generic, "del", i) }
    }

    // MARK: parsing

    /// Redis's zslParseRange for one end: "(" makes it exclusive; the rest
    /// goes to strtod as a C string (so up to a NUL, "" is 0, leading
    /// space is fine); NaN is refused.
    static func parseScoreBound(_ a: Arg) -> (Double, Bool)? {
        var p = a.ptr
        var n = a.count
        var ex = false
        if n > 0 && p[0] == 40 /* ( */ {
            ex = true
            p += 1
            n -= 1
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> (Double, Bool)? in
            let b = buf.baseAddress!
            if n > 0 { UnsafeMutableRawPointer(b).copyMemory(from: p, byteCount: n) }
            b[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(b, &end)
            guard let e = end, e.pointee == 0, !v.isNaN else { return nil }
            return (v, ex)
        }
    }

    static func parseScoreRange(_ lo: Arg, _ hi: Arg) -> ScoreRange? {
        guard let (mn, mnx) = parseScoreBound(lo), let (mx, mxx) = parseScoreBound(hi) else { return nil }
        return ScoreRange(min: mn, max: mx, minex: mnx, maxex: mxx)
    }

    /// Redis's zslParseLexRangeItem: "-", "+", "(bytes" or "[bytes"
    /// (a C string test, so "+" may be followed by a NUL and more).
    static func parseLexBound(_ a: Arg) -> (LexBound, Bool)? {
        if a.count == 0 { return nil }
        switch a[0] {
        case 43 /* + */: return a.count == 1 || a[1] == 0 ? (.plusInf, true) : nil
        case 45 /* - */: return a.count == 1 || a[1] == 0 ? (.minusInf, true) : nil
        case 40 /* ( */: return (.bytes(UnsafeBufferPointer(start: a.ptr + 1, count: a.count - 1)), true)
        case 91 /* [ */: return (.bytes(UnsafeBufferPointer(start: a.ptr + 1, count: a.count - 1)), false)
        default: return nil
        }
    }

    static func parseLexRange(_ lo: Arg, _ hi: Arg) -> LexRange? {
        guard let (mn, mnx) = parseLexBound(lo), let (mx, mxx) = parseLexBound(hi) else { return nil }
        return LexRange(min: mn, max: mx, minex: mnx, maxex: mxx)
    }

    /// getLongFromObjectOrReply: an integer or the given error (Redis's
    /// default "not an integer" when none).
    static func parseLong(_ x: inout Exec, _ i: Int, _ msg: StaticString = Err.notInteger) -> Int? {
        let a = x[i]
        guard let v = parseStrictInt(a.ptr, a.count) else {
            x.error(msg)
            return nil
        }
        return v
    }

    // MARK: replies

    /// The array header of `n` members, with scores: flat pairs in RESP2,
    /// one [member, score] array each in RESP3.
    @inline(__always) static func rangeHeader(_ r: Reply, _ n: Int, withScores: Bool) {
        r.array(withScores && r.proto == 2 ? n * 2 : n)
    }

    @inline(__always) static func replyMember(_ r: Reply, _ m: UnsafeBufferPointer<UInt8>, _ s: Double,
                                              withScores: Bool) {
        if withScores {
            if r.proto == 3 { r.array(2) }
            r.bulk(m)
            r.score(s)
        } else {
            r.bulk(m)
        }
    }

    // MARK: ZADD / ZINCRBY

    struct AddFlags {
        var nx = false, xx = false, gt = false, lt = false, incr = false
    }

    enum AddOutcome { case nan, nop, added, updated, same }

    static func zadd(_ x: inout Exec) { zaddGeneric(&x, incr: false) }
    static func zincrby(_ x: inout Exec) { zaddGeneric(&x, incr: true) }

    static func zaddGeneric(_ x: inout Exec, incr: Bool) {
        var f = AddFlags()
        f.incr = incr
        var ch = false
        var idx = 2
        while idx < x.argc {
            let o = x[idx]
            if o.equalsLower("nx") { f.nx = true }
            else if o.equalsLower("xx") { f.xx = true }
            else if o.equalsLower("ch") { ch = true }
            else if o.equalsLower("incr") { f.incr = true }
            else if o.equalsLower("gt") { f.gt = true }
            else if o.equalsLower("lt") { f.lt = true }
            else { break }
            idx += 1
        }
        let rest = x.argc - idx
        if rest % 2 != 0 || rest == 0 { return x.error(Err.syntax) }
        let pairs = rest / 2
        if f.nx && f.xx { return x.error("ERR XX and NX options at the same time are not compatible") }
        if (f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt) {
            return x.error("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if f.incr && pairs > 1 { return x.error("ERR INCR option supports a single increment-element pair") }
        // Every score is checked before anything changes, as Redis does.
        for j in 0..<pairs {
            let a = x[idx + 2 * j]
            if parseRedisDouble(a.ptr, a.count) == nil { return x.error(Err.notFloat) }
        }

        let args = x.args
        addPairs(&x, f, ch: ch, pairs: pairs, score: { j in
            let a = args[idx + 2 * j]
            return parseRedisDouble(a.ptr, a.count)!
        }, member: { j in args[idx + 2 * j + 1] })
    }

    /// ZADD's work once its arguments are checked: adds `pairs` members
    /// (`member(j)` with `score(j)`) to key 1 and replies. GEOADD shares it.
    static func addPairs(_ x: inout Exec, _ f: AddFlags, ch: Bool, pairs: Int, score scoreAt: (Int) -> Double,
                         member memberAt: (Int) -> Arg) {
        var slot: Int
        switch x.find(1, .zset, read: false) {
        case .wrongType: return
        case .found(_, let s): slot = s
        case .missing:
            if f.xx { return replyAdd(&x, f, ch: ch, added: 0, updated: 0, processed: 0, score: 0) }
            let m = memberAt(0)
            let score = scoreAt(0)
            if EncodingLimits.zsetEntries == 0 || EncodingLimits.zsetValue < m.count {
                let z = ZSetValue()
                z.insert(m.ptr, m.count, score: score)
                x.storeObject(1, slot: -1, type: .zset, z)
            } else {
                x.storeCompact(1, slot: -1, type: .zset,
                               length: 1 + CompactZSet.pairSize(memberLength: m.count, score: score)) { p in
                    var off = 0
                    writeOne(p, &off)
                    CompactZSet.writePair(p, &off, m.ptr, m.count, score)
                }
            }
            slot = slotOf(x, 1)
            if pairs == 1 { return replyAdd(&x, f, ch: ch, added: 1, updated: 0, processed: 1, score: score) }
            // The first pair is in: carry on with the rest.
            var added = 1, updated = 0, processed = 1
            var last = score
            for j in 1..<pairs {
                let out = addOne(&x, slot: slot, score: scoreAt(j), member: memberAt(j), f, &last)
                tally(out, &added, &updated, &processed)
            }
            return replyAdd(&x, f, ch: ch, added: added, updated: updated, processed: processed, score: last)
        }
        var added = 0, updated = 0, processed = 0
        var last = 0.0
        var changedObject = false
        for j in 0..<pairs {
            let isObject = entry(x, 1, slot).payload == .object
            let out = addOne(&x, slot: slot, score: scoreAt(j), member: memberAt(j), f, &last)
            if out == .nan {
                if changedObject { x.modified(1) }
                if added + updated > 0 { x.notify(.zset, f.incr ? "zincr" : "zadd", 1) }
                return x.error(nanResult)
            }
            if isObject && (out == .added || out == .updated) { changedObject = true }
            tally(out, &added, &updated, &processed)
        }
        if changedObject { x.modified(1) }
        replyAdd(&x, f, ch: ch, added: added, updated: updated, processed: processed, score: last)
    }

    @inline(__always) static func writeOne(_ p: UnsafeMutableRawPointer, _ off: inout Int) {
        p.storeBytes(of: UInt8(1), toByteOffset: off, as: UInt8.self)
        off += 1
    }

    @inline(__always) static func tally(_ o: AddOutcome, _ added: inout Int, _ updated: inout Int,
                                        _ processed: inout Int) {
        switch o {
        case .added: added += 1; processed += 1
        case .updated: updated += 1; processed += 1
        case .same: processed += 1
        case .nop, .nan: break
        }
    }

    static func replyAdd(_ x: inout Exec, _ f: AddFlags, ch: Bool, added: Int, updated: Int, processed: Int,
                         score: Double) {
        if added + updated > 0 { x.notify(.zset, f.incr ? "zincr" : "zadd", 1) }
        if f.incr {
            if processed > 0 { x.reply.score(score) } else { x.reply.null() }
        } else {
            x.reply.int(ch ? added + updated : added)
        }
    }

    /// Redis's zsetAdd of `m` with `score0` on the sorted set in `slot` of
    /// key 1; `newScore` gets the score the member ends with. Converts to
    /// the skiplist when the compact encoding would outgrow its limits.
    static func addOne(_ x: inout Exec, slot: Int, score score0: Double, member m: Arg, _ f: AddFlags,
                       _ newScore: inout Double) -> AddOutcome {
        var score = score0
        let e = entry(x, 1, slot)
        if e.payload != .object {
            let c = e.compact
            if let (p, _) = CompactZSet.find(c, m.ptr, m.count) {
                if f.nx { return .nop }
                let cur = p.score
                if f.incr {
                    score += cur
                    if score.isNaN { return .nan }
                }
                if (f.lt && score >= cur) || (f.gt && score <= cur) { return .nop }
                newScore = score
                if score == cur { return .same }
                let at = CompactZSet.insertionOffset(c, score, m.ptr, m.count)
                splice(&x, 1, slot: slot, c, members: c.count, cut: p.start..<p.end, insertAt: at,
                       member: m.buffer, score: score)
                return .updated
            }
            if f.xx { return .nop }
            if c.count + 1 <= EncodingLimits.zsetEntries && m.count <= EncodingLimits.zsetValue {
                let at = CompactZSet.insertionOffset(c, score, m.ptr, m.count)
                splice(&x, 1, slot: slot, c, members: c.count + 1, cut: at..<at, insertAt: at, member: m.buffer,
                       score: score)
                newScore = score
                return .added
            }
            x.storeObject(1, slot: slot, type: .zset, toSkiplist(c))
        }
        let z = entry(x, 1, slot).objectRef(ZSetValue.self)
        if let node = z.find(m.ptr, m.count) {
            if f.nx { return .nop }
            let cur = node.score
            if f.incr {
                score += cur
                if score.isNaN { return .nan }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) { return .nop }
            newScore = score
            if score == cur { return .same }
            z.updateScore(node, score)
            return .updated
        }
        if f.xx { return .nop }
        z.insert(m.ptr, m.count, score: score)
        newScore = score
        return .added
    }

    // MARK: ZREM

    static func zrem(_ x: inout Exec) {
        guard case .found(var e, let slot) = x.find(1, .zset, read: false) else {
            if !x.failed { x.reply.int(0) }
            return
        }
        var deleted = 0
        var objectChanged = false
        for j in 2..<x.argc {
            let m = x[j]
            if e.payload == .object {
                let z = e.objectRef(ZSetValue.self)
                if let node = z.find(m.ptr, m.count) {
                    z.remove(node)
                    deleted += 1
                    objectChanged = true
                    if z.count == 0 {
                        x.deleteKey(1, slot: slot)
                        removedNotify(&x, 1, "zrem", removed: true)
                        return x.reply.int(deleted)
                    }
                }
            } else {
                let c = e.compact
                if let (p, _) = CompactZSet.find(c, m.ptr, m.count) {
                    deleted += 1
                    if c.count == 1 {
                        x.deleteKey(1, slot: slot)
                        removedNotify(&x, 1, "zrem", removed: true)
                        return x.reply.int(deleted)
                    }
                    splice(&x, 1, slot: slot, c, members: c.count - 1, cut: p.start..<p.end)
                    e = entry(x, 1, slot)
                }
            }
        }
        if objectChanged { x.modified(1) }
        if deleted > 0 { removedNotify(&x, 1, "zrem", removed: false) }
        x.reply.int(deleted)
    }

    /// `event`, then `del` when the key went with its last member.
    @inline(__always) static func removedNotify(_ x: inout Exec, _ i: Int, _ event: StaticString, removed: Bool) {
        x.notify(.zset, event, i)
        if removed { x.notify(.generic, "del", i) }
    }

    // MARK: ZCARD / ZSCORE / ZMSCORE / ZRANK

    static func zcard(_ x: inout Exec) {
        switch x.find(1, .zset, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: return
        case .found(let e, _): x.reply.int(ZView(e).count)
        }
    }

    static func zscore(_ x: inout Exec) {
        guard case .found(let e, _) = x.find(1, .zset, read: true) else {
            if !x.failed { x.reply.null() }
            return
        }
        if let s = ZView(e).score(x[2]) { x.reply.score(s) } else { x.reply.null() }
    }

    static func zmscore(_ x: inout Exec) {
        var v: ZView? = nil
        switch x.find(1, .zset, read: true) {
        case .wrongType: return
        case .missing: break
        case .found(let e, _): v = ZView(e)
        }
        x.reply.array(x.argc - 2)
        for j in 2..<x.argc {
            if let s = v?.score(x[j]) { x.reply.score(s) } else { x.reply.null() }
        }
    }

    static func zrank(_ x: inout Exec) { zrankGeneric(&x, reverse: false) }
    static func zrevrank(_ x: inout Exec) { zrankGeneric(&x, reverse: true) }

    static func zrankGeneric(_ x: inout Exec, reverse: Bool) {
        guard case .found(let e, _) = x.find(1, .zset, read: true) else {
            if !x.failed { x.reply.null() }
            return
        }
        let v = ZView(e)
        guard let r = v.rank(x[2]) else { return x.reply.null() }
        x.reply.int(reverse ? v.count - 1 - r : r)
    }
}

/// A sorted set of either encoding, for reading.
enum ZView {
    case compact(CompactPayload)
    case skiplist(ZSetValue)

    @inline(__always) init(_ e: Entry) {
        self = e.payload == .object ? .skiplist(e.objectRef(ZSetValue.self)) : .compact(e.compact)
    }

    var count: Int {
        switch self {
        case .compact(let c): return c.count
        case .skiplist(let z): return z.count
        }
    }

    func score(_ m: Arg) -> Double? {
        switch self {
        case .compact(let c): return CompactZSet.find(c, m.ptr, m.count)?.0.score
        case .skiplist(let z): return z.find(m.ptr, m.count)?.score
        }
    }

    /// 0-based rank of member `m`, or nil.
    func rank(_ m: Arg) -> Int? {
        switch self {
        case .compact(let c): return CompactZSet.find(c, m.ptr, m.count)?.1
        case .skiplist(let z):
            guard let n = z.find(m.ptr, m.count) else { return nil }
            return z.rank(of: n)
        }
    }

    /// Calls `body` with the `n` members from 0-based rank `start` on, in
    /// order; `reverse`: from rank `start` down.
    func forEach(from start: Int, count n: Int, reverse: Bool,
                 _ body: (UnsafeBufferPointer<UInt8>, Double) -> Void) {
        if n <= 0 { return }
        switch self {
        case .compact(let c):
            let low = reverse ? start - n + 1 : start
            var ps = CompactZSet.Pairs(c, from: CompactZSet.offset(c, index: low))
            if !reverse {
                for _ in 0..<n { let p = ps.next()!; body(p.member, p.score) }
                return
            }
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { offs in
                for k in 0..<n { offs[k] = ps.next()!.start }
                for k in stride(from: n - 1, through: 0, by: -1) {
                    var q = CompactZSet.Pairs(c, from: offs[k])
                    let p = q.next()!
                    body(p.member, p.score)
                }
            }
        case .skiplist(let z):
            var node: SLNode?
            if !reverse && start == 0 { node = z.list.first }
            else if reverse && start == z.count - 1 { node = z.list.tail }
            else { node = z.node(atRank: start) }
            for _ in 0..<n {
                guard let nd = node else { return }
                body(nd.member, nd.score)
                node = reverse ? nd.backward : nd.next
            }
        }
    }

    /// Where a range lies, found as Redis finds it: forward, the first
    /// member at least `min` and how many follow while at most `max`;
    /// reverse, the last member at most `max` and how many precede it
    /// while at least `min`. (rank, 0) when nothing is in range.
    func locate<R: ZRangeSpec>(_ r: R, reverse: Bool) -> (rank: Int, count: Int) {
        if r.isEmpty || count == 0 { return (0, 0) }
        switch self {
        case .compact(let c):
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: c.count) { offs -> (Int, Int) in
                var ps = CompactZSet.Pairs(c)
                var k = 0
                while let p = ps.next() { offs[k] = p.start; k += 1 }
                func at(_ i: Int) -> CompactZSet.Pair { var q = CompactZSet.Pairs(c, from: offs[i]); return q.next()! }
                let n = c.count
                let lastP = at(n - 1), firstP = at(0)
                if !r.gteMin(lastP.score, lastP.member) || !r.lteMax(firstP.score, firstP.member) { return (0, 0) }
                if !reverse {
                    var i = 0
                    while i < n {
                        let p = at(i)
                        if r.gteMin(p.score, p.member) { break }
                        i += 1
                    }
                    if i == n { return (0, 0) }
                    var j = i
                    while j < n {
                        let p = at(j)
                        if !r.lteMax(p.score, p.member) { break }
                        j += 1
                    }
                    return (i, j - i)
                }
                var i = n - 1
                while i >= 0 {
                    let p = at(i)
                    if r.lteMax(p.score, p.member) { break }
                    i -= 1
                }
                if i < 0 { return (0, 0) }
                var j = i
                while j >= 0 {
                    let p = at(j)
                    if !r.gteMin(p.score, p.member) { break }
                    j -= 1
                }
                return (i, i - j)
            }
        case .skiplist(let z):
            let l = z.list
            guard let t = l.tail, let f = l.first, r.gteMin(t.score, t.member), r.lteMax(f.score, f.member) else {
                return (0, 0)
            }
            // Ranks from the descents: `below` members are under min, `upto` at most max.
            let (below, before) = l.lastWhere { !r.gteMin($0.score, $0.member) }
            let (upto, last) = l.lastWhere { r.lteMax($0.score, $0.member) }
            if !reverse {
                guard let first = before.next, r.lteMax(first.score, first.member) else { return (0, 0) }
                return (below, max(0, upto - below))
            }
            guard upto > 0, r.gteMin(last.score, last.member) else { return (0, 0) }
            return (upto - 1, max(0, upto - below))
        }
    }
}
