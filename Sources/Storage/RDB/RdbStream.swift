import RESP
#if canImport(Glibc)
import Glibc
#endif

/// Streams in RDB_TYPE_STREAM_LISTPACKS_2, as Redis 7.0's rdbSaveObject
/// writes them: every node as its rax key (the master ID, 128-bit
/// big-endian) and the listpack Redis would hold for the same entries
/// (master entry: count, deleted, master fields, 0; then per entry flags,
/// ms-diff, seq-diff, [field count, fields], values, lp-count); then the
/// length, last ID, first ID, max deleted ID, entries added, and the
/// groups with their PELs and consumers.
extension RdbWriter {
    /// rdbSaveLen of a 64-bit value (IDs, and -1 entries-read as 2^64-1).
    public mutating func length64(_ v: UInt64) {
        if v <= UInt64(UInt32.max) { return length(Int(v)) }
        out.append(0x81)
        for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(i))) }
    }

    mutating func rawID(_ id: StreamID) {
        for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: id.ms >> UInt64(i))) }
        for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: id.seq >> UInt64(i))) }
    }

    /// rdbSaveMillisecondTime: int64 little-endian.
    mutating func millis(_ t: Int64) {
        let u = UInt64(bitPattern: t)
        for i in stride(from: 0, through: 56, by: 8) { out.append(UInt8(truncatingIfNeeded: u >> UInt64(i))) }
    }

    mutating func stream(_ s: StreamValue) {
        length(s.nodeCount)
        var key = [UInt8](repeating: 0, count: 16)
        for i in s.head..<s.nodes.count {
            let n = s.nodes[i]
            for b in 0..<8 {
                key[b] = UInt8(truncatingIfNeeded: n.master.ms >> UInt64(56 - 8 * b))
                key[8 + b] = UInt8(truncatingIfNeeded: n.master.seq >> UInt64(56 - 8 * b))
            }
            string(key)
            string(Rdb.redisListpack(n))
        }
        length(s.length)
        length64(s.lastID.ms)
        length64(s.lastID.seq)
        length64(s.firstID.ms)
        length64(s.firstID.seq)
        length64(s.maxDeletedID.ms)
        length64(s.maxDeletedID.seq)
        length64(UInt64(bitPattern: s.entriesAdded))
        length(s.groups.count)
        for g in s.groups {
            string(g.name)
            length64(g.lastID.ms)
            length64(g.lastID.seq)
            length64(UInt64(bitPattern: g.entriesRead))
            length(g.pending.count)
            for (k, id) in g.pending.ids.enumerated() {
                rawID(id)
                millis(g.pending.entries[k].deliveryTime)
                length64(UInt64(bitPattern: g.pending.entries[k].deliveryCount))
            }
            length(g.consumers.count)
            for c in g.consumers {
                string(c.name)
                millis(c.seenTime)
                length(c.pending.count)
                for id in c.pending.ids { rawID(id) }
            }
        }
    }
}

extension Rdb {
    /// The listpack Redis 7.0 holds for the node's entries (streamAppendItem's layout).
    static func redisListpack(_ n: StreamNode) -> [UInt8] {
        var lp = ListpackWriter(capacity: n.redisBytes + 16)
        lp.append(int: Int(n.live))
        lp.append(int: Int(n.deleted))
        lp.append(int: Int(n.masterFieldCount))
        var m = 0
        _ = readVarint(n.base, &m)
        for _ in 0..<Int(n.masterFieldCount) {
            let fl = readVarint(n.base, &m)
            lp.append(n.bytes + m, fl)
            m += fl
        }
        lp.append(int: 0)
        var o = Int(n.entriesStart)
        while o < Int(n.used) {
            let e = n.entry(at: o)
            let same = e.flags & StreamNode.sameFieldsFlag != 0
            lp.append(int: Int(e.flags))
            lp.append(int: Int(Int64(bitPattern: e.id.ms &- n.master.ms)))
            lp.append(int: Int(Int64(bitPattern: e.id.seq &- n.master.seq)))
            if !same { lp.append(int: e.fieldCount) }
            e.forEachPair { f, fl, v, vl in
                if !same { lp.append(f, fl) }
                lp.append(v, vl)
            }
            lp.append(int: same ? e.fieldCount + 3 : 2 * e.fieldCount + 4)
            o = e.next
        }
        return lp.finish()
    }
}

/// Builds a node in StreamNode's layout from a decoded Redis listpack.
struct StreamNodeBuilder {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        bytes.append(UInt8(x))
    }

    /// Appends the element in packed form; returns what it weighs in Redis's listpack.
    mutating func packed(_ e: PackedElement) -> Int {
        switch e {
        case .int(let v):
            withDecimal(v) { p, n in
                varint(UInt64(n))
                bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
            }
            return lpIntSize(Int64(v))
        case .bytes(let b):
            varint(UInt64(b.count))
            bytes.append(contentsOf: b)
            return lpStrSize(b.baseAddress, b.count)
        }
    }
}

