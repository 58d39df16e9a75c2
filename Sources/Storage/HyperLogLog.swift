#if canImport(Glibc)
import Glibc
#endif

/// Redis's HyperLogLog (hyperloglog.c), byte for byte: a string of a
/// 16-byte header ("HYLL", encoding, 3 unused bytes, cached cardinality
/// little endian whose top bit marks it stale) and then either the dense
/// registers (16384 six-bit registers, LSB first, 12288 bytes) or the
/// sparse opcodes (`HyperLogLog+Sparse.swift`). Values written here are
/// the same bytes redis-server writes for the same adds, so HLLs move
/// between the two with GET/SET.
public enum HLL {
    public static let p = 14
    public static let q = 64 - p
    public static let registers = 1 << p
    public static let registerMax: UInt8 = 63
    public static let headerSize = 16
    public static let denseSize = headerSize + (registers * 6 + 7) / 8
    public static let dense: UInt8 = 0
    public static let sparse: UInt8 = 1
    /// The seed Redis hashes elements with.
    public static let seed: UInt32 = 0xadc8_3b19

    // MARK: header

    /// Redis's isHLLObjectOrReply checks on a raw string's bytes.
    @inlinable
    public static func isValid(_ h: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        guard n >= headerSize, h[0] == 72, h[1] == 89, h[2] == 76, h[3] == 76, h[4] <= sparse else { return false }
        return h[4] != dense || n == denseSize
    }

    @inlinable public static func isDense(_ h: UnsafePointer<UInt8>) -> Bool { h[4] == dense }

    @inlinable public static func invalidateCache(_ h: UnsafeMutablePointer<UInt8>) { h[15] |= 0x80 }

    /// The cached cardinality, or nil when it is marked stale.
    @inlinable
    public static func cachedCard(_ h: UnsafePointer<UInt8>) -> UInt64? {
        if h[15] & 0x80 != 0 { return nil }
        return UnsafeRawPointer(h + 8).loadUnaligned(as: UInt64.self).littleEndian
    }

    @inlinable
    public static func setCachedCard(_ h: UnsafeMutablePointer<UInt8>, _ v: UInt64) {
        UnsafeMutableRawPointer(h + 8).storeBytes(of: v.littleEndian, as: UInt64.self)
    }

    /// Redis's createHLLObject: an empty sparse HLL (one XZERO of 16384).
    public static let emptySparseSize = headerSize + 2

    public static func writeEmptySparse(_ h: UnsafeMutablePointer<UInt8>) {
        h.initialize(repeating: 0, count: emptySparseSize)
        h[0] = 72; h[1] = 89; h[2] = 76; h[3] = 76
        h[4] = sparse
        h[16] = 0x40 | UInt8((registers - 1) >> 8)
        h[17] = UInt8((registers - 1) & 0xff)
    }

    // MARK: hashing

