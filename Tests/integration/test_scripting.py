"""Lua scripting (EVAL family, SCRIPT) against redis-server 7.0, on every
matrix entry: each scenario's replies must match byte for byte, errors
included. With 4 shards, scripts whose keys live on several shards, and
scripts that touch keys they did not declare, must still be atomic.
"""
from __future__ import annotations

import hashlib
import threading
import time

import pytest
import redis

import harness

RATE_LIMITER = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if current > tonumber(ARGV[2]) then return {err = 'RATELIMITED try later'} end
return {current, redis.call('PTTL', KEYS[1]) > 0}
"""

LOCK_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

TRANSFER = """
local from = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if from < amount then return redis.error_reply('INSUFFICIENT funds') end
redis.call('DECRBY', KEYS[1], amount)
return redis.call('INCRBY', KEYS[2], amount)
"""


MYLIB = """#!lua name=mylib
local function incr(keys, args) return redis.call('INCR', keys[1]) end
redis.register_function('myincr', incr)
redis.register_function{function_name='echo_ro', callback=function(keys, args) return args[1] end,
  flags={'no-writes'}, description='echoes'}
"""

LISTLIB = """#!lua name=listlib
redis.register_function{function_name='only', callback=function() return 1 end, flags={'no-writes', 'allow-oom'},
  description='the only one'}
