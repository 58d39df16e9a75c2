/// DUMP and RESTORE's payload: [RDB type][value][RDB version, 2 bytes LE][CRC64, 8 bytes LE].

/// DUMP's payload: the value in RDB form, the RDB version (2 bytes LE) and
/// a CRC64 of everything before it (8 bytes LE). Nil for a type that has no
/// RDB form yet.
public func dumpPayload(_ e: Entry) -> [UInt8]? {
    var w = RdbWriter()
    w.out.reserveCapacity(e.payload == .bytes ? e.bytes.count + 32 : 64)
    guard w.value(e) else { return nil }
    w.out.append(UInt8(Rdb.version & 0xFF))
    w.out.append(UInt8(Rdb.version >> 8))
    let crc = w.out.withUnsafeBytes { crc64(0, $0) }
    for i in stride(from: 0, through: 56, by: 8) { w.out.append(UInt8(truncatingIfNeeded: crc >> UInt64(i))) }
    return w.out
}

/// RESTORE's checks on a DUMP payload (verifyDumpPayload): at least 10
/// bytes, an RDB version this server reads, and the CRC64 of the rest.
public func verifyDumpPayload(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard b.count >= 10, let p = b.baseAddress else { return false }
    let footer = b.count - 10
    let ver = UInt16(p[footer]) | UInt16(p[footer + 1]) << 8
    guard ver <= Rdb.version else { return false }
    let crc = crc64(0, UnsafeRawBufferPointer(start: p, count: b.count - 8))
    for i in 0..<8 where p[footer + 2 + i] != UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i))) { return false }
    return true
}

/// The value in a verified DUMP payload, or nil ("Bad data format"). As
/// in Redis the reader is given the whole payload, footer included.
public func loadDumpPayload(_ b: UnsafeBufferPointer<UInt8>) -> LoadedValue? {
    var r = RdbReader(b)
    guard let t = r.byte() else { return nil }
    return r.value(type: t)
}
