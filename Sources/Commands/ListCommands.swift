import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Lists (Redis 7.0's t_list.c), every list a quicklist (`ListValue`).
///
/// Split across files: this one has the table, pushes and pops and the
/// helpers the blocking commands reuse (`popReply`, `moveReply`);
/// `+Index` the commands that read or edit by position or value (LLEN,
/// LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS); `+Move` LMOVE,
/// RPOPLPUSH and LMPOP.
public enum ListCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("lpush", arity: -3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Prepend one or multiple elements to a list", acl: ["@list"],
                    handler: lpush),
        CommandSpec("rpush", arity: -3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Append one or multiple elements to a list", acl: ["@list"],
                    handler: rpush),
        CommandSpec("lpushx", arity: -3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Prepend an element to a list, only if the list exists",
                    since: "2.2.0", acl: ["@list"], handler: lpushx),
        CommandSpec("rpushx", arity: -3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Append an element to a list, only if the list exists",
                    since: "2.2.0", acl: ["@list"], handler: rpushx),
        CommandSpec("lpop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Remove and get the first elements in a list", acl: ["@list"],
                    handler: lpop),
        CommandSpec("rpop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Remove and get the last elements in a list", acl: ["@list"],
                    handler: rpop),
        CommandSpec("llen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Get the length of a list", acl: ["@list"], handler: llen),
        CommandSpec("lrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Get a range of elements from a list", acl: ["@list"],
                    handler: lrange),
        CommandSpec("lindex", arity: 3, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Get an element from a list by its index", acl: ["@list"],
                    handler: lindex),
        CommandSpec("lset", arity: 4, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Set the value of an element in a list by its index", acl: ["@list"],
                    handler: lset),
        CommandSpec("linsert", arity: 5, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Insert an element before or after another element in a list",
                    since: "2.2.0", acl: ["@list"], handler: linsert),
        CommandSpec("lrem", arity: 4, flags: [.write], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Remove elements from a list", acl: ["@list"], handler: lrem),
        CommandSpec("ltrim", arity: 4, flags: [.write], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Trim a list to the specified range", acl: ["@list"],
                    handler: ltrim),
        CommandSpec("lpos", arity: -3, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "list", summary: "Return the index of matching elements on a list", since: "6.0.6",
                    acl: ["@list"], handler: lpos),
        CommandSpec("lmove", arity: 5, flags: [.write, .denyoom], keys: (1, 2, 1), route: .colocated,
                    group: "list", summary: "Pop an element from a list, push it to another list and return it",
                    since: "6.2.0", acl: ["@list"], handler: lmove),
        CommandSpec("rpoplpush", arity: 3, flags: [.write, .denyoom], keys: (1, 2, 1), route: .colocated,
                    group: "list",
                    summary: "Remove the last element in a list, prepend it to another list and return it",
                    since: "1.2.0", acl: ["@list"], handler: rpoplpush),
        CommandSpec("lmpop", arity: -4, flags: [.write, .movableKeys], route: .colocated,
                    group: "list", summary: "Pop elements from a list", since: "7.0.0", acl: ["@list"],
                    keysOf: { lmpopKeys($0) }, handler: lmpop),
    ]

    // MARK: shared helpers

    @inline(__always) static func long(_ a: Arg) -> Int? { parseStrictInt(a.ptr, a.count) }

    @inline(__always) static func same(_ e: UnsafeBufferPointer<UInt8>, _ a: Arg) -> Bool {
        e.count == a.count && (a.count == 0 || memcmp(e.baseAddress!, a.ptr, a.count) == 0)
    }

    /// LEFT or RIGHT (any case): true for LEFT, nil for anything else.
    @inline(__always) static func side(_ a: Arg) -> Bool? {
        if a.equalsLower("left") { return true }
        if a.equalsLower("right") { return false }
        return nil
    }

    /// `n` elements from index `from` as an array, towards the tail, or
    /// towards the head when `reverse` (RPOP with a count).
    static func replyRange(_ r: Reply, _ l: ListValue, from: Int, count n: Int, reverse: Bool) {
        r.array(n)
        var left = n
        if left == 0 { return }
        if reverse {
            l.forEachReverse(from: from) { e in
                r.bulk(e)
                left -= 1
                return left > 0
            }
        } else {
            l.forEach(from: from) { e in
                r.bulk(e)
                left -= 1
                return left > 0
            }
        }
    }

    /// Notifies `event`, then deletes key `i` once its list is empty
    /// (`del`), else marks it changed (WATCH).
    @inline(__always) static func settle(_ x: inout Exec, _ i: Int, _ l: ListValue, slot: Int, _ event: StaticString) {
        x.notify(.list, event, i)
        if l.count == 0 {
            x.deleteKey(i, slot: slot)
            x.notify(.generic, "del", i)
        } else {
            x.modified(i)
        }
    }

    // MARK: pushes

    static func lpush(_ x: inout Exec) { push(&x, left: true, onlyIfExists: false) }
    static func rpush(_ x: inout Exec) { push(&x, left: false, onlyIfExists: false) }
    static func lpushx(_ x: inout Exec) { push(&x, left: true, onlyIfExists: true) }
    static func rpushx(_ x: inout Exec) { push(&x, left: false, onlyIfExists: true) }

    static func push(_ x: inout Exec, left: Bool, onlyIfExists: Bool) {
        let l: ListValue
        var fresh = false
        switch x.find(1, .list, read: false) {
        case .wrongType: return
        case .missing:
            if onlyIfExists { return x.reply.int(0) }
            l = ListValue()
            fresh = true
        case .found(let e, _):
            l = e.objectRef(ListValue.self)
        }
        for j in 2..<x.argc {
            let a = x[j]
            if left { l.pushFront(a.ptr, a.count) } else { l.pushBack(a.ptr, a.count) }
        }
        if fresh { x.storeObject(1, slot: -1, type: .list, l) } else { x.modified(1) }
        x.notify(.list, left ? "lpush" : "rpush", 1)
        x.changed(x.argc - 2)
        x.reply.int(l.count)
    }

    // MARK: pops

    static func lpop(_ x: inout Exec) { pop(&x, left: true) }
    static func rpop(_ x: inout Exec) { pop(&x, left: false) }

    /// LPOP/RPOP key [count]: a bulk string without a count, an array with one.
    static func pop(_ x: inout Exec, left: Bool) {
        if x.argc > 3 { return x.error(string: wrongArityError(left ? "lpop" : "rpop")) }
        var count: Int? = nil
        if x.argc == 3 {
            guard let c = long(x[2]), c >= 0 else { return x.error("ERR value is out of range, must be positive") }
            count = c
        }
        if count == 0 {
            // Redis looks the key up (and checks its type) before this fast exit.
            switch x.find(1, .list, read: false) {
            case .missing: x.reply.nullArray()
            case .wrongType: break
            case .found: x.reply.array(0)
            }
            return
        }
        if !popReply(&x, key: 1, left: left, count: count, withKey: false) {
            if count == nil { x.reply.null() } else { x.reply.nullArray() }
        }
    }

    /// Pops from the list at key argument `i` and replies: one element as a
    /// bulk string when `count` is nil, else up to `count` as an array;
    /// `withKey` wraps it as `[key, element]` (BLPOP) or `[key, [elements]]`
    /// (LMPOP, BLMPOP). Deletes the key once empty. False, with nothing
    /// written, when the key does not exist; true after a WRONGTYPE error.
    public static func popReply(_ x: inout Exec, key i: Int, left: Bool, count: Int?, withKey: Bool) -> Bool {
        switch x.find(i, .list, read: false) {
        case .missing: return false
        case .wrongType: return true
        case .found(let e, let slot):
            let l = e.objectRef(ListValue.self)
            if l.count == 0 { return false }
            if withKey {
                x.reply.array(2)
                x.reply.bulk(x[i])
            }
            if let c = count {
                let n = min(c, l.count)
                replyRange(x.reply, l, from: left ? 0 : l.count - 1, count: n, reverse: !left)
                if left { l.removeFirst(n) } else { l.removeLast(n) }
                x.changed(n)
            } else {
                let r = x.reply
                if left { l.popFront { r.bulk($0) } } else { l.popBack { r.bulk($0) } }
            }
            settle(&x, i, l, slot: slot, left ? "lpop" : "rpop")
            return true
        }
    }
}