    /// MurmurHash64A as Redis has it (little-endian reads on every host).
    @inlinable
    public static func murmur64A(_ key: UnsafePointer<UInt8>, _ len: Int, seed: UInt32) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        var h = UInt64(seed) ^ (UInt64(truncatingIfNeeded: len) &* m)
        let whole = len - (len & 7)
        let raw = UnsafeRawPointer(key)
        var i = 0
        while i < whole {
            var k = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            k = k &* m
            k ^= k >> r
            k = k &* m
            h ^= k
            h = h &* m
            i += 8
        }
        let rest = len & 7
        if rest > 0 {
            var j = rest - 1
            while j >= 0 {
                h ^= UInt64(key[whole + j]) << UInt64(8 * j)
                j -= 1
            }
            h = h &* m
        }
        h ^= h >> r
        h = h &* m
        h ^= h >> r
        return h
    }

    /// Redis's hllPatLen: the register an element falls in and the length
    /// of its hash's 000..1 run (1...51).
    @inlinable
    public static func patLen(_ p: UnsafePointer<UInt8>, _ n: Int) -> (index: Int, count: UInt8) {
        let hash = murmur64A(p, n, seed: seed)
        let index = Int(hash & UInt64(registers - 1))
        let rest = (hash >> UInt64(HLL.p)) | (1 << UInt64(q))
        return (index, UInt8(rest.trailingZeroBitCount + 1))
    }

    // MARK: dense registers

    /// Register `i` of dense registers `r` (12288 bytes). The last register
    /// ends inside the last byte: Redis reads the string's NUL past it.
    @inlinable
    public static func denseGet(_ r: UnsafePointer<UInt8>, _ i: Int) -> UInt8 {
        let byte = i * 6 / 8
        let fb = UInt16(i * 6 & 7)
        let b1: UInt16 = byte + 1 < registers * 6 / 8 ? UInt16(r[byte + 1]) : 0
        let w = UInt16(r[byte]) | b1 << 8
        return UInt8(truncatingIfNeeded: w >> fb) & registerMax
    }

    @inlinable
    public static func denseSet(_ r: UnsafeMutablePointer<UInt8>, _ i: Int, _ v: UInt8) {
        let byte = i * 6 / 8
        let fb = UInt8(i * 6 & 7)
        let fb8 = 8 - fb
        let mask: UInt8 = 63
        r[byte] &= ~(mask << fb)
        r[byte] |= v << fb
        if byte + 1 < registers * 6 / 8 {
            r[byte + 1] &= ~(mask >> fb8)
            r[byte + 1] |= v >> fb8
        }
    }

    /// Redis's hllDenseSet: raises register `i` to `count`; true if it changed.
    @inlinable
    public static func denseSetMax(_ r: UnsafeMutablePointer<UInt8>, _ i: Int, _ count: UInt8) -> Bool {
        if count > denseGet(r, i) {
            denseSet(r, i, count)
            return true
        }
        return false
    }

    /// Adds every register value of the dense registers `r` to `histo` (64 counters).
    public static func denseHisto(_ r: UnsafePointer<UInt8>, _ histo: UnsafeMutablePointer<Int>) {
        var p = r
        for _ in 0..<(registers / 16) {
            // 16 registers in 12 bytes, as two 48-bit words.
            for half in 0..<2 {
                let b = p + half * 6
                var w = UInt64(b[0]) | UInt64(b[1]) << 8 | UInt64(b[2]) << 16
                w |= UInt64(b[3]) << 24 | UInt64(b[4]) << 32 | UInt64(b[5]) << 40
                for _ in 0..<8 {
                    histo[Int(w & 63)] += 1
                    w >>= 6
                }
            }
            p += 12
        }
    }

    /// A register per byte (PFCOUNT over several keys, PFMERGE).
    public static func rawHisto(_ r: UnsafePointer<UInt8>, _ histo: UnsafeMutablePointer<Int>) {
        let raw = UnsafeRawPointer(r)
        var i = 0
        while i < registers {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) == 0 {
                histo[0] += 8
            } else {
                for j in 0..<8 { histo[Int(r[i + j] & 63)] += 1 }
            }
            i += 8
        }
    }

    /// Raises each of the 16384 byte registers in `max` to the dense HLL's.
    public static func denseMerge(into max: UnsafeMutablePointer<UInt8>, _ r: UnsafePointer<UInt8>) {
        for i in 0..<registers {
            let v = denseGet(r, i)
            if v > max[i] { max[i] = v }
        }
    }

    // MARK: estimate

    /// Ertl's sigma ("New cardinality estimation algorithms for HyperLogLog
    /// sketches", arXiv:1702.01284), as Redis 7.0 computes it.
    @inlinable
    public static func sigma(_ x0: Double) -> Double {
        if x0 == 1 { return .infinity }
        var x = x0
        var zPrime: Double
        var y = 1.0
        var z = x
        repeat {
            x *= x
            zPrime = z
            z += x * y
            y += y
        } while zPrime != z
        return z
    }

    @inlinable
    public static func tau(_ x0: Double) -> Double {
        if x0 == 0 || x0 == 1 { return 0 }
        var x = x0
        var zPrime: Double
        var y = 1.0
        var z = 1 - x
        repeat {
            x = sqrt(x)
            zPrime = z
            y *= 0.5
            z -= pow(1 - x, 2) * y
        } while zPrime != z
        return z / 3
    }

    /// Redis's hllCount estimate from a register histogram (64 counters).
    public static func estimate(_ histo: UnsafePointer<Int>) -> UInt64 {
        let m = Double(registers)
        var z = m * tau((m - Double(histo[q + 1])) / m)
        var j = q
        while j >= 1 {
            z += Double(histo[j])
            z *= 0.5
            j -= 1
        }
        z += m * sigma(Double(histo[0]) / m)
        let e = (0.721347520444481703680 * m * m / z).rounded()
        // llroundl of something out of range is x86's "integer indefinite".
        guard e.isFinite, e >= -0x1p63, e < 0x1p63 else { return 1 << 63 }
        return UInt64(bitPattern: Int64(e))
    }

    /// The estimate of an HLL's bytes (dense or sparse), or nil when a
    /// sparse HLL does not cover exactly 16384 registers.
    public static func count(_ h: UnsafePointer<UInt8>, _ n: Int) -> UInt64? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { buf -> UInt64? in
            let histo = buf.baseAddress!
            histo.initialize(repeating: 0, count: 64)
            if isDense(h) {
                denseHisto(h + headerSize, histo)
            } else if !sparseHisto(h + headerSize, n - headerSize, histo) {
                return nil
            }
            return estimate(histo)
        }
    }

    /// The estimate of 16384 byte registers.
    public static func countRaw(_ r: UnsafePointer<UInt8>) -> UInt64 {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { buf -> UInt64 in
            let histo = buf.baseAddress!
            histo.initialize(repeating: 0, count: 64)
            rawHisto(r, histo)
            return estimate(histo)
        }
    }
}
