import Commands
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// An EVAL waiting for the shards it locked, kept on its ticket.
final class ScriptJob {
    let sha: String
    /// FCALL's function name; nil for EVAL.
    let function: String?
    let readOnly: Bool
    let numkeys: Int
    var held: [Bool]
    let declared: [Bool]
    /// The shards locked in the current round, released after it.
    var locked: [Int] = []
    let db: Int
    init(sha: String, function: String?, readOnly: Bool, numkeys: Int, held: [Bool], declared: [Bool], db: Int) {
        self.function = function
        self.declared = declared
        self.sha = sha
        self.readOnly = readOnly
        self.numkeys = numkeys
        self.held = held
        self.db = db
    }
}

/// EVAL, EVALSHA, their _RO forms, and SCRIPT. A script runs on the
/// worker of its connection, against this shard at once when every key it
/// declares lives here and nothing here is locked; otherwise it locks (VLL,
/// whole) the shards of its declared keys, runs against them, and releases
/// them. A script that touches a key on a shard it does not hold, before it
/// has written anything, is stopped and run again with every shard locked,
/// and from then on always runs that way (INFO: scripts_all_shards_runs).
extension Worker: ScriptHost {
    var scriptRandom: ScriptRandom { state.scriptRandom }

    func scriptLog(level: Int, _ message: String) {
        switch level {
        case 0: state.logger.debug("\(message)")
        case 1, 2: state.logger.notice("\(message)")
        default: state.logger.warning("\(message)")
        }
    }

    func scriptInterrupt(_ run: ScriptRun) -> String? {
        if let k = run.killed { return k }
        if !run.busy && busyThresholdMs > 0, case let elapsed = wallMillis() - run.startedMs, elapsed >= Int64(busyThresholdMs) {
            run.busy = true
            if run.isFunction { publishBusyFunction(run) }
            handle.scriptWrote.store(run.didWrite ? 1 : 0)
            handle.scriptBusy.store(run.isFunction ? 2 : 1)
            state.busyScripts.add(1)
            state.logger.warning("Slow script detected: still in execution after \(elapsed) milliseconds. You can try killing the script using the \(run.isFunction ? "FUNCTION" : "SCRIPT") KILL command.")
        }
        // Other connections of this worker get their -BUSY (or their KILL run) now, as in Redis.
        if run.busy { serveWhileBusy() }
        if run.busy && handle.scriptKill.exchange(0) == 1 {
            run.killed = "ERR Script killed by user with SCRIPT KILL..."
        } else if state.isStopping {
            run.killed = "ERR Script killed by user with SHUTDOWN NOSAVE..."
        } else {
            return nil
        }
        // Raised from then on at every line: a pcall cannot keep it running.
        lua.raiseOnEveryLine()
        return run.killed
    }

    func scriptEnded(_ run: ScriptRun) {
        if run.killed != nil { lua.restoreCountHook() }
        guard run.busy else { return }
        if run.isFunction { handle.busyFunction.withLock { $0 = nil } }
        handle.scriptBusy.store(0)
        handle.scriptWrote.store(0)
        handle.scriptKill.store(0)
        state.busyScripts.add(-1)
    }

    /// SCRIPT KILL and FUNCTION KILL, from any worker: Redis's checks, in its order.
    func killScript(_ r: Reply, function: Bool) {
        guard let h = state.handles.first(where: { $0.scriptBusy.value != 0 }) else {
            return r.error("NOTBUSY No scripts in execution right now.")
        }
        if h.scriptWrote.value != 0 {
            return r.error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
        }
        if (h.scriptBusy.value == 2) != function { return r.error(string: busyError()) }
        h.scriptKill.store(1)
        r.ok()
    }

    /// allow-busy commands, or containers' allow-busy subcommands (SCRIPT KILL).
    func allowedWhileBusy(_ spec: CommandSpec) -> Bool {
        if spec.flags.contains(.allowBusy) { return true }
        if !spec.subcommands.isEmpty && args.count >= 2, let sub = spec.subcommand(args[1]) {
            return sub.flags.contains(.allowBusy)
        }
        return false
    }

