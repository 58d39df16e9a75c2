import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// SORT and SORT_RO (Redis's sort.c): the elements of a list, set or sorted
/// set, sorted numerically or as bytes, by themselves or by the keys a BY
/// pattern names, with GET patterns and STORE.
///
/// Pattern keys (`weight_*`, `obj_*->field`) may live on any shard: a SORT
/// with such patterns names `.everywhere`, so across shards it runs with
/// every shard held and lent to it, and reads the keys through
/// `keyspace(forKey:)`.
public enum SortCommand {
    public static let specs: [CommandSpec] = [
        CommandSpec("sort", arity: -2, flags: [.write, .denyoom, .movableKeys], keys: (1, 1, 1), route: .colocated,
                    group: "generic", summary: "Sort the elements in a list, set or sorted set",
                    acl: ["@set", "@sortedset", "@list", "@dangerous"], keysOf: { keys($0) }, handler: sort),
        CommandSpec("sort_ro", arity: -2, flags: [.readonly, .movableKeys], keys: (1, 1, 1), route: .colocated,
                    group: "generic", summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
                    since: "7.0.0", acl: ["@set", "@sortedset", "@list", "@dangerous"], keysOf: { keys($0, readOnly: true) },
                    handler: sortRO),
    ]

    /// The source, the STORE destination (the last one, the one SORT
    /// writes; SORT_RO has none, as Redis's sortROGetKeys), and `.everywhere`
    /// when a BY or GET pattern names other keys.
    @Sendable static func keys(_ a: ArgVector, readOnly: Bool = false) -> KeySpan? {
        var store = 0
        var everywhere = false
        var j = 2
        while j < a.count {
            let left = a.count - j - 1
            if a[j].equalsLower("limit") && left >= 2 {
                j += 2
            } else if a[j].equalsLower("store") && left >= 1 {
                if !readOnly { store = j + 1 }
                j += 1
            } else if (a[j].equalsLower("by") || a[j].equalsLower("get")) && left >= 1 {
                if a[j + 1].buffer.contains(42) { everywhere = true }
                j += 1
            }
            j += 1
        }
        let out = store > 0 ? [1, store] : [1]
        return everywhere ? .everywhere(out) : .positions(out)
    }

    static func sort(_ x: inout Exec) { run(&x, readOnly: false) }
    static func sortRO(_ x: inout Exec) { run(&x, readOnly: true) }

    /// One element being sorted: its bytes, and what it is compared by.
    struct Item {
        var element: [UInt8]
        var score = 0.0
        var by: [UInt8]? = nil
    }

