/// Redis's CRC-64 (Jones polynomial, reflected, init 0): the checksum of
/// DUMP payloads and RDB files. A byte at a time through a 256-entry table:
/// an RDB file of a large dataset goes through it whole.
public func crc64(_ crc: UInt64, _ p: UnsafeRawBufferPointer) -> UInt64 {
    let t = crc64Table
    var c = crc
    for byte in p { c = t[Int(UInt8(truncatingIfNeeded: c) ^ byte)] ^ (c >> 8) }
    return c
}

/// Made once (Swift initialises globals lazily and thread-safely), then only read.
nonisolated(unsafe) private let crc64Table: UnsafeMutablePointer<UInt64> = {
    let poly: UInt64 = 0x95AC_9329_AC4B_C9B5 // 0xad93d23594c935a9 reflected
    let t = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
    for i in 0..<256 {
        var c = UInt64(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ poly : c >> 1 }
        t[i] = c
    }
    return t
}()
