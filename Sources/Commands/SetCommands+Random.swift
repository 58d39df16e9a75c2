import RESP
import Storage

/// SPOP and SRANDMEMBER: Redis 7.0's strategies, which decide reply order
/// and the popped set's encoding, with nothing sized by the client's count.
extension SetCommands {
    /// SPOP's switch from "pop random members" to "keep random members and
    /// pop the rest" (SPOP_MOVE_STRATEGY_MUL).
    static let spopMoveMul = 5
    /// SRANDMEMBER's switch from sampling to "copy all and drop some"
    /// (SRANDMEMBER_SUB_STRATEGY_MUL).
    static let srandSubMul = 3

    // MARK: SPOP

    /// SPOP key [count]
    static func spop(_ x: inout Exec) {
        if x.argc > 3 { return x.error(Err.syntax) }
        if x.argc == 3 { return spopCount(&x) }
        guard case .found(let e, let slot) = x.find(1, .set, read: false) else {
            if !x.failed { x.reply.null() }
            return
        }
        var rng = x.stats.rng()
        switch SetRef(e) {
        case .table(let t):
            let s = t.randomSlot(using: &rng)
            x.reply.bulk(t.member(at: s))
            t.remove(slot: s)
            if t.count == 0 { x.deleteKey(1, slot: slot) } else { x.modified(1) }
            spopNotify(&x, removed: t.count == 0)
        case .ints(let s):
            var at = rng.below(s.count)
            x.reply.bulkDecimal(s[at])
            if s.count == 1 {
                x.deleteKey(1, slot: slot)
                return spopNotify(&x, removed: true)
            }
            spopNotify(&x, removed: false)
            withUnsafePointer(to: &at) { p in
                x.storeCompact(1, slot: slot, type: .set, length: IntSet.size(count: s.count - 1, width: s.width)) { out in
                    s.writeRemoving(UnsafeBufferPointer(start: p, count: 1), into: out)
                }
            }
        }
    }

    @inline(__always) static func spopNotify(_ x: inout Exec, removed: Bool) {
        x.notify(.set, "spop", 1)
        if removed { x.notify(.generic, "del", 1) }
    }

    static func spopCount(_ x: inout Exec) {
        guard let count = parseStrictInt(x[2].ptr, x[2].count), count >= 0 else {
            return x.error("ERR value is out of range, must be positive")
        }
        guard case .found(let e, let slot) = x.find(1, .set, read: false) else {
            if !x.failed { x.reply.set(0) }
            return
        }
        if count == 0 { return x.reply.set(0) }
        x.notify(.set, "spop", 1)
        let set = SetRef(e)
        let size = set.count
        x.changed(min(count, size))
        if count >= size {
            // Redis answers with SUNION of the one set: an intset's order, or
            // the order of a union built afresh.
            var b = SetBuilder()
            set.forEach { _ = b.add($0) }
            b.reply(x.reply)
            b.free()
            x.deleteKey(1, slot: slot)
            return x.notify(.generic, "del", 1)
        }
        var rng = x.stats.rng()
        let remaining = size - count
        x.reply.set(count)
        switch set {
        case .table(let t):
            if remaining * spopMoveMul > count {
                for _ in 0..<count {
                    let s = t.randomSlot(using: &rng)
                    x.reply.bulk(t.member(at: s))
                    t.remove(slot: s)
                }
                x.modified(1)
            } else {
                // Move the few survivors to a new set (its encoding decided
                // afresh, as Redis's setTypeCreate/setTypeAdd do), reply the rest.
                var keep = SetBuilder()
                for _ in 0..<remaining {
                    let s = t.randomSlot(using: &rng)
                    _ = keep.add(.bytes(t.member(at: s)))
                    t.remove(slot: s)
                }
                for i in 0..<t.capacity where t.isLive(i) { x.reply.bulk(t.member(at: i)) }
                keep.store(&x, key: 1, slot: slot)
                keep.free()
            }
        case .ints(let s):
            withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { vals in
                for i in 0..<size { vals[i] = s[i] }
                var n = size
                if remaining * spopMoveMul > count {
                    // Pop in draw order; survivors keep the old width, as
                    // intsetRemove never narrows.
                    for _ in 0..<count {
                        let i = rng.below(n)
                        x.reply.bulkDecimal(vals[i])
                        n -= 1
                        vals[i] = vals[n]
                    }
                    let left = sortUnique(vals, n)
                    let keep = UnsafeBufferPointer(rebasing: vals[0..<left])
                    x.storeCompact(1, slot: slot, type: .set, length: IntSet.size(count: left, width: s.width)) { p in
                        IntSet.write(keep, width: s.width, into: p)
                    }
                } else {
                    // Draw the survivors to the end; the popped ones reply in
                    // the old set's (ascending) order; the survivors form a
                    // new intset as wide as they need.
                    for _ in 0..<remaining {
                        let i = rng.below(n)
                        n -= 1
                        vals.swapAt(i, n)
                    }
                    let popped = sortUnique(vals, n)
                    for i in 0..<popped { x.reply.bulkDecimal(vals[i]) }
                    let keep = UnsafeMutableBufferPointer(rebasing: vals[n..<size])
                    let left = sortUnique(keep, remaining)
                    let kb = UnsafeBufferPointer(rebasing: keep[0..<left])
                    let w = IntSet.width(ofSorted: kb)
                    x.storeCompact(1, slot: slot, type: .set, length: IntSet.size(count: left, width: w)) { p in
                        IntSet.write(kb, width: w, into: p)
                    }
                }
            }
        }
    }

