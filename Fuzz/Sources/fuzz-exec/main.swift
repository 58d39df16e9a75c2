import Commands
import FuzzSupport
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

// Command execution: up to 8 commands per input, each an argument array
// built from a dictionary (command names, subcommands, common option
// tokens, keys and numbers) and literal bytes, run through the handlers of
// every command that runs on one shard against a one-shard store (emptied
// between inputs), as Dispatch's runHandler does (arity checked first). Replies are not checked
// here, only that nothing crashes, leaks or writes out of bounds.
//
// Encoding: per command, byte c picks the command, byte n the extra
// argument count (n % 8); each argument is one byte t: t < 0xC0 picks
// dictionary word t % count, otherwise t - 0xC0 literal bytes follow.

private let table = CommandTable.shared

/// Commands with a handler that needs no server around it.
private let runnable: [CommandSpec] = table.specs.filter { s in
    if s.handler == nil && s.subcommands.isEmpty { return false }
    if case .server = s.route { return false }
    // PFSELFTEST takes no input and runs ~25 ms of fixed work: it made each
    // input 100x slower while teaching the fuzzer nothing.
    return !["debug", "shutdown", "monitor", "sync", "psync", "pfselftest"].contains(s.name)
}

private let dictionary: [[UInt8]] = {
    var words: [String] = ["k", "k2", "{k}3", "", "0", "1", "-1", "2", "3", "10", "100", "1000000", "-100",
        "1.5", "-2.5e3", "inf", "-inf", "+inf", "nan", "9223372036854775807", "-9223372036854775808",
        "18446744073709551616", "(1", "[a", "(a", "-", "+", "*", "$", ">", "~", "=", "0-0", "0-1", "1-1", "*",
        "NX", "XX", "GT", "LT", "CH", "INCR", "WITHSCORES", "LIMIT", "COUNT", "MATCH", "TYPE", "BYSCORE", "BYLEX",
        "REV", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST", "GET", "BEFORE", "AFTER", "LEFT", "RIGHT",
        "MAXLEN", "MINID", "STORE", "ASC", "DESC", "ALPHA", "BY", "WEIGHTS", "AGGREGATE", "SUM", "MIN", "MAX",
        "ID", "IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "STREAMS", "BLOCK", "NOACK", "GROUP", "MKSTREAM",
        "ENTRIESREAD", "REPLACE", "ABSTTL", "FREQ", "WITHVALUES", "WITHCOORD", "WITHDIST", "WITHHASH",
        "FROMMEMBER", "FROMLONLAT", "BYRADIUS", "BYBOX", "km", "m", "ANY", "STOREDIST", "u8", "i16", "u63", "i64",
        "OVERFLOW", "WRAP", "SAT", "FAIL", "INCRBY", "SET", "BIT", "BYTE", "AND", "OR", "XOR", "NOT", "LEN",
        "IDX", "MINMATCHLEN", "WITHMATCHLEN", "RANK", "MAXLEN", "FULL", "CONSUMERS", "GROUPS", "STREAM",
        "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER", "ENCODING", "REFCOUNT", "IDLETIME",
        "USAGE", "SAMPLES", "a", "b", "c", "hello", "HYLL", "13.361389", "38.115556", "-180", "85.05112879"]
    for s in table.specs {
        words.append(s.name)
        for sub in s.subcommands { words.append(sub.name) }
    }
    return words.map { Array($0.utf8) }
}()

private struct Cursor {
    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0
    mutating func next() -> UInt8? {
        guard i < n else { return nil }
        defer { i += 1 }
        return p[i]
    }
}

// One store for the whole run, emptied after every input as FLUSHALL
// would: building four keyspaces, an event log and a tracking table per
// input cost more than most inputs' commands.
nonisolated(unsafe) private let store = ShardStore(databases: 4)
private let stats = ShardStats()
private let out = ByteBuf(capacity: 256)
private let args = ArgVector(capacity: 8)

/// Back to an empty store, so that an input replays alone as it ran in the
/// campaign: no key, event or tracked key left by the last one (the random
/// draws are reseeded as each input starts).
private func resetStore() {
    for db in store.dbs { db.removeAll() }
    store.events.drain { _, _, _, _ in }
    store.tracking.removeAll()
    store.events.muteNew = false
    while LazyFree.shared.pending > 0 { sched_yield() }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var cur = Cursor(p: data, n: size)
    stats.random = ShardRandom(seed: 0x5EED)
    var holder: [[UInt8]] = []  // keeps argument bytes alive while a command runs
    var commands = 0
    while commands < 8, let c = cur.next(), let nb = cur.next() {
        commands += 1
        var spec = runnable[Int(c) % runnable.count]
        holder = [Array(spec.name.utf8)]
        for _ in 0..<Int(nb % 8) {
            guard let t = cur.next() else { break }
            if t < 0xC0 {
                holder.append(dictionary[Int(t) % dictionary.count])
            } else {
                var lit: [UInt8] = []
                for _ in 0..<Int(t - 0xC0) { if let b = cur.next() { lit.append(b) } }
                holder.append(lit)
            }
        }
        if !spec.subcommands.isEmpty {
            guard holder.count >= 2 else { continue }
            let sub = holder[1].withUnsafeBufferPointer { b in
                spec.subcommand(Arg(b.baseAddress ?? UnsafePointer(bitPattern: 8)!, b.count))
            }
            guard let sub else { continue }
            spec = sub
        }
        guard let h = spec.handler, spec.arityOK(holder.count) else { continue }
        let ptrs = holder.map { a -> UnsafeMutablePointer<UInt8> in
            let m = UnsafeMutablePointer<UInt8>.allocate(capacity: max(a.count, 1))
            m.initialize(from: a, count: a.count)
            return m
        }
        defer { ptrs.forEach { $0.deallocate() } }
        args.reset()
        for (k, m) in ptrs.enumerated() { args.push(Arg(UnsafePointer(m), holder[k].count)) }
        out.clear()
        var x = Exec(args: args, reply: Reply(out, proto: Int(c & 1) == 0 ? 2 : 3), store: store, stats: stats,
                     db: 0, now: 1_700_000_000_000, shard: 0, shardCount: 1)
        h(&x)
        fuzzCheck(out.count > 0 || x.wouldBlock, "\(spec.fullName) wrote no reply")
    }
    resetStore()
    return 0
}

@_cdecl("fuzz_exec_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
