import Commands
import FuzzSupport
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// One in-process shard for the harnesses that run commands (fuzz-exec,
/// fuzz-aof): the handlers of every command that needs no server around
/// it, run as Dispatch's runHandler runs them. One store serves the whole
/// run and is emptied after every input as FLUSHALL would: building four
/// keyspaces, an event log and a tracking table per input cost more than
/// most inputs' commands.
/// Unchecked: libFuzzer runs every input on one thread.
public final class FuzzShard: @unchecked Sendable {
    public let table = CommandTable.shared
    public let store = ShardStore(databases: 4)
    let stats = ShardStats()
    let out = ByteBuf(capacity: 256)

    /// Commands with a handler that needs no server around it.
    public let runnable: [CommandSpec]

    public init() {
        runnable = table.specs.filter(FuzzShard.runs)
    }

    /// DEBUG, SHUTDOWN, MONITOR and SYNC need the server; PFSELFTEST takes
    /// no input and runs ~25 ms of fixed work, which made every input that
    /// reached it 100 times slower while teaching the fuzzer nothing.
    public static func runs(_ s: CommandSpec) -> Bool {
        if s.handler == nil && s.subcommands.isEmpty { return false }
        if case .server = s.route { return false }
        return !["debug", "shutdown", "monitor", "sync", "psync", "pfselftest"].contains(s.name)
    }

    /// The spec whose handler takes `args` (the subcommand's for a
    /// container), or nil when there is none or the arity is wrong.
    public func resolve(_ top: CommandSpec, _ args: ArgVector) -> CommandSpec? {
        var spec = top
        if !spec.subcommands.isEmpty {
            guard args.count >= 2, let sub = spec.subcommand(args[1]) else { return nil }
            spec = sub
        }
        guard spec.handler != nil, spec.arityOK(args.count) else { return nil }
        return spec
    }

    /// Finds the keys of `args`, then runs them through `spec`'s handler;
    /// every command must write a reply or block.
    public func run(_ spec: CommandSpec, _ args: ArgVector, db: Int, proto: Int) {
        // Dispatch finds the keys (routing, WATCH) before the handler runs.
        if case .positions(let ps)? = spec.keySpan(args) {
            fuzzCheck(ps.allSatisfy { $0 > 0 && $0 < args.count }, "\(spec.fullName) key positions \(ps) of \(args.count)")
        }
        _ = spec.forEachKey(args) { _ in }
        spec.forEachWrittenKey(args) { _ in }
        out.clear()
        var x = Exec(args: args, reply: Reply(out, proto: proto), store: store, stats: stats,
                     db: db, now: 1_700_000_000_000, shard: 0, shardCount: 1)
        spec.handler!(&x)
        fuzzCheck(out.count > 0 || x.wouldBlock, "\(spec.fullName) wrote no reply")
    }

    /// Before an input: the random draws start from the same seed, so an
    /// input replays alone as it ran in the campaign.
    public func begin() {
        stats.random = ShardRandom(seed: 0x5EED)
    }

    /// After an input: no key, event or tracked key is left for the next.
    public func reset() {
        for db in store.dbs { db.removeAll() }
        store.events.drain { _, _, _, _ in }
        store.tracking.removeAll()
        store.events.muteNew = false
        while LazyFree.shared.pending > 0 { sched_yield() }
    }
}
