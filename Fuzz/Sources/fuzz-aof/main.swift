import Commands
import FuzzShard
import FuzzSupport
import RESP
import Storage

// The AOF loader's two readers, with the server's own files linked in
// (AofScan.swift, AofManifest.swift). Byte 0 even: the rest is a manifest
// for AofManifest.parse; one that parses must print (`text`, what the
// server writes back) to a manifest that parses to the same, and CRLF
// line ends must read as LF ones, as in Redis. Byte 0 odd:
// the rest is an AOF file for aofScan, as Worker.aofReplay walks it, each
// command it hands over run through the handlers of FuzzShard (SELECT
// switching among its 4 databases); offsets must stay in bounds and in
// order, and a truncated file's valid prefix must walk to its end (or to an
// earlier MULTI, for nested ones) with the same commands.

private let shard = FuzzShard()
private let args = ArgVector(capacity: 8)
/// As Worker.trustedLimits: an AOF is the server's own file.
private let limits: ProtocolLimits = {
    var l = ProtocolLimits()
    l.maxBulkLen = Int.max
    l.inlineMax = Int.max
    return l
}()

private func manifest(_ body: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: body, as: UTF8.self)
    let parsed = AofManifest.parse(text)
    // Comments only parse to an empty manifest, whose text ("") is refused
    // as empty, as Redis refuses it: the server never writes one (start-up
    // adds an incr file first).
    if case .success(let m) = parsed, m != AofManifest() {
        guard case .success(let again) = AofManifest.parse(m.text) else {
            fuzzCheck(false, "manifest text does not parse back: \(m.text.debugDescription)")
            return
        }
        fuzzCheck(again == m, "manifest text parses to another manifest: \(m.text.debugDescription)")
    }
    // CRLF line ends read as LF ones (Redis trims the \r), while no line
    // nears fgets's 1024 bytes (a shorter line can move where it cuts).
    let b = Array(text.utf8)
    var crlf = false, longest = 0, run = 0
    for (i, c) in b.enumerated() {
        if c == 10 { crlf = crlf || (i > 0 && b[i - 1] == 13); longest = max(longest, run); run = 0 } else { run += 1 }
    }
    guard crlf, max(longest, run) < 1000 else { return }
    var lf: [UInt8] = []
    for (i, c) in b.enumerated() where !(c == 13 && i + 1 < b.count && b[i + 1] == 10) { lf.append(c) }
    let other = AofManifest.parse(String(decoding: lf, as: UTF8.self))
    switch (parsed, other) {
    case (.success(let x), .success(let y)): fuzzCheck(x == y, "CRLF and LF manifests differ")
    case (.failure(let x), .failure(let y)): fuzzCheck(x.message == y.message, "CRLF: \(x.message), LF: \(y.message)")
    default: fuzzCheck(false, "a manifest parses with LF line ends only, or CRLF only")
    }
}

private func database(_ a: Arg) -> Int? {
    guard a.count == 1, a.ptr[0] >= 48, a.ptr[0] < 52 else { return nil }
    return Int(a.ptr[0] - 48)
}

private func aof(_ p: UnsafePointer<UInt8>, _ n: Int) {
    var db = 0
    var ran: [Int] = []
    let end = aofScan(p, n, args: args, limits: limits) { off, used in
        fuzzCheck(off >= (ran.last ?? 0) && used > 0 && off + used <= n, "command at \(off)+\(used) of \(n)")
        ran.append(off)
        if args[0].equalsLower("select") {
            if args.count == 2, let d = database(args[1]) { db = d }
            return
        }
        guard let top = shard.table.lookup(args[0]), FuzzShard.runs(top),
              let spec = shard.resolve(top, args) else { return }
        shard.run(spec, args, db: db, proto: 2)
    }
    switch end {
    case .done: break
    case .bad(let off): fuzzCheck(off >= 0 && off < n, "bad offset \(off) of \(n)")
    case .truncated(let valid):
        fuzzCheck(valid >= 0 && valid <= n, "valid prefix \(valid) of \(n)")
        var again: [Int] = []
        let e = aofScan(p, valid, args: args, limits: limits) { off, _ in again.append(off) }
        // A MULTI inside an open one moves the cut to itself, as Redis's
        // valid_before_multi does; the prefix then ends at the first MULTI.
        var cutEarlier = false
        if case .truncated(let w) = e { cutEarlier = w < valid }
        fuzzCheck(e == .done || cutEarlier, "the valid prefix of \(valid) bytes does not walk to its end: \(e)")
        fuzzCheck(again == ran, "the valid prefix runs \(again.count) commands, the file \(ran.count)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    if data[0] & 1 == 0 {
        manifest(UnsafeBufferPointer(start: data + 1, count: size - 1))
    } else {
        shard.begin()
        aof(data + 1, size - 1)
        shard.reset()
    }
    return 0
}

@_cdecl("fuzz_aof_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
