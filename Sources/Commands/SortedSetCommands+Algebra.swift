import RESP
import Storage

/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis's
/// zunionInterDiffGenericCommand). Inputs may be sorted sets or sets.
extension SortedSetCommands {
    enum SetOp { case union, inter, diff }
    enum Aggregate { case sum, min, max }

    static func zunion(_ x: inout Exec) { algebra(&x, "zunion", store: false, .union) }
    static func zinter(_ x: inout Exec) { algebra(&x, "zinter", store: false, .inter) }
    static func zdiff(_ x: inout Exec) { algebra(&x, "zdiff", store: false, .diff) }
    static func zunionstore(_ x: inout Exec) { algebra(&x, "zunionstore", store: true, .union) }
    static func zinterstore(_ x: inout Exec) { algebra(&x, "zinterstore", store: true, .inter) }
    static func zdiffstore(_ x: inout Exec) { algebra(&x, "zdiffstore", store: true, .diff) }
    static func zintercard(_ x: inout Exec) { algebra(&x, "zintercard", store: false, .inter, cardinalityOnly: true) }

    struct Input {
        var operand: ZOperand
        var weight: Double = 1
        var count: Int
    }

    @inline(__always) static func aggregate(_ t: inout Double, _ v: Double, _ a: Aggregate) {
        switch a {
        case .sum:
            t += v
            // inf + -inf: Redis keeps 0 rather than NaN.
            if t.isNaN { t = 0 }
        case .min: t = v < t ? v : t
        case .max: t = v > t ? v : t
        }
    }

    static func algebra(_ x: inout Exec, _ name: StaticString, store: Bool, _ op: SetOp,
                        cardinalityOnly: Bool = false) {
        let nk = store ? 2 : 1
        guard let setnum = parseLong(&x, nk) else { return }
        if setnum < 1 {
            return x.error(string: "ERR at least 1 input key is needed for '\(name)' command")
        }
        if setnum > x.argc - (nk + 1) { return x.error(Err.syntax) }

        // The keys are read before the options, as Redis does (WRONGTYPE first).
        var inputs: [Input] = []
        inputs.reserveCapacity(setnum)
        for i in 0..<setnum {
            let found = x.findAny(nk + 1 + i, read: true)
            if let (e, _) = found, e.type != .zset && e.type != .set { return x.error(Err.wrongType) }
            guard let o = ZOperand(found?.0) else { return x.error("ERR sets as input not yet supported") }
            inputs.append(Input(operand: o, count: o.count))
        }

        var agg = Aggregate.sum
        var withScores = false
        var limit = 0
        var j = nk + 1 + setnum
        while j < x.argc {
            let remaining = x.argc - j
            let a = x[j]
            if op != .diff && !cardinalityOnly && remaining >= setnum + 1 && a.equalsLower("weights") {
                j += 1
                for i in 0..<setnum {
                    let w = x[j + i]
                    guard let v = parseRedisDouble(w.ptr, w.count) else {
                        return x.error("ERR weight value is not a float")
                    }
                    inputs[i].weight = v
                }
                j += setnum
            } else if op != .diff && !cardinalityOnly && remaining >= 2 && a.equalsLower("aggregate") {
                let v = x[j + 1]
                if v.equalsLower("sum") { agg = .sum }
                else if v.equalsLower("min") { agg = .min }
                else if v.equalsLower("max") { agg = .max }
                else { return x.error(Err.syntax) }
                j += 2
            } else if remaining >= 1 && !store && !cardinalityOnly && a.equalsLower("withscores") {
                withScores = true
                j += 1
            } else if cardinalityOnly && remaining >= 2 && a.equalsLower("limit") {
                let msg: StaticString = "ERR LIMIT can't be negative"
                guard let l = parseLong(&x, j + 1, msg) else { return }
                if l < 0 { return x.error(msg) }
                limit = l
                j += 2
            } else {
                return x.error(Err.syntax)
            }
        }

        // Smallest first (a stable sort, as glibc's qsort is): the order
        // weighted sums are added in follows Redis's.
        if op != .diff && setnum > 1 {
            var sorted = true
            for i in 1..<setnum where inputs[i - 1].count > inputs[i].count { sorted = false; break }
            if !sorted { inputs = stableSortedByCount(inputs) }
        }

        if cardinalityOnly {
            return x.reply.int(interCardinality(inputs, limit: limit))
        }
        let result = ZSetValue()
        switch op {
        case .inter: intersect(inputs, agg, into: result)
        case .union: unite(inputs, agg, into: result)
        case .diff: subtract(inputs, into: result)
        }

        if store {
            if result.count == 0 {
                storeEmpty(&x, 1)
                return x.reply.int(0)
            }
            var maxLen = 0
            var n = result.list.first
            while let nd = n {
                if nd.member.count > maxLen { maxLen = nd.member.count }
                n = nd.next
            }
            let existed = deleteIfExists(&x, 1)
            x.overwriting(1, existed: existed) {
                if fitsCompact(count: result.count, maxLength: maxLen) {
                    storeCompactPairs(&x, 1, members: result.count) { visit in
                        var p = result.list.first
                        while let nd = p {
                            visit(nd.member, nd.score)
                            p = nd.next
                        }
                    }
                } else {
                    x.storeObject(1, slot: -1, type: .zset, result)
                }
            }
            x.notify(.zset, op == .union ? "zunionstore" : op == .inter ? "zinterstore" : "zdiffstore", 1)
            return x.reply.int(result.count)
        }
        let r = x.reply
        rangeHeader(r, result.count, withScores: withScores)
        var n = result.list.first
        while let nd = n {
            replyMember(r, nd.member, nd.score, withScores: withScores)
            n = nd.next
        }
    }

