import RESP
#if canImport(Glibc)
import Glibc
#endif

/// Streams in RDB form (RDB_TYPE_STREAM_LISTPACKS_2), as Redis 7.0's
/// rdbSaveObject and rdbLoadObject: each node as its 16-byte big-endian
/// first ID and a stream listpack (master entry, then entries with ID
/// deltas and lp-counts), then the stream's counters and its groups with
/// their PELs and consumers.
extension RdbWriter {
    /// rdbSaveLen of a 64-bit value (IDs and counters use the whole range).
    mutating func lengthU64(_ v: UInt64) {
        if v <= UInt64(Int.max) { return length(Int(v)) }
        out.append(0x81)
        for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(i))) }
    }

    mutating func rawID(_ id: StreamID) {
        for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: id.ms >> UInt64(i))) }
        for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: id.seq >> UInt64(i))) }
    }

    /// rdbSaveMillisecondTime: 8 bytes little-endian.
    mutating func milliseconds(_ t: Int64) {
        let v = UInt64(bitPattern: t)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    mutating func stream(_ s: StreamValue) {
        length(s.nodeCount)
        for i in s.head..<s.nodes.count {
            let n = s.nodes[i]
            var key = RdbWriter()
            key.rawID(n.master)
            string(key.out)
            string(StreamValue.listpack(of: n))
        }
        lengthU64(UInt64(s.length))
        lengthU64(s.lastID.ms)
        lengthU64(s.lastID.seq)
        lengthU64(s.firstID.ms)
        lengthU64(s.firstID.seq)
        lengthU64(s.maxDeletedID.ms)
        lengthU64(s.maxDeletedID.seq)
        lengthU64(UInt64(bitPattern: s.entriesAdded))
        length(s.groups.count)
        for g in s.groups {
            string(g.name)
            lengthU64(g.lastID.ms)
            lengthU64(g.lastID.seq)
            lengthU64(UInt64(bitPattern: g.entriesRead))
            length(g.pending.count)
            for i in 0..<g.pending.count {
                rawID(g.pending.id(i))
                milliseconds(g.pending.entry(i).deliveryTime)
                lengthU64(UInt64(bitPattern: g.pending.entry(i).deliveryCount))
            }
            length(g.consumers.count)
            for c in g.consumers {
                string(c.name)
                milliseconds(c.seenTime)
                length(c.pending.count)
                for i in 0..<c.pending.count { rawID(c.pending.id(i)) }
            }
        }
    }
}

extension StreamValue {
    /// A node as Redis's stream listpack holds it.
    static func listpack(of n: StreamNode) -> [UInt8] {
        var lp = ListpackWriter(capacity: n.redisBytes)
        lp.append(int: Int(n.live))
        lp.append(int: Int(n.deleted))
        lp.append(int: Int(n.masterFieldCount))
        var o = 0
        _ = readVarint(n.base, &o)
        for _ in 0..<Int(n.masterFieldCount) {
            let len = readVarint(n.base, &o)
            lp.append(n.bytes + o, len)
            o += len
        }
        lp.append(int: 0)
        o = Int(n.entriesStart)
        while o < Int(n.used) {
            let e = n.entry(at: o)
            let same = e.flags & StreamNode.sameFieldsFlag != 0
            lp.append(int: Int(e.flags))
            lp.append(int: Int(Int64(bitPattern: e.id.ms &- n.master.ms)))
            lp.append(int: Int(Int64(bitPattern: e.id.seq &- n.master.seq)))
            if !same { lp.append(int: e.fieldCount) }
            e.forEachPair { f, fn, v, vn in
                if !same { lp.append(f, fn) }
                lp.append(v, vn)
            }
            lp.append(int: same ? e.fieldCount + 3 : 2 * e.fieldCount + 4)
            o = e.next
        }
        return lp.finish()
    }

