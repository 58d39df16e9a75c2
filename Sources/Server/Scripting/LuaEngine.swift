import CLua
import Commands
import RESP
import Storage

/// What a script's `redis.call` asks of its worker.
protocol ScriptHost: AnyObject {
    /// Runs the command in `args` for the running script and returns its
    /// RESP reply, or nil when the script must stop (see `ScriptRun`).
    func scriptCommand(_ args: ArgVector, _ run: ScriptRun) -> ByteBuf?
    var scriptRandom: ScriptRandom { get }
    func scriptLog(level: Int, _ message: String)
    /// Called every few thousand instructions: the error that stops the script, if any.
    func scriptInterrupt(_ run: ScriptRun) -> String?
    func scriptEnded(_ run: ScriptRun)
}

/// One EVAL in progress. A worker keeps the last one for the next (`reuse`).
final class ScriptRun {
    private(set) var sha: String
    /// EVAL_RO, or a `no-writes` shebang.
    private(set) var readOnly: Bool
    /// Shards whose data this run may touch: its own, or those locked for it.
    private(set) var held: [Bool]
    /// The shards of its declared keys, and this worker's.
    private(set) var declared: [Bool]
    /// It touched a shard outside `declared`.
    var reachedOutside = false
    var didWrite = false
    /// It touched a shard it does not hold before writing anything: stop,
    /// and run again with every shard locked.
    var wantsAllShards = false
    /// redis.setresp
    var resp = 2
    /// The caller's database; SELECT inside the script changes only this.
    var db: Int
    /// FCALL rather than EVAL (which KILL and BUSY name).
    var isFunction = false
    /// Wall-clock milliseconds (the worker's clock, no syscall) when it started.
    var startedMs: Int64 = 0
    /// Past busy-reply-threshold.
    var busy = false
    /// The caller's CLIENT TRACKING token (0: none) and the script's
    /// declared keys: Redis 7.0 tracks those keys for the caller whenever
    /// one of the script's commands reads (server.c call()).
    var tracker = 0
    var trackKeys: [Arg] = []
    /// The error every hook call raises once SCRIPT/FUNCTION KILL stopped it.
    var killed: String?

    /// It holds every shard / declared every shard: no per-call shard check.
    private(set) var holdsAll: Bool
    private(set) var declaredAll: Bool

    init(sha: String, readOnly: Bool, held: [Bool], declared: [Bool], db: Int) {
        self.sha = sha
        self.readOnly = readOnly
        self.held = held
        self.declared = declared
        self.db = db
        holdsAll = !held.contains(false)
        declaredAll = !declared.contains(false)
    }

    /// The state `init` gives, for the next script of the worker: an
    /// allocation and three retains fewer per EVALSHA (equal values, the
    /// usual case, are not stored again).
    func reuse(sha: String, readOnly: Bool, held: [Bool], declared: [Bool], db: Int) {
        if self.sha != sha { self.sha = sha }
        self.readOnly = readOnly
        if self.held != held {
            self.held = held
            holdsAll = !held.contains(false)
        }
        if self.declared != declared {
            self.declared = declared
            declaredAll = !declared.contains(false)
        }
        self.db = db
        reachedOutside = false
        didWrite = false
        wantsAllShards = false
        resp = 2
        isFunction = false
        startedMs = 0
        busy = false
        tracker = 0
        if !trackKeys.isEmpty { trackKeys = [] }
        killed = nil
    }
}

