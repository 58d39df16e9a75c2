import RESP
import Storage

/// What ZUNION/ZINTER/ZDIFF need from a set stored as an object (the sets
/// family's hashtable encoding conforms to this).
public protocol ZSetOperandSet: AnyObject {
    var count: Int { get }
    func contains(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool
    func forEachMember(_ body: (UnsafeBufferPointer<UInt8>) -> Void)
}

/// One input of ZUNION/ZINTER/ZDIFF and their kin: a sorted set of either
/// encoding, or a set (each member scoring 1), or nothing (a missing key).
enum ZOperand {
    case missing
    case compact(CompactPayload)
    case skiplist(ZSetValue)
    /// A set's inline intset payload: width byte, then little-endian
    /// integers of that width in ascending order.
    case intset(UnsafeBufferPointer<UInt8>)
    case set(ZSetOperandSet)

    /// nil: a set stored as an object the sets family has not made readable.
    init?(_ e: Entry?) {
        guard let e else { self = .missing; return }
        switch (e.type, e.payload) {
        case (.zset, .object): self = .skiplist(e.objectRef(ZSetValue.self))
        case (.zset, _): self = .compact(e.compact)
        case (.set, .object):
            guard let s = e.object as? ZSetOperandSet else { return nil }
            self = .set(s)
        default: self = .intset(e.bytes)
        }
    }

    /// The same value (Redis compares the objects: a key given twice).
    func isSame(_ o: ZOperand) -> Bool {
        switch (self, o) {
        case (.compact(let a), .compact(let b)): return a.base == b.base
        case (.skiplist(let a), .skiplist(let b)): return a === b
        case (.intset(let a), .intset(let b)): return a.baseAddress == b.baseAddress
        case (.set(let a), .set(let b)): return a === b
        default: return false
        }
    }

    var count: Int {
        switch self {
        case .missing: return 0
        case .compact(let c): return c.count
        case .skiplist(let z): return z.count
        case .intset(let b): return b.count <= 1 ? 0 : (b.count - 1) / Int(b[0])
        case .set(let s): return s.count
        }
    }

    @inline(__always) static func intsetElement(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let p = UnsafeRawPointer(b.baseAddress! + 1)
        switch b[0] {
        case 2: return Int(Int16(littleEndian: p.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
        case 4: return Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
        default: return Int(Int64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
        }
    }

    /// Every member with its score.
    func forEach(_ body: (UnsafeBufferPointer<UInt8>, Double) -> Void) {
        switch self {
        case .missing: return
        case .compact(let c):
            var ps = CompactZSet.Pairs(c)
            while let p = ps.next() { body(p.member, p.score) }
        case .skiplist(let z):
            var n = z.list.first
            while let nd = n {
                body(nd.member, nd.score)
                n = nd.next
            }
        case .intset(let b):
            var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
            withUnsafeMutableBytes(of: &tmp) { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                for i in 0..<count {
                    let len = formatDecimal(ZOperand.intsetElement(b, i), into: out)
                    body(UnsafeBufferPointer(start: out, count: len), 1)
                }
            }
        case .set(let s):
            s.forEachMember { body($0, 1) }
        }
    }

    /// The score of member `m`, or nil.
    func score(_ m: UnsafeBufferPointer<UInt8>) -> Double? {
        switch self {
        case .missing: return nil
        case .compact(let c): return CompactZSet.find(c, m.baseAddress, m.count)?.0.score
        case .skiplist(let z): return z.find(m.baseAddress, m.count)?.score
        case .intset(let b):
            // Only a canonical integer can be in an intset (Redis: string2ll).
            guard let base = m.baseAddress, let v = parseStrictInt(base, m.count) else { return nil }
            var lo = 0, hi = count - 1
            while lo <= hi {
                let mid = (lo + hi) >> 1
                let e = ZOperand.intsetElement(b, mid)
                if e < v { lo = mid + 1 } else if e > v { hi = mid - 1 } else { return 1 }
            }
            return nil
        case .set(let s):
            return s.contains(m.baseAddress ?? UnsafePointer(bitPattern: 8)!, m.count) ? 1 : nil
        }
    }
}