    /// -BUSY while some worker's script is past busy-reply-threshold.
    func busyError() -> String {
        let fn = state.handles.contains { $0.scriptBusy.value == 2 }
        return "BUSY Redis is busy running a script. You can only call \(fn ? "FUNCTION" : "SCRIPT") KILL or SHUTDOWN NOSAVE."
    }

    /// Every shard, held: one array per worker rather than one per script run.
    var allShards: [Bool] {
        if let a = allShardsCache { return a }
        let a = [Bool](repeating: true, count: shardCount)
        allShardsCache = a
        return a
    }

    var lua: LuaEngine {
        if let e = luaEngine { return e }
        let e = LuaEngine(host: self)
        luaEngine = e
        return e
    }

    /// The connection scripts' commands run on: never read from or sent to.
    var scriptConnection: Client {
        if let c = scriptClient { return c }
        let c = Client(id: 0, fd: -1, index: -1, generation: 0, addr: "", laddr: "", now: now)
        c.authenticated = true
        c.closed = true
        scriptClient = c
        return c
    }

    func eval(_ c: Client, _ r: Reply, readOnly ro: Bool, bySha: Bool) {
        // Redis answers a digest of the wrong length before reading numkeys;
        // one that is not ASCII cannot name a script either. Either would
        // otherwise run as the empty name (a crash with several shards).
        if bySha && args[1].count != 40 { return r.error("NOSCRIPT No matching script. Please use EVAL.") }
        guard let numkeys = parseStrictInt(args[2].ptr, args[2].count) else { return r.error(Err.notInteger) }
        if numkeys < 0 { return r.error("ERR Number of keys can't be negative") }
        if numkeys > args.count - 3 { return r.error("ERR Number of keys can't be greater than number of args") }
        let sha = bySha ? shaArgument(args[1]) : sha1Hex(args[1].ptr, args[1].count)
        if sha.isEmpty { return r.error("NOSCRIPT No matching script. Please use EVAL.") }
        let flags: ScriptFlags
        if state.scripts.generation.value == luaGeneration, sha == lua.lastFlagsSha {
            flags = lua.lastFlags
        } else if state.scripts.generation.value == luaGeneration, let f = lua.flags[sha] {
            // Compiled here already: no store lookup, no shebang parse.
            flags = f
            lua.lastFlagsSha = sha
            lua.lastFlags = f
        } else {
            let original: [UInt8]
            if bySha {
                guard let b = state.scripts.body(sha) else { return r.error("NOSCRIPT No matching script. Please use EVAL.") }
                original = b
            } else {
                original = Array(args[1].buffer)
            }
            var body = original
            switch parseShebang(&body) {
            case .failure(let e): return r.error(string: e.message)
            case .success(let f): flags = f
            }
            if let err = compile(sha, body, original: original, flags: flags) { return r.error(string: err) }
        }
        if ro && flags.declared && !flags.noWrites {
            return r.error("ERR Can not execute a script with write flag using *_ro command.")
        }
        // A script declared writing is a denyoom command of its own (Redis's evalGetCommandFlags).
        if memLimit.max != 0 && scriptOOM && flags.declared && !flags.noWrites && !flags.allowOOM { return refuseScriptOOM(r) }
        startScript(c, r, sha: sha, function: nil, readOnly: ro || flags.noWrites, numkeys: numkeys)
    }

    /// EVALSHA's digest as the lowercase String the caches use; the same
    /// digest as the previous call reuses that String.
    func shaArgument(_ a: Arg) -> String {
        guard a.count == 40 else { return "" }
        if let last = lua.lastShaBytes, last.withUnsafeBufferPointer({ memcmp($0.baseAddress!, a.ptr, 40) == 0 }) {
            return lua.lastSha
        }
        guard let name = a.asciiName else { return "" }
        let s = name.lowercased()
        lua.lastShaBytes = Array(a.buffer)
        lua.lastSha = s
        return s
    }