extension StreamNode {
    init(loaded b: [UInt8], master: StreamID, masterFieldCount: Int, entriesStart: Int, live: Int, deleted: Int,
         redisBase: Int) {
        let cap = max(b.count, 16)
        let m = malloc(cap)!
        b.withUnsafeBytes { if $0.count > 0 { m.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        base = m
        used = Int32(b.count)
        capacity = Int32(cap)
        self.live = Int32(live)
        self.deleted = Int32(deleted)
        self.master = master
        self.entriesStart = Int32(entriesStart)
        self.masterFieldCount = Int32(masterFieldCount)
        self.redisBase = redisBase
    }
}

extension StreamValue {
    func loadedNodes(_ ns: [StreamNode]) {
        nodes = ns
        head = 0
    }

    func loadedGroup(_ g: ConsumerGroup) -> Bool {
        let (i, hit) = g.name.withUnsafeBufferPointer { groupIndex($0) }
        if hit { return false }
        groups.insert(g, at: i)
        return true
    }
}

extension ConsumerGroup {
    func loadedConsumer(_ c: StreamConsumer) -> Bool {
        let (i, hit) = c.name.withUnsafeBufferPointer { consumerIndex($0) }
        if hit { return false }
        consumers.insert(c, at: i)
        return true
    }
}

extension RdbReader {
    public mutating func length64() -> UInt64? {
        guard let b = byte() else { return nil }
        switch b >> 6 {
        case 0: return UInt64(b & 0x3F)
        case 1:
            guard let c = byte() else { return nil }
            return UInt64(b & 0x3F) << 8 | UInt64(c)
        case 2:
            let n: Int
            if b == 0x80 { n = 4 } else if b == 0x81 { n = 8 } else { return nil }
            guard remaining >= n else { return nil }
            var v: UInt64 = 0
            for _ in 0..<n { v = v << 8 | UInt64(base[pos]); pos += 1 }
            return v
        default:
            return nil
        }
    }

    mutating func id() -> StreamID? {
        guard let ms = length64(), let seq = length64() else { return nil }
        return StreamID(ms, seq)
    }

    mutating func rawID() -> StreamID? {
        guard remaining >= 16 else { return nil }
        var ms: UInt64 = 0, seq: UInt64 = 0
        for i in 0..<8 { ms = ms << 8 | UInt64(base[pos + i]) }
        for i in 8..<16 { seq = seq << 8 | UInt64(base[pos + i]) }
        pos += 16
        return StreamID(ms, seq)
    }

    mutating func millis() -> Int64? {
        guard remaining >= 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(base[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return Int64(bitPattern: v)
    }

    /// rdbLoadObject's stream branch (types 15 and 19), checked deeper than
    /// Redis's sanitizer: nodes must hold valid, ordered entries that agree
    /// with the stream's length and last ID, since StreamValue relies on it.
    mutating func stream(v2: Bool) -> LoadedValue? {
        guard let count = length() else { return nil }
        var nodes: [StreamNode] = []
        var ok = false
        defer { if !ok { for n in nodes { n.free() } } }
        var live = 0
        for _ in 0..<count {
            guard let key = string(), key.count == 16, let lp = string() else { return nil }
            var ms: UInt64 = 0, seq: UInt64 = 0
            for i in 0..<8 { ms = ms << 8 | UInt64(key[i]) }
            for i in 8..<16 { seq = seq << 8 | UInt64(key[i]) }
            guard let n = lp.withUnsafeBufferPointer({ Rdb.streamNode($0, master: StreamID(ms, seq)) }) else { return nil }
            nodes.append(n)
            live += Int(n.live)
        }
        // The rax keeps nodes in key order; each must start past the previous one's last entry.
        nodes.sort { $0.master < $1.master }
        for i in 1..<max(nodes.count, 1) where nodes[i].master <= nodes[i - 1].lastID { return nil }
        guard let len = length(), len == live, let last = id() else { return nil }
        if let n = nodes.last, n.lastID > last { return nil }
        let s = StreamValue()
        s.length = len
        s.lastID = last
        if v2 {
            guard let first = id(), let maxDel = id(), let added = length64() else { return nil }
            s.firstID = first
            s.maxDeletedID = maxDel
            s.entriesAdded = Int64(bitPattern: added)
        } else {
            s.entriesAdded = Int64(len)
        }
        ok = true
        s.loadedNodes(nodes)
        if !v2 { s.firstID = s.edgeID(first: true) ?? .zero }
        guard let groups = length() else { return nil }
        for _ in 0..<groups {
            guard let name = string(), let gid = id() else { return nil }
            var read: Int64
            if v2 {
                guard let r = length64() else { return nil }
                read = Int64(bitPattern: r)
            } else {
                read = s.estimateDistance(gid)
            }
            let g = ConsumerGroup(name: name, lastID: gid, entriesRead: read)
            guard s.loadedGroup(g), let pelCount = length() else { return nil }
            // Owners come with the consumers: hold the global PEL until then.
            var pel: [StreamID: (time: Int64, count: Int64, owned: Bool)] = [:]
            for _ in 0..<pelCount {
                guard let pid = rawID(), let t = millis(), let dc = length64() else { return nil }
                if pel[pid] != nil { return nil }
                pel[pid] = (t, Int64(bitPattern: dc), false)
            }
            guard let consumers = length() else { return nil }
            for _ in 0..<consumers {
                guard let cname = string(), let seen = millis() else { return nil }
                let c = StreamConsumer(name: cname, now: seen)
                guard g.loadedConsumer(c), let n = length() else { return nil }
                for _ in 0..<n {
                    guard let pid = rawID(), let p = pel[pid], !p.owned else { return nil }
                    pel[pid]!.owned = true
                    let e = PendingEntry(consumer: c, time: p.time)
                    e.deliveryCount = p.count
                    c.pending.insert(pid, e)
                    g.pending.insert(pid, e)
                }
            }
            // Every pending entry needs its consumer (Redis checks this when sanitizing).
            for (_, p) in pel where !p.owned { return nil }
        }
        return .object(.stream, s)
    }
}

extension Rdb {
    /// One Redis stream listpack as a StreamNode, or nil when it is not the
    /// layout streamValidateListpackIntegrity accepts, its IDs are not
    /// increasing from `master`, or its counts disagree with its entries.
    static func streamNode(_ b: UnsafeBufferPointer<UInt8>, master: StreamID) -> StreamNode? {
        guard var r = ListpackReader(b) else { return nil }
        var ok = true
        func int() -> Int64? {
            guard let e = r.next(&ok) else { return nil }
            switch e {
            case .int(let v): return Int64(v)
            case .bytes(let s):
                guard s.count > 0, let v = parseStrictInt(s.baseAddress!, s.count) else { return nil }
                return Int64(v)
            }
        }
        guard let count = int(), let deleted = int(), let nf = int(),
              count >= 0, deleted >= 0, nf >= 0, nf < Int64(b.count) else { return nil }
        var nb = StreamNodeBuilder()
        nb.bytes.reserveCapacity(b.count + 16)
        nb.varint(UInt64(nf))
        var redisBase = 7 + lpIntSize(nf) + 2
        for _ in 0..<nf {
            guard let f = r.next(&ok) else { return nil }
            redisBase += nb.packed(f)
        }
        guard let zero = int(), zero == 0 else { return nil }
        let entriesStart = nb.bytes.count
        var seenLive = 0, seenDeleted = 0
        var prev: StreamID? = nil
        while let flagsEl = r.next(&ok) {
            var flagsV: Int64
            switch flagsEl {
            case .int(let v): flagsV = Int64(v)
            case .bytes(let s):
                guard s.count > 0, let v = parseStrictInt(s.baseAddress!, s.count) else { return nil }
                flagsV = Int64(v)
            }
            guard flagsV >= 0 && flagsV <= 3, let msd = int(), let seqd = int() else { return nil }
            let flags = UInt8(flagsV)
            let same = flags & StreamNode.sameFieldsFlag != 0
            let id = StreamID(master.ms &+ UInt64(bitPattern: msd), master.seq &+ UInt64(bitPattern: seqd))
            // Our node encodes IDs as deltas from the master, so none may precede it.
            guard id >= master, prev.map({ id > $0 }) ?? true else { return nil }
            prev = id
            let msDelta = id.ms &- master.ms
            nb.bytes.append(flags)
            nb.varint(msDelta)
            nb.varint(msDelta == 0 ? id.seq &- master.seq : id.seq)
            var rb = 2 + lpIntSize(msd) + lpIntSize(seqd)
            var fields = nf
            if same {
                for _ in 0..<nf {
                    guard let v = r.next(&ok) else { return nil }
                    rb += nb.packed(v)
                }
            } else {
                // Bounded by the blob, so 2 * n cannot overflow.
                guard let n = int(), n >= 0, n < Int64(b.count) else { return nil }
                fields = n
                nb.varint(UInt64(n))
                rb += lpIntSize(n)
                for _ in 0..<(2 * n) {
                    guard let v = r.next(&ok) else { return nil }
                    rb += nb.packed(v)
                }
            }
            guard let lpCount = int(), lpCount == (same ? fields + 3 : 2 * fields + 4) else { return nil }
            rb += lpIntSize(lpCount)
            redisBase += rb
            if flags & StreamNode.deletedFlag != 0 { seenDeleted += 1 } else { seenLive += 1 }
        }
        guard ok, seenLive == count, seenDeleted == deleted,
              count <= Int64(Int32.max), nb.bytes.count < Int(Int32.max) else { return nil }
        return StreamNode(loaded: nb.bytes, master: master, masterFieldCount: Int(nf), entriesStart: entriesStart,
                          live: Int(count), deleted: Int(deleted), redisBase: redisBase)
    }
}
