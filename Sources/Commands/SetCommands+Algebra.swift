import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// SMOVE, SINTER (and SMEMBERS), SINTERCARD, SINTERSTORE, SUNION,
/// SUNIONSTORE, SDIFF, SDIFFSTORE. The multi-key ones run `.colocated`: every
/// key is reached through the CollectionAccess helpers, so the same code runs
/// on one shard and with several shards lent to it.
extension SetCommands {
    // MARK: SMOVE

    /// SMOVE source destination member
    static func smove(_ x: inout Exec) {
        // The destination's type only: a slot found now would be stale once
        // the source changes its table.
        let dstType = x.findAny(2, read: false)?.0.type
        guard case .found(let e, let slot) = x.find(1, .set, read: false) else {
            if !x.failed { x.reply.int(0) }
            return
        }
        if let t = dstType, t != .set { return x.error(Err.wrongType) }
        let m = x[3]
        if x[1].equals(x[2]) { return x.reply.int(SetRef(e).contains(m.ptr, m.count) ? 1 : 0) }
        guard removeMember(&x, key: 1, e, slot: slot, m) else { return x.reply.int(0) }
        let added: Int
        if let (d, ds) = x.findAny(2, read: false) {
            added = addMembers(&x, key: 2, from: 3, to: d, slot: ds)
        } else {
            added = addMembers(&x, key: 2, from: 3, to: nil, slot: -1)
        }
        if added > 0 { x.notify(.set, "sadd", 2) }
        x.reply.int(1)
    }

    /// Removes one member from the set `e` of key argument `key`, deleting
    /// the key when it empties. False when it was not a member.
    static func removeMember(_ x: inout Exec, key: Int, _ e: Entry, slot: Int, _ m: Arg) -> Bool {
        switch SetRef(e) {
        case .table(let t):
            guard t.remove(m.ptr, m.count) else { return false }
            if t.count == 0 { x.deleteKey(key, slot: slot) } else { x.modified(key) }
            sremNotify(&x, key, removed: t.count == 0)
            return true
        case .ints(let s):
            guard let v = parseStrictInt(m.ptr, m.count), IntSet.width(for: v) <= s.width else { return false }
            var (found, at) = s.search(v)
            guard found else { return false }
            if s.count == 1 {
                x.deleteKey(key, slot: slot)
                sremNotify(&x, key, removed: true)
                return true
            }
            withUnsafePointer(to: &at) { p in
                x.storeCompact(key, slot: slot, type: .set, length: IntSet.size(count: s.count - 1, width: s.width)) { out in
                    s.writeRemoving(UnsafeBufferPointer(start: p, count: 1), into: out)
                }
            }
            sremNotify(&x, key, removed: false)
            return true
        }
    }

    // MARK: SINTER / SMEMBERS / SINTERCARD / SINTERSTORE

    static func sinter(_ x: inout Exec) {
        sinterGeneric(&x, first: 1, n: x.argc - 1, dst: nil, cardOnly: false, limit: 0)
    }

    static func sinterstore(_ x: inout Exec) {
        sinterGeneric(&x, first: 2, n: x.argc - 2, dst: 1, cardOnly: false, limit: 0)
    }

