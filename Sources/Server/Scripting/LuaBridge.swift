import CLua

/// The one entry point of the `redis` table's C trampolines (CLua/shim.h).
/// It never raises itself: it pushes the error value and returns -1, and the
/// trampoline raises once this Swift frame is gone.
@_cdecl("rk_lua_dispatch")
func rkLuaDispatch(_ L: OpaquePointer?, _ op: Int32, _ engine: UnsafeMutableRawPointer?) -> Int32 {
    let e = Unmanaged<LuaEngine>.fromOpaque(engine!).takeUnretainedValue()
    let argc = lua_gettop(L)
    func fail(_ msg: String) -> Int32 {
        lua_pushstring(L, msg)
        return -1
    }
    switch Int(op) {
    case RK_OP_CALL:
        return e.redisCall(protected: false)
    case RK_OP_PCALL:
        let n = e.redisCall(protected: true)
        // A protected call answers its error as a value.
        return n < 0 ? 1 : n
    case RK_OP_SHA1HEX:
        guard argc == 1, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER else {
            return fail("wrong number of arguments")
        }
        var n = 0
        let p = lua_tolstring(L, 1, &n)!
        lua_pushstring(L, sha1Hex(UnsafeRawPointer(p), n))
        return 1
    case RK_OP_LOG:
        if argc < 2 { return fail("redis.log() requires two arguments or more.") }
        guard lua_type(L, 1) == LUA_TNUMBER else { return fail("First argument must be a number (log level).") }
        let level = luaInteger(lua_tonumber(L, 1))
        guard (0...3).contains(level) else { return fail("Invalid debug level.") }
        var parts: [String] = []
        for i in 2...argc { parts.append(e.string(at: i) ?? "") }
        e.host.scriptLog(level: level, parts.joined(separator: " "))
        return 0
    case RK_OP_SETRESP:
        if argc != 1 { return fail("redis.setresp() requires one argument.") }
        let v = luaInteger(lua_tonumber(L, 1))
        guard v == 2 || v == 3 else { return fail("RESP version must be 2 or 3.") }
        e.run?.resp = v
        return 0
    case RK_OP_RANDOM:
        let max = Double(Int32.max)
        let r = Double(e.host.scriptRandom.next() % Int(Int32.max)) / max
        switch argc {
        case 0:
            lua_pushnumber(L, r)
        case 1:
            let u = lua_tonumber(L, 1)
            if u < 1 { return fail(e.whereCalled() + "bad argument #1 to 'random' (interval is empty)") }
            lua_pushnumber(L, (r * u).rounded(.down) + 1)
        case 2:
            let l = lua_tonumber(L, 1), u = lua_tonumber(L, 2)
            if l > u { return fail(e.whereCalled() + "bad argument #2 to 'random' (interval is empty)") }
            lua_pushnumber(L, (r * (u - l + 1)).rounded(.down) + l)
        default:
            return fail(e.whereCalled() + "wrong number of arguments")
        }
        return 1
    case RK_OP_RANDOMSEED:
        e.host.scriptRandom.seed(Int32(truncatingIfNeeded: luaInteger(lua_tonumber(L, 1))))
        return 0
    case RK_OP_SET_REPL:
        if argc != 1 { return fail("redis.set_repl() requires one argument.") }
        let v = luaInteger(lua_tonumber(L, 1))
        guard (0...3).contains(v) else {
            return fail("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        }
        return 0
    case RK_OP_REPLICATE:
        lua_pushboolean(L, 1)
        return 1
    case RK_OP_BREAKPOINT:
        lua_pushboolean(L, 0)
        return 1
    case RK_OP_DEBUG:
        return 0
    case RK_OP_ERROR_REPLY, RK_OP_STATUS_REPLY:
        guard argc == 1, lua_type(L, 1) == LUA_TSTRING else { return fail("wrong number or type of arguments") }
        lua_createtable(L, 0, 1)
        lua_pushvalue(L, 1)
        lua_setfield(L, -2, op == Int32(RK_OP_ERROR_REPLY) ? "err" : "ok")
        return 1
    case RK_OP_MP_PACK: return e.msgpackPack()
    case RK_OP_MP_UNPACK: return e.msgpackUnpack(limit: 0, hasLimitArg: false)
    case RK_OP_MP_UNPACK_ONE: return e.msgpackUnpack(limit: 1, hasLimitArg: false)
    case RK_OP_MP_UNPACK_LIMIT: return e.msgpackUnpack(limit: nil, hasLimitArg: true)
    case RK_OP_ST_PACK: return e.structPack()
    case RK_OP_ST_UNPACK: return e.structUnpack()
    case RK_OP_ST_SIZE: return e.structSize()
    case RK_OP_REGISTER_FUNCTION:
        let n = e.registerFunction()
        return n
    default:
        return fail("unknown redis lib call")
    }
}

/// SHA1 as 40 lowercase hex digits (libmd).
func sha1Hex(_ p: UnsafeRawPointer?, _ n: Int) -> String {
    var out = [CChar](repeating: 0, count: 41)
    out.withUnsafeMutableBufferPointer { o in
        rk_sha1hex(p ?? UnsafeRawPointer(bitPattern: 1)!, n, o.baseAddress!)
    }
    return String(decoding: out.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The count hook's check (CLua/shim.h): a slow script becomes busy, and a
/// KILL or a shutdown stops it with an error the hook raises.
@_cdecl("rk_lua_interrupt")
func rkLuaInterrupt(_ L: OpaquePointer?) -> Int32 {
    let e = LuaEngine.from(L)
    guard let run = e.run, let msg = e.host.scriptInterrupt(run) else { return 0 }
    _ = e.raise(msg)
    return 1
}

/// A Lua number as C's (long long) cast gives it on x86-64, as Redis converts
/// them: NaN and values out of range become Int.min instead of trapping.
func luaInteger(_ d: Double) -> Int {
    guard !d.isNaN, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return Int.min }
    return Int(d)
}
