import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A whole RDB file as Redis 7.0's rdbSaveRio writes it: "REDIS0010", aux
/// fields, function libraries, then per non-empty database SELECTDB,
/// RESIZEDB and its keys (EXPIRETIME_MS, type, key, value), then EOF and
/// the CRC64 of everything before it. Written in 64 KiB pieces, the
/// checksum kept as it goes, so a large dataset never sits in memory twice.
public final class RdbFileWriter {
    let fd: Int32
    var w: RdbWriter
    var crc: UInt64 = 0
    public private(set) var failed = false

    /// Opens (truncating) `path`; nil when it cannot be created.
    public init?(path: String, compress: Bool = Rdb.compression.load(ordering: .relaxed)) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { return nil }
        w = RdbWriter(compress: compress)
    }

    deinit { if fd >= 0 { close(fd) } }

    private func flush(force: Bool = false) {
        guard force || w.out.count >= 1 << 16, !w.out.isEmpty else { return }
        w.out.withUnsafeBytes { buf in
            crc = crc64(crc, buf)
            var off = 0
            while off < buf.count && !failed {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = true
                } else {
                    off += n
                }
            }
        }
        w.out.removeAll(keepingCapacity: true)
    }

    private func aux(_ key: String, _ value: [UInt8]) {
        w.byte(0xFA)
        w.string(Array(key.utf8))
        w.string(value)
    }

    private func aux(_ key: String, int v: Int) {
        withDecimal(v) { p, n in aux(key, Array(UnsafeBufferPointer(start: p, count: n))) }
    }

    /// Magic and the aux fields Redis 7.0 writes for a SAVE.
    public func header(version: String, ctime: Int, usedMemory: Int, aofBase: Bool = false) {
        w.out.append(contentsOf: Array("REDIS0010".utf8))
        aux("redis-ver", Array(version.utf8))
        aux("redis-bits", int: 64)
        aux("ctime", int: ctime)
        aux("used-mem", int: usedMemory)
        aux("aof-base", int: aofBase ? 1 : 0)
    }

    /// Records serialised elsewhere (a background snapshot's chunks).
    public func records(_ b: [UInt8]) {
        w.out.append(contentsOf: b)
        flush()
    }

    /// A function library (RDB_OPCODE_FUNCTION2 and its code).
    public func function(_ code: [UInt8]) {
        w.byte(0xF5)
        w.string(code)
        flush()
    }

    public func database(_ db: Int, keys: Int, expires: Int) {
        w.byte(0xFE)
        w.length(db)
        w.byte(0xFB)
        w.length(keys)
        w.length(expires)
    }

    /// One key; false (nothing written) for a type without an RDB form yet.
    public func key(_ e: Entry) -> Bool {
        guard w.record(e) else { return false }
        flush()
        return true
    }

    /// EOF, checksum, fsync. False when any write failed.
    public func finish() -> Bool {
        w.byte(0xFF)
        flush(force: true)
        let c = Rdb.checksum.load(ordering: .relaxed) ? crc : 0
        for i in 0..<8 { w.byte(UInt8(truncatingIfNeeded: c >> (8 * UInt64(i)))) }
        flush(force: true)
        if fsync(fd) != 0 { failed = true }
        return !failed
    }
}

/// What loading an RDB file found.
public struct RdbLoadResult {
    public var keys = 0
    public var expired = 0
    public var version = 0
    public var producer = ""
    /// Function libraries' code (RDB_OPCODE_FUNCTION2), in file order.
    public var functions: [[UInt8]] = []
}