    /// SINTERCARD numkeys key [key ...] [LIMIT limit]
    static func sintercard(_ x: inout Exec) {
        guard let nk = parseStrictInt(x[1].ptr, x[1].count), nk >= 1 else {
            return x.error("ERR numkeys should be greater than 0")
        }
        if nk > x.argc - 2 { return x.error("ERR Number of keys can't be greater than number of args") }
        var limit = 0
        var j = 2 + nk
        while j < x.argc {
            if x[j].equalsLower("limit") && j + 1 < x.argc {
                j += 1
                guard let l = parseStrictInt(x[j].ptr, x[j].count), l >= 0 else {
                    return x.error("ERR LIMIT can't be negative")
                }
                limit = l
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        sinterGeneric(&x, first: 2, n: nk, dst: nil, cardOnly: true, limit: limit)
    }

    /// SINTERCARD's keys, from numkeys; nil when numkeys is malformed (the
    /// handler then replies the error without touching a key).
    @Sendable static func sintercardKeys(_ a: ArgVector) -> KeySpan? {
        guard a.count >= 3, let nk = parseStrictInt(a[1].ptr, a[1].count), nk >= 1, nk <= a.count - 2 else {
            return nil
        }
        return .positions(Array(2..<(2 + nk)))
    }

    /// Redis's sinterGenericCommand: walk the smallest set and keep what
    /// every other set holds. Replies come in the smallest set's order.
    static func sinterGeneric(_ x: inout Exec, first: Int, n: Int, dst: Int?, cardOnly: Bool, limit: Int) {
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: n) { sets in
            var empty = false
            for j in 0..<n {
                switch x.find(first + j, .set, read: true) {
                case .wrongType: return
                case .missing:
                    empty = true
                    sets[j] = nil
                case .found(let e, _): sets[j] = e.raw
                }
            }
            if empty {
                if let d = dst {
                    if deleteIfExists(&x, d) { x.notify(.generic, "del", d) }
                    x.reply.int(0)
                } else if cardOnly {
                    x.reply.int(0)
                } else {
                    x.reply.set(0)
                }
                return
            }
            // Smallest first; stable, as glibc's qsort (a merge sort) keeps
            // ties in key order, which decides the reply's order.
            for i in 1..<n {
                let p = sets[i]
                let c = SetRef(Entry(p!)).count
                var j = i - 1
                while j >= 0 && SetRef(Entry(sets[j]!)).count > c {
                    sets[j + 1] = sets[j]
                    j -= 1
                }
                sets[j + 1] = p
            }
            let s0 = SetRef(Entry(sets[0]!))
            if n == 1 && !cardOnly && dst == nil {
                // SMEMBERS, or SINTER of one key: the set as it is.
                x.reply.set(s0.count)
                s0.forEach { x.reply.member($0) }
                return
            }
            func inAll(_ m: SetMember) -> Bool {
                for j in 1..<n where sets[j] != sets[0] {
                    if !SetRef(Entry(sets[j]!)).contains(m) { return false }
                }
                return true
            }
            if cardOnly {
                var card = 0
                switch s0 {
                case .ints(let s):
                    for i in 0..<s.count where inAll(.int(s[i])) {
                        card += 1
                        if limit > 0 && card >= limit { break }
                    }
                case .table(let t):
                    for i in 0..<t.capacity where t.isLive(i) && inAll(.bytes(t.member(at: i))) {
                        card += 1
                        if limit > 0 && card >= limit { break }
                    }
                }
                return x.reply.int(card)
            }
            if let d = dst {
                var b = SetBuilder()
                s0.forEach { m in if inAll(m) { _ = b.add(m) } }
                storeResult(&x, d, &b, "sinterstore")
                b.free()
                return
            }
            // The reply's length comes first: note the matches (intset
            // values or table slots), then send them.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: s0.count) { hits in
                var k = 0
                switch s0 {
                case .ints(let s):
                    for i in 0..<s.count where inAll(.int(s[i])) { hits[k] = s[i]; k += 1 }
                    x.reply.set(k)
                    for i in 0..<k { x.reply.bulkDecimal(hits[i]) }
                case .table(let t):
                    for i in 0..<t.capacity where t.isLive(i) && inAll(.bytes(t.member(at: i))) { hits[k] = i; k += 1 }
                    x.reply.set(k)
                    for i in 0..<k { x.reply.bulk(t.member(at: hits[i])) }
                }
            }
        }
    }

    // MARK: SUNION / SDIFF and their STORE forms

    static func sunion(_ x: inout Exec) { sunionDiff(&x, first: 1, n: x.argc - 1, dst: nil, diff: false) }
    static func sunionstore(_ x: inout Exec) { sunionDiff(&x, first: 2, n: x.argc - 2, dst: 1, diff: false) }
    static func sdiff(_ x: inout Exec) { sunionDiff(&x, first: 1, n: x.argc - 1, dst: nil, diff: true) }
    static func sdiffstore(_ x: inout Exec) { sunionDiff(&x, first: 2, n: x.argc - 2, dst: 1, diff: true) }

    /// Redis's sunionDiffGenericCommand, including its choice between the
    /// two diff algorithms: the second builds the first set whole before
    /// subtracting, so a big first set leaves a hash-table result even when
    /// what remains would fit an intset, and OBJECT ENCODING shows it.
    static func sunionDiff(_ x: inout Exec, first: Int, n: Int, dst: Int?, diff: Bool) {
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: n) { sets in
            var same = false
            for j in 0..<n {
                switch x.find(first + j, .set, read: true) {
                case .wrongType: return
                case .missing: sets[j] = nil
                case .found(let e, _):
                    sets[j] = e.raw
                    if j > 0 && sets[0] == e.raw { same = true }
                }
            }
            func size(_ p: UnsafeMutableRawPointer?) -> Int { p.map { SetRef(Entry($0)).count } ?? 0 }
            var b = SetBuilder()
            if !diff {
                for j in 0..<n {
                    guard let p = sets[j] else { continue }
                    SetRef(Entry(p)).forEach { _ = b.add($0) }
                }
            } else if let p0 = sets[0], !same {
                var one = 0, two = 0
                for j in 0..<n where sets[j] != nil {
                    one += size(p0)
                    two += size(sets[j])
                }
                let s0 = SetRef(Entry(p0))
                if one / 2 <= two {
                    // Each member of the first set not in any other.
                    s0.forEach { m in
                        for j in 1..<n {
                            guard let p = sets[j] else { continue }
                            if SetRef(Entry(p)).contains(m) { return }
                        }
                        _ = b.add(m)
                    }
                } else {
                    // The first set whole, minus each other set's members.
                    s0.forEach { _ = b.add($0) }
                    for j in 1..<n {
                        if b.count == 0 { break }
                        guard let p = sets[j] else { continue }
                        SetRef(Entry(p)).forEach { _ = b.remove($0) }
                    }
                }
            }
            if let d = dst {
                storeResult(&x, d, &b, diff ? "sdiffstore" : "sunionstore")
            } else {
                b.reply(x.reply)
            }
            b.free()
        }
    }

    /// A *STORE result replaces the destination whatever it held, its TTL
    /// included (Redis's setKey); an empty result deletes it.
    static func storeResult(_ x: inout Exec, _ dst: Int, _ b: inout SetBuilder, _ event: StaticString) {
        let existed = deleteIfExists(&x, dst)
        let n = b.count
        if n > 0 {
            x.overwriting(dst, existed: existed) { b.store(&x, key: dst, slot: -1) }
            x.notify(.set, event, dst)
        } else if existed {
            x.notify(.generic, "del", dst)
        }
        x.reply.int(n)
    }

    @discardableResult
    static func deleteIfExists(_ x: inout Exec, _ i: Int) -> Bool {
        guard let (_, s) = x.findAny(i, read: false) else { return false }
        x.deleteKey(i, slot: s)
        return true
    }
}