"""

RO_SCRIPT = "#!lua flags=no-writes\nreturn 9"
RW_SCRIPT = "#!lua\nreturn 10"


def ev(script, *keys_and_args, numkeys=None):
    keys = keys_and_args if numkeys is None else keys_and_args[:numkeys]
    n = len(keys) if numkeys is None else numkeys
    return ("EVAL", script, str(n), *keys_and_args)


SCENARIOS = {
    "errors": [
        (0, ev("x = 1")), (0, ev("return y")), (0, ev("error('boom')")), (0, ev("return 1 +")),
        (0, ev("return redis.call()")), (0, ev("return redis.call('set', {})")),
        (0, ev("return redis.call('nosuchcommand')")), (0, ev("return redis.call('save')")),
        (0, ev("return redis.call('get')")), (0, ("EVAL", "return 1", "-1")), (0, ("EVAL", "return 1", "5", "a")),
        (0, ("EVAL", "return 1", "x")), (0, ev("error({err='CUSTOM my error'})")),
        (0, ev("local t = nil; return t.x")), (0, ev("return loadfile")), (0, ev("return os")),
        (0, ev("redis = nil")),
    ],
    "call_errors_raise_pcall_returns": [
        (0, ("SET", "s", "abc")),
        (0, ev("return redis.call('incr', KEYS[1])", "s")),
        (0, ev("return redis.pcall('incr', KEYS[1])", "s")),
        (0, ev("local r = redis.pcall('incr', KEYS[1]); return type(r) .. ':' .. r.err", "s")),
        (0, ev("local ok, e = pcall(redis.call, 'incr', KEYS[1]); return {tostring(ok), e.err}", "s")),
    ],
    "conversions": [
        (0, ("SET", "k", "v")), (0, ("SET", "n", "10")),
        (0, ev("return {1, 2, 3.7, -4.9, 'x', true, false, nil, 5}")),
        (0, ev("return {ok='fine'}")), (0, ev("return {err='My Err'}")),
        (0, ev("return redis.error_reply('FOO bar')")), (0, ev("return redis.status_reply('DONE')")),
        (0, ev("return redis.call('get', KEYS[1])", "k")), (0, ev("return redis.call('get', 'missing')")),
        (0, ev("return redis.call('get', 'missing') == false")),
        (0, ev("return redis.call('set', KEYS[1], 'x')", "k")),
        (0, ev("return redis.call('set', KEYS[1], 'x')['ok']", "k")),
        (0, ev("return redis.call('incr', KEYS[1])", "n")), (0, ev("return type(redis.call('incr', KEYS[1]))", "n")),
        (0, ev("return redis.call('mget', 'k', 'missing', 'n')")),
        (0, ev("return {{1, {2, {'deep'}}}, {}}")), (0, ev("return 'bytes\\0with\\r\\nzero'")),
        (0, ev("return true")), (0, ev("return false")), (0, ev("return nil")), (0, ev("return 3.99")),
        # Out of range for an integer reply: C's cast, as Redis gives it, never a crash.
        (0, ev("return 1e300")), (0, ev("return -1e300")), (0, ev("return 0/0")), (0, ev("return {2^63, -2^63}")),
        (0, ev("math.randomseed(1e300); return 1")), (0, ev("redis.log(1e300, 'x')")), (0, ev("redis.setresp(0/0)")),
        (0, ev("return redis.call('set', 'f', 1.5) and redis.call('get', 'f')")),
        (0, ev("return redis.call('set', 'big', 12345678901) and redis.call('get', 'big')")),
    ],
    "keys_and_argv": [
        (0, ev("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "a", "b", "x", "y", numkeys=2)),
        (0, ev("return {#KEYS, #ARGV}")),
        (0, ev("return ARGV", "one", "two", numkeys=0)),
    ],
    "resp3": [
        (0, ("HELLO", "3")),
        (0, ("SET", "k", "v")),
        (0, ev("return {true, false, nil}")), (0, ev("return true")), (0, ev("return false")),
        (0, ev("return {double=3.5}")), (0, ev("return {map={a=1}}")), (0, ev("return {set={x=true}}")),
        (0, ev("redis.setresp(3); local r = redis.call('get', 'missing'); return r == nil")),
        (0, ev("redis.setresp(3); return redis.call('get', 'k')")),
        (0, ev("redis.setresp(3); return redis.call('exists', 'k')")),
        (0, ev("redis.setresp(4)")), (0, ev("redis.setresp()")),
        (0, ("HELLO", "2")),
        (0, ev("return {double=3.5}")), (0, ev("return {map={a=1}}")),
    ],
    "evalsha_and_script_cache": [
        (0, ("SCRIPT", "FLUSH")),
        (0, ("SCRIPT", "LOAD", "return 'loaded'")),
        (0, ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")),
        (0, ("EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0")),
        (0, ("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "ffffffffffffffffffffffffffffffffffffffff")),
        (0, ev("return 'via eval'")),
        (1, ("EVALSHA", "1b45a6f52b84a48ec26ae4de5a4f2c6b5c0b7a10", "0")),
        (0, ("SCRIPT", "FLUSH", "ASYNC")),
        (0, ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")),
        (0, ("EVALSHA", "short", "0")),
        (0, ("SCRIPT", "FLUSH", "BOGUS")),
        (0, ("SCRIPT", "LOAD", "return +")),
        (0, ("SCRIPT", "KILL")),
        (0, ("SCRIPT", "NOSUCH")),
    ],
    "read_only_and_shebang": [
        (0, ("EVAL_RO", "return redis.call('set', KEYS[1], 'v')", "1", "a")),
        (0, ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "a")),
        (0, ev("#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'v')", "a")),
        (0, ev("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "a")),
        (0, ev("#!lua\nreturn redis.call('set', KEYS[1], 'v')", "a")),
        (0, ("EVAL_RO", "#!lua\nreturn 1", "0")),
        (0, ("EVAL_RO", "#!lua flags=no-writes\nreturn 2", "0")),
        (0, ev("#!lua flags=bogus\nreturn 1")), (0, ev("#!py\nreturn 1")), (0, ev("#!lua name=x\nreturn 1")),
        (0, ev("#!lua flags=allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 3")),
        (0, ev("#!lua\n\nerror('line three')")),
        (0, ("SCRIPT", "LOAD", "return 7")), (0, ("EVALSHA_RO", "1cd3cd45ec7d0bb9a1a74f3dbe3a0f9a65c3a6ec", "0")),
        # EVALSHA keeps the shebang's flags of a script EVAL cached.
        (0, ev(RO_SCRIPT)), (0, ("EVALSHA_RO", hashlib.sha1(RO_SCRIPT.encode()).hexdigest(), "0")),
        (0, ev(RW_SCRIPT)), (0, ("EVALSHA_RO", hashlib.sha1(RW_SCRIPT.encode()).hexdigest(), "0")),
    ],
    "redis_api": [
        (0, ev("return redis.sha1hex('')")), (0, ev("return redis.sha1hex('abc')")), (0, ev("return redis.sha1hex()")),
        (0, ev("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}")),
        (0, ev("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}")),
        (0, ev("redis.log(redis.LOG_WARNING, 'from a test'); return 1")), (0, ev("redis.log('x', 'y')")),
        (0, ev("redis.log(1)")), (0, ev("return redis.replicate_commands()")),
        (0, ev("redis.set_repl(redis.REPL_ALL); return 1")), (0, ev("redis.set_repl(99)")),
        (0, ev("return redis.breakpoint()")), (0, ev("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_ALL}")),
    ],
    "libraries": [
        (0, ev("return cjson.encode({1, 2, 'a', {b = true}})")),
        (0, ev("return cjson.decode('[1,2,{\"x\":\"y\"}]')[3].x")),
        (0, ev("return {bit.band(7, 3), bit.bor(1, 6), bit.bxor(5, 3), bit.lshift(1, 4), bit.tohex(255)}")),
        (0, ev("return {string.format('%05.1f', 3.14159), string.rep('ab', 3), table.concat({1, 2, 3}, '-')}")),
        (0, ev("return math.floor(7.9)")),
        (0, ev("math.randomseed(42); return {math.random(1000), math.random(5, 10), tostring(math.random())}")),
        (0, ev("math.randomseed(42); return math.random(0)")),
    ],
    "cmsgpack_and_struct": [
        (0, ev("return cmsgpack.pack(1, -1, 300, -300, 70000, -70000, 2^40, 1.5, 0.1, 'hi', true, false, {1, 2}, {a = 1}, {})")),
        (0, ev("return cmsgpack.pack({string.rep('x', 40)}, string.rep('y', 300), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})")),
        (0, ev("local t = {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, {x = 'y'}}, -5.25, false))}; return {#t, t[1], t[2], t[3][2].x, tostring(t[4]), tostring(t[5])}")),
        (0, ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0)}")),
        (0, ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}")),
        (0, ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}")),
        (0, ev("return cmsgpack.unpack(string.char(205))")), (0, ev("return cmsgpack.unpack(string.char(193))")),
        (0, ev("return cmsgpack.pack()")),
        (0, ev("return {struct.pack('>I2i4s', 258, -2, 'ab')}")),
        (0, ev("return {struct.unpack('<hBc3', string.char(1, 0, 255) .. 'xyz')}")),
        (0, ev("return {struct.size('>iIhd'), struct.size('!4 b i'), struct.size('<lLT')}")),
        (0, ev("return struct.pack('!4 b i', 1, 2)")),
        (0, ev("return {struct.unpack('>d f', struct.pack('>d f', 1.25, 0.5))}")),
        (0, ev("return {struct.unpack('>b h i8', struct.pack('>b h i8', -1, -300, -5))}")),
        (0, ev("return struct.pack('q', 1)")), (0, ev("return {struct.unpack('>i2', 'a')}")),
        (0, ev("return {struct.pack('>i4', -1e30)}")),
        (0, ev("return {struct.unpack('>L', string.rep(string.char(255), 8))}")),
    ],
    "select_stays_inside": [
        (0, ev("redis.call('select', 5); redis.call('set', 'in5', 'x'); return redis.call('get', 'in5')")),
        (0, ("GET", "in5")), (0, ("SELECT", "5")), (0, ("GET", "in5")), (0, ("FLUSHDB",)), (0, ("SELECT", "0")),
    ],
    "rate_limiter": [
        (0, ev(RATE_LIMITER, "rl:user", "60000", "2", numkeys=1)),
        (0, ev(RATE_LIMITER, "rl:user", "60000", "2", numkeys=1)),
        (0, ev(RATE_LIMITER, "rl:user", "60000", "2", numkeys=1)),
    ],
    "lock_release": [
        (0, ("SET", "lock:a", "token1", "NX", "PX", "10000")),
        (1, ev(LOCK_RELEASE, "lock:a", "other", numkeys=1)),
        (0, ev(LOCK_RELEASE, "lock:a", "token1", numkeys=1)),
        (0, ("EXISTS", "lock:a")),
    ],
    "transfer_across_keys": [
        (0, ("SET", "acct:1", "100")),
        (0, ev(TRANSFER, "acct:1", "acct:2", "30", numkeys=2)),
        (0, ev(TRANSFER, "acct:1", "acct:2", "300", numkeys=2)),
        (0, ("MGET", "acct:1", "acct:2")),
    ],
    "undeclared_keys": [
        (0, ("MSET", "u1", "1", "u2", "2", "u3", "3", "u4", "4", "u5", "5")),
        (0, ev("local s = 0; for i = 1, 5 do s = s + redis.call('incr', 'u' .. i) end; return s")),
        (0, ev("redis.call('set', 'w1', 'a'); for i = 2, 6 do redis.call('set', 'w' .. i, 'b') end; return redis.call('mget', 'w1', 'w6')")),
        (0, ("MGET", "u1", "u5", "w3")),
    ],
    "functions": [
        (0, ("FUNCTION", "FLUSH")),
        (0, ("FUNCTION", "LOAD", MYLIB)),
        (0, ("FCALL", "myincr", "1", "fk")), (0, ("FCALL", "myincr", "1", "fk")),
        (0, ("FCALL_RO", "echo_ro", "0", "hello")), (0, ("FCALL_RO", "myincr", "1", "fk")),
        (0, ("FCALL", "nosuch", "0")), (0, ("FCALL", "myincr", "-1")), (0, ("FCALL", "myincr", "x")),
        (0, ("FCALL", "myincr", "2", "a")),
        (0, ("FUNCTION", "LOAD", MYLIB)), (0, ("FUNCTION", "LOAD", "REPLACE", MYLIB)),
        # One function per listed library: Redis lists a library's functions in hash order.
        (0, ("FUNCTION", "LOAD", LISTLIB)),
        (0, ("FUNCTION", "LIST", "LIBRARYNAME", "list*")), (0, ("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "listlib")),
        (0, ("FUNCTION", "DELETE", "listlib")),
        (0, ("FUNCTION", "LIST", "LIBRARYNAME", "zz*")), (0, ("FUNCTION", "LIST", "BOGUS")),
        (0, ("FUNCTION", "LIST", "LIBRARYNAME")), (0, ("FUNCTION", "STATS")),
        (0, ("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('myincr', function() return 1 end)")),
        (0, ("FUNCTION", "LOAD", "#!lua name=rt\nredis.register_function('fe', function(k, a) return redis.call('incr', 'zz' .. nil) end)")),
        (0, ("FCALL", "fe", "0")),
        (0, ("FUNCTION", "DELETE", "rt")), (0, ("FUNCTION", "DELETE", "rt")), (0, ("FCALL", "fe", "0")),
        (1, ("FCALL", "myincr", "1", "fk")),
        (0, ("FUNCTION", "KILL")), (0, ("FUNCTION", "FLUSH", "BOGUS")), (0, ("FUNCTION", "RESTORE", "abc")),
        (0, ("FUNCTION", "NOSUCH")), (0, ("FUNCTION", "DELETE")),
        (0, ("FUNCTION", "FLUSH", "SYNC")), (0, ("FCALL", "myincr", "1", "fk")), (0, ("FUNCTION", "STATS")),
    ],
    "function_load_errors": [
        (0, ("FUNCTION", "LOAD", "return 1")),
        (0, ("FUNCTION", "LOAD", "#!lua\nredis.register_function('a', function() end)")),
        (0, ("FUNCTION", "LOAD", "#!js name=x\nx")),
        (0, ("FUNCTION", "LOAD", "#!lua name=x foo=bar\nredis.register_function('a', function() end)")),
        (0, ("FUNCTION", "LOAD", "#!lua name=a-b\nredis.register_function('a', function() end)")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function('a-b', function() end)")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function{function_name='zz', callback=function() end, flags={'bogus'}}")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function{function_name='zz', callback=function() end, other=1}")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function('zz')")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function('zz', 1)")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nlocal x = 1")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nreturn +")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.call('set', 'a', 'b')")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nlocal s = string")),
        (0, ("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)")),
        (0, ev("redis.register_function('x', function() end)")),
        (0, ("FUNCTION", "LIST")),
    ],
    # Found by the differential campaign: a digest that is not 40 bytes ran
    # as the empty name (and crashed a 4-shard server).
    "evalsha_bad_digest": [
        (0, ("EVALSHA", "ffff", "0")), (0, ("EVALSHA", "ffff", "x")), (0, ("EVALSHA", "", "0")),
        (0, ("EVALSHA", "f" * 40, "0")), (0, ("EVALSHA", "f" * 40, "x")), (0, ("EVALSHA", "\u00e9" * 20, "0")),
        (0, ("EVALSHA_RO", "abc", "1", "k")), (0, ev("return 1")), (0, ("EVALSHA", "ffff", "0")), (0, ("PING",)),
    ],
    # Found by the differential campaign: a script reading INCRBY's floor
    # (-9223372036854775808) overflowed the reply parser, and a struct
    # size or alignment past INT_MAX overflowed the format parser.
    "int64_floor_and_struct_sizes": [
        (0, ev("return redis.call('INCRBY', KEYS[1], ARGV[1])", "n", "-9223372036854775808")),
        (0, ev("return redis.call('GET', KEYS[1])", "n")),
        (0, ev("return {redis.call('DECRBY', KEYS[1], '0'), redis.pcall('DECR', KEYS[1])}", "n")),
        (0, ev("return struct.pack('!2147483648', 1)")), (0, ev("return struct.pack('!99999999999999999999', 1)")),
        (0, ev("return struct.pack('i99999999999', 1)")), (0, ev("return struct.size('c2147483647')")),
        (0, ev("return struct.pack('!3', 1)")), (0, ev("return struct.pack('!0', 1)")),
        (0, ev("return struct.unpack('!5i', 'abcd')")), (0, ev("return struct.size('!8i')")),
        (0, ev("return struct.pack('>!4i2', 7)")), (0, ("PING",)),
    ],
    # Found by the differential campaign: status and error tables end at a
    # NUL and keep other bytes as they are; a double is printed %.17g.
    "binary_status_error_double": [
        (0, ev("return {ok=ARGV[1]}", b"a\x00b\r\nc", numkeys=0)),
        (0, ev("return {err='CUSTOM ' .. ARGV[1]}", b"\x00\xff", numkeys=0)),
        (0, ev("return {err=ARGV[1]}", b"\xff\xfe\r\n", numkeys=0)),
        (0, ev("return redis.status_reply('S ' .. ARGV[1])", b"\xff", numkeys=0)),
        (0, ev("return redis.error_reply('E ' .. ARGV[1])", b"a\x00b", numkeys=0)),
        (0, ev("error({err='X ' .. ARGV[1]})", b"\xff\xfe", numkeys=0)),
        (0, ev("error({err='X ' .. ARGV[1]})", b"a\x00b", numkeys=0)),
        (0, ev("error('boom ' .. ARGV[1])", b"\xff\x00z", numkeys=0)),
        (0, ("ZADD", "z", "0.1", "a", "1e300", "b", "-inf", "c")),
        (0, ev("redis.setresp(3); return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", "z")),
        (0, ev("redis.setresp(3); return redis.call('ZSCORE', KEYS[1], 'a')", "z")),
        (0, ev("return {double=0.1}")), (0, ev("return {double=tonumber(ARGV[1])}", "-0.5", numkeys=0)),
        (0, ("HELLO", "3")), (0, ev("redis.setresp(3); return redis.call('ZSCORE', KEYS[1], 'a')", "z")),
        (0, ev("return {double=1/0}")), (0, ("HELLO", "2")),
    ],
    "multi_exec_with_eval": [
        (0, ("MULTI",)), (0, ev("return redis.call('incr', KEYS[1])", "m")), (0, ("INCR", "m")),
        (0, ev("return redis.call('incrby', 'other', 5)")), (0, ("EXEC",)),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scripts_match_redis(ringkv, redis_dbg, name):
    steps = SCENARIOS[name]
    mine = harness.play(ringkv, steps)
    ref = harness.play(redis_dbg, steps)
    for a, b in zip(mine, ref):
        assert a == b, f"{name}: after {a[1]!r} ringkv said {a[2]!r}, redis said {b[2]!r}"
    assert len(mine) == len(ref)


def test_function_dump_restores_both_ways(ringkv, redis_dbg):
    """A FUNCTION DUMP payload from redis-server (LZF-compressed) restores into
    ringkv, and ringkv's payload restores into redis-server."""
    a, b = ringkv.client(), redis_dbg.client()
    for c in (a, b):
        c.function_flush()
    b.function_load(MYLIB)
    a.function_restore(b.function_dump())
    assert a.fcall("myincr", 1, "dk") == 1
    assert a.fcall_ro("echo_ro", 0, "x") == b"x"
    b.function_flush()
    b.function_restore(a.function_dump())
    assert b.fcall("myincr", 1, "dk") == 1
    with pytest.raises(redis.ResponseError, match="already exists"):
        a.function_restore(b.function_dump())
    a.function_restore(b.function_dump(), "REPLACE")
    a.function_restore(b.function_dump(), "FLUSH")
    assert len(a.function_list()) == 1
    for c in (a, b):
        c.function_flush()
        c.close()


