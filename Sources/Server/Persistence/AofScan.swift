import RESP

/// How the walk of one AOF file ended.
enum AofScanEnd: Equatable {
    case done
    /// Unexpected end of file; commands before `validUpTo` were replayed
    /// (a MULTI without its EXEC is not).
    case truncated(validUpTo: Int)
    case bad(offset: Int)
}

/// Walks the commands of one AOF file, as Redis's loadSingleAppendOnlyFile
/// reads it: `#` lines are annotations (`#TS:`), anything else must be a
/// RESP array. A MULTI block reaches `run` only at its EXEC, so a block cut
/// off by a crash is not half applied. `run(offset, length)` gets each
/// command to replay, already parsed into `args`. Kept apart from the
/// worker so that fuzz-aof feeds it arbitrary bytes.
func aofScan(_ p: UnsafePointer<UInt8>, _ n: Int, args: ArgVector, limits: ProtocolLimits,
             run: (_ offset: Int, _ length: Int) -> Void) -> AofScanEnd {
    var off = 0
    var multiAt = -1      // offset of an open MULTI
    var blockStart = 0    // first command after it
    while off < n {
        if p[off] == 35 /* # */ {
            var e = off
            while e < n && p[e] != 10 { e += 1 }
            if e == n { return .truncated(validUpTo: multiAt >= 0 ? multiAt : off) }
            off = e + 1
            continue
        }
        guard p[off] == 42 /* * */ else { return .bad(offset: off) }
        switch parseCommand(p + off, n - off, into: args, limits: limits) {
        case .command(let used):
            if args[0].equalsLower("multi") {
                multiAt = off
                blockStart = off + used
            } else if args[0].equalsLower("exec") && multiAt >= 0 {
                var o = blockStart
                while o < off, case .command(let u) = parseCommand(p + o, off - o, into: args, limits: limits) {
                    run(o, u)
                    o += u
                }
                multiAt = -1
            } else if multiAt < 0 {
                run(off, used)
            }
            off += used
        case .incomplete:
            return .truncated(validUpTo: multiAt >= 0 ? multiAt : off)
        case .skip, .error:
            return .bad(offset: off)
        }
    }
    return multiAt >= 0 ? .truncated(validUpTo: multiAt) : .done
}