/// Redis's temporary destination set for SUNION, SDIFF, the STORE forms and
/// SPOP's rebuilt remainder: an intset (here a sorted malloc'd array) until a
/// member is not an integer or there are more than set-max-intset-entries,
/// then a hash table. Call `free()` when done.
struct SetBuilder {
    private var ints: UnsafeMutablePointer<Int>? = nil
    private var n = 0
    private var cap = 0
    private(set) var table: SetValue? = nil
    private let limit = SetCommands.maxIntset

    var count: Int { table?.count ?? n }

    /// Lower bound of `v` among the sorted values.
    private func position(_ v: Int) -> Int {
        guard let a = ints, n > 0 else { return 0 }
        if a[n - 1] < v { return n }
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi) >> 1
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    mutating func add(_ m: SetMember) -> Bool {
        if let t = table {
            switch m {
            case .int(let v): return t.add(int: v)
            case .bytes(let b): return t.add(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)
            }
        }
        let v: Int
        switch m {
        case .int(let i): v = i
        case .bytes(let b):
            let p = b.baseAddress ?? UnsafePointer(bitPattern: 1)!
            guard let i = parseStrictInt(p, b.count) else {
                toTable()
                return table!.add(p, b.count)
            }
            v = i
        }
        let at = position(v)
        if at < n && ints![at] == v { return false }
        if n == cap {
            cap = max(16, cap * 2)
            ints = realloc(ints, cap * MemoryLayout<Int>.stride)!.assumingMemoryBound(to: Int.self)
        }
        let a = ints!
        if at < n { (a + at + 1).update(from: a + at, count: n - at) }
        a[at] = v
        n += 1
        if n > limit { toTable() }
        return true
    }

    mutating func remove(_ m: SetMember) -> Bool {
        if let t = table {
            switch m {
            case .int(let v): return withDecimal(v) { t.remove($0, $1) }
            case .bytes(let b): return t.remove(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)
            }
        }
        let v: Int
        switch m {
        case .int(let i): v = i
        case .bytes(let b):
            guard let i = parseStrictInt(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count) else { return false }
            v = i
        }
        let at = position(v)
        guard at < n, let a = ints, a[at] == v else { return false }
        if at + 1 < n { (a + at).update(from: a + at + 1, count: n - at - 1) }
        n -= 1
        return true
    }

    private mutating func toTable() {
        let t = SetValue(capacity: n)
        for i in 0..<n { t.add(int: ints![i]) }
        Glibc.free(ints)
        ints = nil
        n = 0
        cap = 0
        table = t
    }

    /// The set as a RESP3 set: ascending integers, or table order.
    func reply(_ r: Reply) {
        if let t = table {
            r.set(t.count)
            for i in 0..<t.capacity where t.isLive(i) { r.bulk(t.member(at: i)) }
        } else {
            r.set(n)
            for i in 0..<n { r.bulkDecimal(ints![i]) }
        }
    }

    /// Stores the set (not empty) under key argument `key` in `slot` (-1 inserts).
    func store(_ x: inout Exec, key: Int, slot: Int) {
        if let t = table { return x.storeObject(key, slot: slot, type: .set, t) }
        let vals = UnsafeBufferPointer(start: ints, count: n)
        let w = IntSet.width(ofSorted: vals)
        x.storeCompact(key, slot: slot, type: .set, length: IntSet.size(count: n, width: w)) { p in
            IntSet.write(vals, width: w, into: p)
        }
    }

    mutating func free() {
        Glibc.free(ints)
        ints = nil
        n = 0
        cap = 0
    }
}
