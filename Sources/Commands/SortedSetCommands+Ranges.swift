import RESP
import Storage

/// ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and
/// ZREMRANGEBYRANK/SCORE/LEX (Redis's zrangeGenericCommand and friends).
/// Every range becomes a run of ranks, read in one pass.
extension SortedSetCommands {
    enum RangeKind { case auto, rank, score, lex }
    enum Direction { case auto, forward, reverse }

    static func zrange(_ x: inout Exec) { zrangeGeneric(&x, from: 1, store: false, .auto, .auto) }
    static func zrangestore(_ x: inout Exec) { zrangeGeneric(&x, from: 2, store: true, .auto, .auto) }
    static func zrevrange(_ x: inout Exec) { zrangeGeneric(&x, from: 1, store: false, .rank, .reverse) }
    static func zrangebyscore(_ x: inout Exec) { zrangeGeneric(&x, from: 1, store: false, .score, .forward) }
    static func zrevrangebyscore(_ x: inout Exec) { zrangeGeneric(&x, from: 1, store: false, .score, .reverse) }
    static func zrangebylex(_ x: inout Exec) { zrangeGeneric(&x, from: 1, store: false, .lex, .forward) }
    static func zrevrangebylex(_ x: inout Exec) { zrangeGeneric(&x, from: 1, store: false, .lex, .reverse) }