    /// Runs a compiled script or a library function (`function`) now, or
    /// once the shards it needs are locked. `sha` names it for the memory of
    /// which shards it touches.
    func startScript(_ c: Client, _ r: Reply, sha: String, function: String?, readOnly: Bool, numkeys: Int) {
        // Inside EXEC, or with one shard, everything it may touch is held already.
        if shardCount == 1 || lentDepth > 0 {
            runScript(c, sha: sha, function: function, readOnly: readOnly, numkeys: numkeys, keysFrom: args,
                      held: allShards, declared: allShards, db: c.db, out: r)
            return
        }
        var declared = [Bool](repeating: false, count: shardCount)
        declared[id] = true
        for i in 3..<(3 + numkeys) { declared[shardOfArg(i)] = true }
        // A script not yet seen staying on its declared keys' shards runs
        // with every shard locked; what it touches decides its later runs.
        let all = [Bool](repeating: true, count: shardCount)
        let known = state.scripts.isLocal(sha)
        let held = known ? declared : all
        if known && numkeys > 0 {
            var keyShard = -1
            var one = true
            for i in 3..<(3 + numkeys) {
                let sh = shardOfArg(i)
                if keyShard < 0 { keyShard = sh } else if sh != keyShard { one = false; break }
            }
            if one && keyShard != id {
                forwardScript(c, to: keyShard, sha: sha, function: function, readOnly: readOnly, numkeys: numkeys)
                return
            }
        }
        if known && locks.holds == 0 && declared.filter({ $0 }).count == 1 {
            if runScript(c, sha: sha, function: function, readOnly: readOnly, numkeys: numkeys, keysFrom: args,
                         held: held, declared: declared, db: c.db, out: r) {
                return
            }
            lockAndRun(c, ScriptJob(sha: sha, function: function, readOnly: readOnly, numkeys: numkeys, held: all,
                                    declared: declared, db: c.db))
            return
        }
        lockAndRun(c, ScriptJob(sha: sha, function: function, readOnly: readOnly, numkeys: numkeys, held: held,
                                declared: declared, db: c.db))
    }

    /// A known script whose declared keys all live on one other shard runs
    /// there, in one hop, like a one-shard EXEC. If it reaches past that
    /// shard before writing, the shard answers `retryMarker` and it runs
    /// again here with every shard locked.
    func forwardScript(_ c: Client, to shard: Int, sha: String, function: String?, readOnly: Bool, numkeys: Int) {
        let s = beginFanout(c, .script)
        s.script = ScriptJob(sha: sha, function: function, readOnly: readOnly, numkeys: numkeys, held: allShards,
                             declared: allShards, db: c.db)
        s.scriptClient = c
        s.stage = 4
        c.barrier = s
        encodeCommand(s.saved, args, from: 0)
        let m = addPart(s, c, shard: shard)
        m.op = .scriptCall(readOnly: readOnly, numkeys: numkeys)
        arrayHeader(m.requests, 2)
        appendBulkArg(m.requests, function == nil ? "e" : "f")
        appendBulkArg(m.requests, function ?? sha)
        encodeCommand(m.requests, args, from: 0)
        m.commandCount = 1
        launch(s, [m])
    }

    /// The shard side of `forwardScript`.
    func runForwardedScript(_ m: ShardMessage, readOnly: Bool, numkeys: Int) {
        let r = Reply(m.replies, proto: m.proto)
        let a = innerArgs
        let p = UnsafePointer(m.requests.base)
        guard case .command(let used) = parseCommand(p, m.requests.count, into: a, limits: trustedLimits) else { return }
        let isFunction = a[0].count == 1 && a[0][0] == 102
        let name = a[1].lossyString
        guard case .command = parseCommand(p + used, m.requests.count - used, into: a, limits: trustedLimits) else { return }
        if isFunction {
            syncFunctions()
        } else if !(lua.isLoaded(name) && luaGeneration == state.scripts.generation.value) {
            guard let original = state.scripts.body(name) else { return r.error("NOSCRIPT No matching script. Please use EVAL.") }
            var body = original
            guard case .success(let flags) = parseShebang(&body) else { return r.error("ERR script body changed") }
            if let err = compile(name, body, original: original, flags: flags) { return r.error(string: err) }
        }
        var here = [Bool](repeating: false, count: shardCount)
        here[id] = true
        let sc = scriptConnection
        if !runScript(sc, sha: isFunction ? "fn:" + name : name, function: isFunction ? name : nil, readOnly: readOnly,
                      numkeys: numkeys, keysFrom: a, held: here, declared: here, db: m.db, out: r, tracker: m.tracker,
                      writer: m.writer) {
            m.replies.clear()
            m.replies.append(string: retryMarker)
        }
    }

