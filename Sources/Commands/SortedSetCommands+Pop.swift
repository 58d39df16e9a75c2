import RESP
import Storage

/// ZPOPMIN, ZPOPMAX, ZMPOP (Redis's genericZpopCommand), and `popReply`,
/// which the blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP) also serve from.
extension SortedSetCommands {
    /// Pops from key argument `i` if it holds a sorted set, replying in
    /// `shape`: the lowest members (or highest with `max`), `count` of them
    /// (nil: one, as BZPOPMIN; 0: an empty array for ZPOPMIN's shapes). The
    /// key is deleted when emptied. A missing key writes nothing and
    /// returns false; another type replies WRONGTYPE and returns true.
    @discardableResult
    public static func popReply(_ x: inout Exec, key i: Int, max: Bool, count: Int?, shape: ZPopShape) -> Bool {
        let e: Entry, slot: Int
        switch x.find(i, .zset, read: false) {
        case .missing: return false
        case .wrongType: return true
        case .found(let en, let s): e = en; slot = s
        }
        let r = x.reply
        let want = count ?? 1
        if want == 0 {
            r.array(0)
            return true
        }
        let v = ZView(e)
        let len = v.count
        let n = want < len ? want : len
        let nested: Bool
        switch shape {
        case .flat:
            r.array(n * 2)
            nested = false
        case .nested:
            r.array(n)
            nested = true
        case .bzpop:
            r.array(n * 2 + 1)
            r.bulk(x[i])
            nested = false
        case .zmpop:
            r.array(2)
            r.bulk(x[i])
            r.array(n)
            nested = true
        }
        v.forEach(from: max ? len - 1 : 0, count: n, reverse: max) { m, s in
            if nested { r.array(2) }
            r.bulk(m)
            r.score(s)
        }
        removeRanks(&x, i, slot: slot, v, from: max ? len - n : 0, count: n)
        if n > 0 { removedNotify(&x, i, max ? "zpopmax" : "zpopmin", removed: n >= len) }
        return true
    }

    static func zpopmin(_ x: inout Exec) { zpopGeneric(&x, max: false) }
    static func zpopmax(_ x: inout Exec) { zpopGeneric(&x, max: true) }

    /// ZPOPMIN/ZPOPMAX key [count]
    static func zpopGeneric(_ x: inout Exec, max: Bool) {
        if x.argc > 3 { return x.error(Err.syntax) }
        var count: Int? = nil
        if x.argc == 3 {
            // getPositiveLongFromObjectOrReply: one message for both failures.
            let msg: StaticString = "ERR value is out of range, must be positive"
            guard let c = parseLong(&x, 2, msg) else { return }
            if c < 0 { return x.error(msg) }
            count = c
        }
        // RESP3 nests the pairs only when a count was given.
        let shape: ZPopShape = x.reply.proto == 3 && count != nil ? .nested : .flat
        if !popReply(&x, key: 1, max: max, count: count, shape: shape) { x.reply.array(0) }
    }

    /// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
    static func zmpop(_ x: inout Exec) {
        let numkeysMsg: StaticString = "ERR numkeys should be greater than 0"
        guard let numkeys = parseLong(&x, 1, numkeysMsg) else { return }
        if numkeys < 1 { return x.error(numkeysMsg) }
        guard numkeys < x.argc - 2 else { return x.error(Err.syntax) }
        let whereIdx = 2 + numkeys
        let w = x[whereIdx]
        let max: Bool
        if w.equalsLower("min") { max = false } else if w.equalsLower("max") { max = true } else {
            return x.error(Err.syntax)
        }
        var count = -1
        var j = whereIdx + 1
        while j < x.argc {
            if count == -1 && x[j].equalsLower("count") && j + 1 < x.argc {
                let countMsg: StaticString = "ERR count should be greater than 0"
                guard let c = parseLong(&x, j + 1, countMsg) else { return }
                if c < 1 { return x.error(countMsg) }
                count = c
                j += 2
            } else {
                return x.error(Err.syntax)
            }
        }
        if count == -1 { count = 1 }
        for k in 0..<numkeys where popReply(&x, key: 2 + k, max: max, count: count, shape: .zmpop) { return }
        x.reply.nullArray()
    }
}