    static func stableSortedByCount(_ a: [Input]) -> [Input] {
        a.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map { $0.element }
    }

    static func intersect(_ inputs: [Input], _ agg: Aggregate, into out: ZSetValue) {
        let first = inputs[0]
        if first.count == 0 { return }
        first.operand.forEach { m, s in
            var score = first.weight * s
            if score.isNaN { score = 0 }
            for j in 1..<inputs.count {
                let o = inputs[j]
                guard let v = o.operand.isSame(first.operand) ? s : o.operand.score(m) else { return }
                aggregate(&score, v * o.weight, agg)
            }
            out.insert(m.baseAddress, m.count, score: score)
        }
    }

    static func interCardinality(_ inputs: [Input], limit: Int) -> Int {
        let first = inputs[0]
        if first.count == 0 { return 0 }
        var card = 0
        // forEach cannot stop early; past the limit the rest is skipped cheaply.
        first.operand.forEach { m, _ in
            if limit > 0 && card >= limit { return }
            for j in 1..<inputs.count {
                let o = inputs[j]
                if !o.operand.isSame(first.operand) && o.operand.score(m) == nil { return }
            }
            card += 1
        }
        return card
    }

    static func unite(_ inputs: [Input], _ agg: Aggregate, into out: ZSetValue) {
        for input in inputs where input.count > 0 {
            input.operand.forEach { m, s in
                var score = input.weight * s
                if score.isNaN { score = 0 }
                if let node = out.find(m.baseAddress, m.count) {
                    var t = node.score
                    aggregate(&t, score, agg)
                    node.score = t
                } else {
                    out.stage(m.baseAddress, m.count, score: score)
                }
            }
        }
        out.orderStaged()
    }

    static func subtract(_ inputs: [Input], into out: ZSetValue) {
        let first = inputs[0]
        if first.count == 0 { return }
        first.operand.forEach { m, s in
            for j in 1..<inputs.count {
                let o = inputs[j]
                if o.operand.isSame(first.operand) || o.operand.score(m) != nil { return }
            }
            out.insert(m.baseAddress, m.count, score: s)
        }
    }
}