    // MARK: SRANDMEMBER

    /// SRANDMEMBER key [count]
    static func srandmember(_ x: inout Exec) {
        if x.argc > 3 { return x.error(Err.syntax) }
        if x.argc == 3 { return srandmemberCount(&x) }
        guard case .found(let e, _) = x.find(1, .set, read: true) else {
            if !x.failed { x.reply.null() }
            return
        }
        var rng = x.stats.rng()
        switch SetRef(e) {
        case .table(let t): x.reply.bulk(t.member(at: t.randomSlot(using: &rng)))
        case .ints(let s): x.reply.bulkDecimal(s[rng.below(s.count)])
        }
    }

    static func srandmemberCount(_ x: inout Exec) {
        guard let l = parseStrictInt(x[2].ptr, x[2].count) else { return x.error(Err.notInteger) }
        if l == Int.min {
            return x.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        guard case .found(let e, _) = x.find(1, .set, read: true) else {
            if !x.failed { x.reply.array(0) }
            return
        }
        if l == 0 { return x.reply.array(0) }
        let set = SetRef(e)
        let size = set.count
        var rng = x.stats.rng()
        let count = l.magnitude
        if l < 0 || count == 1 {
            // With repeats: streamed, nothing held per element.
            x.reply.array(Int(count))
            switch set {
            case .table(let t): for _ in 0..<count { x.reply.bulk(t.member(at: t.randomSlot(using: &rng))) }
            case .ints(let s): for _ in 0..<count { x.reply.bulkDecimal(s[rng.below(s.count)]) }
            }
            return
        }
        if count >= UInt(size) {
            x.reply.array(size)
            set.forEach { x.reply.member($0) }
            return
        }
        let k = Int(count)
        x.reply.array(k)
        if k * srandSubMul > size {
            // Most of the set: shuffle the first k of all positions.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { pos in
                switch set {
                case .table(let t):
                    var n = 0
                    for i in 0..<t.capacity where t.isLive(i) { pos[n] = i; n += 1 }
                case .ints:
                    for i in 0..<size { pos[i] = i }
                }
                for i in 0..<k {
                    pos.swapAt(i, i + rng.below(size - i))
                    replyAt(x.reply, set, pos[i])
                }
            }
        } else {
            // A small sample of a big set: draw until k distinct positions,
            // remembered in a small open-addressed table of k*2+ slots.
            var cap = 16
            while cap < k * 2 { cap <<= 1 }
            withUnsafeTemporaryAllocation(of: Int.self, capacity: cap) { seen in
                seen.initialize(repeating: -1)
                var got = 0
                while got < k {
                    let p: Int
                    switch set {
                    case .table(let t): p = t.randomSlot(using: &rng)
                    case .ints(let s): p = rng.below(s.count)
                    }
                    var h = Int(truncatingIfNeeded: (UInt(bitPattern: p) &* 0x9E37_79B9_7F4A_7C15) >> 20) & (cap - 1)
                    while seen[h] >= 0 && seen[h] != p { h = (h + 1) & (cap - 1) }
                    if seen[h] == p { continue }
                    seen[h] = p
                    got += 1
                    replyAt(x.reply, set, p)
                }
            }
        }
    }

    /// The member at a table slot or intset index.
    @inline(__always) static func replyAt(_ r: Reply, _ set: SetRef, _ p: Int) {
        switch set {
        case .table(let t): r.bulk(t.member(at: p))
        case .ints(let s): r.bulkDecimal(s[p])
        }
    }
}
