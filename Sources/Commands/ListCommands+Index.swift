import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS. Each parses its
/// arguments before or after the key lookup exactly where Redis does, so
/// a missing key with a bad argument answers as Redis answers.
extension ListCommands {
    static func llen(_ x: inout Exec) {
        switch x.find(1, .list, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: break
        case .found(let e, _): x.reply.int(e.objectRef(ListValue.self).count)
        }
    }

    /// Redis's start/end normalisation (LRANGE, LTRIM): the first index and
    /// how many, or nil for an empty range.
    static func span(_ start: Int, _ end: Int, length n: Int) -> (Int, Int)? {
        var s = start, e = end
        if s < 0 { s = n + s }
        if e < 0 { e = n + e }
        if s < 0 { s = 0 }
        if s > e || s >= n { return nil }
        if e >= n { e = n - 1 }
        return (s, e - s + 1)
    }

    static func lrange(_ x: inout Exec) {
        guard let start = long(x[2]), let end = long(x[3]) else { return x.error(Err.notInteger) }
        switch x.find(1, .list, read: true) {
        case .missing: x.reply.array(0)
        case .wrongType: break
        case .found(let e, _):
            let l = e.objectRef(ListValue.self)
            guard let (s, n) = span(start, end, length: l.count) else { return x.reply.array(0) }
            replyRange(x.reply, l, from: s, count: n, reverse: false)
        }
    }

    static func lindex(_ x: inout Exec) {
        switch x.find(1, .list, read: true) {
        case .missing: x.reply.null()
        case .wrongType: break
        case .found(let e, _):
            guard var i = long(x[2]) else { return x.error(Err.notInteger) }
            let l = e.objectRef(ListValue.self)
            if i < 0 { i += l.count }
            if i < 0 || i >= l.count { return x.reply.null() }
            x.reply.bulk(l.element(at: i))
        }
    }

    static func lset(_ x: inout Exec) {
        switch x.find(1, .list, read: false) {
        case .missing: x.error(Err.noSuchKey)
        case .wrongType: break
        case .found(let e, _):
            guard var i = long(x[2]) else { return x.error(Err.notInteger) }
            let l = e.objectRef(ListValue.self)
            if i < 0 { i += l.count }
            if i < 0 || i >= l.count { return x.error(Err.outOfRange) }
            let v = x[3]
            l.replace(at: i, with: v.ptr, v.count)
            x.modified(1)
            x.notify(.list, "lset", 1)
            x.reply.ok()
        }
    }

    /// LINSERT key BEFORE|AFTER pivot element
    static func linsert(_ x: inout Exec) {
        let after: Bool
        if x[2].equalsLower("after") {
            after = true
        } else if x[2].equalsLower("before") {
            after = false
        } else {
            return x.error(Err.syntax)
        }
        switch x.find(1, .list, read: false) {
        case .missing: x.reply.int(0)
        case .wrongType: break
        case .found(let e, _):
            let l = e.objectRef(ListValue.self)
            let pivot = x[3]
            var i = 0, at = -1
            l.forEach(from: 0) { el in
                if same(el, pivot) {
                    at = i
                    return false
                }
                i += 1
                return true
            }
            if at < 0 { return x.reply.int(-1) }
            let v = x[4]
            l.insert(v.ptr, v.count, at: after ? at + 1 : at)
            x.modified(1)
            x.notify(.list, "linsert", 1)
            x.reply.int(l.count)
        }
    }

    /// LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
    static func lrem(_ x: inout Exec) {
        guard let n = long(x[2]) else { return x.error(Err.notInteger) }
        switch x.find(1, .list, read: false) {
        case .missing: x.reply.int(0)
        case .wrongType: break
        case .found(let e, let slot):
            let l = e.objectRef(ListValue.self)
            let v = x[3]
            // 0 &- Int.min stays negative: any limit that big is "all" anyway.
            let limit = n < 0 ? (n == Int.min ? 0 : -n) : n
            let removed = l.removeAll(matching: v.ptr, v.count, limit: limit, fromTail: n < 0)
            if removed > 0 { settle(&x, 1, l, slot: slot, "lrem") }
            x.reply.int(removed)
        }
    }

