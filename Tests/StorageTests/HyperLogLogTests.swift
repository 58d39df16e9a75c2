import Storage
import XCTest

final class HyperLogLogTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// An HLL from element strings, through the sparse path and promotion.
    private func build(_ elements: [String], maxBytes: Int = 3000) -> HLLWork {
        var w = HLLWork()
        for e in elements {
            let b = bytes(e)
            XCTAssertGreaterThanOrEqual(b.withUnsafeBufferPointer { w.add($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count, maxBytes: maxBytes) }, 0)
        }
        return w
    }

    func testMurmurHash64AVectors() {
        // Register index and run length checked against redis-server 7.0
        // (PFADD of the element into an empty HLL, then PFDEBUG DECODE).
        let cases: [(String, UInt64, Int, UInt8)] = [
            ("", 0xd8df_ea65_85bc_9732, 5938, 2),
            ("a", 0x53d2_470a_9b43_b1a7, 12711, 2),
            ("hello", 0x0f65_6f01_eecf_e400, 9216, 1),
            ("12345678", 0x95eb_b863_8913_2953, 10579, 3),
            ("123456789abcdef", 0x0a29_5e58_95af_07b9, 1977, 3),
            ("The quick brown fox jumps", 0xa6c7_9d73_5d8b_3a50, 14928, 3),
        ]
        for (s, hash, index, count) in cases {
            let b = bytes(s) + [0]
            b.withUnsafeBufferPointer { p in
                XCTAssertEqual(HLL.murmur64A(p.baseAddress!, s.utf8.count, seed: HLL.seed), hash, s)
                let (i, c) = HLL.patLen(p.baseAddress!, s.utf8.count)
                XCTAssertEqual(i, index, s)
                XCTAssertEqual(c, count, s)
            }
        }
    }

    func testDenseRegistersKeepTheirNeighbours() {
        var regs = [UInt8](repeating: 0, count: HLL.registers * 6 / 8)
        var expect = [UInt8](repeating: 0, count: HLL.registers)
        var rng = SystemRandomNumberGenerator()
        regs.withUnsafeMutableBufferPointer { r in
            for round in 0..<3 {
                for i in 0..<HLL.registers {
                    let v = round == 2 ? UInt8(63) : UInt8.random(in: 0...63, using: &rng)
                    expect[i] = v
                    HLL.denseSet(r.baseAddress!, i, v)
                }
                for i in 0..<HLL.registers { XCTAssertEqual(HLL.denseGet(r.baseAddress!, i), expect[i]) }
            }
            // The last register ends the array: its write stays inside.
            HLL.denseSet(r.baseAddress!, HLL.registers - 1, 5)
            XCTAssertEqual(HLL.denseGet(r.baseAddress!, HLL.registers - 1), 5)
            XCTAssertEqual(HLL.denseGet(r.baseAddress!, HLL.registers - 2), 63)
            XCTAssertFalse(HLL.denseSetMax(r.baseAddress!, 7, 10))
            HLL.denseSet(r.baseAddress!, 7, 3)
            XCTAssertTrue(HLL.denseSetMax(r.baseAddress!, 7, 10))
            XCTAssertEqual(HLL.denseGet(r.baseAddress!, 7), 10)
        }
    }

    func testEmptyAndOneElementSparseBytesAreRedis() {
        var w = HLLWork()
        defer { w.free() }
        let empty = Array(UnsafeBufferPointer(start: w.buf, count: w.len))
        XCTAssertEqual(empty, bytes("HYLL") + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0x7f, 0xff])
        XCTAssertEqual(HLL.count(w.buf, w.len), 0)
        XCTAssertEqual(bytes("a").withUnsafeBufferPointer { w.add($0.baseAddress!, 1, maxBytes: 3000) }, 1)
        XCTAssertEqual(bytes("a").withUnsafeBufferPointer { w.add($0.baseAddress!, 1, maxBytes: 3000) }, 0)
        // Z:12711 v:2,1 Z:3672, and the cached value marked stale.
        let one = Array(UnsafeBufferPointer(start: w.buf, count: w.len))
        XCTAssertEqual(one, bytes("HYLL") + [1, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0x80] + [0x71, 0xa6, 0x84, 0x4e, 0x57])
        XCTAssertEqual(String(decoding: HLL.decodeSparse(w.buf, w.len), as: UTF8.self), "Z:12711 v:2,1 Z:3672")
        XCTAssertNil(HLL.cachedCard(w.buf))
        XCTAssertEqual(HLL.count(w.buf, w.len), 1)
        HLL.setCachedCard(w.buf, 1)
        XCTAssertEqual(HLL.cachedCard(w.buf), 1)
    }

    func testSparseMergesNeighboursAndSplitsRuns() {
        var w = HLLWork()
        defer { w.free() }
        // Registers 0..3 to 1: four VAL opcodes merge into one v:1,4.
        for i in 0..<4 { XCTAssertEqual(w.set(i, 1, maxBytes: 3000), 1) }
        XCTAssertEqual(String(decoding: HLL.decodeSparse(w.buf, w.len), as: UTF8.self), "v:1,4 Z:16380")
        // Raising the middle of a run splits it.
        XCTAssertEqual(w.set(1, 3, maxBytes: 3000), 1)
        XCTAssertEqual(String(decoding: HLL.decodeSparse(w.buf, w.len), as: UTF8.self), "v:1,1 v:3,1 v:1,2 Z:16380")
        XCTAssertEqual(w.set(1, 2, maxBytes: 3000), 0)
        // A short zero run is a ZERO opcode, a long one an XZERO.
        XCTAssertEqual(w.set(40, 2, maxBytes: 3000), 1)
        XCTAssertEqual(String(decoding: HLL.decodeSparse(w.buf, w.len), as: UTF8.self),
                       "v:1,1 v:3,1 v:1,2 z:36 v:2,1 Z:16343")
        XCTAssertFalse(w.isDense)
    }

    func testPromotionToDense() {
        // A value over 32 does not fit a VAL opcode.
        var w = HLLWork()
        XCTAssertEqual(w.set(100, 33, maxBytes: 3000), 1)
        XCTAssertTrue(w.isDense)
        XCTAssertEqual(w.len, HLL.denseSize)
        XCTAssertEqual(HLL.denseGet(w.buf + HLL.headerSize, 100), 33)
        w.free()
        // Growth past hll-sparse-max-bytes.
        var s = build((0..<200).map { "e\($0)" }, maxBytes: 40)
        XCTAssertTrue(s.isDense)
        s.free()
    }

    func testSparseAndDenseAgree() {
        var sparse = HLLWork()
        var dense = HLLWork()
        XCTAssertTrue(dense.toDense())
        defer { sparse.free(); dense.free() }
        var checkpoint = 1
        for j in 1...200_000 {
            let b = bytes("element:\(j)")
            b.withUnsafeBufferPointer { p in
                _ = sparse.add(p.baseAddress!, p.count, maxBytes: 3000)
                _ = dense.add(p.baseAddress!, p.count, maxBytes: 3000)
            }
            if j == checkpoint {
                let c = HLL.count(dense.buf, dense.len)!
                XCTAssertEqual(HLL.count(sparse.buf, sparse.len), c, "at \(j)")
                // Redis's self-test bound: six standard errors.
                let err = abs(Double(c) - Double(j))
                XCTAssertLessThanOrEqual(err, max(1, (1.04 / 128 * 6 * Double(j)).rounded(.up)), "at \(j)")
                // Converting sparse to dense keeps every register.
                if !sparse.isDense {
                    var d = [UInt8](repeating: 0, count: HLL.denseSize)
                    XCTAssertTrue(d.withUnsafeMutableBufferPointer { HLL.sparseToDense(sparse.buf, sparse.len, into: $0.baseAddress!) })
                    XCTAssertEqual(Array(d[HLL.headerSize...]), Array(UnsafeBufferPointer(start: dense.buf + HLL.headerSize, count: HLL.denseSize - HLL.headerSize)))
                }
                checkpoint *= 10
            }
        }
        XCTAssertTrue(sparse.isDense)
    }

    func testCorruptSparseIsDetected() {
        let hdr = bytes("HYLL") + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 7) + [0x80]
        // Too few registers, too many, and a VAL past the end.
        for body: [UInt8] in [[0x7f, 0xfe], [0x7f, 0xff, 0x00], [0x7f, 0xff, 0x80], [0x7f, 0xfe, 0x83], [0x7f]] {
            var v = hdr + body
            XCTAssertNil(HLL.count(&v, v.count), "\(body)")
            var max = [UInt8](repeating: 0, count: HLL.registers)
            XCTAssertFalse(HLL.merge(into: &max, v, v.count), "\(body)")
            var d = [UInt8](repeating: 0, count: HLL.denseSize)
            XCTAssertFalse(HLL.sparseToDense(v, v.count, into: &d), "\(body)")
        }
        var ok = hdr + [0x7f, 0xff]
        XCTAssertEqual(HLL.count(&ok, ok.count), 0)
        XCTAssertTrue(HLL.isValid(ok, ok.count))
        XCTAssertFalse(HLL.isValid(ok, 15))
        var bad = ok
        bad[4] = 2
        XCTAssertFalse(HLL.isValid(bad, bad.count))
        bad[4] = 0
        XCTAssertFalse(HLL.isValid(bad, bad.count), "a dense HLL must be exactly denseSize")
        // Setting a register beyond what the opcodes cover reports corruption.
        var w = HLLWork(copying: hdr + [0x40, 0x10], 18)
        XCTAssertEqual(w.set(5000, 3, maxBytes: 3000), -1)
        w.free()
    }

    func testBitmapHelpersMatchABitLoop() {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 7, 8, 9, 31, 32, 33, 100] {
            let b = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) & (Bool.random() ? 0xff : 0) }
            b.withUnsafeBufferPointer { p in
                let base = p.baseAddress ?? UnsafePointer(bitPattern: 1)!
                XCTAssertEqual(Bitmap.popcount(base, n), b.reduce(0) { $0 + $1.nonzeroBitCount })
                for bit in 0...1 {
                    var want = bit == 1 ? -1 : n * 8
                    for i in 0..<(n * 8) where ((b[i / 8] >> (7 - i % 8)) & 1) == bit { want = i; break }
                    XCTAssertEqual(Bitmap.firstBit(base, n, bit), want)
                }
            }
        }
        let f: [UInt8] = [0b1010_0000, 0xff]
        f.withUnsafeBufferPointer { p in
            XCTAssertEqual(Bitmap.getUnsigned(p.baseAddress!, offset: 0, bits: 3), 0b101)
            XCTAssertEqual(Bitmap.getSigned(p.baseAddress!, offset: 0, bits: 3), -3)
            XCTAssertEqual(Bitmap.getUnsigned(p.baseAddress!, offset: 4, bits: 8), 0x0f)
        }
        var lim: UInt64 = 0
        XCTAssertEqual(Bitmap.checkUnsigned(255, 1, bits: 8, .wrap, limit: &lim), 1)
        XCTAssertEqual(lim, 0)
        XCTAssertEqual(Bitmap.checkUnsigned(0, -1, bits: 8, .sat, limit: &lim), -1)
        XCTAssertEqual(lim, 0)
        var slim: Int64 = 0
        XCTAssertEqual(Bitmap.checkSigned(127, 1, bits: 8, .wrap, limit: &slim), 1)
        XCTAssertEqual(slim, -128)
        XCTAssertEqual(Bitmap.checkSigned(.min, -1, bits: 64, .sat, limit: &slim), -1)
        XCTAssertEqual(slim, .min)
    }
}
