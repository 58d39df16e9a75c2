"""Hashes (Redis 7.0's t_hash.c) against redis-server 7.0.

Every scenario sends the same commands to ringkv (each matrix entry, 4
shards included) and to the reference and compares the replies on the wire
(RESP type and bytes). A compact hash replies in insertion order, as
Redis's listpack, so those replies compare exactly; a hashtable's order is
its own, so replies marked unordered compare as sorted pairs. OBJECT
ENCODING is compared at and across each conversion threshold.
"""
from __future__ import annotations

import random

import pytest

import harness

LONG65 = "v" * 65
LONG64 = "v" * 64


def U(*cmd):
    """A step whose reply's order may differ (a hashtable walk)."""
    return ("unordered", cmd)


def C1(*cmd):
    """A step on the second connection (another client)."""
    return ("conn1", cmd)


def _pairs(items):
    return [tuple(items[i:i + 2]) for i in range(0, len(items), 2)]


def normalize(cmd, reply):
    """Sorts a collection reply so two hashtable walks compare equal."""
    t, v = reply
    if t not in "*%~" or v is None:
        return reply
    name = cmd[0].upper()
    if t == "%":
        return (t, sorted(v))
    if name == "HSCAN":
        cur, (et, ev) = v
        return (t, [cur, (et, sorted(_pairs(ev)))])
    flat_pairs = name == "HGETALL" or (name == "HRANDFIELD" and len(cmd) == 4 and all(x[0] == "$" for x in v))
    if flat_pairs:
        return (t, sorted(_pairs(v)))
    return (t, sorted(v, key=repr))


def run(server, steps):
    """Plays steps on two fresh connections after FLUSHALL; returns one
    (command, reply) per step, HELLO's reply (it names the server) left out."""
    conns = [server.raw(), server.raw()]
    out = []
    try:
        conns[0].call("FLUSHALL")
        for step in steps:
            unordered = False
            who = 0
            if step[0] == "unordered":
                unordered, step = True, step[1]
            elif step[0] == "conn1":
                who, step = 1, step[1]
            reply = conns[who].call(*step)
            if step[0].upper() == "HELLO":
                reply = ("hello", None)
            if unordered:
                reply = normalize(step, reply)
            out.append((step, reply))
    finally:
        for c in conns:
            c.close()
    return out


def compare(ringkv, redis_ref, steps):
    mine = run(ringkv, steps)
    ref = run(redis_ref, steps)
    assert len(mine) == len(ref)
    for (cmd, a), (_, b) in zip(mine, ref):
        assert a == b, f"{cmd!r}: ringkv {a!r} != redis {b!r}"


def big_hset(key, n, prefix="f", value="v"):
    args = ["HSET", key]
    for i in range(n):
        args += [f"{prefix}{i}", f"{value}{i}"]
    return tuple(args)


RESTORE = [("CONFIG", "SET", "hash-max-listpack-entries", "512"), ("CONFIG", "SET", "hash-max-listpack-value", "64")]

