import Commands
import Config
import RESP
import Storage

/// PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET: connection state lives on
/// the worker that owns the connection, so these run there.
extension Worker {
    func runServerCommand(_ op: ServerOp, _ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        let t0 = clock.now()
        let out = replyBuffer(c)
        let before = out.count
        let r = Reply(out, proto: c.proto)
        if !spec.subcommands.isEmpty && args.count >= 2 { noteSubcommand(spec, c) }
        switch op {
        case .ping:
            if args.count > 2 { r.error(string: wrongArityError("ping")) }
            else if c.proto == 2, let s = c.subs, s.total > 0 {
                // Subscribed mode: an array, so it reads like a message.
                r.array(2)
                r.bulk(static: "pong")
                if args.count == 2 { r.bulk(args[1]) } else { r.bulk(static: "") }
            } else if args.count == 2 { r.bulk(args[1]) } else { r.simple("PONG") }
        case .echo: r.bulk(args[1])
        case .quit:
            r.ok()
            closeClient(c, flush: true)
        case .select: select(c, r)
        case .hello: hello(c, r)
        case .auth: auth(c, r)
        case .reset: reset(c, r)
        case .client: clientCommand(c, r)
        case .time:
            let us = wallMicros()
            r.array(2)
            r.bulk(string: String(us / 1_000_000))
            r.bulk(string: String(us % 1_000_000))
        case .lastsave: r.int(state.lastSave.value)
        case .dbsize:
            _ = fanoutInternal(c, .sum, .dbsize, lock: .shared)
        case .flushdb, .flushall:
            if args.count > 2 || (args.count == 2 && !args[1].equalsLower("async") && !args[1].equalsLower("sync")) {
                r.error(Err.syntax)
            } else if op == .flushdb {
                _ = fanoutInternal(c, .ok, .flushdb, lock: .exclusive)
            } else {
                _ = fanoutInternal(c, .ok, .flushall, lock: .exclusive)
                if !state.config.saveParams.isEmpty { saveAfterFlushall() }
            }
        case .swapdb: swapdb(c, r)
        case .multi: multi(c, r)
        case .exec: exec(c, r)
        case .discard: discard(c, r)
        case .watch: watch(c, r)
        case .eval: eval(c, r, readOnly: false, bySha: false)
        case .evalsha: eval(c, r, readOnly: false, bySha: true)
        case .evalRO: eval(c, r, readOnly: true, bySha: false)
        case .evalshaRO: eval(c, r, readOnly: true, bySha: true)
        case .script: scriptCommand(c, r)
        case .function:
            let mark = r.buf.count
            functionCommand(c, r)
            if aofCapturing { aofFunctionCommand(r.buf, from: mark, db: c.db) }
        case .fcall: fcall(c, r, readOnly: false)
        case .fcallRO: fcall(c, r, readOnly: true)
        case .unwatch:
            endWatch(c)
            r.ok()
        case .info: info(c)
        case .config: configCommand(c, r)
        case .command: commandCommand(c, r)
        case .shutdown: shutdownCommand(c, r)
        case .debug: debugCommand(c, r)
        case .slowlog: slowlogCommand(c, r)
        case .latency: latencyCommand(c, r)
        case .memory: memoryCommand(c, r)
        case .subscribe: subscribe(c, r, shard: false)
        case .ssubscribe: subscribe(c, r, shard: true)
        case .unsubscribe: unsubscribe(c, r, shard: false)
        case .sunsubscribe: unsubscribe(c, r, shard: true)
        case .psubscribe: psubscribe(c, r)
        case .punsubscribe: punsubscribe(c, r)
        case .publish: publish(c, r, shard: false)
        case .spublish: publish(c, r, shard: true)
        case .pubsub: pubsubCommand(c, r)
        case .monitor: monitorCommand(c, r)
        }
        // Not started (EXEC waits for earlier replies): it runs, and is counted, later.
        if c.stalled { return }
        // DEBUG ERROR's reply is data the caller asked for: Redis counts it
        // neither as an error nor as a failed call.
        let debugError = op == .debug && args.count == 3 && args[1].equalsLower("error")
        let failed = !debugError && before < out.count && out.base[before] == 45 /* - */
        // AUTH and HELLO would log a password: Redis redacts it, these are simply left out.
        recordCall(spec, micros: clock.nanos(clock.now() - t0) / 1000, failed: failed, out: out, at: before, args,
                   client: c, message: nil, slowlogged: op != .auth && op != .hello)
    }

