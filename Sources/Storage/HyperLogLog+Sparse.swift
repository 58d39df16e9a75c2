#if canImport(Glibc)
import Glibc
#endif

/// The sparse encoding: run-length opcodes over the 16384 registers.
///
///     00xxxxxx           ZERO:  1..64 zero registers
///     01xxxxxx yyyyyyyy  XZERO: 1..16384 zero registers (14 bits)
///     1vvvvvxx           VAL:   1..4 registers of value 1..32
///
/// Opcode sequences are edited exactly as Redis's hllSparseSet edits them
/// (split, then merge neighbours), so the bytes match redis-server's.
extension HLL {
    @inlinable static func isZero(_ b: UInt8) -> Bool { b & 0xc0 == 0 }
    @inlinable static func isXZero(_ b: UInt8) -> Bool { b & 0xc0 == 0x40 }
    @inlinable static func isVal(_ b: UInt8) -> Bool { b & 0x80 != 0 }
    @inlinable static func zeroLen(_ b: UInt8) -> Int { Int(b & 0x3f) + 1 }
    @inlinable static func xzeroLen(_ b0: UInt8, _ b1: UInt8) -> Int { (Int(b0 & 0x3f) << 8 | Int(b1)) + 1 }
    @inlinable static func valValue(_ b: UInt8) -> Int { Int((b >> 2) & 0x1f) + 1 }
    @inlinable static func valLen(_ b: UInt8) -> Int { Int(b & 0x3) + 1 }
    @inlinable static func valOp(_ value: Int, _ len: Int) -> UInt8 { UInt8(((value - 1) << 2 | (len - 1)) | 0x80) }
    @usableFromInline static let valMaxValue = 32
    @usableFromInline static let valMaxLen = 4
    @usableFromInline static let zeroMaxLen = 64

    /// Writes a ZERO or XZERO for `len` zero registers at `n`; returns its size.
    @inlinable static func writeZeros(_ n: UnsafeMutablePointer<UInt8>, _ len: Int) -> Int {
        if len > zeroMaxLen {
            n[0] = UInt8((len - 1) >> 8) | 0x40
            n[1] = UInt8((len - 1) & 0xff)
            return 2
        }
        n[0] = UInt8(len - 1)
        return 1
    }

    public enum SparseSet { case unchanged, updated, promote, invalid }

    /// Redis's hllSparseSet on the HLL `h` of `len` bytes: raises register
    /// `index` to `count`. `h` must have room for `len + 4` bytes (a split
    /// grows it by up to 3) and `h[len]` must be 0, as after an sds string:
    /// Redis reads that byte when the last XZERO is cut short, and keeps it
    /// up to date the way sdsIncrLen does. `.promote`:
    /// the caller must convert to dense and set the register there (the
    /// value needs more than 5 bits, or the HLL would pass `maxBytes`).
    public static func sparseSet(_ h: UnsafeMutablePointer<UInt8>, len: inout Int, index: Int, count: UInt8,
                                 maxBytes: Int) -> SparseSet {
        if Int(count) > valMaxValue { return .promote }
        let sparse = headerSize
        var end = len
        var p = sparse
        var first = 0
        var prev = -1
        var span = 0
        while p < end {
            var oplen = 1
            let b = h[p]
            if isZero(b) {
                span = zeroLen(b)
            } else if isVal(b) {
                span = valLen(b)
            } else {
                span = xzeroLen(b, h[p + 1])
                oplen = 2
            }
            if index <= first + span - 1 { break }
            prev = p
            p += oplen
            first += span
        }
        if span == 0 || p >= end { return .invalid }

        let op = h[p]
        var next = isXZero(op) ? p + 2 : p + 1
        if next >= end { next = -1 }
        let runlen: Int
        if isZero(op) { runlen = zeroLen(op) }
        else if isXZero(op) { runlen = xzeroLen(op, h[p + 1]) }
        else { runlen = valLen(op) }

        updated: do {
            if isVal(op) {
                if valValue(op) >= Int(count) { return .unchanged }
                if runlen == 1 {
                    h[p] = valOp(Int(count), 1)
                    break updated
                }
            }
            if isZero(op) && runlen == 1 {
                h[p] = valOp(Int(count), 1)
                break updated
            }
            // General case: split the opcode into up to three.
            var seq: (UInt64, UInt64) = (0, 0)
            let seqlen = withUnsafeMutableBytes(of: &seq) { raw -> Int in
                let s = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var n = 0
                let last = first + span - 1
                if isZero(op) || isXZero(op) {
                    if index != first { n += writeZeros(s + n, index - first) }
                    s[n] = valOp(Int(count), 1); n += 1
                    if index != last { n += writeZeros(s + n, last - index) }
                } else {
                    let cur = valValue(op)
                    if index != first { s[n] = valOp(cur, index - first); n += 1 }
                    s[n] = valOp(Int(count), 1); n += 1
                    if index != last { s[n] = valOp(cur, last - index); n += 1 }
                }
                return n
            }
            let oldlen = isXZero(op) ? 2 : 1
            let delta = seqlen - oldlen
            if delta > 0 && len + delta > maxBytes { return .promote }
            if delta != 0 && next >= 0 { memmove(h + next + delta, h + next, end - next) }
            len += delta
            h[len] = 0
            withUnsafeBytes(of: &seq) { raw in
                (h + p).update(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: seqlen)
            }
            end += delta
        }

        // Merge adjacent VAL opcodes of the same value, up to 5 opcodes from prev.
        p = prev >= 0 ? prev : sparse
        var scan = 5
        while p < end {
            if scan == 0 { break }
            scan -= 1
            let b = h[p]
            if isXZero(b) { p += 2; continue }
            if isZero(b) { p += 1; continue }
            if p + 1 < end && isVal(h[p + 1]) {
                let v1 = valValue(b), v2 = valValue(h[p + 1])
                if v1 == v2 {
                    let l = valLen(b) + valLen(h[p + 1])
                    if l <= valMaxLen {
                        h[p + 1] = valOp(v1, l)
                        memmove(h + p, h + p + 1, end - p)
                        len -= 1
                        h[len] = 0
                        end -= 1
                        continue
                    }
                }
            }
            p += 1
        }
        invalidateCache(h)
        return .updated
    }