def test_redis_py_register_script_and_lock(r):
    incr_by = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5
    r.script_flush()
    assert incr_by(keys=["counter"], args=[2]) == 7  # NOSCRIPT, then EVAL, inside redis-py
    lock = r.lock("resource", timeout=5)
    assert lock.acquire(blocking=False)
    assert not r.lock("resource", timeout=5).acquire(blocking=False)
    lock.extend(5)
    assert r.pttl("resource") > 5000
    lock.release()
    assert not r.exists("resource")
    with pytest.raises(redis.exceptions.LockError):
        lock.release()


def test_undeclared_keys_switch_to_all_shards(server_factory):
    s = server_factory(shards=4, backend="epoll")
    c = redis.Redis(port=s.port)
    script = "local n = 0; for i = 1, 16 do n = n + redis.call('incr', 'k' .. i) end; return n"
    assert c.eval(script, 0) == 16
    assert c.eval(script, 0) == 32
    runs = int(c.info("stats")["scripts_all_shards_runs"])
    assert runs >= 2, runs
    # A script's first run locks every shard; once it has kept to its
    # declared keys' shards, it locks only those.
    c.eval("return redis.call('set', KEYS[1], 'x')", 1, "{t}a")
    runs = int(c.info("stats")["scripts_all_shards_runs"])
    for _ in range(3):
        c.eval("return redis.call('set', KEYS[1], 'x')", 1, "{t}a")
    assert int(c.info("stats")["scripts_all_shards_runs"]) == runs
    c.close()


