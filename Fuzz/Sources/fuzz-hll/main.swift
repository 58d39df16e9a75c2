import FuzzSupport
import Storage

// HyperLogLog strings as PFCOUNT/PFADD/PFMERGE/PFDEBUG meet them: a "HYLL"
// header with the fuzzer's encoding byte, cached cardinality and registers.
// Byte 0: bit 0 dense (body padded or cut to the dense size), bits 1-3 how
// many elements PFADD adds, bits 4-7 the sparse-max-bytes choice.

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
            let r = el.withUnsafeBufferPointer { w.add($0.baseAddress!, $0.count, maxBytes: maxBytes) }
            if r < 0 { corrupt = true; break }
        }
        if !corrupt && adds > 0 {
            fuzzCheck(HLL.isValid(w.buf, w.len), "PFADD left an invalid HLL")
            if card != nil { fuzzCheck(HLL.count(w.buf, w.len) != nil, "PFADD broke a countable HLL") }
        }
        return 0
    }
}

@_cdecl("fuzz_hll_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
