import RESP
import Storage

/// HyperLogLog commands (Redis 7.0's hyperloglog.c) over `Storage/HLL`.
/// An HLL is a raw string; a dense one is edited in place in its entry, a
/// sparse one on an `HLLWork` copy written back once per command.
/// PFCOUNT and PFMERGE are `.colocated`: their keys may live on any shards.
public enum HyperLogLogCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("pfadd", arity: -2, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "hyperloglog", summary: "Adds the specified elements to the specified HyperLogLog.",
                    since: "2.8.9", acl: ["@hyperloglog"], handler: pfadd),
        CommandSpec("pfcount", arity: -2, flags: [.readonly], keys: (1, -1, 1), route: .colocated,
                    group: "hyperloglog",
                    summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
                    since: "2.8.9", acl: ["@hyperloglog"], handler: pfcount),
        CommandSpec("pfmerge", arity: -2, flags: [.write, .denyoom], keys: (1, -1, 1), route: .colocated,
                    group: "hyperloglog", summary: "Merge N different HyperLogLogs into a single one.",
                    since: "2.8.9", acl: ["@hyperloglog"], handler: pfmerge),
        CommandSpec("pfdebug", arity: 3, flags: [.write, .denyoom, .admin], keys: (2, 2, 1), route: .key,
                    group: "hyperloglog", summary: "Internal commands for debugging HyperLogLog values",
                    since: "2.8.9", acl: ["@hyperloglog"], handler: pfdebug),
        CommandSpec("pfselftest", arity: 1, flags: [.admin], route: .local,
                    group: "hyperloglog", summary: "An internal command for testing HyperLogLog values",
                    since: "2.8.9", acl: ["@hyperloglog"], handler: pfselftest),
    ]

    static let corrupt: StaticString = "INVALIDOBJ Corrupted HLL object detected"
    static let notHLL: StaticString = "WRONGTYPE Key is not a valid HyperLogLog string value."

    /// Redis's isHLLObjectOrReply: the entry's bytes if it holds a valid
    /// HLL, else nil after replying the error.
    static func hllBytes(_ x: inout Exec, _ e: Entry) -> UnsafeMutablePointer<UInt8>? {
        guard e.type == .string else {
            x.error(Err.wrongType)
            return nil
        }
        guard e.payload == .bytes, HLL.isValid(e.bytes.baseAddress!, e.bytes.count) else {
            x.error(notHLL)
            return nil
        }
        return UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
    }

    /// Writes an edited HLL back under key argument `i` (`slot` -1 creates
    /// it), keeping an existing key's TTL. Counts as a change for WATCH.
    static func store(_ x: inout Exec, key i: Int, slot: Int, _ w: HLLWork) {
        let ks = x.keyspace(of: i)
        let a = x[i]
        let h = hashBytes(a.ptr, a.count)
        let dst: UnsafeMutablePointer<UInt8>
        if slot < 0 {
            let e = Entry.makeString(key: a.ptr, keyLen: a.count, value: nil, valueLen: w.len,
                                     expireAt: -1, lru: x.lru, tryInt: false)
            e.isRawString = true
            dst = UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
            ks.put(e, at: -1, hash: h)
        } else {
            let e = ks.entry(at: slot)
            if e.payload == .bytes && e.bytes.count == w.len {
                e.isRawString = true
                dst = UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
            } else {
                dst = StringCommands.makeRaw(ks, slot: slot, hash: h, newLen: w.len)
            }
        }
        dst.update(from: w.buf, count: w.len)
        ks.mutations &+= 1
    }

    // MARK: PFADD

    /// PFADD key [element ...]: 1 when a register changed (or the key was made).
    static func pfadd(_ x: inout Exec) {
        let maxBytes = EncodingLimits.hllSparseBytes
        var updated = 0
        var work: HLLWork
        var slot = -1
        if let (e, s) = x.findAny(1, read: false) {
            guard let h = hllBytes(&x, e) else { return }
            e.isRawString = true
            slot = s
            if HLL.isDense(h) {
                // The common case once an HLL has grown: registers in place.
                let regs = h + HLL.headerSize
                var j = 2
                while j < x.argc {
                    let a = x[j]
                    let (i, c) = HLL.patLen(a.ptr, a.count)
                    if HLL.denseSetMax(regs, i, c) { updated += 1 }
                    j += 1
                }
                if updated > 0 {
                    HLL.invalidateCache(h)
                    x.modified(1)
                    x.notify(.string, "pfadd", 1)
                }
                return x.reply.int(updated > 0 ? 1 : 0)
            }
            work = HLLWork(copying: h, e.bytes.count)
        } else {
            work = HLLWork()
            updated = 1
        }
        defer { work.free() }
        var j = 2
        var failed = false
        while j < x.argc {
            let a = x[j]
            let r = work.add(a.ptr, a.count, maxBytes: maxBytes)
            if r < 0 { failed = true; break }
            updated += r
            j += 1
        }
        if updated > 0 {
            // Redis's edits before a corrupt opcode was met stay, as there.
            if !failed { HLL.invalidateCache(work.buf) }
            store(&x, key: 1, slot: slot, work)
        }
        if failed { return x.error(corrupt) }
        if updated > 0 { x.notify(.string, "pfadd", 1) }
        x.reply.int(updated > 0 ? 1 : 0)
    }

    // MARK: PFCOUNT

    /// PFCOUNT key [key ...]: one key answers from (and refreshes) its
    /// cached estimate; several are merged first.
    static func pfcount(_ x: inout Exec) {
        if x.argc == 2 {
            guard let (e, _) = x.findAny(1, read: true) else { return x.reply.int(0) }
            guard let h = hllBytes(&x, e) else { return }
            e.isRawString = true
            if let c = HLL.cachedCard(h) { return x.reply.int(Int(bitPattern: UInt(c))) }
            guard let c = HLL.count(h, e.bytes.count) else { return x.error(corrupt) }
            HLL.setCachedCard(h, c)
            x.modified(1)
            return x.reply.int(Int(bitPattern: UInt(c)))
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HLL.registers) { buf in
            let regs = buf.baseAddress!
            regs.initialize(repeating: 0, count: HLL.registers)
            var j = 1
            while j < x.argc {
                defer { j += 1 }
                guard let (e, _) = x.findAny(j, read: true) else { continue }
                guard let h = hllBytes(&x, e) else { return }
                guard HLL.merge(into: regs, h, e.bytes.count) else { return x.error(corrupt) }
            }
            x.reply.int(Int(bitPattern: UInt(HLL.countRaw(regs))))
        }
    }

    // MARK: PFMERGE

    /// PFMERGE destkey [sourcekey ...]: the destination is a source too.
    /// Dense when any source is; otherwise the sparse result is built by
    /// setting each register in order, as Redis builds it.
    static func pfmerge(_ x: inout Exec) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HLL.registers) { buf in
            let regs = buf.baseAddress!
            regs.initialize(repeating: 0, count: HLL.registers)
            var useDense = false
            var j = 1
            while j < x.argc {
                defer { j += 1 }
                guard let (e, _) = x.findAny(j, read: true) else { continue }
                guard let h = hllBytes(&x, e) else { return }
                if HLL.isDense(h) { useDense = true }
                guard HLL.merge(into: regs, h, e.bytes.count) else { return x.error(corrupt) }
            }
            var work: HLLWork
            var slot = -1
            if let (e, s) = x.findAny(1, read: false) {
                work = HLLWork(copying: e.bytes.baseAddress!, e.bytes.count)
                slot = s
            } else {
                work = HLLWork()
            }
            defer { work.free() }
            if useDense && !work.toDense() { return x.error(corrupt) }
            let maxBytes = EncodingLimits.hllSparseBytes
            for i in 0..<HLL.registers where regs[i] != 0 {
                _ = work.set(i, regs[i], maxBytes: maxBytes)
            }
            HLL.invalidateCache(work.buf)
            store(&x, key: 1, slot: slot, work)
            x.notify(.string, "pfadd", 1)
            x.reply.ok()
        }
    }
}