    /// Locks the job's shards whole, then runs it (completeScript).
    func lockAndRun(_ c: Client, _ job: ScriptJob) {
        if mustWaitForEarlier(c) { return }
        if job.held.allSatisfy({ $0 }) { state.scripts.allShardRuns.add(1) }
        let s = beginFanout(c, .script)
        s.script = job
        s.scriptClient = c
        c.barrier = s
        encodeCommand(s.saved, args, from: 0)
        lockShards(s, job)
    }

    /// Runs a compiled script; false when it must run again with every shard.
    @discardableResult
    func runScript(_ c: Client, sha: String, function: String?, readOnly: Bool, numkeys: Int, keysFrom a: ArgVector,
                   held: [Bool], declared: [Bool], db: Int, out r: Reply, tracker: Int? = nil,
                   writer: Int = 0) -> Bool {
        // Redis's script_oom, decided as the script starts: it may run here
        // long after its EVAL was read (locks, a hop to its keys' shard).
        if memLimit.max != 0 { noteScriptOOM(sha: sha, function: function) } else { scriptOOM = false }
        // Reused per worker; a script inside EXEC inside a script cannot happen (EVAL is noscript).
        var keys = scriptKeys
        var argv = scriptArgv
        scriptKeys = []
        scriptArgv = []
        keys.removeAll(keepingCapacity: true)
        argv.removeAll(keepingCapacity: true)
        defer {
            scriptKeys = keys
            scriptArgv = argv
        }
        for i in 3..<a.count { if i < 3 + numkeys { keys.append(a[i]) } else { argv.append(a[i]) } }
        let run: ScriptRun
        if let kept = spareScriptRun {
            // Taken, not shared: a script started while this one runs gets its own.
            spareScriptRun = nil
            kept.reuse(sha: sha, readOnly: readOnly, held: held, declared: declared, db: db)
            run = kept
        } else {
            run = ScriptRun(sha: sha, readOnly: readOnly, held: held, declared: declared, db: db)
        }
        defer {
            if !run.trackKeys.isEmpty { run.trackKeys = [] }
            spareScriptRun = run
        }
        run.startedMs = now
        run.tracker = tracker ?? (c.tracking != nil ? readTracker(c) : 0)
        if run.tracker != 0 { run.trackKeys = keys }
        // Its connection is left alone while a busy script serves the others.
        let savedCaller = busy.caller
        busy.caller = c
        defer { busy.caller = savedCaller }
        lentDepth += 1
        let outerCaller = beginHeldPushes(c === scriptClient ? nil : c, writer: writer)
        if let name = function {
            // Kept for FUNCTION STATS should it go busy (`args` is reused by its redis.call).
            busy.command.clear()
            encodeCommand(busy.command, a, from: 0)
            syncFunctions()
            if let f = lua.libraryFunctions[name] {
                lua.callFunction(f, keys: keys, argv: argv, run: run, reply: r)
            } else {
                // Deleted while it waited for its shards.
                r.error("ERR Function not found")
            }
        } else {
            lua.call(sha, keys: keys, argv: argv, run: run, reply: r)
        }
        endHeldPushes(outerCaller)
        lentDepth -= 1
        if run.wantsAllShards || run.reachedOutside {
            state.scripts.markGlobal(sha)
        } else if shardCount > 1 && held.allSatisfy({ $0 }) {
            state.scripts.markLocal(sha)
        }
        return !run.wantsAllShards
    }

