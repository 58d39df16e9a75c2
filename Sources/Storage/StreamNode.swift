import RESP
#if canImport(Glibc)
import Glibc
#endif

/// One block of stream entries, keyed by its first ("master") ID, like a
/// listpack under a key of Redis's rax. Its bytes:
///
///     [varint n][field]...[field]                    master fields (the first entry's)
///     entry: [flags][varint ms-delta][varint seq]     seq - master.seq when ms-delta is 0, else seq
///            [packed value]...                       flags & sameFields: fields are the master's
///            | [varint n][packed field][packed value]...
///
/// (`packed` = varint length + bytes, `Packed.swift`.) A deleted entry stays
/// in place with its flag set, as in Redis, until the whole node goes.
/// `redisBytes` is what Redis's listpack for the same entries would weigh,
/// so nodes fill and split where Redis's do (stream-node-max-bytes), and
/// approximate trims and XINFO's radix-tree-keys agree with Redis.
public struct StreamNode {
    public static let deletedFlag: UInt8 = 1
    public static let sameFieldsFlag: UInt8 = 2

    public var base: UnsafeMutableRawPointer
    public var used: Int32
    public var capacity: Int32
    /// Live and deleted entries.
    public var live: Int32
    public var deleted: Int32
    public var master: StreamID
    /// Offset of the first entry (after the master fields).
    public var entriesStart: Int32
    public var masterFieldCount: Int32
    /// Redis's lpBytes without its live/deleted counters, which it
    /// rewrites in place (their size is added by `redisBytes`).
    var redisBase: Int

    public var redisBytes: Int { redisBase + lpIntSize(Int64(live)) + lpIntSize(Int64(deleted)) }
    @inlinable public var bytes: UnsafeMutablePointer<UInt8> { base.assumingMemoryBound(to: UInt8.self) }

    /// A node for `id` whose master fields are `fields` (even positions of
    /// `pairs`: field, value, field, value...).
    init(first id: StreamID, pairs: UnsafeBufferPointer<Arg>, capacity hint: Int) {
        let nf = pairs.count / 2
        var need = varintSize(nf)
        var rb = 7 + lpIntSize(Int64(nf)) + 2
        for i in 0..<nf {
            need += packedSize(pairs[2 * i].count)
            rb += lpStrSize(pairs[2 * i].ptr, pairs[2 * i].count)
        }
        let cap = max(need + 64, hint)
        base = malloc(cap)!
        capacity = Int32(cap)
        var o = 0
        writeVarint(base, &o, nf)
        for i in 0..<nf { writePacked(base, &o, pairs[2 * i].ptr, pairs[2 * i].count) }
        used = Int32(o)
        entriesStart = Int32(o)
        masterFieldCount = Int32(nf)
        live = 0
        deleted = 0
        master = id
        redisBase = rb
    }

    public func free() { Glibc.free(base) }

    /// Bytes malloc holds for the node.
    public var allocated: Int { mallocUsableSize(base) }

    /// Whether `pairs` are the master fields, in order.
    func sameFields(_ pairs: UnsafeBufferPointer<Arg>) -> Bool {
        guard pairs.count / 2 == Int(masterFieldCount) else { return false }
        var o = 0
        _ = readVarint(base, &o)
        for i in 0..<Int(masterFieldCount) {
            let n = readVarint(base, &o)
            let f = pairs[2 * i]
            if n != f.count || (n > 0 && memcmp(base + o, f.ptr, n) != 0) { return false }
            o += n
        }
        return true
    }

    /// Appends an entry (its ID is past every ID in the node).
    mutating func append(_ id: StreamID, pairs: UnsafeBufferPointer<Arg>, limit: Int) {
        let same = sameFields(pairs)
        let nf = pairs.count / 2
        let msDelta = id.ms &- master.ms
        let seqPart = msDelta == 0 ? id.seq &- master.seq : id.seq
        var need = 1 + idVarintSize(msDelta) + idVarintSize(seqPart)
        if !same { need += varintSize(nf) }
        for i in 0..<pairs.count where !same || i & 1 == 1 { need += packedSize(pairs[i].count) }
        reserve(Int(used) + need, limit: limit)
        var o = Int(used)
        bytes[o] = same ? StreamNode.sameFieldsFlag : 0
        o += 1
        writeIDVarint(base, &o, msDelta)
        writeIDVarint(base, &o, seqPart)
        if !same { writeVarint(base, &o, nf) }
        for i in 0..<pairs.count where !same || i & 1 == 1 { writePacked(base, &o, pairs[i].ptr, pairs[i].count) }
        used = Int32(o)
        live += 1
        // Redis's listpack entry: flags, ms and seq deltas (as int64), fields, lp-count.
        var rb = 2 + lpIntSize(Int64(bitPattern: msDelta)) + lpIntSize(Int64(bitPattern: id.seq &- master.seq))
        if !same { rb += lpIntSize(Int64(nf)) }
        for i in 0..<pairs.count where !same || i & 1 == 1 { rb += lpStrSize(pairs[i].ptr, pairs[i].count) }
        rb += lpIntSize(Int64(same ? nf + 3 : 2 * nf + 4))
        redisBase += rb
    }

