/// Redis's CRC-64 (Jones polynomial, reflected, init 0): the checksum of
/// DUMP payloads and RDB files. Bitwise: payloads here are small.
public func crc64(_ crc: UInt64, _ p: UnsafeRawBufferPointer) -> UInt64 {
    let poly: UInt64 = 0x95AC_9329_AC4B_C9B5 // 0xad93d23594c935a9 reflected
    var c = crc
    for byte in p {
        c ^= UInt64(byte)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ poly : c >> 1 }
    }
    return c
}
