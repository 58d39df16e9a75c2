// Lua 5.1 (Debian's liblua5.1-0-dev), the version Redis embeds, with the
// cjson and bit libraries Debian packages for it, and SHA1 from libmd.
// Lua's API macros become functions here; the C functions scripts call are
// trampolines into one Swift entry point, rk_lua_dispatch, so that a Lua
// error is raised (longjmp) only after the Swift code has returned.
#ifndef RK_LUA_SHIM_H
#define RK_LUA_SHIM_H

#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>
#include <sha1.h>
#include <string.h>

extern int luaopen_cjson(lua_State *);
extern int luaopen_bit(lua_State *);

/// Implemented in Swift (Server/Scripting/LuaBridge.swift). Returns the
/// number of results pushed, or -1 with an error value on the stack.
/// `engine` is the worker's LuaEngine, the functions' upvalue.
extern int rk_lua_dispatch(lua_State *L, int op, void *engine);

enum {
    RK_OP_CALL = 0, RK_OP_PCALL, RK_OP_SHA1HEX, RK_OP_LOG, RK_OP_SETRESP, RK_OP_RANDOM, RK_OP_RANDOMSEED,
    RK_OP_SET_REPL, RK_OP_REPLICATE, RK_OP_BREAKPOINT, RK_OP_DEBUG, RK_OP_ERROR_REPLY, RK_OP_STATUS_REPLY,
    RK_OP_REGISTER_FUNCTION, RK_OP_MP_PACK, RK_OP_MP_UNPACK, RK_OP_MP_UNPACK_ONE, RK_OP_MP_UNPACK_LIMIT,
    RK_OP_ST_PACK, RK_OP_ST_UNPACK, RK_OP_ST_SIZE, RK_OP_COUNT
};

#define RK_TRAMPOLINE(name, op) \
    static int name(lua_State *L) { \
        int n = rk_lua_dispatch(L, op, lua_touserdata(L, lua_upvalueindex(1))); \
        if (n < 0) return lua_error(L); \
        return n; \
    }
RK_TRAMPOLINE(rk_lua_call, RK_OP_CALL)
RK_TRAMPOLINE(rk_lua_pcall, RK_OP_PCALL)
RK_TRAMPOLINE(rk_lua_sha1hex, RK_OP_SHA1HEX)
RK_TRAMPOLINE(rk_lua_log, RK_OP_LOG)
RK_TRAMPOLINE(rk_lua_setresp, RK_OP_SETRESP)
RK_TRAMPOLINE(rk_lua_random, RK_OP_RANDOM)
RK_TRAMPOLINE(rk_lua_randomseed, RK_OP_RANDOMSEED)
RK_TRAMPOLINE(rk_lua_set_repl, RK_OP_SET_REPL)
RK_TRAMPOLINE(rk_lua_replicate, RK_OP_REPLICATE)
RK_TRAMPOLINE(rk_lua_breakpoint, RK_OP_BREAKPOINT)
RK_TRAMPOLINE(rk_lua_debug, RK_OP_DEBUG)
RK_TRAMPOLINE(rk_lua_error_reply, RK_OP_ERROR_REPLY)
RK_TRAMPOLINE(rk_lua_status_reply, RK_OP_STATUS_REPLY)
RK_TRAMPOLINE(rk_lua_register_function, RK_OP_REGISTER_FUNCTION)
RK_TRAMPOLINE(rk_mp_pack, RK_OP_MP_PACK)
RK_TRAMPOLINE(rk_mp_unpack, RK_OP_MP_UNPACK)
RK_TRAMPOLINE(rk_mp_unpack_one, RK_OP_MP_UNPACK_ONE)
RK_TRAMPOLINE(rk_mp_unpack_limit, RK_OP_MP_UNPACK_LIMIT)
RK_TRAMPOLINE(rk_st_pack, RK_OP_ST_PACK)
RK_TRAMPOLINE(rk_st_unpack, RK_OP_ST_UNPACK)
RK_TRAMPOLINE(rk_st_size, RK_OP_ST_SIZE)

/// Opens the libraries Redis 7.0 gives scripts and puts the `redis` table,
/// filled with the trampolines, in the globals; math.random and
/// math.randomseed become Redis's deterministic ones.
/// A trampoline with the engine as its upvalue: no registry lookup per call.
static inline void rk_lua_pushfn(lua_State *L, lua_CFunction f, void *engine) {
    lua_pushlightuserdata(L, engine);
    lua_pushcclosure(L, f, 1);
}