    /// `<src> <min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES] [LIMIT offset count]`
    /// with the source key at argument `from`; ZRANGESTORE stores into argument 1.
    static func zrangeGeneric(_ x: inout Exec, from k: Int, store: Bool, _ kind0: RangeKind, _ dir0: Direction) {
        var kind = kind0, dir = dir0
        var withScores = false
        var offset = 0, limit = -1
        var j = k + 3
        while j < x.argc {
            let a = x[j]
            let left = x.argc - j - 1
            if !store && a.equalsLower("withscores") {
                withScores = true
            } else if a.equalsLower("limit") && left >= 2 {
                guard let o = parseLong(&x, j + 1), let l = parseLong(&x, j + 2) else { return }
                offset = o
                limit = l
                j += 2
            } else if dir == .auto && a.equalsLower("rev") {
                dir = .reverse
            } else if kind == .auto && a.equalsLower("bylex") {
                kind = .lex
            } else if kind == .auto && a.equalsLower("byscore") {
                kind = .score
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        if dir == .auto { dir = .forward }
        if kind == .auto { kind = .rank }
        let reverse = dir == .reverse
        if limit != -1 && kind == .rank {
            return x.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && kind == .lex {
            return x.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        // Reversed score and lex ranges are given as max, min.
        let (lo, hi) = reverse && kind != .rank ? (x[k + 2], x[k + 1]) : (x[k + 1], x[k + 2])
        var startIdx = 0, endIdx = 0
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        switch kind {
        case .rank, .auto:
            guard let s = parseLong(&x, k + 1), let e = parseLong(&x, k + 2) else { return }
            startIdx = s
            endIdx = e
        case .score:
            guard let r = parseScoreRange(lo, hi) else { return x.error(notFloatRange) }
            scoreRange = r
        case .lex:
            guard let r = parseLexRange(lo, hi) else { return x.error(notLexRange) }
            lexRange = r
        }

        let v: ZView
        switch x.find(k, .zset, read: true) {
        case .wrongType: return
        case .missing:
            if store {
                storeEmpty(&x, 1)
                x.reply.int(0)
            } else {
                x.reply.array(0)
            }
            return
        case .found(let e, _): v = ZView(e)
        }

        // The ranks to read: from `start`, `n` of them, downwards when reversed.
        var start = 0, n = 0
        let len = v.count
        if kind == .rank {
            var s = startIdx, e = endIdx
            if s < 0 { s += len }
            if e < 0 { e += len }
            if s < 0 { s = 0 }
            if !(s > e || s >= len) {
                if e >= len { e = len - 1 }
                n = e - s + 1
                start = reverse ? len - 1 - s : s
            }
        } else {
            let (pos, found) = scoreRange.map { v.locate($0, reverse: reverse) }
                ?? v.locate(lexRange!, reverse: reverse)
            if found > 0 && offset >= 0 && offset < found {
                n = limit < 0 ? found - offset : min(limit, found - offset)
                start = reverse ? pos - offset : pos + offset
            }
        }

        let r = x.reply
        if !store {
            rangeHeader(r, n, withScores: withScores)
            v.forEach(from: start, count: n, reverse: reverse) { m, s in replyMember(r, m, s, withScores: withScores) }
            return
        }
        if n == 0 {
            storeEmpty(&x, 1)
            return r.int(0)
        }
        // Redis adds the members one by one in the order the range is walked
        // to a listpack that becomes a skiplist once one too many, or one too
        // long, arrives; members added before that lose a -0 score (a
        // listpack keeps integral scores as integers). A rank range longer
        // than the limit starts as a skiplist.
        let entries = EncodingLimits.zsetEntries, value = EncodingLimits.zsetValue
        var convertAt = kind == .rank && n > entries ? 0 : -1
        if convertAt < 0 {
            var i = 0
            v.forEach(from: start, count: n, reverse: reverse) { m, _ in
                if convertAt < 0 && (i >= entries || m.count > value) { convertAt = i }
                i += 1
            }
        }
        // Copied out before the destination (which may be the source) is
        // replaced; ascending when it stays compact.
        var pairs = PackedBuffer()
        defer { pairs.free() }
        var i = 0
        let ascending = convertAt < 0 && reverse
        v.forEach(from: ascending ? start - n + 1 : start, count: n, reverse: reverse && !ascending) { m, s in
            let score = i < convertAt && s == 0 ? 0 : s
            CompactZSet.appendPair(&pairs, m.baseAddress, m.count, score)
            i += 1
        }
        storeResult(&x, 1, pairs: pairs, members: n, compact: convertAt < 0, "zrangestore")
        r.int(n)
    }

    // MARK: ZCOUNT / ZLEXCOUNT

    static func zcount(_ x: inout Exec) {
        guard let range = parseScoreRange(x[2], x[3]) else { return x.error(notFloatRange) }
        switch x.find(1, .zset, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: return
        case .found(let e, _): x.reply.int(ZView(e).locate(range, reverse: false).count)
        }
    }

    static func zlexcount(_ x: inout Exec) {
        guard let range = parseLexRange(x[2], x[3]) else { return x.error(notLexRange) }
        switch x.find(1, .zset, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: return
        case .found(let e, _): x.reply.int(ZView(e).locate(range, reverse: false).count)
        }
    }

    // MARK: ZREMRANGEBY*

    static func zremrangebyrank(_ x: inout Exec) { zremrangeGeneric(&x, .rank) }
    static func zremrangebyscore(_ x: inout Exec) { zremrangeGeneric(&x, .score) }
    static func zremrangebylex(_ x: inout Exec) { zremrangeGeneric(&x, .lex) }

    static func zremrangeGeneric(_ x: inout Exec, _ kind: RangeKind) {
        var startIdx = 0, endIdx = 0
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        switch kind {
        case .score:
            guard let r = parseScoreRange(x[2], x[3]) else { return x.error(notFloatRange) }
            scoreRange = r
        case .lex:
            guard let r = parseLexRange(x[2], x[3]) else { return x.error(notLexRange) }
            lexRange = r
        default:
            guard let s = parseLong(&x, 2), let e = parseLong(&x, 3) else { return }
            startIdx = s
            endIdx = e
        }
        guard case .found(let e, let slot) = x.find(1, .zset, read: false) else {
            if !x.failed { x.reply.int(0) }
            return
        }
        let v = ZView(e)
        let len = v.count
        var start = 0, n = 0
        if kind == .rank {
            var s = startIdx, en = endIdx
            if s < 0 { s += len }
            if en < 0 { en += len }
            if s < 0 { s = 0 }
            if s > en || s >= len { return x.reply.int(0) }
            if en >= len { en = len - 1 }
            start = s
            n = en - s + 1
        } else {
            (start, n) = scoreRange.map { v.locate($0, reverse: false) } ?? v.locate(lexRange!, reverse: false)
        }
        if n > 0 {
            removeRanks(&x, 1, slot: slot, v, from: start, count: n)
            removedNotify(&x, 1, kind == .rank ? "zremrangebyrank" : kind == .score ? "zremrangebyscore"
                          : "zremrangebylex", removed: n >= len)
        }
        x.reply.int(n)
    }

    /// Deletes `n` members from 0-based rank `start` of key `i` (in `slot`),
    /// and the key when that empties it.
    static func removeRanks(_ x: inout Exec, _ i: Int, slot: Int, _ v: ZView, from start: Int, count n: Int) {
        x.changed(n)
        if n >= v.count { return x.deleteKey(i, slot: slot) }
        switch v {
        case .compact(let c):
            let a = CompactZSet.offset(c, index: start)
            var it = CompactZSet.Pairs(c, from: a)
            for _ in 0..<n { _ = it.next() }
            splice(&x, i, slot: slot, c, members: c.count - n, cut: a..<it.offset)
        case .skiplist(let z):
            z.removeRange(fromRank: start, count: n)
            x.modified(i)
        }
    }
}
