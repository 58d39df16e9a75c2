import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Streams (Redis 7.0's t_stream.c), every stream a `StreamValue`.
///
/// Split across files: this one has the table, the shared helpers, XADD,
/// XLEN, XRANGE/XREVRANGE, XDEL, XTRIM and XSETID; `+Read` XREAD and
/// XREADGROUP; `+Groups` XGROUP and XACK; `+Pending` XPENDING, XCLAIM and
/// XAUTOCLAIM; `+Info` XINFO.
public enum StreamCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("xadd", arity: -5, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "stream", summary: "Appends a new entry to a stream", since: "5.0.0", acl: ["@stream"],
                    handler: xadd),
        CommandSpec("xlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "stream", summary: "Return the number of entries in a stream", since: "5.0.0",
                    acl: ["@stream"], handler: xlen),
        CommandSpec("xrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "stream",
                    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
                    since: "5.0.0", acl: ["@stream"], handler: xrange),
        CommandSpec("xrevrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "stream",
                    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
                    since: "5.0.0", acl: ["@stream"], handler: xrevrange),
        CommandSpec("xdel", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "stream",
                    summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
                    since: "5.0.0", acl: ["@stream"], handler: xdel),
        CommandSpec("xtrim", arity: -4, flags: [.write], keys: (1, 1, 1), route: .key,
                    group: "stream", summary: "Trims the stream to (approximately if '~' is passed) a certain size",
                    since: "5.0.0", acl: ["@stream"], handler: xtrim),
        CommandSpec("xsetid", arity: -3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "stream", summary: "An internal command for replicating stream values", since: "5.0.0",
                    acl: ["@stream"], handler: xsetid),
    ] + readSpecs + groupSpecs + pendingSpecs + [infoSpec]

    static let invalidID: StaticString = "ERR Invalid stream ID specified as stream command argument"

    // MARK: shared helpers

    /// Argument `i` as an ID (Redis's streamParseIDOrReply / strict form).
    static func parseID(_ x: inout Exec, _ i: Int, missingSeq: UInt64 = 0, strict: Bool) -> StreamID? {
        let a = x[i]
        guard case .id(let id)? = StreamID.parse(a.ptr, a.count, missingSeq: missingSeq, strict: strict) else {
            x.error(invalidID)
            return nil
        }
        return id
    }

    /// A range bound: `(` makes it exclusive (then `-`/`+` are invalid).
    static func parseBound(_ x: inout Exec, _ i: Int, missingSeq: UInt64) -> (StreamID, exclusive: Bool)? {
        let a = x[i]
        if a.count > 1 && a[0] == 40 {
            guard case .id(let id)? = StreamID.parse(a.ptr + 1, a.count - 1, missingSeq: missingSeq, strict: true)
            else {
                x.error(invalidID)
                return nil
            }
            return (id, true)
        }
        guard let id = parseID(&x, i, missingSeq: missingSeq, strict: false) else { return nil }
        return (id, false)
    }

    /// Redis's getLongLongFromObjectOrReply.
    static func parseLong(_ x: inout Exec, _ i: Int) -> Int? {
        guard let v = parseStrictInt(x[i].ptr, x[i].count) else {
            x.error(Err.notInteger)
            return nil
        }
        return v
    }

    @inline(__always) static func replyID(_ r: Reply, _ id: StreamID) {
        var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            r.bulk(p, id.format(into: p))
        }
    }

    /// `[id, [field, value, ...]]`.
    @inline(__always) static func replyEntry(_ r: Reply, _ e: StreamEntry) {
        r.array(2)
        replyID(r, e.id)
        r.array(e.fieldCount * 2)
        e.forEachPair { f, fn, v, vn in
            r.bulk(f, fn)
            r.bulk(v, vn)
        }
    }

    /// Entries of [start, end], at most `count` (0: all), as an array.
    static func replyRange(_ r: Reply, _ s: StreamValue, _ start: StreamID, _ end: StreamID, count: Int,
                           reverse: Bool) -> Int {
        // The array header needs the count first: count, then emit.
        var n = 0
        s.forEach(from: start, to: end, reverse: reverse) { _ in
            n += 1
            return count == 0 || n < count
        }
        r.array(n)
        var k = 0
        s.forEach(from: start, to: end, reverse: reverse) { e in
            replyEntry(r, e)
            k += 1
            return k < n
        }
        return n
    }

    /// The stream of key argument `i` for a write, created when missing
    /// unless `create` is false (nil then, nothing replied); nil with a
    /// reply on WRONGTYPE.
    static func writeStream(_ x: inout Exec, _ i: Int, create: Bool) -> StreamValue? {
        switch x.find(i, .stream, read: false) {
        case .wrongType: return nil
        case .found(let e, _):
            return e.objectRef(StreamValue.self)
        case .missing:
            guard create else { return nil }
            let s = StreamValue()
            x.storeObject(i, slot: -1, type: .stream, s)
            // Creating it and the write that follows are one change to Redis's dirty.
            x.store.dirtyExtra &-= 1
            return s
        }
    }

    // MARK: XADD / XTRIM

    struct TrimArgs {
        var strategy = StreamValue.Trim.none
        var approx = false
        var limit = 0
        var argIndex = 0
        var id = StreamID.zero
        var idGiven = false
        var seqGiven = true
        var noMkStream = false
    }

    /// streamParseAddOrTrimArgsOrReply: the options, with Redis's errors in
    /// its order; for XADD the ID's position (nil: replied an error).
    static func parseAddOrTrim(_ x: inout Exec, _ t: inout TrimArgs, xadd: Bool) -> Int? {
        var i = 2
        var limitGiven = false
        while i < x.argc {
            let more = x.argc - 1 - i
            let o = x[i]
            if xadd && o.count == 1 && o[0] == 42 { break }
            if (o.equalsLower("maxlen") || o.equalsLower("minid")) && more > 0 {
                let maxlen = o.equalsLower("maxlen")
                if case .none = t.strategy {} else {
                    x.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                    return nil
                }
                t.approx = false
                let next = x[i + 1]
                if more >= 2 && next.count == 1 && (next[0] == 126 || next[0] == 61) {
                    t.approx = next[0] == 126
                    i += 1
                }
                if maxlen {
                    guard let v = parseLong(&x, i + 1) else { return nil }
                    if v < 0 {
                        x.error("ERR The MAXLEN argument must be >= 0.")
                        return nil
                    }
                    t.strategy = .maxLen(v)
                } else {
                    guard let id = parseID(&x, i + 1, strict: true) else { return nil }
                    t.strategy = .minID(id)
                }
                i += 1
                t.argIndex = i
            } else if o.equalsLower("limit") && more > 0 {
                guard let v = parseLong(&x, i + 1) else { return nil }
                if v < 0 {
                    x.error("ERR The LIMIT argument must be >= 0.")
                    return nil
                }
                t.limit = v
                limitGiven = true
                i += 1
            } else if xadd && o.equalsLower("nomkstream") {
                t.noMkStream = true
            } else if xadd {
                switch StreamID.parse(o.ptr, o.count, missingSeq: 0, strict: true, autoSeq: true) {
                case .id(let id)?: t.id = id
                case .autoSeq(let ms)?:
                    t.id = StreamID(ms, 0)
                    t.seqGiven = false
                case nil:
                    x.error(invalidID)
                    return nil
                }
                t.idGiven = true
                break
            } else {
                x.error(Err.syntax)
                return nil
            }
            i += 1
        }
        let none: Bool
        if case .none = t.strategy { none = true } else { none = false }
        if t.limit != 0 && none {
            x.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
            return nil
        }
        if !xadd && none {
            x.error("ERR syntax error, XTRIM must be called with a trimming strategy")
            return nil
        }
        if limitGiven {
            if !t.approx {
                x.error("ERR syntax error, LIMIT cannot be used without the special ~ option")
                return nil
            }
        } else if t.approx {
            let m = EncodingLimits.streamNodeMaxEntries.load(ordering: .relaxed)
            var l = m.multipliedReportingOverflow(by: 100)
            if l.overflow { l.partialValue = -1 }
            t.limit = l.partialValue <= 0 ? 10000 : min(l.partialValue, 1_000_000)
        } else {
            t.limit = 0
        }
        return i
    }

    /// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
    static func xadd(_ x: inout Exec) {
        var t = TrimArgs()
        guard let idPos = parseAddOrTrim(&x, &t, xadd: true) else { return }
        let fieldPos = idPos + 1
        let nargs = x.argc - fieldPos
        if nargs < 2 || nargs % 2 == 1 { return x.error(string: wrongArityError("xadd")) }
        if t.idGiven && t.seqGiven && t.id.isZero {
            return x.error("ERR The ID specified in XADD must be greater than 0-0")
        }
        guard let s = writeStream(&x, 1, create: !t.noMkStream) else {
            if !x.failed { x.reply.null() }
            return
        }
        if s.lastID == .max {
            return x.error("ERR The stream has exhausted the last possible ID, unable to add more items")
        }
        var total = 0
        for j in fieldPos..<x.argc { total += x[j].count }
        if total > 1 << 30 { return x.error("ERR Elements are too large to be stored") }
        let id: StreamID
        if !t.idGiven {
            let ms = UInt64(max(x.now, 0))
            id = ms > s.lastID.ms ? StreamID(ms, 0) : s.lastID.incremented!
        } else if !t.seqGiven && s.lastID.ms == t.id.ms {
            // Redis fails here without setting errno, so it reports the
            // other append error.
            guard s.lastID.seq != UInt64.max else { return x.error("ERR Elements are too large to be stored") }
            id = StreamID(t.id.ms, s.lastID.seq + 1)
        } else {
            id = t.id
        }
        if id <= s.lastID {
            return x.error("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        }
        s.append(id, pairs: UnsafeBufferPointer(start: x.args.storage + fieldPos, count: nargs))
        x.modified(1)
        replyID(x.reply, id)
        x.notify(.stream, "xadd", 1)
        if s.trim(t.strategy, approx: t.approx, limit: t.limit) > 0 { x.notify(.stream, "xtrim", 1) }
    }

    /// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
    static func xtrim(_ x: inout Exec) {
        var t = TrimArgs()
        guard parseAddOrTrim(&x, &t, xadd: false) != nil else { return }
        switch x.find(1, .stream, read: false) {
        case .wrongType: return
        case .missing: x.reply.int(0)
        case .found(let e, _):
            let n = e.objectRef(StreamValue.self).trim(t.strategy, approx: t.approx, limit: t.limit)
            if n > 0 {
                x.modified(1)
                x.notify(.stream, "xtrim", 1)
            }
            x.changed(n)
            x.reply.int(n)
        }
    }

    // MARK: XLEN / XRANGE / XDEL / XSETID

    static func xlen(_ x: inout Exec) {
        switch x.find(1, .stream, read: true) {
        case .wrongType: return
        case .missing: x.reply.int(0)
        case .found(let e, _): x.reply.int(e.objectRef(StreamValue.self).length)
        }
    }

    static func xrange(_ x: inout Exec) { rangeCommand(&x, reverse: false) }
    static func xrevrange(_ x: inout Exec) { rangeCommand(&x, reverse: true) }

    static func rangeCommand(_ x: inout Exec, reverse: Bool) {
        guard let (s0, sx) = parseBound(&x, reverse ? 3 : 2, missingSeq: 0) else { return }
        var start = s0
        if sx {
            guard let n = s0.incremented else { return x.error("ERR invalid start ID for the interval") }
            start = n
        }
        guard let (e0, ex) = parseBound(&x, reverse ? 2 : 3, missingSeq: UInt64.max) else { return }
        var end = e0
        if ex {
            guard let n = e0.decremented else { return x.error("ERR invalid end ID for the interval") }
            end = n
        }
        var count = -1
        var j = 4
        while j < x.argc {
            if x[j].equalsLower("count") && j + 1 < x.argc {
                guard let c = parseLong(&x, j + 1) else { return }
                count = max(c, 0)
                j += 2
            } else {
                return x.error(Err.syntax)
            }
        }
        switch x.find(1, .stream, read: true) {
        case .wrongType: return
        case .missing: x.reply.array(0)
        case .found(let e, _):
            if count == 0 { return x.reply.nullArray() }
            _ = replyRange(x.reply, e.objectRef(StreamValue.self), start, end, count: max(count, 0),
                           reverse: reverse)
        }
    }

    /// XDEL key id [id ...]
    static func xdel(_ x: inout Exec) {
        let s: StreamValue
        switch x.find(1, .stream, read: false) {
        case .wrongType: return
        case .missing: return x.reply.int(0)
        case .found(let e, _): s = e.objectRef(StreamValue.self)
        }
        // Every ID is checked before any is deleted, as Redis does.
        for j in 2..<x.argc {
            let a = x[j]
            guard case .id? = StreamID.parse(a.ptr, a.count, missingSeq: 0, strict: true) else {
                return x.error(invalidID)
            }
        }
        var deleted = 0
        var firstGone = false
        for j in 2..<x.argc {
            let a = x[j]
            guard case .id(let id)? = StreamID.parse(a.ptr, a.count, missingSeq: 0, strict: true) else { continue }
            if s.delete(id) {
                if id == s.firstID { firstGone = true }
                if id > s.maxDeletedID { s.maxDeletedID = id }
                deleted += 1
            }
        }
        if deleted > 0 {
            if s.length == 0 {
                s.firstID = .zero
            } else if firstGone {
                s.firstID = s.edgeID(first: true) ?? .zero
            }
            x.modified(1)
            x.notify(.stream, "xdel", 1)
        }
        x.reply.int(deleted)
    }

    /// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
    static func xsetid(_ x: inout Exec) {
        guard let id = parseID(&x, 2, strict: true) else { return }
        var added = -1
        var maxDel = StreamID.zero
        var i = 3
        while i < x.argc {
            let more = x.argc - 1 - i
            if x[i].equalsLower("entriesadded") && more > 0 {
                guard let v = parseLong(&x, i + 1) else { return }
                if v < 0 { return x.error("ERR entries_added must be positive") }
                added = v
            } else if x[i].equalsLower("maxdeletedid") && more > 0 {
                guard let v = parseID(&x, i + 1, strict: true) else { return }
                if id < v {
                    return x.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                }
                maxDel = v
            } else {
                return x.error(Err.syntax)
            }
            i += 2
        }
        let s: StreamValue
        switch x.find(1, .stream, read: false) {
        case .wrongType: return
        case .missing: return x.error(Err.noSuchKey)
        case .found(let e, _): s = e.objectRef(StreamValue.self)
        }
        if s.length > 0 {
            if let top = s.edgeID(first: false), id < top {
                return x.error("ERR The ID specified in XSETID is smaller than the target stream top item")
            }
            if added != -1 && s.length > added {
                return x.error("ERR The entries_added specified in XSETID is smaller than the target stream length")
            }
        }
        s.lastID = id
        if added != -1 { s.entriesAdded = Int64(added) }
        if !maxDel.isZero { s.maxDeletedID = maxDel }
        x.store.dirtyExtra &+= 1
        x.notify([.stream, .unsignalled], "xsetid", 1)
        x.reply.ok()
    }
}
