import FuzzSupport
import Storage
#if canImport(Glibc)
import Glibc
#endif

private let debugHLL = getenv("FUZZ_DEBUG") != nil

// HyperLogLog strings as PFCOUNT/PFADD/PFMERGE/PFDEBUG meet them: a "HYLL"
// header with the fuzzer's encoding byte, cached cardinality and registers.
// Byte 0: bit 0 dense (body padded or cut to the dense size), bits 1-3 how
// many elements PFADD adds, bits 4-7 the sparse-max-bytes choice.

private func truncatedXZero(_ h: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    if HLL.isDense(h) { return false }
    var p = HLL.headerSize
    while p < n { p += h[p] & 0xC0 == 0x40 ? 2 : 1 }
    return p > n
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size, control: 2)
    let dense = input.byte(0) & 1 != 0
    var h: [UInt8] = [72, 89, 76, 76, dense ? HLL.dense : input.byte(1) & 1, 0, 0, 0]
    h += input.body
    if dense {
        if h.count < HLL.denseSize { h += [UInt8](repeating: 0, count: HLL.denseSize - h.count) }
        h.removeLast(h.count - HLL.denseSize)
    }
    if h.count < HLL.headerSize { return 0 }
    h.append(0)  // the sds terminator the sparse code may read
    let n = h.count - 1
    return h.withUnsafeMutableBufferPointer { b -> CInt in
        let p = b.baseAddress!
        guard HLL.isValid(p, n) else { return 0 }
        let card = HLL.count(p, n)
        let regs = UnsafeMutablePointer<UInt8>.allocate(capacity: HLL.registers)
        defer { regs.deallocate() }
        regs.initialize(repeating: 0, count: HLL.registers)
        let merged = HLL.merge(into: regs, p, n)
        if let card { fuzzCheck(merged, "PFCOUNT accepts what PFMERGE rejects") }
        if merged, let card {
            fuzzCheck(HLL.countRaw(regs) == card, "merged registers count \(HLL.countRaw(regs)) vs \(card)")
        }
        if !HLL.isDense(p) {
            _ = HLL.decodeSparse(p, n)
            var w = HLLWork(copying: p, n)
            defer { w.free() }
            if w.toDense(), let card {
                fuzzCheck(HLL.count(w.buf, w.len) == card, "dense conversion changed the count")
            }
        }
        // PFADD on the string, element bytes taken from the body.
        var w = HLLWork(copying: p, n)
        defer { w.free() }
        let adds = Int(input.byte(0) >> 1 & 7)
        let maxBytes = [3000, 0, 16, 64, 200, 1000, 3000, 16000][Int(input.byte(0) >> 4 & 7)]
        var corrupt = false
        for i in 0..<adds {
            let el: [UInt8] = [UInt8(i)] + input.body.prefix(i * 3)
            let before = w.isDense ? [] : HLL.decodeSparse(w.buf, w.len)
            let (ri, rc) = el.withUnsafeBufferPointer { HLL.patLen($0.baseAddress!, $0.count) }
            let r = el.withUnsafeBufferPointer { w.add($0.baseAddress!, $0.count, maxBytes: maxBytes) }
            if debugHLL {
                let after = w.isDense ? Array("dense".utf8) : HLL.decodeSparse(w.buf, w.len)
                let m = "set \(ri)=\(rc) -> \(r) len \(w.len)\n  before \(String(decoding: before, as: UTF8.self))\n  after  \(String(decoding: after, as: UTF8.self)) countable \(HLL.count(w.buf, w.len) != nil)\n"
                _ = write(2, m, m.utf8.count)
            }
            if r < 0 { corrupt = true; break }
        }
        if !corrupt && adds > 0 {
            fuzzCheck(HLL.isValid(w.buf, w.len), "PFADD left an invalid HLL")
            // A sparse string whose last XZERO lacks its second byte reads the
            // terminator in its place, as Redis does; PFADD into that run then
            // writes past the string's end (Redis too: its last byte lands in
            // the sds terminator slot), so the result need not stay countable.
            if card != nil && !truncatedXZero(p, n) {
                fuzzCheck(HLL.count(w.buf, w.len) != nil, "PFADD broke a countable HLL")
            }
        }
        return 0
    }
}

@_cdecl("fuzz_hll_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