@pytest.mark.parametrize("backend", ["uring", "epoll"])
def test_scripts_are_atomic_across_shards(server_factory, backend):
    """Scripts move value between 8 keys on 4 shards (declared and not);
    readers (MGET, a read-only script) must always see the same total."""
    s = server_factory(shards=4, backend=backend)
    keys = [f"bal:{i}" for i in range(8)]
    setup = redis.Redis(port=s.port)
    setup.mset({k: 100 for k in keys})
    move = """
    local a = tonumber(redis.call('GET', KEYS[1]))
    redis.call('SET', KEYS[1], a - 1)
    redis.call('INCR', KEYS[2])
    return 1"""
    move_undeclared = """
    local a = tonumber(redis.call('GET', ARGV[1]))
    redis.call('DECR', ARGV[1])
    redis.call('INCR', ARGV[2])
    return a"""
    total = "local s = 0; for i = 1, #KEYS do s = s + tonumber(redis.call('GET', KEYS[i])) end; return s"
    stop = time.monotonic() + 2.5
    errors: list[str] = []
    counts = [0, 0, 0, 0]

    def loop(i, fn):
        c = redis.Redis(port=s.port)
        n = 0
        try:
            while time.monotonic() < stop and not errors:
                fn(c, n)
                n += 1
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        counts[i] = n
        c.close()

    def mover(c, n):
        a, b = keys[n % 8], keys[(n * 3 + 1) % 8]
        if a != b:
            c.eval(move, 2, a, b)

    def undeclared_mover(c, n):
        a, b = keys[(n + 2) % 8], keys[(n * 5 + 3) % 8]
        if a != b:
            c.eval(move_undeclared, 0, a, b)

    def mget_reader(c, n):
        vals = [int(v) for v in c.mget(keys)]
        assert sum(vals) == 800, vals

    def script_reader(c, n):
        assert c.eval(total, len(keys), *keys) == 800

    fns = [mover, undeclared_mover, mget_reader, script_reader]
    threads = [threading.Thread(target=loop, args=(i, f)) for i, f in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(n > 20 for n in counts), counts
    assert sum(int(v) for v in setup.mget(keys)) == 800
    setup.close()


def _busy_case(s: harness.Server, start_cmd, kill_cmd):
    """Starts a slow script on one connection, then finds a connection that
    answers (any, since the script's own worker serves its other connections
    from the Lua hook: test_script_busy.py) and returns (what that connection
    got for GET, for the KILL, what the script got)."""
    runner = harness.RespConn(s.port, timeout=20)
    runner.send(harness.encode(*start_cmd))
    time.sleep(0.4)
    probes = [harness.RespConn(s.port, timeout=0.5) for _ in range(12)]
    free = None
    for p in probes:
        try:
            got = p.call("GET", "x")
            free = p
            break
        except OSError:
            continue
    assert free is not None, "no connection on another worker"
    killed = free.call(*kill_cmd)
    result = runner.read()
    for p in probes:
        p.close()
    runner.close()
    return got, killed, result


def test_busy_script_gets_busy_and_script_kill(server_factory, redis_dbg):
    s = server_factory(shards=4, backend="uring", extra=["--busy-reply-threshold", "100"])
    ref = redis_dbg.client()
    ref.config_set("busy-reply-threshold", 100)
    spin = ("EVAL", "local i = 0 while true do i = i + 1 end", "0")
    got, killed, result = _busy_case(s, spin, ("SCRIPT", "KILL"))
    assert got == ("-", b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    assert killed == ("+", b"OK")
    want = b"ERR Script killed by user with SCRIPT KILL... script: 3fcf51a9b854b8f66cb8685600b0d7df968f4398, on @user_script:1."
    assert result == ("-", want)
    # The same through redis-server, for the texts.
    r2 = harness.RespConn(redis_dbg.port, timeout=20)
    r2.send(harness.encode(*spin))
    time.sleep(0.4)
    other = harness.RespConn(redis_dbg.port)
    assert other.call("GET", "x") == got
    assert other.call("SCRIPT", "KILL") == killed
    assert r2.read() == result
    other.close()
    r2.close()
    ref.config_set("busy-reply-threshold", 5000)
    ref.close()
    c = redis.Redis(port=s.port)
    assert c.ping()
    with pytest.raises(redis.ResponseError, match="NOTBUSY"):
        c.execute_command("SCRIPT", "KILL")
    c.close()


def test_busy_writer_is_unkillable_until_shutdown_nosave(server_factory):
    s = server_factory(shards=4, backend="epoll", extra=["--busy-reply-threshold", "100"])
    writer = ("EVAL", "redis.call('set', 'w', '1') while true do end", "0")
    runner = harness.RespConn(s.port, timeout=20)
    runner.send(harness.encode(*writer))
    time.sleep(0.4)
    probes = [harness.RespConn(s.port, timeout=0.5) for _ in range(12)]
    free = None
    for p in probes:
        try:
            p.call("PING")
            free = p
            break
        except OSError:
            continue
    assert free is not None
    killed = free.call("SCRIPT", "KILL")
    assert killed[0] == "-" and killed[1].startswith(b"UNKILLABLE Sorry the script already executed write commands")
    free.send(harness.encode("SHUTDOWN", "NOSAVE"))
    s.proc.wait(timeout=10)
    for p in probes:
        p.close()
    runner.close()


SNIPPETS = [
    "redis.call({cmd}, {a}, {b})", "redis.pcall({cmd}, {a})", "cmsgpack.unpack({s})", "cmsgpack.pack({a}, {{{b}}})",
    "struct.unpack({fmt}, {s})", "struct.pack({fmt}, {a}, {b})", "cjson.decode({s})", "redis.setresp({n})",
    "redis.sha1hex({s})", "math.random({n})", "bit.band({n}, {n})", "string.rep({s}, {n})",
    "redis.call('set', KEYS[1], {s})", "redis.call('get', KEYS[1])", "error({s})", "redis.status_reply({s})",
]
VALUES = ["'x'", "1", "-1", "0", "3.5", "''", "'\\0\\255'", "nil", "true", "{}", "KEYS[1]", "ARGV[1]", "2^53", "-2^63"]
CMDS = ["'get'", "'set'", "'incr'", "'mget'", "'del'", "'exists'", "'ping'", "'eval'", "'multi'", "'select'",
        "'keys'", "'rename'", "'msetnx'", "'nosuch'", "'dbsize'", "'function'", "'script'"]
FMTS = ["'>i4'", "'<h'", "'c0'", "'s'", "'!8 d'", "'i9'", "'x'", "'q'", "'bBhHlLT'"]


def _random_script(rng):
    lines = []
    for _ in range(rng.randint(1, 4)):
        sn = rng.choice(SNIPPETS).format(
            cmd=rng.choice(CMDS), a=rng.choice(VALUES), b=rng.choice(VALUES), s=rng.choice(VALUES),
            n=rng.choice(["1", "2", "3", "0", "-1", "100"]), fmt=rng.choice(FMTS))
        lines.append(f"pcall(function() return {sn} end)" if rng.random() < 0.5 else f"local _ = {sn}")
    lines.append(f"return {rng.choice(VALUES)}")
    return "\n".join(lines)


def test_random_scripts_never_crash(ringkv):
    """Random scripts from snippets (bad arguments, odd values, library calls
    on junk, commands scripts may not run), plus random FUNCTION RESTORE
    payloads: every call gets a reply and the server stays up."""
    import os
    import random
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(1 << 30)))
    print(f"FUZZ_SEED={seed}")
    rng = random.Random(seed)
    c = harness.RespConn(ringkv.port, timeout=20)
    try:
        for _ in range(300):
            body = _random_script(rng)
            reply = c.call("EVAL", body, "1", "fz:" + str(rng.randint(0, 5)), "argv")
            assert reply is not None, body
        for _ in range(100):
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
            if rng.random() < 0.5:
                payload = b"\xf5" + payload + b"\x0a\x00" + bytes(8)
            assert c.call("FUNCTION", "RESTORE", payload)[0] == "-"
        assert c.call("PING") == ("+", b"PONG")
    finally:
        c.call("FUNCTION", "FLUSH")
        c.close()