/// A worker's Lua 5.1 state. Scripts never cross threads: each worker has
/// one, and compiles the shared bodies (`ScriptStore`) into it on first use.
/// Scripts see the real globals through an empty read-only proxy, so reading
/// an unknown global or assigning any global fails as in Redis 7.0.
final class LuaEngine {
    let L: OpaquePointer
    unowned(unsafe) let host: ScriptHost
    private var functions: [String: Int32] = [:]
    /// Shebang flags of the compiled scripts.
    var flags: [String: ScriptFlags] = [:]
    /// The last EVALSHA digest, raw and as a String (ScriptCommands.shaArgument).
    var lastShaBytes: [UInt8]?
    var lastSha = ""
    /// The last script called and its registry slot: a hot EVALSHA is
    /// answered without hashing its digest (the same String compares by
    /// its storage first).
    private var lastCalled = ""
    private var lastCalledRef: Int32 = 0
    /// The last digest `eval` looked flags up for (see ScriptCommands.eval).
    var lastFlagsSha = ""
    var lastFlags = ScriptFlags()
    private var generation = 0
    private var envRef: Int32 = 0
    private var handlerRef: Int32 = 0
    private var libEnvRef: Int32 = 0
    /// FUNCTION: what the library being loaded registers, and the functions
    /// of every loaded library by name.
    var loading: [LoadedFunction]?
    var libraryFunctions: [String: LoadedFunction] = [:]
    var functionGeneration = -1
    var run: ScriptRun?
    /// Argument bytes of the redis.call being made.
    private let argBytes = ByteBuf(capacity: 256)
    let callArgs = ArgVector(capacity: 16)
    private var lens: [Int] = []

    /// A killed script's hook fires on every line until it ends.
    func raiseOnEveryLine() { rk_lua_set_line_hook(L) }
    func restoreCountHook() { rk_lua_set_hook(L, 10_000) }

