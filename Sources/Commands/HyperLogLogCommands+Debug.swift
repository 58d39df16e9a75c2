import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// PFDEBUG and PFSELFTEST.
extension HyperLogLogCommands {
    /// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
    static func pfdebug(_ x: inout Exec) {
        guard let (e, slot) = x.findAny(2, read: false) else {
            return x.error("ERR The specified key does not exist")
        }
        guard let h = hllBytes(&x, e) else { return }
        e.isRawString = true
        let sub = x[1]
        if sub.equalsLower("getreg") {
            guard let regs = denseRegisters(&x, slot: slot, h, e.bytes.count) else { return }
            x.reply.array(HLL.registers)
            for i in 0..<HLL.registers { x.reply.int(Int(HLL.denseGet(regs, i))) }
        } else if sub.equalsLower("decode") {
            if HLL.isDense(h) { return x.error("ERR HLL encoding is not sparse") }
            x.reply.bulk(HLL.decodeSparse(h, e.bytes.count))
        } else if sub.equalsLower("encoding") {
            if HLL.isDense(h) { x.reply.simple("dense") } else { x.reply.simple("sparse") }
        } else if sub.equalsLower("todense") {
            let wasSparse = !HLL.isDense(h)
            guard denseRegisters(&x, slot: slot, h, e.bytes.count) != nil else { return }
            x.reply.int(wasSparse ? 1 : 0)
        } else {
            x.error(string: "ERR Unknown PFDEBUG subcommand '\(sub.lossyString)'")
        }
    }

    /// The dense registers of the HLL under key argument 2, converting a
    /// sparse one in its entry first (Redis does not signal the key for
    /// that). Nil after replying the corruption error.
    static func denseRegisters(_ x: inout Exec, slot: Int, _ h: UnsafeMutablePointer<UInt8>, _ n: Int)
        -> UnsafePointer<UInt8>? {
        if HLL.isDense(h) { return UnsafePointer(h + HLL.headerSize) }
        var w = HLLWork(copying: h, n)
        defer { w.free() }
        guard w.toDense() else {
            x.error(corrupt)
            return nil
        }
        let ks = x.keyspace(of: 2)
        let m = ks.mutations
        store(&x, key: 2, slot: slot, w)
        ks.mutations = m
        return UnsafePointer(ks.entry(at: slot).bytes.baseAddress! + HLL.headerSize)
    }

    /// PFSELFTEST: Redis's self-test of the register code and of the
    /// estimate's error, with dense and sparse HLLs fed the same elements.
    static func pfselftest(_ x: inout Exec) {
        var rng = x.stats.rng()
        let dense = UnsafeMutablePointer<UInt8>.allocate(capacity: HLL.denseSize)
        defer { dense.deallocate() }
        let regs = dense + HLL.headerSize
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: HLL.registers)
        defer { bytes.deallocate() }
        regs.initialize(repeating: 0, count: HLL.denseSize - HLL.headerSize)
        for _ in 0..<1000 {
            for i in 0..<HLL.registers {
                let r = UInt8(truncatingIfNeeded: rng.next()) & HLL.registerMax
                bytes[i] = r
                HLL.denseSet(regs, i, r)
            }
            for i in 0..<HLL.registers where HLL.denseGet(regs, i) != bytes[i] {
                return x.error(string: "ERR TESTFAILED Register \(i) should be \(bytes[i]) but is \(HLL.denseGet(regs, i))")
            }
        }

        HLL.writeEmptySparse(dense)
        regs.initialize(repeating: 0, count: HLL.denseSize - HLL.headerSize)
        dense[4] = HLL.dense
        var sparse = HLLWork()
        defer { sparse.free() }
        let maxBytes = EncodingLimits.hllSparseBytes
        let relerr = 1.04 / Double(HLL.registers).squareRoot()
        var checkpoint = 1
        let seed = rng.next()
        for j in 1...10_000_000 {
            var ele = UInt64(j) ^ seed
            withUnsafeBytes(of: &ele) { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let (i, c) = HLL.patLen(p, 8)
                _ = HLL.denseSetMax(regs, i, c)
                _ = sparse.add(p, 8, maxBytes: maxBytes)
            }
            if j != checkpoint { continue }
            if j < maxBytes / 2 && sparse.isDense {
                return x.error("ERR TESTFAILED sparse encoding not used")
            }
            let d = HLL.count(dense, HLL.denseSize)!
            if d != HLL.count(sparse.buf, sparse.len) {
                return x.error("ERR TESTFAILED dense/sparse disagree")
            }
            var maxerr = Int((relerr * 6 * Double(checkpoint)).rounded(.up))
            if j == 10 { maxerr = 1 }
            let abserr = abs(checkpoint - Int(d))
            if abserr > maxerr {
                return x.error(string: "ERR TESTFAILED Too big error. card:\(checkpoint) abserr:\(abserr)")
            }
            checkpoint *= 10
        }
        x.reply.ok()
    }
}