    /// The shards an EVAL locked are held: run it, release them; or, when
    /// it reached past them, release and lock every shard.
    func completeScript(_ s: ReplyTicket, _ c: Client?) -> Bool {
        guard let job = s.script else { return false }
        switch s.stage {
        case 0:
            var ok = true
            if let c = c, !c.closed, !c.closing {
                let a = innerArgs
                _ = parseCommand(UnsafePointer(s.saved.base), s.saved.count, into: a, limits: trustedLimits)
                ok = runScript(c, sha: job.sha, function: job.function, readOnly: job.readOnly, numkeys: job.numkeys, keysFrom: a,
                               held: job.held, declared: job.declared, db: job.db, out: Reply(s.buf, proto: c.proto))
            }
            s.stage = ok ? 2 : 1
            releaseShards(s, c, job.locked)
            return true
        case 1:
            // Released; now every shard.
            state.scripts.allShardRuns.add(1)
            job.held = [Bool](repeating: true, count: shardCount)
            lockShards(s, job)
            return true
        case 4:
            // Back from the key's shard: its answer, or run again with every shard locked.
            let m = s.parts[s.parts.count - 1]
            if m.replies.count == retryMarker.utf8.count && String(decoding: UnsafeBufferPointer(start: m.replies.base, count: m.replies.count), as: UTF8.self) == retryMarker {
                state.scripts.allShardRuns.add(1)
                lockShards(s, job)
                return true
            }
            s.buf.append(m.replies)
            s.script = nil
            return false
        default:
            s.script = nil
            return false
        }
    }

    func lockShards(_ s: ReplyTicket, _ job: ScriptJob) {
        s.stage = 0
        job.locked = (0..<shardCount).filter { job.held[$0] }
        var parts: [ShardMessage] = []
        for sh in job.locked {
            let m = addPart(s, s.scriptClient, shard: sh)
            m.op = .txHold
            m.commandCount = 1
            m.locks.whole = .exclusive
            parts.append(m)
        }
        scheduleTx(s, parts)
    }

    /// Compiles into this worker's state (and records the body for EVALSHA).
    /// `body` has its shebang line blanked; `original` is what EVALSHA and
    /// SCRIPT LOAD keep.
    func compile(_ sha: String, _ body: [UInt8], original: [UInt8], flags: ScriptFlags) -> String? {
        let gen = state.scripts.generation.value
        if lua.isLoaded(sha) && gen == luaGeneration { return nil }
        luaGeneration = gen
        let err = body.withUnsafeBufferPointer { lua.load(sha, $0, flushGeneration: gen) }
        if let err = err { return "ERR Error compiling script (new function): " + err }
        lua.flags[sha] = flags
        if !state.scripts.exists(sha) { state.scripts.add(sha, original) }
        return nil
    }

    /// A command a script runs, against a shard the script holds.
    func scriptCommand(_ a: ArgVector, _ run: ScriptRun) -> ByteBuf? {
        let sc = scriptConnection
        sc.out.clear()
        let r = Reply(sc.out, proto: run.resp)
        guard let spec = table.lookup(a[0]) else {
            r.error("ERR Unknown Redis command called from script")
            return sc.out
        }
        if !spec.arityOK(a.count) {
            r.error("ERR Wrong number of args calling Redis command from script")
            return sc.out
        }
        if spec.flags.contains(.noscript) {
            r.error("ERR This Redis command is not allowed from script")
            return sc.out
        }
        let write = spec.flags.contains(.write)
        if write && run.readOnly {
            r.error("ERR Write commands are not allowed from read-only scripts.")
            return sc.out
        }
        // With one shard, or holding every shard, any key is in reach.
        if !run.holdsAll {
            var need = [Bool](repeating: false, count: shardCount)
            commandShards(spec, a, into: &need)
            for sh in 0..<shardCount where need[sh] && !run.declared[sh] { run.reachedOutside = true }
            for sh in 0..<shardCount where need[sh] && !run.held[sh] {
                if !run.didWrite {
                    run.wantsAllShards = true
                    return nil
                }
                r.error("ERR the script wrote, then touched a key on a shard it had not locked; declare its keys in KEYS (it now locks every shard)")
                state.scripts.markGlobal(run.sha)
                return sc.out
            }
        } else if shardCount > 1 && !run.declaredAll {
            var need = [Bool](repeating: false, count: shardCount)
            commandShards(spec, a, into: &need)
            for sh in 0..<shardCount where need[sh] && !run.declared[sh] { run.reachedOutside = true }
        }
        if write && !run.didWrite {
            run.didWrite = true
            if run.busy { handle.scriptWrote.store(1) }
        }
        sc.db = run.db
        sc.proto = run.resp
        args.reset()
        for i in 0..<a.count { args.push(a[i]) }
        execute(sc, raw: a[0].ptr, rawCount: 0)
        run.db = sc.db
        if run.tracker != 0 && spec.flags.contains(.readonly) { trackScriptKeys(run) }
        // A split command ran synchronously on the held shards: its merged reply is ready.
        if sc.hasPendingTickets { flushTickets(sc) }
        if sc.hasPendingTickets {
            sc.tickets.removeAll()
            sc.ticketHead = 0
            sc.out.clear()
            Reply(sc.out, proto: run.resp).error("ERR this command is not supported inside scripts")
        }
        return sc.out
    }