    init(host: ScriptHost) {
        self.host = host
        L = luaL_newstate()
        rk_lua_install(L, Unmanaged.passUnretained(self).toOpaque())
        rk_lua_set_hook(L, 10_000)
        lua_pushlightuserdata(L, Unmanaged.passUnretained(self).toOpaque())
        lua_setfield(L, rk_lua_registry(), "rk_engine")
        let parts = redisCompatVersion.split(separator: ".").compactMap { Int($0) }
        let num = (parts[0] << 16) | (parts[1] << 8) | parts[2]
        let prelude = """
        local G, dbg, rawget, error, tostring, type, setmetatable = _G, debug, rawget, error, tostring, type, setmetatable
        redis.REDIS_VERSION = '\(redisCompatVersion)'
        redis.REDIS_VERSION_NUM = \(num)
        redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
        redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
        -- As in Redis 7.0, pcall hands a script the text of a redis.call error, not its table.
        local pcall_orig = pcall
        local function unwrap(ok, ...)
          if ok then return ok, ... end
          local e = ...
          if type(e) == 'table' and type(rawget(e, 'err')) == 'string' then return false, rawget(e, 'err') end
          return false, e
        end
        pcall = function(...) return unwrap(pcall_orig(...)) end
        -- An empty read-only view of what `backing()` returns, with Redis 7.0's errors.
        local function readonly(backing)
          return setmetatable({}, {
            __index = function(_, k)
              local v = rawget(backing(), k)
              if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
              return v
            end,
            __newindex = function() error('Attempt to modify a readonly table', 2) end,
            __metatable = false,
          })
        end
        local env = readonly(function() return G end)
        local function handler(err)
          if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
          for level = 2, 20 do
            local i = dbg.getinfo(level, 'Sl')
            if not i then break end
            if i.source and i.source:sub(1, 6) == '@user_' then
              err.source, err.line = i.source, i.currentline
              break
            end
          end
          return err
        end
        -- FUNCTION LOAD runs a library's code with only this API; once loaded,
        -- the library's functions see the script globals (`switch`).
        local load_redis = {
          register_function = redis.register_function, log = redis.log,
          LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
          REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
        }
        local load_api = { redis = readonly(function() return load_redis end) }
        redis.register_function = nil
        local function lib_env()
          local current = load_api
          return readonly(function() return current end), function() current = G end
        end
        return env, handler, lib_env
        """
        var p = prelude
        p.withUTF8 { b in
            _ = luaL_loadbuffer(L, UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: CChar.self), b.count, "=prelude")
        }
        lua_call(L, 0, 3)
        libEnvRef = luaL_ref(L, rk_lua_registry())
        handlerRef = luaL_ref(L, rk_lua_registry())
        envRef = luaL_ref(L, rk_lua_registry())
    }

    deinit { lua_close(L) }

    static func from(_ L: OpaquePointer?) -> LuaEngine {
        lua_getfield(L, rk_lua_registry(), "rk_engine")
        let p = lua_touserdata(L, -1)
        rk_lua_pop(L, 1)
        return Unmanaged<LuaEngine>.fromOpaque(p!).takeUnretainedValue()
    }

    /// Compiles `body` as the function for `sha` unless it is compiled;
    /// returns the compile error otherwise.
    func load(_ sha: String, _ body: UnsafeBufferPointer<UInt8>, flushGeneration: Int) -> String? {
        if flushGeneration != generation {
            for (_, ref) in functions { luaL_unref(L, rk_lua_registry(), ref) }
            functions.removeAll()
            flags.removeAll()
            lastCalled = ""
            lastFlagsSha = ""
            generation = flushGeneration
        }
        if functions[sha] != nil { return nil }
        if loadChunk(body, name: "@user_script") != 0 {
            let msg = string(at: -1) ?? "unknown error"
            rk_lua_pop(L, 1)
            return msg
        }
        lua_rawgeti(L, rk_lua_registry(), envRef)
        _ = lua_setfenv(L, -2)
        functions[sha] = luaL_ref(L, rk_lua_registry())
        return nil
    }

    func isLoaded(_ sha: String) -> Bool { functions[sha] != nil }

    /// Compiles `code` onto the stack (or its error message); Lua's status.
    private func loadChunk(_ code: UnsafeBufferPointer<UInt8>, name: String) -> Int32 {
        let base = code.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!
        return luaL_loadbuffer(L, base.assumingMemoryBound(to: CChar.self), code.count, name)
    }

    /// Runs a library's code (its shebang line blanked) and returns what it
    /// registered, or Redis's error. Nothing is kept: `install` keeps it.
    func loadLibrary(_ code: [UInt8]) -> Result<[LoadedFunction], ScriptError> {
        if code.withUnsafeBufferPointer({ loadChunk($0, name: "@user_function") }) != 0 {
            let msg = string(at: -1) ?? "unknown error"
            lua_settop(L, 0)
            return .failure(ScriptError("ERR Error compiling function: " + msg))
        }
        let chunk = lua_gettop(L)
        lua_rawgeti(L, rk_lua_registry(), libEnvRef)
        lua_call(L, 0, 2)
        // stack: chunk, env, switch
        lua_pushvalue(L, chunk + 1)
        _ = lua_setfenv(L, chunk)
        lua_rawgeti(L, rk_lua_registry(), handlerRef)
        lua_pushvalue(L, chunk)
        loading = []
        let status = lua_pcall(L, 0, 0, chunk + 3)
        let registered = loading ?? []
        loading = nil
        if status != 0 {
            var msg = "ERR unknown error"
            if lua_type(L, -1) == LUA_TTABLE {
                if rawField(-1, "err") == LUA_TSTRING { msg = string(at: -1) ?? msg }
                rk_lua_pop(L, 1)
            }
            for f in registered { luaL_unref(L, rk_lua_registry(), f.ref) }
            lua_settop(L, 0)
            return .failure(ScriptError("ERR Error registering functions: " + msg))
        }
        lua_pushvalue(L, chunk + 2)
        lua_call(L, 0, 0)
        lua_settop(L, 0)
        if registered.isEmpty { return .failure(ScriptError("ERR No functions registered")) }
        return .success(registered)
    }

    func release(_ fs: [LoadedFunction]) {
        for f in fs { luaL_unref(L, rk_lua_registry(), f.ref) }
    }

    /// FCALL: the function with KEYS and ARGV as its two arguments.
    func callFunction(_ f: LoadedFunction, keys: [Arg], argv: [Arg], run: ScriptRun, reply r: Reply) {
        self.run = run
        run.isFunction = true
        defer {
            self.run = nil
            lua_settop(L, 0)
            host.scriptEnded(run)
        }
        lua_rawgeti(L, rk_lua_registry(), handlerRef)
        lua_rawgeti(L, rk_lua_registry(), f.ref)
        pushArray(keys)
        pushArray(argv)
        let rc = lua_pcall(L, 2, 1, 1)
        if run.wantsAllShards { return }
        if rc != 0 {
            writeError(at: -1, sha: f.name, r)
            return
        }
        write(at: -1, r, depth: 0, scriptResp: run.resp)
    }

    private func pushArray(_ items: [Arg]) {
        lua_createtable(L, Int32(items.count), 0)
        for (i, a) in items.enumerated() {
            rk_lua_pushbytes(L, a.ptr, a.count)
            lua_rawseti(L, -2, Int32(i + 1))
        }
    }

    /// redis.register_function(name, callback) or ({function_name=, callback=, flags=, description=}).
    func registerFunction() -> Int32 {
        guard loading != nil else {
            lua_pushstring(L, "redis.register_function can only be called on FUNCTION LOAD command")
            return -1
        }
        let argc = lua_gettop(L)
        var name: String?
        var description: String?
        var flags: [String] = []
        var fnIndex: Int32 = 0
        func fail(_ m: String) -> Int32 {
            lua_pushstring(L, m)
            return -1
        }
        if argc == 1 {
            guard lua_type(L, 1) == LUA_TTABLE else {
                return fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
            }
            lua_pushnil(L)
            while lua_next(L, 1) != 0 {
                let key = lua_type(L, -2) == LUA_TSTRING ? string(at: -2) ?? "" : ""
                switch key {
                case "function_name":
                    guard lua_type(L, -1) == LUA_TSTRING else { return fail("function_name argument given to redis.register_function must be a string") }
                    name = string(at: -1)
                case "description":
                    guard lua_type(L, -1) == LUA_TSTRING else { return fail("description argument given to redis.register_function must be a string") }
                    description = string(at: -1)
                case "callback":
                    guard lua_type(L, -1) == LUA_TFUNCTION else { return fail("callback argument given to redis.register_function must be a function") }
                    lua_pushvalue(L, -1)
                    lua_insert(L, 2)
                    fnIndex = 2
                case "flags":
                    guard lua_type(L, -1) == LUA_TTABLE else { return fail("flags argument to redis.register_function must be a table representing function flags") }
                    var k: Int32 = 1
                    while true {
                        lua_rawgeti(L, -1, k)
                        if rk_lua_isnil(L, -1) != 0 { rk_lua_pop(L, 1); break }
                        guard lua_type(L, -1) == LUA_TSTRING, let f = string(at: -1) else { return fail("unknown flag given") }
                        rk_lua_pop(L, 1)
                        guard ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"].contains(f) else {
                            return fail("unknown flag given")
                        }
                        flags.append(f)
                        k += 1
                    }
                default:
                    return fail("unknown argument given to redis.register_function")
                }
                rk_lua_pop(L, 1)
            }
            guard name != nil else { return fail("redis.register_function must get a function name argument") }
            guard fnIndex != 0 else { return fail("redis.register_function must get a callback argument") }
        } else if argc == 2 {
            guard lua_type(L, 1) == LUA_TSTRING else { return fail("first argument to redis.register_function must be a string") }
            guard lua_type(L, 2) == LUA_TFUNCTION else { return fail("second argument to redis.register_function must be a function") }
            name = string(at: 1)
            fnIndex = 2
        } else {
            return fail("wrong number of arguments to redis.register_function")
        }
        let n = name ?? ""
        guard validLibraryName(n) else {
            return fail("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
        }
        if loading!.contains(where: { $0.name == n }) { return fail("Function already exists in the library") }
        lua_pushvalue(L, fnIndex)
        let ref = luaL_ref(L, rk_lua_registry())
        // Redis keeps flags as bits and lists them in its table's order.
        let order = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]
        let canonical = order.filter { flags.contains($0) }
        loading!.append(LoadedFunction(name: n, ref: ref, description: description, flags: canonical))
        return 0
    }


    /// Runs the compiled script with KEYS and ARGV and writes its reply.
    func call(_ sha: String, keys: [Arg], argv: [Arg], run: ScriptRun, reply r: Reply) {
        self.run = run
        defer {
            self.run = nil
            lua_settop(L, 0)
            host.scriptEnded(run)
        }
        // Literal names: a String variable passed as `const char *` is copied
        // into a fresh C string per call (two allocations per EVALSHA).
        pushArray(keys)
        rk_lua_setglobal(L, "KEYS")
        pushArray(argv)
        rk_lua_setglobal(L, "ARGV")
        lua_rawgeti(L, rk_lua_registry(), handlerRef)
        if sha != lastCalled {
            lastCalledRef = functions[sha]!
            lastCalled = sha
        }
        lua_rawgeti(L, rk_lua_registry(), lastCalledRef)
        let rc = lua_pcall(L, 0, 1, 1)
        if run.wantsAllShards { return }
        if rc != 0 {
            writeError(at: -1, sha: sha, r)
            return
        }
        write(at: -1, r, depth: 0, scriptResp: run.resp)
    }

    // MARK: Lua -> RESP

    /// The bytes of the string at `i` before its first NUL, as C reads it.
    func cBytes(at i: Int32) -> [UInt8] {
        var n = 0
        guard let p = lua_tolstring(L, i, &n) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n).prefix(while: { $0 != 0 }))
    }

    func string(at i: Int32) -> String? {
        var n = 0
        guard let p = lua_tolstring(L, i, &n) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// A field of the table at `i` without metamethods (never raises).
    private func rawField(_ i: Int32, _ name: String) -> Int32 {
        let t = i < 0 ? lua_gettop(L) + i + 1 : i
        lua_pushstring(L, name)
        lua_rawget(L, t)
        return lua_type(L, -1)
    }

    /// A script error: `{err=..., source=..., line=...}` from the handler.
    /// Redis formats these from C strings: a message ends at a NUL and keeps
    /// its other bytes (newlines become spaces in Reply.error).
    private func writeError(at i: Int32, sha: String, _ r: Reply) {
        guard lua_type(L, i) == LUA_TTABLE else {
            var n = 0
            let what = lua_tolstring(L, i, &n) != nil ? cBytes(at: i) : Array("execution failure".utf8)
            r.error(bytes: Array("ERR Error running script: ".utf8) + what)
            return
        }
        let t = lua_gettop(L)
        var msg = Array("ERR unknown error".utf8)
        if rawField(t, "err") == LUA_TSTRING { msg = cBytes(at: -1) }
        rk_lua_pop(L, 1)
        var source: String?
        var line: String?
        if rawField(t, "source") == LUA_TSTRING { source = string(at: -1) }
        rk_lua_pop(L, 1)
        if rawField(t, "line") == LUA_TNUMBER { line = String(luaInteger(lua_tonumber(L, -1))) }
        rk_lua_pop(L, 1)
        if let s = source, let l = line { msg += Array(" script: \(sha), on \(s):\(l).".utf8) }
        r.error(bytes: msg)
    }

    /// Redis's Lua-to-RESP conversion, for the client's protocol.
    /// Booleans follow the protocol the script chose (redis.setresp), as in Redis.
    func write(at i: Int32, _ r: Reply, depth: Int, scriptResp: Int) {
        let t = i < 0 ? lua_gettop(L) + i + 1 : i
        switch lua_type(L, t) {
        case LUA_TNUMBER:
            r.int(luaInteger(lua_tonumber(L, t)))
        case LUA_TSTRING:
            var n = 0
            let p = lua_tolstring(L, t, &n)!
            r.bulk(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), n)
        case LUA_TBOOLEAN:
            if scriptResp == 3 { r.bool(lua_toboolean(L, t) != 0) } else if lua_toboolean(L, t) != 0 { r.int(1) } else { r.null() }
        case LUA_TTABLE where depth < 64:
            writeTable(t, r, depth: depth, scriptResp: scriptResp)
        default:
            r.null()
        }
    }

    private func writeTable(_ t: Int32, _ r: Reply, depth: Int, scriptResp: Int) {
        // Redis reads err and ok as C strings (sdsnew), so they end at a NUL.
        if rawField(t, "err") == LUA_TSTRING {
            // addReplyErrorFormat trims trailing newlines before it maps the rest to spaces.
            var m = cBytes(at: -1)
            while let l = m.last, l == 13 || l == 10 { m.removeLast() }
            r.error(bytes: m)
            rk_lua_pop(L, 1)
            return
        }
        rk_lua_pop(L, 1)
        if rawField(t, "ok") == LUA_TSTRING {
            r.simple(bytes: cBytes(at: -1))
            rk_lua_pop(L, 1)
            return
        }
        rk_lua_pop(L, 1)
        if rawField(t, "double") == LUA_TNUMBER {
            // addReplyDouble: %.17g in both protocols (0.1 is 0.10000000000000001).
            r.score(lua_tonumber(L, -1))
            rk_lua_pop(L, 1)
            return
        }
        rk_lua_pop(L, 1)
        if rawField(t, "map") == LUA_TTABLE {
            writePairs(lua_gettop(L), r, depth: depth, map: true, scriptResp: scriptResp)
            rk_lua_pop(L, 1)
            return
        }
        rk_lua_pop(L, 1)
        if rawField(t, "set") == LUA_TTABLE {
            writePairs(lua_gettop(L), r, depth: depth, map: false, scriptResp: scriptResp)
            rk_lua_pop(L, 1)
            return
        }
        rk_lua_pop(L, 1)
        // An array: elements 1, 2, ... up to the first nil.
        var n: Int32 = 0
        while true {
            lua_rawgeti(L, t, n + 1)
            let isNil = rk_lua_isnil(L, -1) != 0
            rk_lua_pop(L, 1)
            if isNil { break }
            n += 1
        }
        r.array(Int(n))
        for k in 0..<n {
            lua_rawgeti(L, t, k + 1)
            write(at: -1, r, depth: depth + 1, scriptResp: scriptResp)
            rk_lua_pop(L, 1)
        }
    }

    private func writePairs(_ t: Int32, _ r: Reply, depth: Int, map: Bool, scriptResp: Int) {
        var count = 0
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            count += 1
            rk_lua_pop(L, 1)
        }
        if map { r.map(count) } else { r.set(count) }
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            write(at: -2, r, depth: depth + 1, scriptResp: scriptResp)
            if map { write(at: -1, r, depth: depth + 1, scriptResp: scriptResp) }
            rk_lua_pop(L, 1)
        }
    }

    // MARK: RESP -> Lua

    /// Pushes the Lua value of the RESP reply at `pos`; returns the end.
    /// Error replies become `{err=...}`.
    @discardableResult
    func push(_ p: UnsafePointer<UInt8>, _ n: Int, at pos: Int) -> Int {
        let rr = ReplyReader(p: p, n: n, pos: pos)
        // Only length- and count-prefixed types (: $ * ~ % =) carry an integer on their line.
        let t = p[pos]
        let counted = t == 58 || t == 36 || t == 42 || t == 126 || t == 37 || t == 61
        let (v, after) = counted ? rr.lineInt(at: pos) : (0, pos)
        switch p[pos] {
        case 58: // :
            lua_pushnumber(L, Double(v))
            return after
        case 36: // $
            if v < 0 {
                lua_pushboolean(L, 0)
                return after
            }
            rk_lua_pushbytes(L, p + after, v)
            return after + v + 2
        case 43, 45: // + -
            let e = lineEnd(p, n, pos)
            lua_createtable(L, 0, 1)
            rk_lua_pushbytes(L, p + pos + 1, e - pos - 1)
            lua_setfield(L, -2, p[pos] == 43 ? "ok" : "err")
            return e + 2
        case 42, 126: // * ~
            if v < 0 {
                lua_pushboolean(L, 0)
                return after
            }
            var j = after
            if p[pos] == 126 {
                lua_createtable(L, 0, 1)
                lua_createtable(L, 0, Int32(v))
                for _ in 0..<v {
                    j = push(p, n, at: j)
                    lua_pushboolean(L, 1)
                    lua_settable(L, -3)
                }
                lua_setfield(L, -2, "set")
                return j
            }
            lua_createtable(L, Int32(v), 0)
            for k in 0..<v {
                j = push(p, n, at: j)
                lua_rawseti(L, -2, Int32(k + 1))
            }
            return j
        case 37: // % map
            var j = after
            lua_createtable(L, 0, 1)
            lua_createtable(L, 0, Int32(v))
            for _ in 0..<v {
                j = push(p, n, at: j)
                j = push(p, n, at: j)
                lua_settable(L, -3)
            }
            lua_setfield(L, -2, "map")
            return j
        case 95: // _ null
            lua_pushnil(L)
            return lineEnd(p, n, pos) + 2
        case 35: // # boolean
            lua_pushboolean(L, p[pos + 1] == 116 ? 1 : 0)
            return lineEnd(p, n, pos) + 2
        case 44: // , double
            let e = lineEnd(p, n, pos)
            lua_createtable(L, 0, 1)
            lua_pushnumber(L, Double(String(decoding: UnsafeBufferPointer(start: p + pos + 1, count: e - pos - 1),
                                            as: UTF8.self)) ?? 0)
            lua_setfield(L, -2, "double")
            return e + 2
        case 40: // ( big number
            let e = lineEnd(p, n, pos)
            lua_createtable(L, 0, 1)
            rk_lua_pushbytes(L, p + pos + 1, e - pos - 1)
            lua_setfield(L, -2, "big_number")
            return e + 2
        case 61: // = verbatim
            lua_createtable(L, 0, 1)
            lua_createtable(L, 0, 2)
            rk_lua_pushbytes(L, p + after, min(3, v))
            lua_setfield(L, -2, "format")
            rk_lua_pushbytes(L, p + after + 4, max(0, v - 4))
            lua_setfield(L, -2, "string")
            lua_setfield(L, -2, "verbatim_string")
            return after + v + 2
        default:
            lua_pushboolean(L, 0)
            return n
        }
    }

    private func lineEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ pos: Int) -> Int {
        var e = pos
        while e < n && p[e] != 13 { e += 1 }
        return e
    }

    // MARK: redis.* called from scripts

    /// "user_script:N: ", the position of the Lua line that called the
    /// running C function, as luaL_error prefixes its messages.
    func whereCalled() -> String {
        var ar = lua_Debug()
        guard lua_getstack(L, 1, &ar) != 0, lua_getinfo(L, "Sl", &ar) != 0, ar.currentline > 0,
              let src = ar.source else { return "" }
        let s = String(cString: src)
        return (s.hasPrefix("@") ? String(s.dropFirst()) : s) + ":\(ar.currentline): "
    }

    /// Pushes `{err=msg}` and reports a Lua error to the trampoline.
    func raise(_ msg: String) -> Int32 {
        lua_createtable(L, 0, 1)
        lua_pushstring(L, msg)
        lua_setfield(L, -2, "err")
        return -1
    }

    func redisCall(protected: Bool) -> Int32 {
        guard let run = run else { return raise("ERR redis.call is only available inside a script") }
        let argc = lua_gettop(L)
        if argc == 0 { return raise("ERR Please specify at least one argument for this redis lib call") }
        if run.wantsAllShards { return raise("ERR script is restarting") }
        argBytes.clear()
        lens.removeAll(keepingCapacity: true)
        for i in 1...argc {
            let t = lua_type(L, i)
            guard t == LUA_TSTRING || t == LUA_TNUMBER else {
                return raise("ERR Lua redis lib command arguments must be strings or integers")
            }
            var n = 0
            let p = lua_tolstring(L, i, &n)!
            argBytes.append(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), n)
            lens.append(n)
        }
        callArgs.reset()
        var off = 0
        for n in lens {
            callArgs.push(Arg(UnsafePointer(argBytes.base + off), n))
            off += n
        }
        guard let out = host.scriptCommand(callArgs, run) else {
            return raise("ERR script is restarting")
        }
        let p = UnsafePointer(out.base)
        if out.count == 0 {
            lua_pushboolean(L, 0)
            return 1
        }
        if p[0] == 45 && !protected {
            // An error reply raises; its text is the reply without the '-'.
            let e = lineEnd(p, out.count, 0)
            lua_createtable(L, 0, 1)
            rk_lua_pushbytes(L, p + 1, e - 1)
            lua_setfield(L, -2, "err")
            return -1
        }
        push(p, out.count, at: 0)
        return 1
    }
}

/// Formats a double as Redis's RESP3 double (%.17g, with inf and nan).
/// A FUNCTION library's function in one worker's Lua state.
struct LoadedFunction {
    let name: String
    let ref: Int32
    let description: String?
    let flags: [String]
    var noWrites: Bool { flags.contains("no-writes") }
}

/// Letters, digits and underscores, at least one (library and function names).
func validLibraryName(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
}