SCENARIOS = {
    "basics": [
        ("HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3"), ("HGET", "h", "f1"), ("HGET", "h", "nope"),
        ("HGET", "nokey", "f"), ("HMGET", "h", "f1", "nope", "f3"), ("HMGET", "nokey", "a", "b"),
        ("HLEN", "h"), ("HLEN", "nokey"), ("HSTRLEN", "h", "f2"), ("HSTRLEN", "h", "nope"),
        ("HSTRLEN", "nokey", "f"), ("HEXISTS", "h", "f1"), ("HEXISTS", "h", "nope"), ("HEXISTS", "nokey", "f"),
        ("HKEYS", "h"), ("HVALS", "h"), ("HGETALL", "h"), ("HKEYS", "nokey"), ("HVALS", "nokey"),
        ("HGETALL", "nokey"), ("HSET", "h", "f2", "new", "f4", "v4"), ("HGETALL", "h"), ("HSET", "h", "f1", "v1"),
        ("TYPE", "h"), ("OBJECT", "ENCODING", "h"), ("HMSET", "h", "a", "1", "b", "2"), ("HGETALL", "h"),
        ("HSET", "h", "f2", "longer value now"), ("HSET", "h", "f3", "x"), ("HGETALL", "h"),
        ("HDEL", "h", "f1", "f1", "nope"), ("HGETALL", "h"), ("HDEL", "h", "f2", "f3", "f4", "a", "b"),
        ("EXISTS", "h"), ("HDEL", "nokey", "f"), ("HSET", "dup", "a", "1", "a", "2", "b", "3", "a", "4"),
        ("HGETALL", "dup"), ("HLEN", "dup"),
    ],
    "hsetnx": [
        ("HSETNX", "h", "f", "v"), ("HSETNX", "h", "f", "w"), ("HGET", "h", "f"), ("HSETNX", "h", "g", "w"),
        ("HGETALL", "h"), ("OBJECT", "ENCODING", "h"),
    ],
    "arity_and_syntax": [
        ("HSET", "h"), ("HSET", "h", "f"), ("HSET", "h", "f", "v", "g"), ("HMSET", "h", "f", "v", "g"),
        ("HSETNX", "h", "f"), ("HGET", "h"), ("HMGET", "h"), ("HDEL", "h"), ("HLEN",), ("HLEN", "h", "x"),
        ("HSTRLEN", "h"), ("HKEYS", "h", "x"), ("HVALS",), ("HGETALL", "a", "b"), ("HEXISTS", "h"),
        ("HINCRBY", "h", "f"), ("HINCRBYFLOAT", "h", "f", "1", "2"), ("HRANDFIELD",), ("HSCAN", "h"),
        ("EXISTS", "h"),
    ],
    "hincrby": [
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-10"), ("HINCRBY", "h", "n", "abc"),
        ("HINCRBY", "h", "n", "1.5"), ("HINCRBY", "h", "n", "99999999999999999999"),
        ("HINCRBY", "h", "n", "9223372036854775807"), ("HINCRBY", "h", "n", "10"), ("HGET", "h", "n"),
        ("HINCRBY", "h", "n", "-9223372036854775808"), ("HSET", "h", "s", "hello"), ("HINCRBY", "h", "s", "1"),
        ("HSET", "h", "z", "012"), ("HINCRBY", "h", "z", "1"), ("HSET", "h", "sp", " 1"), ("HINCRBY", "h", "sp", "1"),
        ("HSET", "h", "e", ""), ("HINCRBY", "h", "e", "1"),
        ("HINCRBY", "h", "m", "-9223372036854775808"), ("HINCRBY", "h", "m", "-1"), ("HINCRBY", "h", "m", "0"),
        ("HINCRBY", "h", "m", "9223372036854775807"), ("HINCRBY", "newkey", "f", "3"), ("TYPE", "newkey"),
        ("HINCRBY", "h", "n", "+1"), ("HINCRBY", "h", "n", "-0"), ("HGETALL", "h"), ("HSTRLEN", "h", "m"),
        ("HINCRBY", "nokey2", "f", "x"), ("EXISTS", "nokey2"),
    ],
    "hincrbyfloat": [
        ("HINCRBYFLOAT", "h", "f", "10.5"), ("HINCRBYFLOAT", "h", "f", "0.1"), ("HINCRBYFLOAT", "h", "f", "-5.0e3"),
        ("HINCRBYFLOAT", "h", "f", "3.0e3"), ("HINCRBYFLOAT", "h", "g", "1e-5"), ("HINCRBYFLOAT", "h", "g", "abc"),
        ("HINCRBYFLOAT", "h", "g", "inf"), ("HINCRBYFLOAT", "h", "g", "-inf"), ("HINCRBYFLOAT", "h", "g", "nan"),
        ("HINCRBYFLOAT", "h", "g", " 1"), ("HINCRBYFLOAT", "h", "g", ""), ("HSET", "h", "s", "hello"),
        ("HINCRBYFLOAT", "h", "s", "1"), ("HSET", "h", "big", "1e4932"), ("HINCRBYFLOAT", "h", "big", "1e4932"),
        ("HGET", "h", "big"), ("HSET", "h", "x", "0x10"), ("HINCRBYFLOAT", "h", "x", "1"),
        ("HSET", "h", "i", "5"), ("HINCRBYFLOAT", "h", "i", "1"), ("HINCRBYFLOAT", "h", "neg", "-0.0"),
        ("HINCRBYFLOAT", "h", "p", "1.23456789012345678"), ("HINCRBYFLOAT", "h", "q", "3"),
        ("HINCRBYFLOAT", "h", "q", "1e20"), ("HINCRBYFLOAT", "h", "r", "-1e-20"), ("HINCRBYFLOAT", "h", "t", "0x1p4"),
        ("HGETALL", "h"), ("OBJECT", "ENCODING", "h"),
        # A result longer than hash-max-listpack-value converts the hash.
        ("HINCRBYFLOAT", "h", "huge", "1e300"), ("OBJECT", "ENCODING", "h"), U("HGETALL", "h"),
        ("HINCRBYFLOAT", "nokey", "f", "x"), ("EXISTS", "nokey"),
    ],
    "wrongtype": [
        ("SET", "s", "x"), ("HSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"), ("HMSET", "s", "f", "v"),
        ("HGET", "s", "f"), ("HMGET", "s", "f"), ("HDEL", "s", "f"), ("HLEN", "s"), ("HSTRLEN", "s", "f"),
        ("HEXISTS", "s", "f"), ("HKEYS", "s"), ("HVALS", "s"), ("HGETALL", "s"), ("HINCRBY", "s", "f", "1"),
        ("HINCRBYFLOAT", "s", "f", "1"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"),
        ("HRANDFIELD", "s", "-2", "WITHVALUES"), ("HSCAN", "s", "0"), ("HSCAN", "s", "0", "COUNT", "0"),
        # Argument errors come before the type check in these.
        ("HINCRBY", "s", "f", "abc"), ("HINCRBYFLOAT", "s", "f", "abc"), ("HRANDFIELD", "s", "abc"),
        ("HRANDFIELD", "s", "1", "BAD"), ("HSCAN", "s", "bad"), ("HSET", "s", "f"),
        ("HSET", "h", "f", "v"), ("GET", "h"), ("INCR", "h"), ("INCRBYFLOAT", "h", "1"), ("APPEND", "h", "x"),
        ("STRLEN", "h"), ("SETRANGE", "h", "0", "x"), ("GETRANGE", "h", "0", "1"), ("GETDEL", "h"),
        ("GETSET", "h", "x"), ("MGET", "h", "s"), ("TYPE", "h"), ("SET", "h", "v"), ("TYPE", "h"), ("GET", "h"),
        ("HSET", "hb", "f", LONG65), ("GET", "hb"), ("INCR", "hb"), ("HGET", "s", "f"), ("TYPE", "hb"),
    ],
    "binary_and_empty": [
        ("HSET", "b", "", ""), ("HSET", "b", "\x00\r\n", "a\x00b\r\n"), ("HSET", "b", "\xff", "$-1\r\n"),
        ("HGET", "b", ""), ("HSTRLEN", "b", ""), ("HEXISTS", "b", ""), ("HGETALL", "b"), ("HKEYS", "b"),
        ("HGET", "b", "\x00\r\n"), ("HDEL", "b", ""), ("HGETALL", "b"), ("HSETNX", "b", "", "x"),
        ("HINCRBY", "b", "", "7"), ("HGETALL", "b"), ("OBJECT", "ENCODING", "b"),
    ],
    "big_values": [
        ("HSET", "big", "f", "x" * 100_000), ("HSTRLEN", "big", "f"), ("OBJECT", "ENCODING", "big"),
        ("HGET", "big", "f"), ("HSET", "big", "g", LONG64), ("OBJECT", "ENCODING", "big"), ("HDEL", "big", "f"),
        ("OBJECT", "ENCODING", "big"), ("HGETALL", "big"), ("HSET", "k2", "f" * 70_000, "v"),
        ("HKEYS", "k2"), ("OBJECT", "ENCODING", "k2"),
    ],
    "thresholds_default": [
        ("HSET", "v64", "f", LONG64), ("OBJECT", "ENCODING", "v64"), ("HSET", "v65", "f", LONG65),
        ("OBJECT", "ENCODING", "v65"), ("HSET", "f64", "f" * 64, "v"), ("OBJECT", "ENCODING", "f64"),
        ("HSET", "f65", "f" * 65, "v"), ("OBJECT", "ENCODING", "f65"),
        ("HSET", "grow", "a", "1"), ("HSET", "grow", "b", LONG65), ("OBJECT", "ENCODING", "grow"),
        big_hset("n512", 512), ("OBJECT", "ENCODING", "n512"), ("HLEN", "n512"), ("HGETALL", "n512"),
        ("HSET", "n512", "f0", "again"), ("OBJECT", "ENCODING", "n512"), ("HSET", "n512", "extra", "x"),
        ("OBJECT", "ENCODING", "n512"), ("HLEN", "n512"), big_hset("n513", 513), ("OBJECT", "ENCODING", "n513"),
        ("HDEL", "n512", "extra", "f0", "f1"), ("OBJECT", "ENCODING", "n512"),
    ],
    "thresholds_config": [
        ("CONFIG", "SET", "hash-max-listpack-entries", "4"), ("CONFIG", "SET", "hash-max-listpack-value", "8"),
        ("HSET", "a", "f1", "1", "f2", "2", "f3", "3", "f4", "4"), ("OBJECT", "ENCODING", "a"), ("HGETALL", "a"),
        ("HSET", "a", "f5", "5"), ("OBJECT", "ENCODING", "a"), ("HDEL", "a", "f5", "f4", "f3"),
        ("OBJECT", "ENCODING", "a"), U("HGETALL", "a"),
        ("HSET", "b", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5"), ("OBJECT", "ENCODING", "b"),
        ("HSET", "c", "f1", "1", "f1", "2", "f1", "3", "f1", "4", "f1", "5"), ("OBJECT", "ENCODING", "c"),
        ("HLEN", "c"),
        ("HSET", "d", "f", "12345678"), ("OBJECT", "ENCODING", "d"), ("HSET", "d", "f", "123456789"),
        ("OBJECT", "ENCODING", "d"),
        ("HSET", "e", "f", "1"), ("HSET", "e", "123456789", "x"), ("OBJECT", "ENCODING", "e"),
        # HSET checks every argument before it sets anything, updates included.
        ("HSET", "e2", "f", "1", "g", "2"), ("HSET", "e2", "f", "1", "g", "123456789"),
        ("OBJECT", "ENCODING", "e2"),
        ("HSETNX", "g", "f", "123456789"), ("OBJECT", "ENCODING", "g"),
        ("HSET", "g2", "f", "1"), ("HSETNX", "g2", "f", "123456789"), ("OBJECT", "ENCODING", "g2"),
        ("HSETNX", "g2", "h", "123456789"), ("OBJECT", "ENCODING", "g2"),
        ("HINCRBY", "i", "f", "99999999"), ("OBJECT", "ENCODING", "i"), ("HINCRBY", "i", "f", "1"),
        ("OBJECT", "ENCODING", "i"), ("HINCRBY", "j", "123456789", "1"), ("OBJECT", "ENCODING", "j"),
        ("HINCRBYFLOAT", "k", "f", "1.5"), ("HINCRBYFLOAT", "k", "f", "0.0001"), ("OBJECT", "ENCODING", "k"),
        ("HINCRBYFLOAT", "k", "f", "1000.00001"), ("OBJECT", "ENCODING", "k"), ("HGET", "k", "f"),
        # A lowered limit converts on the next set, even an update; HSETNX of
        # an existing field sets nothing and HDEL never converts.
        ("HSET", "m", "a", "1", "b", "2", "c", "3"), ("HSET", "n", "a", "1", "b", "2", "c", "3"),
        ("HSET", "o", "a", "1", "b", "2", "c", "3"), ("HSET", "p", "a", "1", "b", "2", "c", "3"),
        ("HSET", "lv", "a", "12345678"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "2"), ("CONFIG", "SET", "hash-max-listpack-value", "4"),
        ("HGET", "m", "a"), ("OBJECT", "ENCODING", "m"), ("HSET", "m", "a", "9"), ("OBJECT", "ENCODING", "m"),
        ("HSETNX", "n", "a", "x"), ("OBJECT", "ENCODING", "n"), ("HSETNX", "n", "z", "1"),
        ("OBJECT", "ENCODING", "n"), ("HINCRBY", "o", "a", "1"), ("OBJECT", "ENCODING", "o"),
        ("HDEL", "p", "a"), ("OBJECT", "ENCODING", "p"), ("HGETALL", "p"),
        ("HINCRBY", "lv", "a", "1"), ("OBJECT", "ENCODING", "lv"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "0"), ("HSET", "q", "f", "v"), ("OBJECT", "ENCODING", "q"),
        ("HSETNX", "q2", "f", "v"), ("OBJECT", "ENCODING", "q2"), ("HINCRBY", "q3", "f", "1"),
        ("OBJECT", "ENCODING", "q3"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "4"), ("CONFIG", "SET", "hash-max-listpack-value", "0"),
        ("HSET", "r", "", ""), ("OBJECT", "ENCODING", "r"), ("HSET", "r", "x", ""), ("OBJECT", "ENCODING", "r"),
        *RESTORE,
    ],
    "resp3": [
        ("HELLO", "3"), ("HSET", "h", "a", "1", "b", "2"), ("HGETALL", "h"), ("HGETALL", "nokey"), ("HKEYS", "h"),
        ("HVALS", "h"), ("HMGET", "h", "a", "x"), ("HGET", "h", "x"), ("HGET", "h", "a"), ("HRANDFIELD", "nokey"),
        ("HRANDFIELD", "nokey", "3"), ("HRANDFIELD", "nokey", "3", "WITHVALUES"),
        ("HRANDFIELD", "h", "5", "WITHVALUES"), ("HRANDFIELD", "h", "5"), ("HRANDFIELD", "h", "0", "WITHVALUES"),
        ("HSCAN", "h", "0"), ("HSCAN", "nokey", "0"), ("HINCRBYFLOAT", "h", "c", "1.5"), ("HINCRBY", "h", "a", "1"),
        ("HLEN", "h"), ("HSET", "one", "f", "v"), ("HRANDFIELD", "one", "-3", "WITHVALUES"),
        ("HRANDFIELD", "one", "1", "WITHVALUES"), ("HRANDFIELD", "one"),
        ("HSET", "t", "f", LONG65, "g", "1"), U("HGETALL", "t"), U("HKEYS", "t"), ("HLEN", "t"),
        ("HELLO", "2"),
    ],
    "hrandfield": [
        ("HRANDFIELD", "nokey", "abc"), ("HRANDFIELD", "nokey", "-9223372036854775808"),
        ("HRANDFIELD", "nokey", "9223372036854775808"), ("HRANDFIELD", "nokey", "4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "nokey", "-4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "nokey", "4611686018427387903", "WITHVALUES"),
        ("HRANDFIELD", "nokey", "1", "WITHVALUE"), ("HRANDFIELD", "nokey", "1", "WITHVALUES", "x"),
        ("HRANDFIELD", "nokey", "0"), ("HRANDFIELD", "nokey"),
        ("HSET", "h", "a", "1"), ("HRANDFIELD", "h", "0"), ("HRANDFIELD", "h", "0", "WITHVALUES"),
        ("HRANDFIELD", "h", "-3", "WITHVALUES"), ("HRANDFIELD", "h", "-3"), ("HRANDFIELD", "h"),
        ("HRANDFIELD", "h", "1", "withvalues"),
        ("HSET", "h", "b", "2", "c", "3"), ("HRANDFIELD", "h", "3", "WITHVALUES"),
        ("HRANDFIELD", "h", "1000000000000"), ("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"),
        ("HSET", "t", "f", LONG65), ("HRANDFIELD", "t", "-2", "WITHVALUES"), ("HRANDFIELD", "t", "5"),
        ("HRANDFIELD", "t"),
    ],
    "hscan": [
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "ab", "4"), ("HSCAN", "h", "0"), ("HSCAN", "h", "123"),
        ("HSCAN", "h", "0", "MATCH", "a*"), ("HSCAN", "h", "0", "MATCH", "*", "COUNT", "1"),
        ("HSCAN", "h", "0", "match", "[ab]", "count", "100"), ("HSCAN", "h", "0", "MATCH", "zz*"),
        ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "COUNT", "-1"), ("HSCAN", "h", "0", "COUNT", "x"),
        ("HSCAN", "h", "0", "MATCH"), ("HSCAN", "h", "0", "TYPE", "string"), ("HSCAN", "h", "0", "NOVALUES"),
        ("HSCAN", "h", "x"), ("HSCAN", "h", "-1"), ("HSCAN", "h", " 1"), ("HSCAN", "h", "18446744073709551616"),
        ("HSCAN", "nokey", "0", "COUNT", "0"), ("HSCAN", "nokey", "7"), ("HSCAN", "h", "0", "COUNT", "1000000000000000000"),
        ("HSET", "t", "f", LONG65), ("HSCAN", "t", "0", "COUNT", "1000000000000000000"),
        ("HSCAN", "t", "0", "MATCH", "g*"),
    ],
    "expiry_and_watch": [
        ("HSET", "h", "a", "1"), ("EXPIRE", "h", "100"), ("HSET", "h", "b", "2"), ("TTL", "h"),
        ("HDEL", "h", "a"), ("TTL", "h"), ("HINCRBY", "h", "b", "5"), ("TTL", "h"), ("HSET", "h", "big", LONG65),
        ("TTL", "h"), ("OBJECT", "ENCODING", "h"), ("PERSIST", "h"), ("TTL", "h"),
        ("HSET", "w", "a", "1", "b", "2"),
        ("WATCH", "w"), C1("HINCRBY", "w", "b", "1"), ("MULTI",), ("HGET", "w", "b"), ("EXEC",),
        ("WATCH", "w"), C1("HSET", "w", "b", "3"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), C1("HDEL", "w", "nope"), C1("HSETNX", "w", "b", "x"), C1("HGET", "w", "b"),
        ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), C1("HDEL", "w", "a"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), C1("HSETNX", "w", "new", "x"), ("MULTI",), ("PING",), ("EXEC",),
        ("HSET", "w", "long", LONG65), ("OBJECT", "ENCODING", "w"),
        ("WATCH", "w"), C1("HINCRBY", "w", "b", "1"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), C1("HINCRBYFLOAT", "w", "b", "1.5"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), C1("HDEL", "w", "nope"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), C1("HDEL", "w", "b"), ("MULTI",), ("PING",), ("EXEC",),
        ("MULTI",), ("HSET", "w", "x", "1"), ("HGET", "w", "x"), ("HDEL", "w", "x"), ("EXEC",),
    ],
    "multi_and_scripts": [
        ("HSET", "a", "f", "1"), ("MULTI",), ("HSET", "b", "f", "2", "g", "3"), ("HINCRBY", "a", "f", "5"),
        ("HGETALL", "b"), ("HSETNX", "c", "f", "x"), ("HDEL", "a", "f"), ("EXISTS", "a"), ("HLEN", "c"),
        ("EXEC",),
        ("EVAL", "redis.call('HSET', KEYS[1], 'x', '1', 'y', '2'); return redis.call('HGETALL', KEYS[1])", "1", "d"),
        ("EVAL", "return redis.call('HRANDFIELD', KEYS[1], -2, 'WITHVALUES')", "1", "c"),
        ("EVAL", "return redis.call('HGET', KEYS[1], 'nope')", "1", "c"),
        ("EVAL", "return redis.call('HINCRBYFLOAT', KEYS[1], 'n', '2.5')", "1", "c"),
        ("EVAL", "return redis.pcall('HINCRBY', KEYS[1], 'x', 'z')", "1", "d"),
        ("EVAL", "return redis.call('HLEN', KEYS[1]) + redis.call('HLEN', KEYS[2])", "2", "c", "d"),
        ("HELLO", "3"), ("MULTI",), ("HGETALL", "d"), ("HRANDFIELD", "c", "5", "WITHVALUES"), ("EXEC",),
        ("HELLO", "2"),
    ],
    "delete_last_field": [
        ("HSET", "h", "a", "1"), ("HDEL", "h", "a"), ("EXISTS", "h"), ("HSET", "h", "a", "1", "b", "2"),
        ("HDEL", "h", "a", "b", "c"), ("EXISTS", "h"), ("HSET", "t", "f", LONG65), ("HDEL", "t", "f"),
        ("EXISTS", "t"), ("HDEL", "t", "f"), ("HSET", "t", "f", LONG65, "g", "1"), ("HDEL", "t", "g", "f", "h"),
        ("EXISTS", "t"), ("HSET", "t", "a", "b"), ("OBJECT", "ENCODING", "t"),
    ],
    "rename_copy": [
        ("HSET", "src", "a", "1", "b", "2"), ("EXPIRE", "src", "1000"), ("RENAME", "src", "dst"),
        ("HGETALL", "dst"), ("TTL", "dst"), ("OBJECT", "ENCODING", "dst"),
        *[c for i in range(6) for c in (("COPY", "dst", f"c{i}"), ("HGETALL", f"c{i}"),
                                         ("OBJECT", "ENCODING", f"c{i}"))],
        ("HSET", "c0", "z", "9"), ("HGETALL", "dst"), ("HGETALL", "c0"),
        ("HSET", "big", "f", LONG65, "g", "1"),
        *[c for i in range(6) for c in (("COPY", "big", f"b{i}"), U("HGETALL", f"b{i}"),
                                         ("OBJECT", "ENCODING", f"b{i}"))],
        ("HSET", "b0", "h", "2"), ("HLEN", "big"), ("HLEN", "b0"), ("RENAME", "big", "big2"), U("HGETALL", "big2"),
        ("OBJECT", "ENCODING", "big2"), ("EXISTS", "big"), ("RENAMENX", "big2", "dst"), ("TYPE", "dst"),
    ],
    "large_hash": [
        big_hset("L", 1500), big_hset("L", 1500, prefix="g"), ("HLEN", "L"), ("OBJECT", "ENCODING", "L"),
        U("HGETALL", "L"), U("HKEYS", "L"), U("HVALS", "L"), ("HGET", "L", "g1499"), ("HSTRLEN", "L", "f77"),
        ("HMGET", "L", "f0", "nope", "g0"), ("HINCRBY", "L", "f5", "1"), ("HINCRBY", "L", "cnt", "10"),
        ("HINCRBYFLOAT", "L", "cnt", "0.5"), ("HGET", "L", "cnt"),
        ("HDEL", "L", *[f"f{i}" for i in range(1500)]), ("HLEN", "L"), ("OBJECT", "ENCODING", "L"),
        ("HDEL", "L", *[f"g{i}" for i in range(1500)], "cnt"), ("EXISTS", "L"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_hash_scenario_matches_redis(ringkv, redis_ref, name):
    try:
        compare(ringkv, redis_ref, SCENARIOS[name])
    finally:
        for server in (ringkv, redis_ref):
            with server.raw() as c:
                for cmd in RESTORE:
                    c.call(*cmd)


# --------------------------------------------------------------------------
# A seeded random mix, compared reply by reply.

FIELDS = [f"f{i}" for i in range(12)] + ["", "x" * 20]
KEYS = [f"hk{i}" for i in range(20)]


def _value(rng):
    r = rng.random()
    if r < 0.3:
        return str(rng.randint(-1000, 1000))
    if r < 0.4:
        return str(rng.choice([2 ** 62, -(2 ** 62), 2 ** 63 - 1, -(2 ** 63)]))
    if r < 0.55:
        return rng.choice(["1.5", "-0.25", "1e3", "3.0", "0.1", "abc", "", " 7"])
    if r < 0.6:
        return "L" * rng.choice([15, 16, 17, 40])
    return "v" + str(rng.randint(0, 99))


def _mix_command(rng):
    k = rng.choice(KEYS)
    f = rng.choice(FIELDS)
    op = rng.random()
    if op < 0.22:
        args = ["HSET", k]
        for _ in range(rng.choice([1, 1, 1, 2, 3, 6])):
            args += [rng.choice(FIELDS), _value(rng)]
        return tuple(args), False
    if op < 0.27:
        return ("HSETNX", k, f, _value(rng)), False
    if op < 0.37:
        return ("HDEL", k, *rng.sample(FIELDS, rng.choice([1, 1, 2, 4]))), False
    if op < 0.45:
        return ("HINCRBY", k, f, str(rng.choice([1, -1, 7, 2 ** 62, -(2 ** 62), 10 ** 6]))), False
    if op < 0.52:
        return ("HINCRBYFLOAT", k, f, rng.choice(["1.5", "-0.25", "1e3", "0.1", "3", "-2.5e-3"])), False
    if op < 0.58:
        return ("HGET", k, f), False
    if op < 0.62:
        return ("HMGET", k, *rng.sample(FIELDS, 3)), False
    if op < 0.66:
        return (rng.choice(["HLEN", "TYPE", "EXISTS"]), k), False
    if op < 0.70:
        return (rng.choice(["HSTRLEN", "HEXISTS"]), k, f), False
    if op < 0.82:
        return (rng.choice(["HGETALL", "HKEYS", "HVALS"]), k), True
    if op < 0.86:
        return (("HRANDFIELD", k, "100", "WITHVALUES") if rng.random() < 0.5 else ("HRANDFIELD", k, "50")), True
    if op < 0.89:
        return ("HSCAN", k, "0", "COUNT", "100"), True
    if op < 0.92:
        return ("OBJECT", "ENCODING", k), False
    if op < 0.965:
        return ("DEL", k), False
    if op < 0.97:
        return ("SET", k, "str"), False
    if op < 0.98:
        return ("GET", k), False
    return ("HRANDFIELD", k, "0"), False


@pytest.mark.parametrize("limits", [("8", "16"), ("512", "64")], ids=["small-limits", "default-limits"])
def test_random_mix_matches_redis(ringkv, redis_ref, limits):
    rng = random.Random(0x4A5E + int(limits[0]))
    steps = [("CONFIG", "SET", "hash-max-listpack-entries", limits[0]),
             ("CONFIG", "SET", "hash-max-listpack-value", limits[1])]
    for _ in range(2500):
        cmd, unordered = _mix_command(rng)
        steps.append(U(*cmd) if unordered else cmd)
    for k in KEYS:
        steps.append(U("HGETALL", k))
        steps.append(("OBJECT", "ENCODING", k))
    steps += RESTORE
    try:
        compare(ringkv, redis_ref, steps)
    finally:
        for server in (ringkv, redis_ref):
            with server.raw() as c:
                for cmd in RESTORE:
                    c.call(*cmd)


# --------------------------------------------------------------------------
# HRANDFIELD and HSCAN: properties rather than exact (random) replies.


def _fill(r, key, n, long_value=False):
    mapping = {f"f{i}": (LONG65 if long_value and i == 0 else f"v{i}") for i in range(n)}
    r.hset(key, mapping=mapping)
    return {k.encode(): v.encode() for k, v in mapping.items()}


@pytest.mark.parametrize("n,encoding", [(10, b"listpack"), (600, b"hashtable")])
def test_hrandfield_properties(r, n, encoding):
    h = _fill(r, "h", n)
    assert r.object("encoding", "h") == encoding
    fields = set(h)
    for count in sorted({1, 3, n // 5, n // 3 + 1, n - 1, n, n + 5}):
        got = r.hrandfield("h", count)
        assert len(got) == min(count, n)
        assert len(set(got)) == len(got), f"count {count}: duplicates"
        assert set(got) <= fields
        pairs = r.hrandfield("h", count, withvalues=True)
        assert len(pairs) == 2 * min(count, n)
        ks = pairs[0::2]
        assert len(set(ks)) == len(ks)
        for k, v in zip(ks, pairs[1::2]):
            assert h[k] == v
    got = r.hrandfield("h", -(3 * n))
    assert len(got) == 3 * n and set(got) <= fields
    pairs = r.hrandfield("h", -25, withvalues=True)
    assert len(pairs) == 50
    for k, v in zip(pairs[0::2], pairs[1::2]):
        assert h[k] == v
    # Every field can come up, with and without a count.
    seen = set(r.hrandfield("h", -40 * n))
    assert seen == fields
    singles = {r.hrandfield("h") for _ in range(200)} if n <= 10 else set()
    assert singles == (fields if n <= 10 else set())
    # Distinct draws really are a sample, not always the same prefix.
    samples = {tuple(sorted(r.hrandfield("h", 3))) for _ in range(30)}
    assert len(samples) > 1


def _shape(reply):
    t, v = reply
    if t in "*%~" and v is not None:
        return (t, [_shape(x) for x in v]) if t != "%" else (t, len(v))
    return (t,)


@pytest.mark.parametrize("n", [5, 600])
def test_hrandfield_resp3_shapes_match_redis(ringkv, redis_ref, n):
    shapes = []
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            c.call("FLUSHALL")
            c.call(*big_hset("h", n))
            c.call("HELLO", "3")
            out = []
            for cmd in (("HRANDFIELD", "h", "3", "WITHVALUES"), ("HRANDFIELD", "h", "-7", "WITHVALUES"),
                        ("HRANDFIELD", "h", "3"), ("HRANDFIELD", "h", "-2"), ("HRANDFIELD", "h"),
                        ("HRANDFIELD", "h", "1", "WITHVALUES")):
                reply = c.call(*cmd)
                out.append(_shape(reply))
                if cmd[-1] == "WITHVALUES":
                    for pair in reply[1]:
                        (_, f), (_, v) = pair[1]
                        assert v == b"v" + f[1:]
            shapes.append(out)
    assert shapes[0] == shapes[1]


def test_hscan_hashtable_covers_every_field(ringkv, redis_ref):
    results = []
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            c.call("FLUSHALL")
            c.call(*big_hset("h", 1000))
            assert c.call("OBJECT", "ENCODING", "h") == ("$", b"hashtable")
            for pattern in ("*", "f1*"):
                seen = []
                cursor = b"0"
                calls = 0
                while True:
                    _, (cur, (_, items)) = c.call("HSCAN", "h", cursor, "MATCH", pattern, "COUNT", "10")
                    calls += 1
                    assert len(items) % 2 == 0
                    seen += [(items[i][1], items[i + 1][1]) for i in range(0, len(items), 2)]
                    cursor = cur[1]
                    if cursor == b"0":
                        break
                    assert calls < 2000
                assert calls > 5, "COUNT 10 over 1000 fields must take several calls"
                for f, v in seen:
                    assert v == b"v" + f[1:]
                results.append((pattern, sorted(set(seen)), len(seen) == len(set(seen))))
    mine, ref = results[:2], results[2:]
    assert mine == ref
    assert len(mine[0][1]) == 1000 and mine[0][2]


def test_redis_py_hashes(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", "c", "3") == 1
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert r.hkeys("h") == [b"a", b"b", b"c"]
    assert r.hincrbyfloat("h", "a", 0.5) == 1.5
    assert r.hincrby("h", "b", -5) == -3
    assert r.hsetnx("h", "a", "x") == 0
    assert r.hmget("h", ["a", "zz", "c"]) == [b"1.5", None, b"3"]
    assert r.hdel("h", "a", "zz") == 1
    assert r.hlen("h") == 2 and r.hstrlen("h", "b") == 2 and r.hexists("h", "c")
    assert dict(r.hscan_iter("h")) == {b"b": b"-3", b"c": b"3"}
    big = {f"k{i}": str(i) for i in range(2000)}
    r.hset("big", mapping=big)
    assert r.object("encoding", "big") == b"hashtable"
    assert {k.decode(): v.decode() for k, v in r.hscan_iter("big", match="k1*", count=50)} == \
        {k: v for k, v in big.items() if k.startswith("k1")}
    assert r.hrandfield("h", 5, withvalues=True) in ([b"b", b"-3", b"c", b"3"], [b"c", b"3", b"b", b"-3"])
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.get("h")
    r.set("s", "x")
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.hget("s", "a")
    import redis as redis_py
    r3 = redis_py.Redis(host="127.0.0.1", port=r.connection_pool.connection_kwargs["port"], protocol=3)
    try:
        assert r3.hgetall("h") == {b"b": b"-3", b"c": b"3"}
        assert r3.hrandfield("h", 2, withvalues=True) in ([[b"b", b"-3"], [b"c", b"3"]], [[b"c", b"3"], [b"b", b"-3"]])
    finally:
        r3.close()
