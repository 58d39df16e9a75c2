import Commands
import FuzzShard
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
// between inputs; FuzzShard), as Dispatch's runHandler does (arity checked
// first). Replies are not checked here, only that nothing crashes, leaks or
// writes out of bounds.
//
// Encoding: per command, byte c picks the command, byte n the extra
// argument count (n % 8); each argument is one byte t: t < 0xC0 picks
// dictionary word t % count, otherwise t - 0xC0 literal bytes follow.

private let shard = FuzzShard()
private let table = shard.table
private let runnable = shard.runnable
private let args = ArgVector(capacity: 8)

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

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var cur = Cursor(p: data, n: size)
    shard.begin()
    var holder: [[UInt8]] = []  // keeps argument bytes alive while a command runs
    var commands = 0
    while commands < 8, let c = cur.next(), let nb = cur.next() {
        commands += 1
        let top = runnable[Int(c) % runnable.count]
        holder = [Array(top.name.utf8)]
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
        let ptrs = holder.map { a -> UnsafeMutablePointer<UInt8> in
            let m = UnsafeMutablePointer<UInt8>.allocate(capacity: max(a.count, 1))
            m.initialize(from: a, count: a.count)
            return m
        }
        defer { ptrs.forEach { $0.deallocate() } }
        args.reset()
        for (k, m) in ptrs.enumerated() { args.push(Arg(UnsafePointer(m), holder[k].count)) }
        guard let spec = shard.resolve(top, args) else { continue }
        shard.run(spec, args, db: 0, proto: Int(c & 1) == 0 ? 2 : 3)
    }
    shard.reset()
    return 0
}

@_cdecl("fuzz_exec_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