    static func ltrim(_ x: inout Exec) {
        guard let start = long(x[2]), let end = long(x[3]) else { return x.error(Err.notInteger) }
        switch x.find(1, .list, read: false) {
        case .missing: x.reply.ok()
        case .wrongType: break
        case .found(let e, let slot):
            let l = e.objectRef(ListValue.self)
            let n = l.count
            if let (s, k) = span(start, end, length: n) {
                l.removeLast(n - s - k)
                l.removeFirst(s)
            } else {
                l.removeFirst(n)
            }
            // Redis signals the key whether or not anything went; its dirty counts what went.
            x.store.dirtyExtra &+= n - l.count - 1
            settle(&x, 1, l, slot: slot, "ltrim")
            x.reply.ok()
        }
    }

    /// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
    static func lpos(_ x: inout Exec) {
        var rank = 1, count = -1, maxlen = 0
        var j = 3
        while j < x.argc {
            let opt = x[j]
            let more = j + 1 < x.argc
            if opt.equalsLower("rank") && more {
                j += 1
                guard let v = long(x[j]) else { return x.error(Err.notInteger) }
                if v == 0 {
                    return x.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                }
                rank = v
            } else if opt.equalsLower("count") && more {
                j += 1
                guard let v = long(x[j]), v >= 0 else { return x.error("ERR COUNT can't be negative") }
                count = v
            } else if opt.equalsLower("maxlen") && more {
                j += 1
                guard let v = long(x[j]), v >= 0 else { return x.error("ERR MAXLEN can't be negative") }
                maxlen = v
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        // Negative rank: from the tail. Redis negates a C long, so RANK
        // LONG_MIN stays negative and every match qualifies; wrapping
        // arithmetic below keeps that behaviour.
        let fromTail = rank < 0
        if fromTail { rank = 0 &- rank }
        let l: ListValue
        switch x.find(1, .list, read: true) {
        case .missing: return count != -1 ? x.reply.array(0) : x.reply.null()
        case .wrongType: return
        case .found(let e, _): l = e.objectRef(ListValue.self)
        }
        let ele = x[2], r = x.reply, buf = r.buf
        let n = l.count
        let mark = buf.count
        var index = 0, matches = 0, matchIndex = -1, emitted = 0
        if fromTail {
            l.forEachReverse(from: n - 1) { el in
                lposStep(el, ele, &index, &matches, &matchIndex, &emitted, rank: rank, count: count, maxlen: maxlen,
                         fromTail: true, length: n, reply: r)
            }
        } else {
            l.forEach(from: 0) { el in
                lposStep(el, ele, &index, &matches, &matchIndex, &emitted, rank: rank, count: count, maxlen: maxlen,
                         fromTail: false, length: n, reply: r)
            }
        }
        if count != -1 {
            prependArrayHeader(buf, at: mark, count: emitted)
        } else if matchIndex != -1 {
            r.int(matchIndex)
        } else {
            r.null()
        }
    }

    /// One element of LPOS's scan, as Redis's loop: false stops it.
    @inline(__always)
    static func lposStep(_ el: UnsafeBufferPointer<UInt8>, _ ele: Arg, _ index: inout Int, _ matches: inout Int,
                         _ matchIndex: inout Int, _ emitted: inout Int, rank: Int, count: Int, maxlen: Int,
                         fromTail: Bool, length n: Int, reply r: Reply) -> Bool {
        if maxlen != 0 && index >= maxlen { return false }
        if same(el, ele) {
            matches += 1
            matchIndex = fromTail ? n - index - 1 : index
            if matches >= rank {
                if count == -1 { return false }
                emitted += 1
                r.int(matchIndex)
                if count != 0 && matches &- rank &+ 1 >= count { return false }
            }
        }
        index += 1
        matchIndex = -1
        return true
    }

    /// Puts `*count\r\n` in front of the replies written since `mark`
    /// (Redis's deferred array length).
    static func prependArrayHeader(_ buf: ByteBuf, at mark: Int, count: Int) {
        var tmp: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            p[0] = 42
            let d = formatDecimal(count, into: p + 1)
            p[d + 1] = 13
            p[d + 2] = 10
            let h = d + 3
            let body = buf.count - mark
            buf.reserve(h)
            let b = buf.base
            if body > 0 { memmove(b + mark + h, b + mark, body) }
            (b + mark).update(from: p, count: h)
            buf.count += h
        }
    }
}
