import RESP
import Storage

/// DEBUG OBJECT's figures for collections, in Redis 7.0's terms: the
/// listpack or intset blob Redis would hold for a compact encoding, and the
/// RDB layout (rdbSaveObject) for serializedlength. RingKV's own compact
/// formats differ, so these are computed from the elements, not read off.
extension ServerCommandSpecs {
    /// " ql_nodes:... ql_uncompressed_size:..." for a list, else "".
    /// ql_listpack_max and ql_compressed are the current
    /// list-max-listpack-size and list-compress-depth (Redis keeps those of
    /// the list's creation; they differ only after a CONFIG SET).
    static func quicklistFields(_ e: Entry) -> String {
        guard e.type == .list else { return "" }
        var nodes = 0, count = 0, size = 0
        forEachListpackNode(e) { n, bytes in
            nodes += 1
            count += n
            size += bytes
        }
        let avg = nodes == 0 ? 0 : Double(count) / Double(nodes)
        let fill = EncodingLimits.listMaxListpackSize.load(ordering: .relaxed)
        let compressed = EncodingLimits.listCompressDepth.load(ordering: .relaxed) != 0 ? 1 : 0
        return " ql_nodes:\(nodes) ql_avg_node:\(fixed2(avg)) ql_listpack_max:\(fill) ql_compressed:\(compressed) ql_uncompressed_size:\(size)"
    }

    /// rdbSavedObjectLen for a list, set, sorted set or hash.
    static func collectionSerializedLength(_ e: Entry) -> Int {
        switch (e.type, e.payload) {
        case (.list, _):
            // The node count, then per node its container tag and listpack blob.
            var nodes = 0, n = 0
            forEachListpackNode(e) { _, bytes in
                nodes += 1
                n += 1 + rdbStringLength(bytes)
            }
            return rdbLenLength(nodes) + n
        case (.set, .bytes):
            // intsetBlobLen: a 4-byte encoding and a 4-byte length, then the elements.
            let s = IntSet(e)
            return rdbStringLength(8 + s.count * s.width)
        case (.set, .object):
            let s = e.objectRef(SetValue.self)
            var n = rdbLenLength(s.count)
            for i in 0..<s.capacity where s.isLive(i) { n += rdbRawStringLength(s.member(at: i)) }
            return n
        case (.hash, .bytes):
            var size = listpackOverhead
            var it = CompactHash(e).pairs
            while let (f, v) = it.next() { size += listpackEntrySize(f) + listpackEntrySize(v) }
            return rdbStringLength(size)
        case (.hash, .object):
            let h = e.objectRef(HashValue.self)
            var n = rdbLenLength(h.count)
            for i in 0..<h.slotCount where h.isLive(i) {
                n += rdbRawStringLength(h.field(at: i)) + rdbRawStringLength(h.value(at: i))
            }
            return n
        case (.zset, .bytes):
            var size = listpackOverhead
            var it = CompactZSet.Pairs(e.compact)
            while let p = it.next() { size += listpackEntrySize(p.member) + listpackScoreSize(p.score) }
            return rdbStringLength(size)
        case (.zset, .object):
            // Each member, then its score as an 8-byte binary double.
            let z = e.objectRef(ZSetValue.self)
            var n = rdbLenLength(z.count)
            var p = z.list.first
            while let node = p {
                n += rdbRawStringLength(node.member) + 8
                p = node.next
            }
            return n
        default:
            return 0
        }
    }

    /// Each quicklist node Redis would have for this list: its element count
    /// and listpack bytes. A compact list is Redis's one-node quicklist;
    /// RingKV's nodes are cut by its own byte sizes, close to Redis's.
    static func forEachListpackNode(_ e: Entry, _ body: (Int, Int) -> Void) {
        if e.payload == .bytes {
            let c = e.compact
            body(c.count, listpackSize(c.elements))
        } else if e.payload == .object {
            e.objectRef(ListValue.self).forEachNode { n, it in body(n, listpackSize(it)) }
        }
    }

    /// A listpack's 6-byte header (total bytes, element count) and end byte.
    static let listpackOverhead = 7

    static func listpackSize(_ it: PackedIterator) -> Int {
        var it = it
        var n = listpackOverhead
        while let b = it.next() { n += listpackEntrySize(b) }
        return n
    }

    /// Bytes one element takes in a listpack (lpEncodeGetType): canonical
    /// integers in 1 to 9 bytes, strings with a 1, 2 or 5-byte header; then
    /// the back length of that much.
    static func listpackEntrySize(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        let enc: Int
        if b.count > 0 && b.count <= 20, let v = parseStrictInt(b.baseAddress!, b.count) {
            switch v {
            case 0...127: enc = 1
            case -4096...4095: enc = 2
            case -32768...32767: enc = 3
            case -8_388_608...8_388_607: enc = 4
            case Int(Int32.min)...Int(Int32.max): enc = 5
            default: enc = 9
            }
        } else if b.count < 64 {
            enc = 1 + b.count
        } else if b.count < 4096 {
            enc = 2 + b.count
        } else {
            enc = 5 + b.count
        }
        let back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2_097_151 ? 3 : enc < 268_435_455 ? 4 : 5
        return enc + back
    }

    /// A listpack zset stores the score as its text (d2string: an integer
    /// when integral, else %.17g), which the listpack may store as an integer.
    static func listpackScoreSize(_ d: Double) -> Int {
        var tmp: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = formatScore(d, into: p)
            return listpackEntrySize(UnsafeBufferPointer(start: p, count: n))
        }
    }

    /// rdbSaveRawString without compression: short canonical integers in
    /// 32 bits as 2, 3 or 5 bytes, everything else length-prefixed.
    static func rdbRawStringLength(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        if b.count > 0 && b.count <= 11, let v = parseStrictInt(b.baseAddress!, b.count), let n = rdbIntLength(v) {
            return n
        }
        return rdbStringLength(b.count)
    }

    /// rdbSaveLen's size for a count.
    static func rdbLenLength(_ n: Int) -> Int { rdbStringLength(n) - n }

    /// "%.2f" without Foundation.
    static func fixed2(_ d: Double) -> String {
        let v = Int((d * 100).rounded())
        let frac = v % 100
        return "\(v / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