    /// Redis's hllSparseToDense: writes the dense form of sparse `h` (`n`
    /// bytes) into `dst` (denseSize bytes), header and cached value included.
    /// False when the opcodes do not cover exactly 16384 registers.
    public static func sparseToDense(_ h: UnsafePointer<UInt8>, _ n: Int, into dst: UnsafeMutablePointer<UInt8>) -> Bool {
        dst.initialize(repeating: 0, count: denseSize)
        dst.update(from: h, count: headerSize)
        dst[4] = dense
        let regs = dst + headerSize
        var idx = 0
        var p = headerSize
        while p < n {
            let b = h[p]
            if isZero(b) {
                idx += zeroLen(b)
                p += 1
            } else if isXZero(b) {
                idx += xzeroLen(b, p + 1 < n ? h[p + 1] : 0)
                p += 2
            } else {
                var run = valLen(b)
                let v = UInt8(valValue(b))
                // Redis 7.0.15 as patched for CVE-2025-32023 (Debian's
                // build) fails on any overflow, even when a break would
                // leave exactly 16384.
                if run + idx > registers { return false }
                while run > 0 {
                    denseSet(regs, idx, v)
                    idx += 1
                    run -= 1
                }
                p += 1
            }
        }
        return idx == registers
    }

    /// Adds the sparse opcodes' registers to `histo`; false when they do
    /// not cover exactly 16384 registers (Redis then reports corruption).
    public static func sparseHisto(_ s: UnsafePointer<UInt8>, _ n: Int, _ histo: UnsafeMutablePointer<Int>) -> Bool {
        var idx = 0
        var p = 0
        while p < n {
            let b = s[p]
            if isZero(b) {
                let r = zeroLen(b)
                idx += r
                histo[0] += r
                p += 1
            } else if isXZero(b) {
                let r = xzeroLen(b, p + 1 < n ? s[p + 1] : 0)
                idx += r
                histo[0] += r
                p += 2
            } else {
                let r = valLen(b)
                idx += r
                histo[valValue(b)] += r
                p += 1
            }
        }
        return idx == registers
    }

    /// Redis's hllMerge: raises the 16384 byte registers in `max` to those
    /// of HLL `h` (`n` bytes, already validated). False on a corrupt sparse HLL.
    public static func merge(into max: UnsafeMutablePointer<UInt8>, _ h: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        if isDense(h) {
            denseMerge(into: max, h + headerSize)
            return true
        }
        var i = 0
        var p = headerSize
        while p < n {
            let b = h[p]
            if isZero(b) {
                i += zeroLen(b)
                p += 1
            } else if isXZero(b) {
                i += xzeroLen(b, p + 1 < n ? h[p + 1] : 0)
                p += 2
            } else {
                var run = valLen(b)
                let v = UInt8(valValue(b))
                if run + i > registers { return false }
                while run > 0 {
                    if v > max[i] { max[i] = v }
                    i += 1
                    run -= 1
                }
                p += 1
            }
        }
        return i == registers
    }

    /// PFDEBUG DECODE's text: "z:N", "Z:N" and "v:value,len" separated by spaces.
    public static func decodeSparse(_ h: UnsafePointer<UInt8>, _ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        func num(_ v: Int) { out.append(contentsOf: String(v).utf8) }
        var p = headerSize
        while p < n {
            if !out.isEmpty { out.append(32) }
            let b = h[p]
            if isZero(b) {
                out.append(contentsOf: "z:".utf8); num(zeroLen(b))
                p += 1
            } else if isXZero(b) {
                out.append(contentsOf: "Z:".utf8); num(xzeroLen(b, p + 1 < n ? h[p + 1] : 0))
                p += 2
            } else {
                out.append(contentsOf: "v:".utf8); num(valValue(b)); out.append(44); num(valLen(b))
                p += 1
            }
        }
        return out
    }
}