static inline void rk_lua_install(lua_State *L, void *engine) {
    lua_pushcfunction(L, luaopen_base); lua_pushstring(L, ""); lua_call(L, 1, 0);
    lua_pushcfunction(L, luaopen_table); lua_pushstring(L, LUA_TABLIBNAME); lua_call(L, 1, 0);
    lua_pushcfunction(L, luaopen_string); lua_pushstring(L, LUA_STRLIBNAME); lua_call(L, 1, 0);
    lua_pushcfunction(L, luaopen_math); lua_pushstring(L, LUA_MATHLIBNAME); lua_call(L, 1, 0);
    lua_pushcfunction(L, luaopen_debug); lua_pushstring(L, LUA_DBLIBNAME); lua_call(L, 1, 0);
    // Debian's cjson returns its table without setting a global.
    lua_pushcfunction(L, luaopen_cjson); lua_call(L, 0, 1); lua_setglobal(L, "cjson");
    lua_pushcfunction(L, luaopen_bit); lua_pushstring(L, "bit"); lua_call(L, 1, 0);
    lua_pushnil(L); lua_setglobal(L, "loadfile");
    lua_pushnil(L); lua_setglobal(L, "dofile");
    lua_newtable(L);
    static const struct { const char *n; lua_CFunction f; } fs[] = {
        {"call", rk_lua_call}, {"pcall", rk_lua_pcall}, {"sha1hex", rk_lua_sha1hex}, {"log", rk_lua_log},
        {"setresp", rk_lua_setresp}, {"set_repl", rk_lua_set_repl}, {"replicate_commands", rk_lua_replicate},
        {"breakpoint", rk_lua_breakpoint}, {"debug", rk_lua_debug}, {"error_reply", rk_lua_error_reply},
        {"status_reply", rk_lua_status_reply}, {"register_function", rk_lua_register_function},
    };
    for (unsigned i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
        rk_lua_pushfn(L, fs[i].f, engine);
        lua_setfield(L, -2, fs[i].n);
    }
    lua_setglobal(L, "redis");
    // cmsgpack and struct: Swift equivalents (Server/Scripting/LuaPackLibs.swift).
    lua_newtable(L);
    rk_lua_pushfn(L, rk_mp_pack, engine); lua_setfield(L, -2, "pack");
    rk_lua_pushfn(L, rk_mp_unpack, engine); lua_setfield(L, -2, "unpack");
    rk_lua_pushfn(L, rk_mp_unpack_one, engine); lua_setfield(L, -2, "unpack_one");
    rk_lua_pushfn(L, rk_mp_unpack_limit, engine); lua_setfield(L, -2, "unpack_limit");
    lua_setglobal(L, "cmsgpack");
    lua_newtable(L);
    rk_lua_pushfn(L, rk_st_pack, engine); lua_setfield(L, -2, "pack");
    rk_lua_pushfn(L, rk_st_unpack, engine); lua_setfield(L, -2, "unpack");
    rk_lua_pushfn(L, rk_st_size, engine); lua_setfield(L, -2, "size");
    lua_setglobal(L, "struct");
    lua_getglobal(L, "math");
    rk_lua_pushfn(L, rk_lua_random, engine); lua_setfield(L, -2, "random");
    rk_lua_pushfn(L, rk_lua_randomseed, engine); lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}

/// Implemented in Swift: 1 (with the error value pushed) stops the running
/// script (SCRIPT KILL, SHUTDOWN); it also marks a slow script busy.
extern int rk_lua_interrupt(lua_State *L);
static void rk_lua_count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (rk_lua_interrupt(L)) lua_error(L);
}
/// Every `count` instructions, as Redis's script timeout check.
static inline void rk_lua_set_hook(lua_State *L, int count) { lua_sethook(L, rk_lua_count_hook, LUA_MASKCOUNT, count); }
/// After a KILL: the hook runs on every line (and backward jump), so a
/// pcall around a loop cannot keep a killed script alive, as in Redis.
static inline void rk_lua_set_line_hook(lua_State *L) { lua_sethook(L, rk_lua_count_hook, LUA_MASKLINE, 0); }

static inline void rk_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void rk_lua_newtable(lua_State *L) { lua_newtable(L); }
static inline int rk_lua_isnil(lua_State *L, int i) { return lua_isnil(L, i); }
static inline int rk_lua_istable(lua_State *L, int i) { return lua_istable(L, i); }
static inline void rk_lua_getglobal(lua_State *L, const char *n) { lua_getglobal(L, n); }
static inline void rk_lua_setglobal(lua_State *L, const char *n) { lua_setglobal(L, n); }
static inline int rk_lua_registry(void) { return LUA_REGISTRYINDEX; }
static inline void rk_lua_pushbytes(lua_State *L, const void *p, size_t n) { lua_pushlstring(L, (const char *)p, n); }

/// SHA1 of `n` bytes at `p` as 40 lowercase hex digits plus NUL into `out`.
static inline void rk_sha1hex(const void *p, size_t n, char out[41]) {
    SHA1Data((const uint8_t *)p, n, out);
}

#endif