/// Reads an RDB file of any version Redis 7.0 reads (1...10), handing each
/// live key to `put` (database, key, value, expire-at or -1); `put` returns
/// false for a key already there. Keys already expired at `now` are
/// dropped, as a Redis master does. The error says why loading stopped.
public func loadRdbFile(_ bytes: UnsafeBufferPointer<UInt8>, databases: Int, now: Int64,
                        put: ([UInt8], Int, LoadedValue, Int64) -> Bool) -> Result<RdbLoadResult, RdbLoadError> {
    var res = RdbLoadResult()
    guard bytes.count >= 9, let p = bytes.baseAddress,
          Array(UnsafeBufferPointer(start: p, count: 5)) == Array("REDIS".utf8) else {
        return .failure(RdbLoadError("Wrong signature trying to load DB from file"))
    }
    var ver = 0
    for i in 5..<9 {
        guard p[i] >= 48 && p[i] <= 57 else { return .failure(RdbLoadError("Wrong signature trying to load DB from file")) }
        ver = ver * 10 + Int(p[i] - 48)
    }
    guard ver >= 1 && ver <= Int(Rdb.version) else {
        return .failure(RdbLoadError("Can't handle RDB format version \(ver)"))
    }
    res.version = ver
    var r = RdbReader(bytes, from: 9)
    var db = 0
    var expireAt: Int64 = -1
    let short = RdbLoadError("Short read or OOM loading DB. Unrecoverable error, aborting now.")
    func le(_ n: Int) -> UInt64? {
        guard r.remaining >= n else { return nil }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(r.base[r.pos + i]) << (8 * UInt64(i)) }
        r.pos += n
        return v
    }
    while true {
        guard let t = r.byte() else { return .failure(short) }
        switch t {
        case 0xFC:
            guard let v = le(8) else { return .failure(short) }
            expireAt = Int64(bitPattern: v)
            continue
        case 0xFD:
            guard let v = le(4) else { return .failure(short) }
            expireAt = Int64(Int32(bitPattern: UInt32(v))) * 1000
            continue
        case 0xF8:
            guard r.length() != nil else { return .failure(short) }
            continue
        case 0xF9:
            guard r.byte() != nil else { return .failure(short) }
            continue
        case 0xFE:
            guard let n = r.length() else { return .failure(short) }
            guard n < databases else {
                return .failure(RdbLoadError("FATAL: Data file was created with a Redis server configured to handle more than \(databases) databases. Exiting"))
            }
            db = n
            continue
        case 0xFB:
            guard r.length() != nil, r.length() != nil else { return .failure(short) }
            continue
        case 0xFA:
            guard let k = r.string(), let v = r.string() else { return .failure(short) }
            if k == Array("redis-ver".utf8) { res.producer = String(decoding: v, as: UTF8.self) }
            continue
        case 0xF5:
            guard let code = r.string() else { return .failure(short) }
            res.functions.append(code)
            continue
        case 0xF6:
            return .failure(RdbLoadError("Pre-release function format not supported."))
        case 0xF7:
            return .failure(RdbLoadError("The RDB file contains AUX module data I can't load: no matching module"))
        case 0xFF:
            if ver >= 5 {
                let end = r.pos
                guard let stored = le(8) else { return .failure(short) }
                if stored != 0 && Rdb.checksum.load(ordering: .relaxed) {
                    let c = crc64(0, UnsafeRawBufferPointer(start: p, count: end))
                    if c != stored {
                        return .failure(RdbLoadError("Wrong RDB checksum expected: (\(hex16(stored))) got: (\(hex16(c))). Aborting now."))
                    }
                }
            }
            return .success(res)
        default:
            guard let key = r.string() else { return .failure(short) }
            guard let v = r.value(type: t) else {
                return .failure(RdbLoadError("Bad data format loading key of RDB type \(t). Aborting now."))
            }
            if expireAt != -1 && expireAt < now {
                res.expired += 1
            } else {
                guard put(key, db, v, expireAt) else {
                    return .failure(RdbLoadError("RDB has duplicated key '\(String(decoding: key, as: UTF8.self))' in DB \(db)"))
                }
                res.keys += 1
            }
            expireAt = -1
        }
    }
}

public struct RdbLoadError: Error {
    public let message: String
    public init(_ m: String) { message = m }
}

private func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}