    static func run(_ x: inout Exec, readOnly: Bool) {
        var desc = false, alpha = false, dontsort = false
        var limitStart = 0, limitCount = -1
        var store: Int? = nil
        var by: Arg? = nil
        var gets: [Arg] = []
        var j = 2
        while j < x.argc {
            let left = x.argc - j - 1
            let a = x[j]
            if a.equalsLower("asc") {
                desc = false
            } else if a.equalsLower("desc") {
                desc = true
            } else if a.equalsLower("alpha") {
                alpha = true
            } else if a.equalsLower("limit") && left >= 2 {
                guard let s = parseStrictInt(x[j + 1].ptr, x[j + 1].count),
                      let c = parseStrictInt(x[j + 2].ptr, x[j + 2].count) else { return x.error(Err.notInteger) }
                limitStart = s
                limitCount = c
                j += 2
            } else if a.equalsLower("store") && left >= 1 && !readOnly {
                store = j + 1
                j += 1
            } else if a.equalsLower("by") && left >= 1 {
                by = x[j + 1]
                // A constant pattern sorts nothing.
                if !x[j + 1].buffer.contains(42) { dontsort = true }
                j += 1
            } else if a.equalsLower("get") && left >= 1 {
                gets.append(x[j + 1])
                j += 1
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        var type = ValueType.list
        var source: Entry? = nil
        if let (e, slot) = x.findAny(1, read: true) {
            guard e.type == .list || e.type == .set || e.type == .zset else { return x.error(Err.wrongType) }
            type = e.type
            source = e
            if e.type == .zset && e.payload != .object {
                // Redis 7.0 converts a listpack sorted set to a skiplist for
                // SORT and leaves it so (OBJECT ENCODING shows it); it is not
                // a change WATCH sees.
                let ks = x.keyspace(of: 1)
                let mutations = ks.mutations
                x.storeObject(1, slot: slot, type: .zset, SortedSetCommands.toSkiplist(e.compact))
                ks.mutations = mutations
                source = x.findAny(1, read: false)?.0
            }
        }
        // A set has no order of its own: unsorted output to a key or a script is sorted as bytes.
        if dontsort && type == .set && (store != nil || x.fromScript) {
            dontsort = false
            alpha = true
            by = nil
        }
        let length = source.map { count($0) } ?? 0
        // Clamped to the length first, so a huge LIMIT cannot overflow.
        var start = min(max(limitStart, 0), length)
        let limited = min(max(limitCount, -1), length)
        var end = limited < 0 ? length - 1 : start + limited - 1
        if start >= length {
            start = length - 1
            end = length - 2
        }
        if end >= length { end = length - 1 }
        // Unsorted lists and sorted sets load only the range asked for.
        var items: [Item] = []
        if let e = source {
            if dontsort && type != .set {
                if end >= start { items = load(e, from: start, count: end - start + 1, reverse: desc) }
                end -= start
                start = 0
            } else {
                items = load(e, from: 0, count: length, reverse: false)
            }
        }
        var conversionError = false
        if !dontsort {
            for i in items.indices {
                var value: [UInt8]? = items[i].element
                if let b = by {
                    value = lookup(&x, pattern: b, items[i].element)
                    if value == nil { continue }
                }
                if alpha {
                    if by != nil { items[i].by = value }
                } else if let v = value {
                    if let d = strtodWhole(v) { items[i].score = d } else { conversionError = true }
                }
            }
            let byPattern = by != nil
            // Without STORE Redis collates ALPHA with strcoll, which stops at
            // a NUL byte (byte order otherwise, in the C and C.UTF-8 locales).
            let collate = store == nil
            items.sort { a, b in
                var cmp: Int
                if !alpha {
                    cmp = a.score < b.score ? -1 : a.score > b.score ? 1 : compareBytes(a.element, b.element)
                } else if byPattern {
                    switch (a.by, b.by) {
                    case (nil, nil): cmp = 0
                    case (nil, _): cmp = -1
                    case (_, nil): cmp = 1
                    case (let p?, let q?): cmp = compareBytes(p, q, stopAtNul: collate)
                    }
                } else {
                    cmp = compareBytes(a.element, b.element, stopAtNul: collate)
                }
                return desc ? cmp > 0 : cmp < 0
            }
        }
        if conversionError { return x.error("ERR One or more scores can't be converted into double") }
        let rows = max(0, end - start + 1)
        let outputLength = gets.isEmpty ? rows : gets.count * rows
        guard let dst = store else {
            x.reply.array(outputLength)
            for i in stride(from: start, through: end, by: 1) where i >= 0 {
                if gets.isEmpty { items[i].element.withUnsafeBufferPointer { x.reply.bulk($0) } }
                for g in gets {
                    if let v = lookup(&x, pattern: g, items[i].element) {
                        v.withUnsafeBufferPointer { x.reply.bulk($0) }
                    } else {
                        x.reply.null()
                    }
                }
            }
            return
        }
        let list = ListValue()
        for i in stride(from: start, through: end, by: 1) where i >= 0 {
            if gets.isEmpty { items[i].element.withUnsafeBufferPointer { list.pushBack($0) } }
            for g in gets {
                (lookup(&x, pattern: g, items[i].element) ?? []).withUnsafeBufferPointer { list.pushBack($0) }
            }
        }
        let ks = x.keyspace(of: dst)
        let d = x[dst]
        let slot = ks.find(d.ptr, d.count, hash: hashBytes(d.ptr, d.count), now: x.now)
        if outputLength > 0 {
            // The destination is replaced whatever it held, TTL included.
            if slot >= 0 { ks.remove(at: slot) }
            x.overwriting(dst, existed: slot >= 0) { x.storeObject(dst, slot: -1, type: .list, list) }
            x.notify(.list, "sortstore", dst)
            // Redis's dirty counts the elements stored, not the key writes.
            x.store.dirtyExtra &+= outputLength - (slot >= 0 ? 2 : 1)
        } else if slot >= 0 {
            ks.remove(at: slot)
            x.notify(.generic, "del", dst)
        }
        x.reply.int(outputLength)
    }

    static func count(_ e: Entry) -> Int {
        switch (e.type, e.payload) {
        case (.list, _): return e.objectRef(ListValue.self).count
        case (.set, .object): return e.objectRef(SetValue.self).count
        case (.set, _): return IntSet(e).count
        case (.zset, .object): return e.objectRef(ZSetValue.self).count
        default: return e.compact.count
        }
    }

    /// `n` elements from position `from` (from the end when `reverse`, for
    /// the ordered types); sets load whole, in their own order.
    static func load(_ e: Entry, from: Int, count n: Int, reverse: Bool) -> [Item] {
        var out: [Item] = []
        out.reserveCapacity(min(n, 1 << 16))
        func add(_ b: UnsafeBufferPointer<UInt8>) { out.append(Item(element: Array(b))) }
        switch (e.type, e.payload) {
        case (.list, _):
            let l = e.objectRef(ListValue.self)
            if reverse {
                l.forEachReverse(from: l.count - 1 - from) { add($0); return out.count < n }
            } else {
                l.forEach(from: from) { add($0); return out.count < n }
            }
        case (.set, .object):
            let s = e.objectRef(SetValue.self)
            for i in 0..<s.capacity where s.isLive(i) { add(s.member(at: i)) }
        case (.set, _):
            let s = IntSet(e)
            for i in 0..<s.count { out.append(Item(element: Array(String(s[i]).utf8))) }
        case (.zset, .object):
            let z = e.objectRef(ZSetValue.self)
            var node = reverse ? z.node(atRank: z.count - 1 - from) : z.node(atRank: from)
            while let nd = node, out.count < n {
                add(nd.member)
                node = reverse ? nd.backward : nd.next
            }
        default:
            var all: [Item] = []
            for p in CompactZSet.Pairs(e.compact) { all.append(Item(element: Array(p.member))) }
            if reverse { all.reverse() }
            out = Array(all.dropFirst(from).prefix(n))
        }
        return out
    }

    /// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the
    /// first `*` takes the element, and `->field` after it reads a hash
    /// field. Only strings (and hash fields) are read.
    static func lookup(_ x: inout Exec, pattern: Arg, _ element: [UInt8]) -> [UInt8]? {
        let p = pattern.buffer
        if p.count == 1 && p[0] == 35 { return element }
        guard let star = p.firstIndex(of: 42) else { return nil }
        var fieldStart: Int? = nil
        var k = star + 1
        while k + 1 < p.count {
            if p[k] == 45 && p[k + 1] == 62 { break }
            k += 1
        }
        if k + 1 < p.count && k + 2 < p.count { fieldStart = k + 2 }
        let keyEnd = fieldStart.map { $0 - 2 } ?? p.count
        var key = Array(p[0..<star])
        key.append(contentsOf: element)
        key.append(contentsOf: p[(star + 1)..<keyEnd])
        return key.withUnsafeBufferPointer { kb -> [UInt8]? in
            let kp = kb.baseAddress ?? UnsafePointer(bitPattern: 8)!
            let ks = x.keyspace(forKey: kp, kb.count)
            let s = ks.find(kp, kb.count, hash: hashBytes(kp, kb.count), now: x.now)
            if s < 0 {
                x.stats.keyspaceMisses += 1
                ks.events?.note(.keyMiss, "keymiss", db: x.db, kp, kb.count)
                return nil
            }
            x.stats.keyspaceHits += 1
            let e = ks.entry(at: s)
            if let f = fieldStart {
                guard e.type == .hash else { return nil }
                let field = UnsafeBufferPointer(rebasing: p[f...])
                let fp = field.baseAddress!
                let v = e.payload == .object ? e.objectRef(HashValue.self).get(fp, field.count)
                    : CompactHash(e).get(fp, field.count)
                return v.map { Array($0) }
            }
            guard e.type == .string else { return nil }
            return e.withStringBytes { Array($0) }
        }
    }

    /// strtod over the whole value (leading spaces allowed, as C's), no NaN,
    /// no overflow. Redis checks that strtod stopped at a NUL, so the value
    /// may end at an embedded NUL ("\0x" sorts as 0).
    static func strtodWhole(_ v: [UInt8]) -> Double? {
        var z = v
        z.append(0)
        return z.withUnsafeBufferPointer { b -> Double? in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { c -> Double? in
                var end: UnsafeMutablePointer<CChar>? = nil
                errno = 0
                let d = strtod(c, &end)
                guard let e = end, e.pointee == 0, errno != ERANGE, !d.isNaN else { return nil }
                return d
            }
        }
    }

    static func compareBytes(_ a: [UInt8], _ b: [UInt8], stopAtNul: Bool = false) -> Int {
        if stopAtNul { return compareCString(a, b) }
        let n = min(a.count, b.count)
        let c = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n) } }
        if c != 0 { return c < 0 ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// strcmp's order: the bytes up to the first NUL.
    static func compareCString(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let n = min(pa.count, pb.count)
                var i = 0
                while i < n {
                    let x = pa[i], y = pb[i]
                    if x != y { return x < y ? -1 : 1 }
                    if x == 0 { return 0 }
                    i += 1
                }
                if pa.count == pb.count { return 0 }
                if pa.count > n { return pa[n] == 0 ? 0 : 1 }
                return pb[n] == 0 ? 0 : -1
            }
        }
    }
}
