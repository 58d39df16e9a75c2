import RESP
import Storage

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
extension StringCommands {
    struct LCSMatch {
        var aStart: Int, aEnd: Int, bStart: Int, bEnd: Int
    }

    static func lcs(_ x: inout Exec) {
        let ea = x.pairEntry(1, read: true)
        let eb = x.pairEntry(2, read: true)
        if let a = ea, a.type != .string { return x.error("ERR The specified keys must contain string values") }
        if let b = eb, b.type != .string { return x.error("ERR The specified keys must contain string values") }

        var getLen = false, getIdx = false, withMatchLen = false
        var minMatchLen = 0
        var j = 3
        while j < x.argc {
            let o = x[j]
            let more = x.argc - 1 - j
            if o.equalsLower("idx") {
                getIdx = true
            } else if o.equalsLower("len") {
                getLen = true
            } else if o.equalsLower("withmatchlen") {
                withMatchLen = true
            } else if o.equalsLower("minmatchlen") && more > 0 {
                let v = x[j + 1]
                guard let n = parseStrictInt(v.ptr, v.count) else { return x.error(Err.notInteger) }
                minMatchLen = max(n, 0)
                j += 1
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        if getLen && getIdx {
            return x.error("ERR If you want both the length and indexes, please just use IDX.")
        }
        let empty: [UInt8] = []
        empty.withUnsafeBufferPointer { none in
            func run(_ a: UnsafeBufferPointer<UInt8>) {
                if let eb { eb.withStringBytes { b in compute(&x, a, b) } } else { compute(&x, a, none) }
            }
            if let ea { ea.withStringBytes { a in run(a) } } else { run(none) }
        }

        func compute(_ x: inout Exec, _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) {
            let alen = a.count, blen = b.count
            if alen >= Int(UInt32.max) - 1 || blen >= Int(UInt32.max) - 1 {
                return x.error("ERR String too long for LCS")
            }
            // Both lengths fit 32 bits, so their product can still pass Int.max
            // when proto-max-bulk-len is raised: check it instead of trapping.
            let (cells, o1) = (alen + 1).multipliedReportingOverflow(by: blen + 1)
            let (bytes, o2) = cells.multipliedReportingOverflow(by: 4)
            if o1 || o2 { return x.error("ERR Insufficient memory, failed allocating transient memory for LCS") }
            if bytes > protoMaxBulkLen.load(ordering: .relaxed) {
                return x.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
            }
            let w = blen + 1
            // t[i * w + j] = length of the LCS of a[0..<i] and b[0..<j].
            let t = UnsafeMutablePointer<UInt32>.allocate(capacity: cells)
            defer { t.deallocate() }
            t.initialize(repeating: 0, count: w)
            if alen > 0 {
                let ap = a.baseAddress!, bp = b.baseAddress
                for i in 1...alen {
                    let row = t + i * w, prev = row - w
                    row[0] = 0
                    let ai = ap[i - 1]
                    var jj = 1
                    while jj <= blen {
                        if ai == bp![jj - 1] {
                            row[jj] = prev[jj - 1] + 1
                        } else {
                            let up = prev[jj], left = row[jj - 1]
                            row[jj] = up > left ? up : left
                        }
                        jj += 1
                    }
                }
            }
            let total = Int(t[alen * w + blen])
            let needString = getIdx || !getLen
            if !needString { return x.reply.int(total) }

            // Walk back from the end, collecting the LCS and its ranges in the
            // order Redis reports them (last match first).
            var out = [UInt8](repeating: 0, count: total)
            var matches: [LCSMatch] = []
            var k = total
            var i = alen, jb = blen
            var open = false
            var cur = LCSMatch(aStart: 0, aEnd: 0, bStart: 0, bEnd: 0)
            while i > 0 && jb > 0 {
                var emit = false
                if a[i - 1] == b[jb - 1] {
                    out[k - 1] = a[i - 1]
                    if !open {
                        cur = LCSMatch(aStart: i - 1, aEnd: i - 1, bStart: jb - 1, bEnd: jb - 1)
                        open = true
                    } else if cur.aStart == i && cur.bStart == jb {
                        cur.aStart -= 1
                        cur.bStart -= 1
                    } else {
                        emit = true
                    }
                    if cur.aStart == 0 || cur.bStart == 0 { emit = true }
                    k -= 1; i -= 1; jb -= 1
                } else {
                    if t[(i - 1) * w + jb] > t[i * w + jb - 1] { i -= 1 } else { jb -= 1 }
                    if open { emit = true }
                }
                if emit {
                    let len = cur.aEnd - cur.aStart + 1
                    if getIdx && (minMatchLen == 0 || len >= minMatchLen) { matches.append(cur) }
                    open = false
                }
            }
            guard getIdx else { return x.reply.bulk(out) }
            let r = x.reply
            r.map(2)
            r.bulk(static: "matches")
            r.array(matches.count)
            for m in matches {
                r.array(withMatchLen ? 3 : 2)
                r.array(2); r.int(m.aStart); r.int(m.aEnd)
                r.array(2); r.int(m.bStart); r.int(m.bEnd)
                if withMatchLen { r.int(m.aEnd - m.aStart + 1) }
            }
            r.bulk(static: "len")
            r.int(total)
        }
    }
}
