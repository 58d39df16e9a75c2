import FuzzSupport
import Storage

// The listpack and ziplist readers on raw blobs (RESTORE's deep integrity
// check). Byte 0 bit 0 picks the reader; bit 1 patches the header's total
// size and the end byte so the entry walk itself is reached.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size, control: 1)
    var blob = input.body
    if input.byte(0) & 2 != 0 && blob.count >= 11 {
        let n = blob.count
        for i in 0..<4 { blob[i] = UInt8(truncatingIfNeeded: n >> (8 * i)) }
        blob[n - 1] = 0xFF
    }
    blob.withUnsafeBufferPointer { b in
        var ok = true
        var elements = 0
        var total = 0
        if input.byte(0) & 1 != 0 {
            guard var r = ListpackReader(b) else { return }
            while let e = r.next(&ok) { elements += 1; total += e.withBytes { $0.reduce(0) { $0 &+ Int($1) } } }
        } else {
            guard var r = ZiplistReader(b) else { return }
            while let e = r.next(&ok) { elements += 1; total += e.withBytes { $0.reduce(0) { $0 &+ Int($1) } } }
        }
        fuzzCheck(elements <= b.count, "more elements than bytes")
        _ = total
    }
    return 0
}

@_cdecl("fuzz_packed_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