    func scriptCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        if sub.equalsLower("load") && args.count == 3 {
            let original = Array(args[2].buffer)
            var body = original
            let flags: ScriptFlags
            switch parseShebang(&body) {
            case .failure(let e): return r.error(string: e.message)
            case .success(let f): flags = f
            }
            let sha = sha1Hex(args[2].ptr, args[2].count)
            if let err = compile(sha, body, original: original, flags: flags) { return r.error(string: err) }
            r.bulk(string: sha)
        } else if sub.equalsLower("exists") && args.count >= 3 {
            r.array(args.count - 2)
            for i in 2..<args.count { r.int(state.scripts.exists(args[i].asciiName?.lowercased() ?? "") ? 1 : 0) }
        } else if sub.equalsLower("flush") && args.count <= 3 {
            if args.count == 3 && !args[2].equalsLower("sync") && !args[2].equalsLower("async") {
                return r.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
            }
            state.scripts.flush()
            r.ok()
        } else if sub.equalsLower("kill") && args.count == 2 {
            killScript(r, function: false)
        } else if sub.equalsLower("help") && args.count == 2 {
            r.helpLines([
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DEBUG (YES|SYNC|NO)", "    Set the debug mode for subsequent scripts executed.",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.",
                "    * SYNC: Synchronously flush the scripts cache.",
                "KILL", "    Kill the currently executing Lua script.",
                "LOAD <script>", "    Load a script into the scripts cache without executing it.",
                "HELP", "    Print this help.",
            ])
        } else if sub.equalsLower("debug") {
            r.error("ERR SCRIPT DEBUG is not supported by RingKV (no Lua debugger)")
        } else if ["load", "exists", "flush", "kill", "help"].contains(sub.lossyString.lowercased()) {
            r.error(string: "ERR wrong number of arguments for 'script|\(sub.lossyString.lowercased())' command")
        } else {
            r.error(string: "ERR unknown subcommand '\(sub.lossyString)'. Try SCRIPT HELP.")
        }
    }
}

struct ScriptFlags {
    var declared = false
    var noWrites = false
    var allowOOM = false
}

/// `#!lua flags=...`: Redis 7.0's shebang. The line is blanked so that line
/// numbers in errors stay those of the script.
func parseShebang(_ body: inout [UInt8]) -> Result<ScriptFlags, ScriptError> {
    var f = ScriptFlags()
    guard body.count >= 2, body[0] == 35, body[1] == 33 else { return .success(f) }
    let end = body.firstIndex(of: 10) ?? body.count
    let line = String(decoding: body[0..<end], as: UTF8.self)
    let parts = line.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.first == "#!lua" else {
        return .failure(ScriptError("ERR Unexpected engine in script shebang: \(parts.first ?? "")"))
    }
    f.declared = true
    for p in parts.dropFirst() {
        guard p.hasPrefix("flags=") else {
            return .failure(ScriptError("ERR Unknown lua shebang option: \(p)"))
        }
        for flag in p.dropFirst(6).split(separator: ",") {
            switch flag {
            case "no-writes": f.noWrites = true
            case "allow-oom": f.allowOOM = true
            case "allow-stale", "no-cluster", "allow-cross-slot-keys": break
            default: return .failure(ScriptError("ERR Unexpected flag in script shebang: \(flag)"))
            }
        }
    }
    for i in 0..<end { body[i] = 32 }
    return .success(f)
}

struct ScriptError: Error {
    let message: String
    init(_ m: String) { message = m }
}

/// What a shard answers for a forwarded script that reached past it before
/// writing; never sent to a client.
let retryMarker = "-RINGKV-INTERNAL-RETRY\r\n"
