import FuzzSupport
import Storage
#if canImport(Glibc)
import Glibc
#endif

// RESTORE payloads and RDB files. Byte 0 picks the mode:
//   bit 0 set: the rest is an RDB file body after "REDIS0010";
//   bit 1 set: the rest is a DUMP body, the harness appends a valid version
//              and CRC64 so the value reader itself is reached;
//   neither: the rest is a raw payload, checked then read regardless of the
//              CRC (as with `sanitize-dump-payload no` plus a lucky CRC).
// A value that loads must DUMP again to a payload that verifies and loads
// back to the same type.

private let key = Array("k".utf8)

private func footer(_ body: [UInt8]) -> [UInt8] {
    var out = body
    out.append(UInt8(Rdb.version & 0xFF))
    out.append(UInt8(Rdb.version >> 8))
    let crc = out.withUnsafeBytes { crc64(0, $0) }
    for i in stride(from: 0, through: 56, by: 8) { out.append(UInt8(truncatingIfNeeded: crc >> UInt64(i))) }
    return out
}

private func roundTrip(_ v: LoadedValue) {
    let e = key.withUnsafeBufferPointer { v.makeEntry(key: $0.baseAddress!, keyLen: 1, expireAt: -1, lru: 0) }
    defer {
        e.free()
        // A big value is freed on LazyFree's thread: wait for it, or the
        // leak check after this input would see it still held.
        while LazyFree.shared.pending > 0 { sched_yield() }
    }
    guard let d = dumpPayload(e) else { return }
    let ok = d.withUnsafeBufferPointer { verifyDumpPayload($0) }
    fuzzCheck(ok, "own DUMP payload fails verification")
    let again = d.withUnsafeBufferPointer { loadDumpPayload($0) }
    fuzzCheck(again != nil, "own DUMP payload does not load: \(d)")
    fuzzCheck(again?.type == v.type, "type changed in DUMP round trip")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size, control: 1)
    let mode = input.byte(0)
    if mode & 1 != 0 {
        let file = Array("REDIS0010".utf8) + input.body
        _ = file.withUnsafeBufferPointer { b in
            loadRdbFile(b, databases: 16, now: 0) { _, db, v, _ in
                fuzzCheck(db >= 0 && db < 16, "database \(db) out of range")
                roundTrip(v)
                return true
            }
        }
        return 0
    }
    let payload = mode & 2 != 0 ? footer(input.body) : input.body
    let verified = payload.withUnsafeBufferPointer { verifyDumpPayload($0) }
    if mode & 2 != 0 { fuzzCheck(verified, "payload with a valid footer rejected") }
    if let v = payload.withUnsafeBufferPointer({ loadDumpPayload($0) }) { roundTrip(v) }
    return 0
}

@_cdecl("fuzz_rdb_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
