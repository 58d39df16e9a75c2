import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// LMOVE, RPOPLPUSH, LMPOP: several keys, route `.colocated`, so with keys
/// on different shards they run with those shards lent and each key is
/// reached in its owner's keyspace.
extension ListCommands {
    /// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
    static func lmove(_ x: inout Exec) {
        guard let from = side(x[3]), let to = side(x[4]) else { return x.error(Err.syntax) }
        if !moveReply(&x, src: 1, dst: 2, fromLeft: from, toLeft: to) { x.reply.null() }
    }

    static func rpoplpush(_ x: inout Exec) {
        if !moveReply(&x, src: 1, dst: 2, fromLeft: false, toLeft: true) { x.reply.null() }
    }

    /// Moves one element from the list at key argument `src` to the one at
    /// `dst` (created when missing) and replies it, as LMOVE. False, with
    /// nothing written, when the source does not exist; true after a
    /// WRONGTYPE error, on either key, checked before anything moves.
    public static func moveReply(_ x: inout Exec, src: Int, dst: Int, fromLeft: Bool, toLeft: Bool) -> Bool {
        let sl: ListValue
        switch x.find(src, .list, read: false) {
        case .missing: return false
        case .wrongType: return true
        case .found(let e, _): sl = e.objectRef(ListValue.self)
        }
        if sl.count == 0 { return false }
        var dl: ListValue? = nil
        switch x.find(dst, .list, read: false) {
        case .missing: break
        case .wrongType: return true
        case .found(let e, _): dl = e.objectRef(ListValue.self)
        }
        let r = x.reply
        if let d = dl, d === sl {
            // The same list: rotate through a copy, as the element's bytes
            // live in the node the push may move.
            let e = fromLeft ? sl.element(at: 0) : sl.element(at: sl.count - 1)
            r.bulk(e)
            if fromLeft != toLeft {
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(e.count, 1)) { tmp in
                    let p = tmp.baseAddress!
                    if e.count > 0 { p.update(from: e.baseAddress!, count: e.count) }
                    let n = e.count
                    if fromLeft { sl.popFront { _ in () } } else { sl.popBack { _ in () } }
                    if toLeft { sl.pushFront(p, n) } else { sl.pushBack(p, n) }
                }
            }
            x.modified(src)
            x.notify(.list, toLeft ? "lpush" : "rpush", dst)
            x.notify(.list, fromLeft ? "lpop" : "rpop", src)
            return true
        }
        let target = dl ?? ListValue()
        if fromLeft {
            sl.popFront { e in
                if toLeft { target.pushFront(e) } else { target.pushBack(e) }
                r.bulk(e)
            }
        } else {
            sl.popBack { e in
                if toLeft { target.pushFront(e) } else { target.pushBack(e) }
                r.bulk(e)
            }
        }
        if dl == nil { x.storeObject(dst, slot: -1, type: .list, target) } else { x.modified(dst) }
        x.notify(.list, toLeft ? "lpush" : "rpush", dst)
        x.notify(.list, fromLeft ? "lpop" : "rpop", src)
        // Slots may have moved (the lookups may expire keys, the store may
        // grow the table): find the source again to delete it.
        if sl.count == 0, let (_, s) = x.findAny(src, read: false) {
            x.deleteKey(src, slot: s)
            x.notify(.generic, "del", src)
        } else {
            x.modified(src)
        }
        // Two keys written, one change to Redis's dirty.
        x.store.dirtyExtra &-= 1
        return true
    }

    /// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: the key
    /// positions, nil when numkeys is malformed.
    public static func lmpopKeys(_ a: ArgVector) -> KeySpan? {
        guard a.count > 1, let n = parseStrictInt(a[1].ptr, a[1].count), n > 0, n <= a.count - 3 else { return nil }
        return .positions(Array(2..<(2 + n)))
    }

    static func lmpop(_ x: inout Exec) {
        guard let n = long(x[1]), n > 0 else { return x.error("ERR numkeys should be greater than 0") }
        // numkeys past the arguments (however large) leaves no room for LEFT|RIGHT.
        guard n <= x.argc - 3 else { return x.error(Err.syntax) }
        let whereIdx = 2 + n
        guard let left = side(x[whereIdx]) else { return x.error(Err.syntax) }
        var count = -1
        var j = whereIdx + 1
        while j < x.argc {
            if count == -1 && x[j].equalsLower("count") && j + 1 < x.argc {
                j += 1
                guard let c = long(x[j]), c > 0 else { return x.error("ERR count should be greater than 0") }
                count = c
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        if count == -1 { count = 1 }
        for k in 0..<n {
            if popReply(&x, key: 2 + k, left: left, count: count, withKey: true) { return }
        }
        x.reply.nullArray()
    }
}