    /// Remembers which subcommand of a container ran, for CLIENT LIST's cmd.
    func noteSubcommand(_ spec: CommandSpec, _ c: Client) {
        let a = args[1]
        c.lastSubcommand = -1
        c.subcommandOf = spec.id
        for (i, sub) in spec.subcommands.enumerated() where sub.name.utf8.count == a.count {
            var same = true
            var j = 0
            for ch in sub.name.utf8 {
                let x = a[j]
                if ((x >= 65 && x <= 90) ? x | 0x20 : x) != ch { same = false; break }
                j += 1
            }
            if same { c.lastSubcommand = i; return }
        }
    }

    func select(_ c: Client, _ r: Reply) {
        guard let n = parseStrictInt(args[1].ptr, args[1].count) else {
            return r.error(Err.notInteger)
        }
        if n < 0 || n >= store.dbs.count { return r.error(Err.dbIndex) }
        c.db = n
        r.ok()
    }

    func checkPassword(_ user: Arg?, _ pass: Arg) -> Bool {
        if let u = user, !u.equals(Arg("default", 7)) { return false }
        guard let want = requirePass else { return true }
        return want.count == pass.count && want.elementsEqual(pass.buffer)
    }

    func auth(_ c: Client, _ r: Reply) {
        if args.count > 3 { return r.error(Err.syntax) }
        if args.count == 2 && requirePass == nil {
            return r.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        }
        let user: Arg? = args.count == 3 ? args[1] : nil
        if checkPassword(user, args[args.count - 1]) {
            c.authenticated = true
            r.ok()
        } else {
            r.error("WRONGPASS invalid username-password pair or user is disabled.")
        }
    }

    func hello(_ c: Client, _ r: Reply) {
        var proto = c.proto
        var i = 1
        if args.count >= 2 {
            guard let v = parseStrictInt(args[1].ptr, args[1].count) else {
                return r.error("ERR Protocol version is not an integer or out of range")
            }
            if v < 2 || v > 3 { return r.error("NOPROTO unsupported protocol version") }
            proto = v
            i = 2
        }
        var setName: Arg? = nil
        while i < args.count {
            let more = args.count - i - 1
            if args[i].equalsLower("auth") && more >= 2 {
                if !checkPassword(args[i + 1], args[i + 2]) {
                    return r.error("WRONGPASS invalid username-password pair or user is disabled.")
                }
                c.authenticated = true
                i += 3
            } else if args[i].equalsLower("setname") && more >= 1 {
                setName = args[i + 1]
                i += 2
            } else {
                return r.error(string: "ERR Syntax error in HELLO option '\(args[i].lossyString)'")
            }
        }
        if !c.authenticated {
            return r.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if let n = setName {
            if !validClientName(n) { return r.error("ERR Client names cannot contain spaces, newlines or special characters.") }
            c.name = n.count == 0 ? nil : n.bytes
        }
        c.proto = proto
        let rr = Reply(r.buf, proto: proto)
        rr.map(7)
        rr.bulk(static: "server"); rr.bulk(static: "redis")
        rr.bulk(static: "version"); rr.bulk(string: redisCompatVersion)
        rr.bulk(static: "proto"); rr.int(proto)
        rr.bulk(static: "id"); rr.int(c.id)
        rr.bulk(static: "mode"); rr.bulk(static: "standalone")
        rr.bulk(static: "role"); rr.bulk(static: "master")
        rr.bulk(static: "modules"); rr.array(0)
    }

    func reset(_ c: Client, _ r: Reply) {
        c.db = 0
        c.proto = 2
        c.name = nil
        c.replyMode = .on
        c.noEvict = false
        c.authenticated = requirePass == nil
        endTransactionState(c)
        dropSubscriptions(c)
        stopMonitoring(c)
        Reply(r.buf, proto: 2).simple("RESET")
    }

    func swapdb(_ c: Client, _ r: Reply) {
        guard let a = parseStrictInt(args[1].ptr, args[1].count) else { return r.error("ERR invalid first DB index") }
        guard let b = parseStrictInt(args[2].ptr, args[2].count) else { return r.error("ERR invalid second DB index") }
        if a < 0 || a >= store.dbs.count || b < 0 || b >= store.dbs.count { return r.error(Err.dbIndex) }
        // Swapping a database with itself changes nothing, and Redis's
        // dbSwapDatabases returns before it touches any WATCHed key.
        if a == b { return r.ok() }
        _ = fanoutInternal(c, .ok, .swapdb(a, b), lock: .exclusive)
    }
}

/// Redis allows client names of printable ASCII without spaces.
func validClientName(_ a: Arg) -> Bool {
    for i in 0..<a.count where a[i] < 33 || a[i] > 126 { return false }
    return true
}