def test_one_key_scripts_run_on_their_keys_shard(server_factory):
    """A known script whose key lives on another shard runs there (one hop);
    one that then reaches past that shard before writing reruns with every
    shard locked, and gives the same answers throughout."""
    s = server_factory(shards=4, backend="uring")
    c = redis.Redis(port=s.port)
    incr = c.register_script("return redis.call('INCR', KEYS[1])")
    for i in range(40):
        assert incr(keys=[f"one:{i % 10}"]) == i // 10 + 1
    # Reads an undeclared key (on some shard) before it writes its own.
    peek = c.register_script("local o = redis.call('GET', ARGV[1]) or '0'; return redis.call('INCRBY', KEYS[1], o)")
    c.mset({f"src:{i}": i for i in range(10)})
    total = 0
    for i in range(10):
        total += i
        assert peek(keys=["sum"], args=[f"src:{i}"]) == total
    assert int(c.info("stats")["scripts_all_shards_runs"]) >= 1
    c.close()


def test_names_are_bytes_not_unicode(ringkv, redis_ref):
    """A function, library or script named by bytes that Unicode would call
    equal (KELVIN SIGN is canonically "K") names nothing, as in Redis."""
    kelvin = "\u212a".encode()
    lib = "#!lua name=Klib\nredis.register_function('Kf', function() return 1 end)"
    steps = [
        (0, ("FUNCTION", "FLUSH")), (0, ("FUNCTION", "LOAD", lib)),
        (0, ("FCALL", "Kf", "0")), (0, ("FCALL", kelvin + b"f", "0")),
        (0, ("FUNCTION", "DELETE", kelvin + b"lib")), (0, ("FUNCTION", "DELETE", "Klib")),
        (0, ("SCRIPT", "EXISTS", "\u00e9" * 20)), (0, ("EVALSHA", "\u00e9" * 20, "0")),
    ]
    assert harness.play(ringkv, steps) == harness.play(redis_ref, steps)


def test_evalsha_of_no_digest_after_flush(ringkv, redis_ref):
    """A digest that is not 40 ASCII bytes names no script, also right after
    SCRIPT FLUSH and an EVAL on the same connection (the server crashed)."""
    steps = [
        (0, ("SCRIPT", "FLUSH")), (0, ("EVAL", "return 7", "0")),
        (0, ("EVALSHA", "\u00e9" * 20, "0")), (0, ("EVALSHA_RO", "\u00e9" * 20, "0")),
        (0, ("EVALSHA", "abc", "0")), (0, ("EVALSHA", "abc", "x")), (0, ("EVALSHA", "", "0")),
        (0, ("EVAL", "return 8", "0")),
    ]
    assert harness.play(ringkv, steps) == harness.play(redis_ref, steps)
    assert ringkv.alive()
