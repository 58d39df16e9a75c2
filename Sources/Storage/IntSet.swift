#if canImport(Glibc)
import Glibc
#endif

/// A small set of integers stored inline as the `.bytes` payload of a set
/// entry (OBJECT ENCODING "intset"), so such a key is one malloc block.
///
/// Layout of the payload (after the entry's own varint payload length L):
///
///     [0]        element width in bytes: 2, 4 or 8 (Redis's INT16/32/64)
///     [1 ..< L]  (L - 1) / width elements, little-endian two's complement,
///                strictly ascending
///
/// The count is not stored: the payload length already says it, so a fixed
/// one-byte header is all the overhead. As in Redis's intset the width grows
/// when a wider value arrives and never shrinks on removal; a set written
/// from scratch (SINTERSTORE, SPOP's rebuilt remainder) takes the width its
/// extremes need.
public struct IntSet {
    /// The first element.
    public let base: UnsafeRawPointer
    public let width: Int
    public let count: Int

    /// An empty payload (a set not created yet) reads as an empty set of width 2.
    @inlinable public init(_ payload: UnsafeBufferPointer<UInt8>) {
        guard let p = payload.baseAddress, payload.count > 0 else {
            base = UnsafeRawPointer(bitPattern: 8)!
            width = 2
            count = 0
            return
        }
        width = Int(p[0])
        base = UnsafeRawPointer(p + 1)
        count = (payload.count - 1) / width
    }

    /// The intset of a set entry with a compact payload.
    @inlinable public init(_ e: Entry) { self.init(e.bytes) }

    @inlinable public subscript(i: Int) -> Int {
        switch width {
        case 2: return Int(base.loadUnaligned(fromByteOffset: i &* 2, as: Int16.self).littleEndian)
        case 4: return Int(base.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self).littleEndian)
        default: return Int(base.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self).littleEndian)
        }
    }

    /// The bytes a value needs (Redis's _intsetValueEncoding).
    @inlinable public static func width(for v: Int) -> Int {
        if v < Int(Int32.min) || v > Int(Int32.max) { return 8 }
        if v < Int(Int16.min) || v > Int(Int16.max) { return 4 }
        return 2
    }

    /// Payload bytes for `count` elements of `width` bytes.
    @inlinable public static func size(count: Int, width: Int) -> Int { 1 + count * width }

    /// Payload bytes of this set.
    @inlinable public var size: Int { IntSet.size(count: count, width: width) }

    /// Where `v` is, or where it would be inserted to keep the order.
    @inlinable public func search(_ v: Int) -> (found: Bool, index: Int) {
        if count == 0 { return (false, 0) }
        // The ends first: appends and prepends are the common growth.
        if v > self[count - 1] { return (false, count) }
        if v < self[0] { return (false, 0) }
        var lo = 0, hi = count - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            let m = self[mid]
            if m < v { lo = mid + 1 } else if m > v { hi = mid - 1 } else { return (true, mid) }
        }
        return (false, lo)
    }

    @inlinable public func contains(_ v: Int) -> Bool {
        IntSet.width(for: v) <= width && search(v).found
    }

    /// Stores element `i` of a payload being written at `width`.
    @inlinable public static func store(_ v: Int, width: Int, into elements: UnsafeMutableRawPointer, at i: Int) {
        switch width {
        case 2: elements.storeBytes(of: Int16(truncatingIfNeeded: v).littleEndian, toByteOffset: i &* 2, as: Int16.self)
        case 4: elements.storeBytes(of: Int32(truncatingIfNeeded: v).littleEndian, toByteOffset: i &* 4, as: Int32.self)
        default: elements.storeBytes(of: Int64(v).littleEndian, toByteOffset: i &* 8, as: Int64.self)
        }
    }

    /// Copies elements `from ..< to` to position `at` of a payload of width `w`.
    @inlinable func copy(_ from: Int, _ to: Int, into elements: UnsafeMutableRawPointer, at: Int, width w: Int) {
        if to <= from { return }
        if w == width {
            (elements + at * w).copyMemory(from: base + from * w, byteCount: (to - from) * w)
        } else {
            for i in from..<to { IntSet.store(self[i], width: w, into: elements, at: at + i - from) }
        }
    }

    /// Payload bytes once `v` (absent) is inserted.
    @inlinable public func sizeInserting(_ v: Int) -> Int {
        IntSet.size(count: count + 1, width: max(width, IntSet.width(for: v)))
    }

    /// Writes this set with `v` inserted at `index` (from `search`) into a
    /// payload of `sizeInserting(v)` bytes.
    @inlinable public func writeInserting(_ v: Int, at index: Int, into p: UnsafeMutableRawPointer) {
        let w = max(width, IntSet.width(for: v))
        p.storeBytes(of: UInt8(w), as: UInt8.self)
        let out = p + 1
        copy(0, index, into: out, at: 0, width: w)
        IntSet.store(v, width: w, into: out, at: index)
        copy(index, count, into: out, at: index + 1, width: w)
    }

    /// Writes this set without the elements whose indexes are listed
    /// (ascending, distinct) into a payload of
    /// `size(count: count - removed.count, width: width)` bytes. The width stays.
    @inlinable public func writeRemoving(_ removed: UnsafeBufferPointer<Int>, into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt8(width), as: UInt8.self)
        let out = p + 1
        var at = 0, from = 0
        for r in removed {
            copy(from, r, into: out, at: at, width: width)
            at += r - from
            from = r + 1
        }
        copy(from, count, into: out, at: at, width: width)
    }

    /// Width that strictly ascending `values` need (their ends decide it).
    @inlinable public static func width(ofSorted values: UnsafeBufferPointer<Int>) -> Int {
        guard let first = values.first, let last = values.last else { return 2 }
        return max(width(for: first), width(for: last))
    }

    /// Writes strictly ascending `values` at `w` (at least `width(ofSorted:)`)
    /// into a payload of `size(count: values.count, width: w)` bytes.
    @inlinable public static func write(_ values: UnsafeBufferPointer<Int>, width w: Int, into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt8(w), as: UInt8.self)
        let out = p + 1
        for i in 0..<values.count { store(values[i], width: w, into: out, at: i) }
    }

    /// Writes this set merged with strictly ascending `add` (none of them
    /// present) at width `w` (at least this set's and `add`'s) into a payload
    /// of `size(count: count + add.count, width: w)` bytes.
    @inlinable public func writeMerging(_ add: UnsafeBufferPointer<Int>, width w: Int, into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt8(w), as: UInt8.self)
        let out = p + 1
        var i = 0, j = 0, k = 0
        while i < count || j < add.count {
            if j == add.count || (i < count && self[i] < add[j]) {
                // A run of old elements copies as one block when widths match.
                var e = i + 1
                if j < add.count { while e < count && self[e] < add[j] { e += 1 } } else { e = count }
                copy(i, e, into: out, at: k, width: w)
                k += e - i
                i = e
            } else {
                IntSet.store(add[j], width: w, into: out, at: k)
                j += 1
                k += 1
            }
        }
    }
}