    /// Appends a node loaded from RDB as it was (its entries, deleted ones
    /// included); false when its listpack is not a valid stream node or it
    /// does not follow the nodes before it.
    func loadNode(master: StreamID, _ lpBytes: [UInt8]) -> Bool {
        guard let n = lpBytes.withUnsafeBufferPointer({ Rdb.streamNode($0, master: master) }) else { return false }
        // Nodes in ID order, none overlapping the one before (the search relies on it).
        if n.live + n.deleted == 0 || (head < nodes.count && nodes[nodes.count - 1].lastID >= master) {
            n.free()
            return false
        }
        nodes.append(n)
        return true
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


extension RdbReader {
    /// rdbLoadLen over the whole 64-bit range.
    mutating func lengthU64() -> UInt64? {
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

    mutating func rawID() -> StreamID? {
        guard remaining >= 16 else { return nil }
        var ms: UInt64 = 0, seq: UInt64 = 0
        for i in 0..<8 { ms = ms << 8 | UInt64(base[pos + i]) }
        for i in 8..<16 { seq = seq << 8 | UInt64(base[pos + i]) }
        pos += 16
        return StreamID(ms, seq)
    }

    mutating func milliseconds() -> Int64? {
        guard remaining >= 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(base[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return Int64(bitPattern: v)
    }

    /// RDB_TYPE_STREAM_LISTPACKS (v1) and _2 (v2: first ID, max deleted ID,
    /// entries added, per-group entries read).
    mutating func stream(v2: Bool) -> LoadedValue? {
        guard let nodes = length() else { return nil }
        let s = StreamValue()
        for _ in 0..<nodes {
            guard let key = string(), key.count == 16, let lp = string() else { return nil }
            let master = key.withUnsafeBufferPointer { kb -> StreamID in
                var r = RdbReader(kb)
                return r.rawID()!
            }
            guard s.loadNode(master: master, lp) else { return nil }
        }
        guard let len = lengthU64(), let lms = lengthU64(), let lseq = lengthU64() else { return nil }
        s.length = Int(truncatingIfNeeded: len)
        s.lastID = StreamID(lms, lseq)
        // XADD's next ID must be past every entry, deleted ones included.
        if s.nodeCount > 0, s.nodes[s.nodes.count - 1].lastID > s.lastID { return nil }
        if v2 {
            guard let fms = lengthU64(), let fseq = lengthU64(), let dms = lengthU64(), let dseq = lengthU64(),
                  let added = lengthU64() else { return nil }
            s.firstID = StreamID(fms, fseq)
            s.maxDeletedID = StreamID(dms, dseq)
            s.entriesAdded = Int64(bitPattern: added)
        } else {
            s.firstID = s.edgeID(first: true) ?? .zero
            s.entriesAdded = Int64(s.length)
        }
        var live = 0
        s.forEach(from: .zero, to: .max, reverse: false) { _ in live += 1; return true }
        guard live == s.length else { return nil }
        guard let groups = length() else { return nil }
        for _ in 0..<groups {
            guard let name = string(), let gms = lengthU64(), let gseq = lengthU64() else { return nil }
            var entriesRead = ConsumerGroup.invalidEntriesRead
            if v2 {
                guard let er = lengthU64() else { return nil }
                entriesRead = Int64(bitPattern: er)
            } else {
                entriesRead = s.estimateDistance(StreamID(gms, gseq))
            }
            guard let g = name.withUnsafeBufferPointer({ s.createGroup($0, lastID: StreamID(gms, gseq),
                                                                      entriesRead: entriesRead) })
            else { return nil }
            // The group's PEL first, owners unknown until the consumers come.
            guard let pelCount = length() else { return nil }
            var nacks: [(StreamID, Int64, Int64)] = []
            for _ in 0..<pelCount {
                guard let id = rawID(), let t = milliseconds(), let dc = lengthU64() else { return nil }
                if let last = nacks.last, last.0 >= id { return nil }
                nacks.append((id, t, Int64(bitPattern: dc)))
            }
            guard let consumers = length() else { return nil }
            var owned = 0
            for _ in 0..<consumers {
                guard let cname = string(), let seen = milliseconds(), let n = length() else { return nil }
                let (c, fresh) = cname.withUnsafeBufferPointer { g.createConsumer($0, now: seen) }
                guard fresh else { return nil }
                for _ in 0..<n {
                    guard let id = rawID() else { return nil }
                    var lo = 0, hi = nacks.count
                    while lo < hi {
                        let m = (lo + hi) >> 1
                        if nacks[m].0 < id { lo = m + 1 } else { hi = m }
                    }
                    guard lo < nacks.count, nacks[lo].0 == id, g.pending.find(id) == nil else { return nil }
                    let p = PendingEntry(consumer: c, time: nacks[lo].1)
                    p.deliveryCount = nacks[lo].2
                    g.pending.insert(id, p)
                    c.pending.insert(id, p)
                    owned += 1
                }
            }
            // Redis refuses a PEL entry without a consumer.
            guard owned == nacks.count else { return nil }
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
