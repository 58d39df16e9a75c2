import Config
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Sets (Redis 7.0's t_set.c). A set of integers up to set-max-intset-entries
/// members is an `IntSet` inline in its entry; a non-integer member or one
/// member too many turns it into a `SetValue` hash table, for good.
///
/// Split across files: this one has the table, the shared helpers and the
/// single-key commands; `+Random` SPOP and SRANDMEMBER; `+Algebra` SINTER,
/// SUNION, SDIFF and their STORE/CARD forms, SMEMBERS and SMOVE.
public enum SetCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("sadd", arity: -3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Add one or more members to a set", acl: ["@set"], handler: sadd),
        CommandSpec("srem", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Remove one or more members from a set", acl: ["@set"], handler: srem),
        CommandSpec("scard", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Get the number of members in a set", acl: ["@set"], handler: scard),
        CommandSpec("sismember", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Determine if a given value is a member of a set", acl: ["@set"],
                    handler: sismember),
        CommandSpec("smismember", arity: -3, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Returns the membership associated with the given elements for a set",
                    since: "6.2.0", acl: ["@set"], handler: smismember),
        CommandSpec("smembers", arity: 2, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Get all the members in a set", acl: ["@set"], handler: sinter),
        CommandSpec("srandmember", arity: -2, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Get one or multiple random members from a set", acl: ["@set"],
                    handler: srandmember),
        CommandSpec("spop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Remove and return one or multiple random members from a set",
                    acl: ["@set"], handler: spop),
        CommandSpec("smove", arity: 4, flags: [.write, .fast], keys: (1, 2, 1), route: .colocated,
                    group: "set", summary: "Move a member from one set to another", acl: ["@set"], handler: smove),
        CommandSpec("sinter", arity: -2, flags: [.readonly], keys: (1, -1, 1), route: .colocated,
                    group: "set", summary: "Intersect multiple sets", acl: ["@set"], handler: sinter),
        CommandSpec("sintercard", arity: -3, flags: [.readonly, .movableKeys], route: .colocated,
                    group: "set", summary: "Intersect multiple sets and return the cardinality of the result",
                    since: "7.0.0", acl: ["@set"], keysOf: sintercardKeys, handler: sintercard),
        CommandSpec("sinterstore", arity: -3, flags: [.write, .denyoom], keys: (1, -1, 1), route: .colocated,
                    group: "set", summary: "Intersect multiple sets and store the resulting set in a key",
                    acl: ["@set"], handler: sinterstore),
        CommandSpec("sunion", arity: -2, flags: [.readonly], keys: (1, -1, 1), route: .colocated,
                    group: "set", summary: "Add multiple sets", acl: ["@set"], handler: sunion),
        CommandSpec("sunionstore", arity: -3, flags: [.write, .denyoom], keys: (1, -1, 1), route: .colocated,
                    group: "set", summary: "Add multiple sets and store the resulting set in a key", acl: ["@set"],
                    handler: sunionstore),
        CommandSpec("sdiff", arity: -2, flags: [.readonly], keys: (1, -1, 1), route: .colocated,
                    group: "set", summary: "Subtract multiple sets", acl: ["@set"], handler: sdiff),
        CommandSpec("sdiffstore", arity: -3, flags: [.write, .denyoom], keys: (1, -1, 1), route: .colocated,
                    group: "set", summary: "Subtract multiple sets and store the resulting set in a key",
                    acl: ["@set"], handler: sdiffstore),
        CommandSpec("sscan", arity: -3, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "set", summary: "Incrementally iterate Set elements", since: "2.8.0", acl: ["@set"],
                    handler: sscan),
    ]

    /// set-max-intset-entries, capped at 2^30 as Redis caps it.
    @inline(__always) static var maxIntset: Int { min(EncodingLimits.intsetEntries, 1 << 30) }

    // MARK: SADD / SREM

    /// SADD key member [member ...]
    static func sadd(_ x: inout Exec) {
        switch x.find(1, .set, read: false) {
        case .wrongType: return
        case .missing:
            let n = addMembers(&x, key: 1, from: 2, to: nil, slot: -1)
            x.changed(n)
            saddReply(&x, n)
        case .found(let e, let s):
            let n = addMembers(&x, key: 1, from: 2, to: e, slot: s)
            x.changed(n)
            saddReply(&x, n)
        }
    }

    @inline(__always) static func saddReply(_ x: inout Exec, _ n: Int) {
        if n > 0 { x.notify(.set, "sadd", 1) }
        x.reply.int(n)
    }

    /// Adds arguments `from...` to the set `e` of key argument `key` in
    /// `slot` (nil / -1: a new key) and returns how many were new. Redis adds
    /// them one by one, leaving the intset on the first non-integer or on the
    /// first member past the limit; as a set only grows here, that is the
    /// same as deciding on the whole batch, which needs one rewrite.
    static func addMembers(_ x: inout Exec, key: Int, from: Int, to e: Entry?, slot: Int) -> Int {
        if let e = e, e.payload == .object {
            let t = e.objectRef(SetValue.self)
            var added = 0
            for i in from..<x.argc where t.add(x[i].ptr, x[i].count) { added += 1 }
            if added > 0 { x.modified(key) }
            return added
        }
        // An intset, or a new key (an empty intset: Redis creates an intset
        // when the first member is an integer, and any non-integer member
        // converts it anyway).
        let old = e.map { IntSet($0) } ?? IntSet(UnsafeBufferPointer(start: nil, count: 0))
        let k = x.argc - from
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { buf -> Int in
            var m = 0
            for i in from..<x.argc {
                guard let v = parseStrictInt(x[i].ptr, x[i].count) else {
                    return convertAndAdd(&x, key: key, old: old, from: from, slot: slot)
                }
                buf[m] = v
                m += 1
            }
            m = sortUnique(buf, m)
            // Keep the values not in the set yet.
            var n = 0
            for j in 0..<m where !old.contains(buf[j]) {
                buf[n] = buf[j]
                n += 1
            }
            if n == 0 { return 0 }
            if old.count + n > maxIntset {
                return convertAndAdd(&x, key: key, old: old, from: from, slot: slot)
            }
            let add = UnsafeBufferPointer(rebasing: buf[0..<n])
            let w = max(old.width, IntSet.width(ofSorted: add))
            x.storeCompact(key, slot: slot, type: .set, length: IntSet.size(count: old.count + n, width: w)) { p in
                old.writeMerging(add, width: w, into: p)
            }
            return n
        }
    }

    /// The intset `old` (possibly empty) with arguments `from...` added, as
    /// a hash table stored under key argument `key`.
    static func convertAndAdd(_ x: inout Exec, key: Int, old: IntSet, from: Int, slot: Int) -> Int {
        let t = SetValue(capacity: old.count + x.argc - from)
        for i in 0..<old.count { t.add(int: old[i]) }
        for i in from..<x.argc { t.add(x[i].ptr, x[i].count) }
        let added = t.count - old.count
        x.storeObject(key, slot: slot, type: .set, t)
        return added
    }

    /// SREM key member [member ...]
    static func srem(_ x: inout Exec) {
        guard case .found(let e, let slot) = x.find(1, .set, read: false) else {
            if !x.failed { x.reply.int(0) }
            return
        }
        if e.payload == .object {
            let t = e.objectRef(SetValue.self)
            var removed = 0
            for i in 2..<x.argc where t.remove(x[i].ptr, x[i].count) {
                removed += 1
                if t.count == 0 { break }
            }
            if t.count == 0 { x.deleteKey(1, slot: slot) } else if removed > 0 { x.modified(1) }
            x.changed(removed)
            if removed > 0 { sremNotify(&x, 1, removed: t.count == 0) }
            return x.reply.int(removed)
        }
        let s = IntSet(e)
        let removed = withUnsafeTemporaryAllocation(of: Int.self, capacity: x.argc - 2) { buf -> Int in
            var m = 0
            for i in 2..<x.argc {
                guard let v = parseStrictInt(x[i].ptr, x[i].count), IntSet.width(for: v) <= s.width else { continue }
                let (found, at) = s.search(v)
                if found { buf[m] = at; m += 1 }
            }
            m = sortUnique(buf, m)
            if m == 0 { return 0 }
            if m == s.count {
                x.deleteKey(1, slot: slot)
                sremNotify(&x, 1, removed: true)
                return m
            }
            let gone = UnsafeBufferPointer(rebasing: buf[0..<m])
            x.storeCompact(1, slot: slot, type: .set, length: IntSet.size(count: s.count - m, width: s.width)) { p in
                s.writeRemoving(gone, into: p)
            }
            sremNotify(&x, 1, removed: false)
            return m
        }
        x.changed(removed)
        x.reply.int(removed)
    }

    @inline(__always) static func sremNotify(_ x: inout Exec, _ i: Int, removed: Bool) {
        x.notify(.set, "srem", i)
        if removed { x.notify(.generic, "del", i) }
    }

    // MARK: SCARD / SISMEMBER / SMISMEMBER

    static func scard(_ x: inout Exec) {
        switch x.find(1, .set, read: true) {
        case .wrongType: return
        case .missing: x.reply.int(0)
        case .found(let e, _): x.reply.int(SetRef(e).count)
        }
    }

    static func sismember(_ x: inout Exec) {
        switch x.find(1, .set, read: true) {
        case .wrongType: return
        case .missing: x.reply.int(0)
        case .found(let e, _): x.reply.int(SetRef(e).contains(x[2].ptr, x[2].count) ? 1 : 0)
        }
    }

    /// A missing key is an empty set: all zeros.
    static func smismember(_ x: inout Exec) {
        var set: SetRef? = nil
        switch x.find(1, .set, read: true) {
        case .wrongType: return
        case .missing: break
        case .found(let e, _): set = SetRef(e)
        }
        x.reply.array(x.argc - 2)
        for i in 2..<x.argc {
            x.reply.int(set?.contains(x[i].ptr, x[i].count) == true ? 1 : 0)
        }
    }

    // MARK: SSCAN

    /// SSCAN key cursor [MATCH pattern] [COUNT count]. An intset answers
    /// whole with cursor 0, as Redis answers every compact encoding.
    static func sscan(_ x: inout Exec) {
        guard let cursor = KeyCommands.parseScanCursor(x[2]) else { return x.error("ERR invalid cursor") }
        let set: SetRef
        switch x.find(1, .set, read: true) {
        case .wrongType: return
        case .missing:
            x.reply.array(2)
            x.reply.bulk(static: "0")
            x.reply.array(0)
            return
        case .found(let e, _): set = SetRef(e)
        }
        guard let (count, pattern, _) = KeyCommands.scanOptions(&x, from: 3) else { return }
        switch set {
        case .ints(let s):
            var n = 0
            for j in 0..<s.count where matches(pattern, .int(s[j])) { n += 1 }
            x.reply.array(2)
            x.reply.bulk(static: "0")
            x.reply.array(n)
            for j in 0..<s.count where matches(pattern, .int(s[j])) { x.reply.bulkDecimal(s[j]) }
        case .table(let t):
            // Two identical walks, one to count and one to reply, so nothing
            // is buffered: the table does not change in between.
            let (next, n) = scanWalk(t, cursor, count: count, pattern: pattern, reply: nil)
            x.reply.array(2)
            x.reply.bulkDecimal(Int(bitPattern: UInt(next)))
            x.reply.array(n)
            _ = scanWalk(t, cursor, count: count, pattern: pattern, reply: x.reply)
        }
    }

    /// Redis's loop: buckets until `count` members (before MATCH filters
    /// them) or ten times `count` buckets.
    static func scanWalk(_ t: SetValue, _ start: UInt64, count: Int, pattern: Arg?, reply: Reply?) -> (UInt64, Int) {
        var cursor = start
        var seen = 0, matched = 0
        var budget = count > Int.max / 10 ? Int.max : count * 10
        repeat {
            cursor = t.scan(cursor) { m in
                seen += 1
                if matches(pattern, .bytes(m)) {
                    matched += 1
                    reply?.bulk(m)
                }
            }
            if cursor == 0 || budget == 0 { break }
            budget -= 1
        } while seen < count
        return (cursor, matched)
    }

    static func matches(_ pattern: Arg?, _ m: SetMember) -> Bool {
        guard let p = pattern else { return true }
        switch m {
        case .bytes(let b): return globMatch(p.buffer, b)
        case .int(let v): return withDecimal(v) { globMatch(p.buffer, UnsafeBufferPointer(start: $0, count: $1)) }
        }
    }
}

// MARK: shared helpers

/// A member as an encoding hands it out: intsets give integers.
enum SetMember {
    case int(Int)
    case bytes(UnsafeBufferPointer<UInt8>)
}

extension Reply {
    @inline(__always) func member(_ m: SetMember) {
        switch m {
        case .int(let v): bulkDecimal(v)
        case .bytes(let b): bulk(b)
        }
    }
}

/// A set value, whichever its encoding. An intset view reads the entry's
/// block: it is valid until that entry is rewritten.
enum SetRef {
    case ints(IntSet)
    case table(SetValue)

    @inline(__always) init(_ e: Entry) {
        self = e.payload == .object ? .table(e.objectRef(SetValue.self)) : .ints(IntSet(e))
    }

    var count: Int {
        switch self {
        case .ints(let s): return s.count
        case .table(let t): return t.count
        }
    }

    /// Membership of a client's bytes: an intset holds only canonical integers.
    func contains(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        switch self {
        case .ints(let s):
            guard let v = parseStrictInt(p, n) else { return false }
            return s.contains(v)
        case .table(let t): return t.contains(p, n)
        }
    }

    func contains(_ m: SetMember) -> Bool {
        switch (self, m) {
        case (.ints(let s), .int(let v)): return s.contains(v)
        case (.table(let t), .int(let v)): return t.contains(int: v)
        case (_, .bytes(let b)): return contains(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)
        }
    }

    /// Every member in the encoding's order: ascending for an intset, table
    /// order for a hash table.
    func forEach(_ body: (SetMember) -> Void) {
        switch self {
        case .ints(let s):
            for i in 0..<s.count { body(.int(s[i])) }
        case .table(let t):
            for i in 0..<t.capacity where t.isLive(i) { body(.bytes(t.member(at: i))) }
        }
    }
}

/// Sorts `n` values in place and drops repeats; returns how many are left.
/// Insertion sort for the usual handful (stdlib's sort may allocate).
func sortUnique(_ buf: UnsafeMutableBufferPointer<Int>, _ n: Int) -> Int {
    if n <= 1 { return n }
    if n <= 32 {
        for i in 1..<n {
            let v = buf[i]
            var j = i - 1
            while j >= 0 && buf[j] > v {
                buf[j + 1] = buf[j]
                j -= 1
            }
            buf[j + 1] = v
        }
    } else {
        var part = UnsafeMutableBufferPointer(rebasing: buf[0..<n])
        part.sort()
    }
    var k = 1
    for i in 1..<n where buf[i] != buf[k - 1] {
        buf[k] = buf[i]
        k += 1
    }
    return k
}

/// ZUNION/ZINTER/ZDIFF read a hashtable-encoded set through this.
extension SetValue: ZSetOperandSet {
    public func forEachMember(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        for i in 0..<capacity where isLive(i) { body(member(at: i)) }
    }
}