    mutating func reserve(_ need: Int, limit: Int) {
        if need <= Int(capacity) { return }
        var c = max(Int(capacity) * 2, 64)
        if c > limit { c = limit }
        if c < need { c = need }
        base = realloc(base, c)!
        capacity = Int32(c)
    }

    /// Gives the growth slack back once the node is full.
    mutating func fit() {
        guard Int(capacity) - Int(used) >= 16 else { return }
        base = realloc(base, Int(used))!
        capacity = used
    }

    /// The entry at `off`: its header, and where the next one starts.
    @inline(__always) public func entry(at off: Int) -> StreamEntry {
        var o = off
        let flags = bytes[o]
        o += 1
        let msDelta = readIDVarint(base, &o)
        let seqPart = readIDVarint(base, &o)
        let id = msDelta == 0 ? StreamID(master.ms, master.seq &+ seqPart) : StreamID(master.ms &+ msDelta, seqPart)
        let same = flags & StreamNode.sameFieldsFlag != 0
        let nf = same ? Int(masterFieldCount) : readVarint(base, &o)
        let body = o
        if same {
            for _ in 0..<nf { o += readVarint(base, &o) }
        } else {
            for _ in 0..<(2 * nf) { o += readVarint(base, &o) }
        }
        return StreamEntry(node: self, id: id, flags: flags, offset: off, body: body, fieldCount: nf, next: o)
    }

    /// Marks the live entry at `off` deleted.
    mutating func markDeleted(at off: Int) {
        bytes[off] |= StreamNode.deletedFlag
        live -= 1
        deleted += 1
    }

    /// Offsets of the node's entries, in order (for walking it backwards).
    public func offsets(into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        var o = Int(entriesStart)
        while o < Int(used) {
            out.append(Int32(o))
            o = entry(at: o).next
        }
    }

    /// The last entry's ID, deleted or not (Redis's lpGetEdgeStreamID).
    public var lastID: StreamID {
        var o = Int(entriesStart), id = master
        while o < Int(used) {
            let e = entry(at: o)
            id = e.id
            o = e.next
        }
        return id
    }
}

/// A decoded entry header; its fields are read on demand.
public struct StreamEntry {
    public let node: StreamNode
    public let id: StreamID
    public let flags: UInt8
    public let offset: Int
    /// Offset of the first field (or value, for a same-fields entry).
    public let body: Int
    public let fieldCount: Int
    public let next: Int

    @inlinable public var isDeleted: Bool { flags & StreamNode.deletedFlag != 0 }

    /// Calls `body` with each field and value, in order.
    @inline(__always)
    public func forEachPair(_ f: (UnsafePointer<UInt8>, Int, UnsafePointer<UInt8>, Int) -> Void) {
        let b = node.base
        let p = node.bytes
        var o = body
        if flags & StreamNode.sameFieldsFlag != 0 {
            var m = 0
            _ = readVarint(b, &m)
            for _ in 0..<fieldCount {
                let fn = readVarint(b, &m)
                let fo = m
                m += fn
                let vn = readVarint(b, &o)
                f(p + fo, fn, p + o, vn)
                o += vn
            }
        } else {
            for _ in 0..<fieldCount {
                let fn = readVarint(b, &o)
                let fo = o
                o += fn
                let vn = readVarint(b, &o)
                f(p + fo, fn, p + o, vn)
                o += vn
            }
        }
    }
}

/// ID parts use the whole UInt64 range, which Entry's Int varints do not.
@inlinable func idVarintSize(_ v: UInt64) -> Int {
    var n = 1
    var x = v >> 7
    while x != 0 { n += 1; x >>= 7 }
    return n
}

/// Size of an integer in a Redis listpack: encoding, data and back-length.
@inlinable func lpIntSize(_ v: Int64) -> Int {
    if v >= 0 && v <= 127 { return 2 }
    if v >= -4096 && v <= 4095 { return 3 }
    if v >= -32768 && v <= 32767 { return 4 }
    if v >= -8_388_608 && v <= 8_388_607 { return 5 }
    if v >= -2_147_483_648 && v <= 2_147_483_647 { return 6 }
    return 10
}

/// Size of a string element in a Redis listpack (stored as an integer
/// when it reads as one, as lpAppend does).
@inlinable func lpStrSize(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int {
    if let p, n > 0, n <= 20, let v = parseStrictInt(p, n) { return lpIntSize(Int64(v)) }
    let l = n < 64 ? 1 + n : (n < 4096 ? 2 + n : 5 + n)
    let back = l <= 127 ? 1 : (l < 16383 ? 2 : (l < 2_097_151 ? 3 : (l < 268_435_455 ? 4 : 5)))
    return l + back
}
