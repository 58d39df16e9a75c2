"""Sorted sets against redis-server 7.0: every reply compared at the wire
level (type and bytes), scenario by scenario, plus a seeded random mix over
keys spread across shards, a few redis-py checks of what cannot be compared
reply by reply (random members, ZSCAN of a big set), and memory.

Environment:
  ZSET_SEED  reproduce the random mix (default: random, printed)
  ZSET_OPS   commands in the random mix (default 3000)
"""
from __future__ import annotations

import os
import random

import pytest

import harness

OPS = int(os.environ.get("ZSET_OPS", "3000"))

RESTORE = [
    (0, ("CONFIG", "SET", "zset-max-listpack-entries", "128")),
    (0, ("CONFIG", "SET", "zset-max-listpack-value", "64")),
]


def limits(entries, value):
    return [
        (0, ("CONFIG", "SET", "zset-max-listpack-entries", str(entries))),
        (0, ("CONFIG", "SET", "zset-max-listpack-value", str(value))),
    ]


def c(*cmd):
    return (0, cmd)


def each(key, *cmds):
    """The same commands on `key` (spelled {key} in `cmds`)."""
    return [c(*[a.replace("{key}", key) if isinstance(a, str) else a for a in cmd]) for cmd in cmds]


def ops_on_both_encodings(cmds, fill):
    """Runs `cmds` on key z filled by `fill`, once compact and once as a
    skiplist (thresholds forced low), so each encoding is compared."""
    out = []
    for entries in (128, 0):
        out += limits(entries, 64) + [c("DEL", "z")] + [c(*f) for f in fill] + [c("OBJECT", "ENCODING", "z")]
        out += [c(*x) for x in cmds]
    return out + RESTORE


FILL = [("ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "cc", "4", "d", "5.5", "e", "-1", "neg", "0", "zero",
         "inf", "top", "-inf", "bottom")]
LEXFILL = [("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g", "0", "",
            "0", "aa", "0", "b\x00", "0", "\xff")]

SCENARIOS = {
    "basics": [
        c("ZADD", "z", "1", "a", "2", "b", "3", "c"), c("ZCARD", "z"), c("ZSCORE", "z", "b"), c("ZSCORE", "z", "x"),
        c("ZSCORE", "nokey", "x"), c("ZMSCORE", "z", "a", "x", "c"), c("ZMSCORE", "nokey", "a", "b"),
        c("ZRANK", "z", "c"), c("ZREVRANK", "z", "c"), c("ZRANK", "z", "x"), c("ZRANK", "nokey", "x"),
        c("ZINCRBY", "z", "10", "a"), c("ZINCRBY", "z", "-2.5", "new"), c("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        c("ZREM", "z", "a", "x", "a"), c("ZREM", "nokey", "a"), c("ZCARD", "z"), c("ZCARD", "nokey"),
        c("ZREM", "z", "b", "c", "new"), c("EXISTS", "z"), c("TYPE", "z"),
        c("ZADD", "z", "1", "a"), c("TYPE", "z"), c("ZADD", "z", "1", "a"), c("ZADD", "z", "2", "a"),
        c("ZADD", "z", "CH", "3", "a", "1", "b"), c("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ],
    "zadd_options": [
        c("ZADD", "z", "1", "a", "2", "b"),
        c("ZADD", "z", "NX", "5", "a", "5", "c"), c("ZADD", "z", "XX", "7", "a", "7", "d"),
        c("ZADD", "z", "XX", "CH", "8", "a", "8", "d"), c("ZADD", "z", "GT", "CH", "1", "a", "9", "b", "1", "e"),
        c("ZADD", "z", "LT", "CH", "0", "a", "100", "b"), c("ZADD", "z", "XX", "GT", "50", "a"),
        c("ZADD", "z", "INCR", "5", "a"), c("ZADD", "z", "NX", "INCR", "5", "a"), c("ZADD", "z", "XX", "INCR", "5", "q"),
        c("ZADD", "z", "GT", "INCR", "-5", "a"), c("ZADD", "z", "LT", "INCR", "-5", "a"),
        c("ZADD", "z", "INCR", "5", "a", "6", "b"), c("ZADD", "z", "NX", "XX", "1", "a"),
        c("ZADD", "z", "GT", "LT", "1", "a"), c("ZADD", "z", "NX", "GT", "1", "a"), c("ZADD", "z", "nx", "lt", "1", "a"),
        c("ZADD", "z", "1"), c("ZADD", "z", "1", "a", "2"), c("ZADD", "z", "CH"), c("ZADD", "z", "NX", "XX"),
        c("ZADD", "z", "abc", "a"), c("ZADD", "z", "1", "a", "nan", "b"), c("ZADD", "z", "1", "a", "x", "b"),
        c("ZADD", "z", "FOO", "1", "a"), c("ZADD", "nokey", "XX", "1", "a"), c("EXISTS", "nokey"),
        c("ZADD", "nokey", "XX", "INCR", "1", "a"), c("ZADD", "z", "ch", "incr", "1", "a"),
        c("ZINCRBY", "z", "abc", "a"), c("ZINCRBY", "z", "nx", "a"), c("ZINCRBY", "z", "1e400", "a"),
        c("ZADD", "z", "inf", "i"), c("ZINCRBY", "z", "-inf", "i"), c("ZADD", "z", "INCR", "-inf", "i"),
        c("ZSCORE", "z", "i"), c("ZINCRBY", "z", "+inf", "i"), c("ZINCRBY", "z", "-inf", "i"),
        c("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ],
    "score_edges": [
        c("ZADD", "z", "-0", "negzero", "0", "zero", "+0", "pluszero", "1e308", "big", "-1e308", "nbig",
          "0.1", "tenth", "9007199254740993", "p53", "12345678901234567890", "huge", "1e17", "e17",
          "-9223372036854775808", "minll", "1.7976931348623157e308", "maxd", "5e-324", "tiny", "0x10", "hex",
          ".5", "dot5", "1.", "onedot", "+5", "plus5", "Infinity", "infin", "-INF", "ninf", "2.5e-3", "small",
          "127", "i8", "128", "i9", "-128", "n8", "-129", "n9", "32767", "i16", "-2147483649", "n32",
          "281474976710656", "i48", "-36028797018963968", "n56"),
        c("ZRANGE", "z", "0", "-1", "WITHSCORES"), c("ZSCORE", "z", "negzero"), c("ZSCORE", "z", "huge"),
        c("ZSCORE", "z", "tiny"), c("ZSCAN", "z", "0", "COUNT", "100"),
        c("ZADD", "z", "1e400", "x"), c("ZADD", "z", "-1e400", "x"), c("ZADD", "z", " 1", "x"),
        c("ZADD", "z", "1 ", "x"), c("ZADD", "z", "", "x"), c("ZADD", "z", "nan", "x"), c("ZADD", "z", "1e-400", "x"),
        c("ZADD", "z", "1\x002", "x"), c("ZINCRBY", "z", "0.2", "tenth"), c("ZSCORE", "z", "tenth"),
        c("ZINCRBY", "z", "1", "p53"), c("ZINCRBY", "z", "-0", "zero"), c("ZSCORE", "z", "zero"),
        c("ZADD", "z", "-0", "zero"), c("ZSCORE", "z", "zero"), c("ZADD", "z", "0", "negzero"),
        c("ZSCORE", "z", "negzero"), c("ZRANGEBYSCORE", "z", "-0", "0", "WITHSCORES"),
        c("ZRANGEBYSCORE", "z", "(-0", "(1e308", "WITHSCORES"), c("ZCOUNT", "z", "-inf", "+inf"),
        c("ZCOUNT", "z", "(-inf", "(+inf"), c("ZCOUNT", "z", "1e400", "1e400"), c("ZCOUNT", "z", "-1e400", "0"),
    ],
    "ranges_errors": [
        c("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        c("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"), c("ZRANGE", "z", "a", "b", "BYLEX", "WITHSCORES"),
        c("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"), c("ZRANGE", "z", "0", "1", "REV", "REV"),
        c("ZRANGE", "z", "0", "1", "FOO"), c("ZRANGE", "z", "0", "1", "LIMIT", "1"),
        c("ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "a", "1"), c("ZRANGE", "z", "a", "1"),
        c("ZRANGE", "z", "0", "1.5"), c("ZRANGE", "z", "x", "1", "BYSCORE"), c("ZRANGE", "z", "nan", "1", "BYSCORE"),
        c("ZRANGE", "z", "(nan", "1", "BYSCORE"), c("ZRANGE", "z", "a", "[b", "BYLEX"), c("ZRANGE", "z", "+x", "[b", "BYLEX"),
        c("ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"), c("ZRANGEBYSCORE", "z", "0", "1", "REV"),
        c("ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"), c("ZREVRANGE", "z", "0", "1", "BYSCORE"),
        c("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"), c("ZCOUNT", "z", "a", "1"), c("ZCOUNT", "z", "1", "(x"),
        c("ZLEXCOUNT", "z", "a", "+"), c("ZLEXCOUNT", "z", "-", "b"), c("ZLEXCOUNT", "z", "", "+"),
        c("ZREMRANGEBYSCORE", "z", "x", "1"), c("ZREMRANGEBYLEX", "z", "x", "+"), c("ZREMRANGEBYRANK", "z", "x", "1"),
        c("ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"), c("ZRANGE", "nokey", "0", "-1"),
        c("ZRANGE", "nokey", "x", "1"), c("ZRANGEBYSCORE", "nokey", "x", "1"), c("ZCOUNT", "nokey", "x", "1"),
        c("ZRANGE", "z", "", "", "BYSCORE"), c("ZRANGE", "z", "(", "3", "BYSCORE"), c("ZRANGE", "z", " 1", "3", "BYSCORE"),
        c("ZRANGE", "z", "1", "3 ", "BYSCORE"), c("ZRANGE", "z", "0x1", "0x2", "BYSCORE"),
        c("ZRANGE", "z", "1\x00junk", "3", "BYSCORE"), c("ZRANGE", "z", "-\x00x", "+", "BYLEX"),
        c("ZRANGE", "z", "1e400", "inf", "BYSCORE"),
    ],
    "zpop_zmpop": [
        c("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), c("ZADD", "y", "5", "e"),
        c("ZPOPMIN", "z"), c("ZPOPMAX", "z"), c("ZPOPMIN", "z", "0"), c("ZPOPMIN", "z", "-1"), c("ZPOPMIN", "z", "x"),
        c("ZPOPMIN", "z", "1", "2"), c("ZPOPMIN", "nokey"), c("ZPOPMIN", "nokey", "0"), c("ZPOPMAX", "nokey", "3"),
        c("ZPOPMAX", "z", "10"), c("EXISTS", "z"), c("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        c("ZMPOP", "1", "z", "MIN"), c("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "5"), c("EXISTS", "z"),
        c("ZMPOP", "2", "nokey", "nokey2", "MIN"), c("ZMPOP", "0", "z", "MIN"), c("ZMPOP", "-1", "z", "MIN"),
        c("ZMPOP", "x", "z", "MIN"), c("ZMPOP", "1", "z"), c("ZMPOP", "2", "z", "MIN"), c("ZMPOP", "1", "z", "FOO"),
        c("ZMPOP", "1", "y", "MIN", "COUNT", "0"), c("ZMPOP", "1", "y", "MIN", "COUNT", "-1"),
        c("ZMPOP", "1", "y", "MIN", "COUNT", "x"), c("ZMPOP", "1", "y", "MIN", "COUNT"),
        c("ZMPOP", "1", "y", "MIN", "COUNT", "1", "COUNT", "1"), c("ZMPOP", "1", "y", "MIN", "FOO"),
        c("SET", "s", "x"), c("ZMPOP", "2", "s", "y", "MIN"), c("ZMPOP", "2", "nokey", "s", "MIN"),
        c("ZMPOP", "2", "y", "s", "MAX", "COUNT", "9223372036854775807"), c("EXISTS", "y"),
        c("ZPOPMIN", "s"), c("ZPOPMIN", "s", "0"),
        c("ZADD", "z", "1", "a", "2", "b"), c("ZPOPMIN", "z", "9223372036854775807"),
    ],
    "stores": [
        c("ZADD", "a", "1", "x", "2", "y", "3", "z"), c("ZADD", "b", "10", "y", "20", "z", "30", "w"),
        c("ZUNIONSTORE", "d", "2", "a", "b"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZINTERSTORE", "d", "2", "a", "b", "AGGREGATE", "MIN"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZDIFFSTORE", "d", "2", "a", "b"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZINTERSTORE", "d", "2", "a", "nokey"), c("EXISTS", "d"), c("ZUNIONSTORE", "d", "1", "nokey"),
        c("SET", "str", "v"), c("ZUNIONSTORE", "str", "1", "a"), c("TYPE", "str"), c("ZRANGE", "str", "0", "-1"),
        c("ZUNIONSTORE", "d", "2", "a", "str"), c("ZUNIONSTORE", "d", "0", "a"), c("ZUNIONSTORE", "d", "-1", "a"),
        c("ZUNIONSTORE", "d", "x", "a"), c("ZUNIONSTORE", "d", "3", "a", "b"), c("ZUNIONSTORE", "d", "1", "a", "WEIGHTS"),
        c("ZUNIONSTORE", "d", "1", "a", "WEIGHTS", "x"), c("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1"),
        c("ZUNIONSTORE", "d", "1", "a", "AGGREGATE", "avg"), c("ZUNIONSTORE", "d", "1", "a", "WITHSCORES"),
        c("ZDIFFSTORE", "d", "1", "a", "WEIGHTS", "1"), c("ZINTERSTORE", "d", "1", "nokey", "WEIGHTS", "nan"),
        c("ZUNIONSTORE", "a", "2", "a", "b"), c("ZRANGE", "a", "0", "-1", "WITHSCORES"),
        c("ZINTERSTORE", "d", "3", "a", "a", "b", "WEIGHTS", "1", "2", "3"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZDIFFSTORE", "d", "2", "a", "a"), c("EXISTS", "d"),
        c("ZADD", "i", "inf", "x", "-inf", "y", "1", "z"), c("ZADD", "j", "-inf", "x", "inf", "y", "2", "z"),
        c("ZUNIONSTORE", "d", "2", "i", "j"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZINTERSTORE", "d", "2", "i", "j", "WEIGHTS", "0", "1"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZUNIONSTORE", "d", "2", "i", "j", "WEIGHTS", "0", "0", "AGGREGATE", "MIN"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZRANGESTORE", "d", "b", "0", "-1"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZRANGESTORE", "d", "b", "(10", "+inf", "BYSCORE", "LIMIT", "0", "1"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZRANGESTORE", "d", "b", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "5"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZRANGESTORE", "d", "b", "[w", "+", "BYLEX"), c("ZRANGESTORE", "d", "b", "5", "10"), c("EXISTS", "d"),
        c("ZRANGESTORE", "d", "nokey", "0", "-1"), c("SET", "d", "x"), c("ZRANGESTORE", "d", "nokey", "0", "-1"),
        c("EXISTS", "d"), c("ZRANGESTORE", "d", "str", "0", "-1"), c("ZRANGESTORE", "b", "b", "1", "1"),
        c("ZRANGE", "b", "0", "-1", "WITHSCORES"),
        c("ZADD", "t", "1", "x"), c("EXPIRE", "t", "100"), c("ZUNIONSTORE", "t", "1", "a"), c("TTL", "t"),
        c("EXPIRE", "t", "100"), c("ZRANGESTORE", "t", "a", "0", "0"), c("TTL", "t"),
    ],
    "algebra_replies": [
        c("ZADD", "a", "1", "x", "2", "y", "3", "z"), c("ZADD", "b", "10", "y", "20", "z", "30", "w"),
        c("ZADD", "c", "0.1", "z", "0.2", "y", "0.7", "x"),
        c("ZUNION", "3", "a", "b", "c", "WITHSCORES"), c("ZUNION", "3", "a", "b", "c"),
        c("ZUNION", "3", "c", "b", "a", "WEIGHTS", "0.3", "0.1", "3", "WITHSCORES"),
        c("ZINTER", "2", "a", "b", "WITHSCORES"), c("ZINTER", "3", "a", "b", "c", "AGGREGATE", "MAX", "WITHSCORES"),
        c("ZDIFF", "2", "b", "a", "WITHSCORES"), c("ZDIFF", "1", "nokey"), c("ZDIFF", "3", "a", "nokey", "c"),
        c("ZINTERCARD", "2", "a", "b"), c("ZINTERCARD", "2", "a", "b", "LIMIT", "1"), c("ZINTERCARD", "2", "a", "b", "LIMIT", "0"),
        c("ZINTERCARD", "2", "a", "b", "LIMIT", "-1"), c("ZINTERCARD", "2", "a", "b", "LIMIT", "x"),
        c("ZINTERCARD", "2", "a", "b", "WITHSCORES"), c("ZINTERCARD", "0", "a"), c("ZINTERCARD", "3", "a", "b"),
        c("ZINTERCARD", "1", "nokey"), c("ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"),
        c("ZDIFF", "1", "a", "WITHSCORES", "WITHSCORES"), c("ZUNION", "1", "a", "AGGREGATE"),
        c("SET", "s", "x"), c("ZUNION", "2", "a", "s"), c("ZINTER", "2", "nokey", "s"), c("ZINTERCARD", "1", "s"),
        c("ZUNION", "2", "s", "a", "WEIGHTS", "x"),
    ],
    "remrange": [
        c("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        c("ZREMRANGEBYRANK", "z", "1", "2"), c("ZRANGE", "z", "0", "-1"), c("ZREMRANGEBYRANK", "z", "5", "10"),
        c("ZREMRANGEBYRANK", "z", "-1", "-1"), c("ZREMRANGEBYRANK", "z", "2", "1"), c("ZREMRANGEBYRANK", "z", "-100", "0"),
        c("ZRANGE", "z", "0", "-1"), c("ZREMRANGEBYSCORE", "z", "(4", "+inf"), c("ZREMRANGEBYSCORE", "z", "4", "4"),
        c("EXISTS", "z"), c("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d"), c("ZREMRANGEBYLEX", "z", "(a", "[c"),
        c("ZRANGE", "z", "0", "-1"), c("ZREMRANGEBYLEX", "z", "-", "+"), c("EXISTS", "z"),
        c("ZREMRANGEBYRANK", "nokey", "0", "-1"), c("ZREMRANGEBYSCORE", "nokey", "-inf", "inf"),
        c("ZREMRANGEBYLEX", "nokey", "-", "+"), c("ZREMRANGEBYRANK", "z", "0", "9223372036854775807"),
    ],
    "wrongtype": [
        c("SET", "s", "v"),
        *[c(*cmd) for cmd in [
            ("ZADD", "s", "1", "a"), ("ZINCRBY", "s", "1", "a"), ("ZREM", "s", "a"), ("ZCARD", "s"),
            ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZRANK", "s", "a"), ("ZREVRANK", "s", "a"),
            ("ZCOUNT", "s", "0", "1"), ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGE", "s", "0", "1"),
            ("ZRANGESTORE", "d", "s", "0", "1"), ("ZRANGEBYSCORE", "s", "0", "1"), ("ZREVRANGEBYSCORE", "s", "1", "0"),
            ("ZRANGEBYLEX", "s", "-", "+"), ("ZREVRANGEBYLEX", "s", "+", "-"), ("ZREVRANGE", "s", "0", "1"),
            ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZREMRANGEBYSCORE", "s", "0", "1"), ("ZREMRANGEBYLEX", "s", "-", "+"),
            ("ZPOPMIN", "s"), ("ZPOPMAX", "s", "2"), ("ZMPOP", "1", "s", "MIN"), ("ZRANDMEMBER", "s"),
            ("ZRANDMEMBER", "s", "2"), ("ZUNION", "1", "s"), ("ZINTER", "1", "s"), ("ZDIFF", "1", "s"),
            ("ZUNIONSTORE", "d", "1", "s"), ("ZINTERSTORE", "d", "1", "s"), ("ZDIFFSTORE", "d", "1", "s"),
            ("ZINTERCARD", "1", "s"), ("ZSCAN", "s", "0"),
            ("ZCOUNT", "s", "x", "1"), ("ZADD", "s", "x", "a"), ("ZSCAN", "s", "x"),
        ]],
        c("ZADD", "z", "1", "a"),
        *[c(*cmd) for cmd in [
            ("GET", "z"), ("INCR", "z"), ("APPEND", "z", "x"), ("STRLEN", "z"), ("SETRANGE", "z", "0", "x"),
            ("GETRANGE", "z", "0", "1"), ("INCRBYFLOAT", "z", "1"), ("GETDEL", "z"), ("TYPE", "z"),
            ("SET", "z", "v"), ("TYPE", "z"), ("ZADD", "z", "1", "a"),
        ]],
    ],
    "zrandmember_deterministic": [
        c("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        c("ZRANDMEMBER", "nokey"), c("ZRANDMEMBER", "nokey", "5"), c("ZRANDMEMBER", "z", "0"),
        c("ZRANDMEMBER", "z", "3"), c("ZRANDMEMBER", "z", "100", "WITHSCORES"), c("ZRANDMEMBER", "z", "x"),
        c("ZRANDMEMBER", "z", "1", "FOO"), c("ZRANDMEMBER", "z", "1", "WITHSCORES", "x"),
        c("ZRANDMEMBER", "z", "-9223372036854775808"), c("ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"),
        c("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"), c("ZRANDMEMBER", "z", "9223372036854775807"),
        c("ZRANDMEMBER", "z", "0", "WITHSCORES"), c("ZRANDMEMBER", "nokey", "0", "FOO"),
    ],
    "zscan_compact": [
        c("ZADD", "z", "1", "a", "1.5", "b", "-0", "c", "1e17", "d", "inf", "ab"),
        c("ZSCAN", "z", "0"), c("ZSCAN", "z", "0", "MATCH", "a*"), c("ZSCAN", "z", "0", "COUNT", "1"),
        c("ZSCAN", "z", "0", "COUNT", "0"), c("ZSCAN", "z", "0", "COUNT", "x"), c("ZSCAN", "z", "0", "TYPE", "zset"),
        c("ZSCAN", "z", "0", "MATCH"), c("ZSCAN", "z", "x"), c("ZSCAN", "z", "-1"), c("ZSCAN", "z", " 1"),
        c("ZSCAN", "nokey", "0", "COUNT", "0"), c("ZSCAN", "nokey", "x"), c("ZSCAN", "z", "0", "MATCH", "*"),
    ],
    "binary_members": [
        c("ZADD", "z", "1", "", "2", "\x00", "3", "a\x00b", "3", "a\x00", "3", "a", "0", "\xff\xfe", "0", "\r\n"),
        c("ZRANGE", "z", "0", "-1", "WITHSCORES"), c("ZSCORE", "z", ""), c("ZRANK", "z", "a\x00"),
        c("ZRANGEBYLEX", "z", "[a", "(a\x00c"), c("ZREM", "z", ""), c("ZRANGE", "z", "0", "-1"),
        c("ZADD", "big", "1", "x" * 100000, "2", "y"), c("OBJECT", "ENCODING", "big"), c("ZRANK", "big", "y"),
        c("ZSCORE", "big", "x" * 100000), c("ZREM", "big", "x" * 100000), c("OBJECT", "ENCODING", "big"),
    ],
    "encodings": [
        *limits(4, 8),
        c("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), c("OBJECT", "ENCODING", "z"),
        c("ZADD", "z", "5", "e"), c("OBJECT", "ENCODING", "z"), c("ZREM", "z", "e", "d"), c("OBJECT", "ENCODING", "z"),
        c("ZADD", "y", "1", "12345678"), c("OBJECT", "ENCODING", "y"), c("ZADD", "y", "1", "123456789"),
        c("OBJECT", "ENCODING", "y"), c("ZADD", "x", "1", "123456789"), c("OBJECT", "ENCODING", "x"),
        c("ZADD", "w", "1", "a", "2", "123456789"), c("OBJECT", "ENCODING", "w"),
        c("ZADD", "v", "XX", "1", "123456789"), c("EXISTS", "v"),
        c("ZADD", "u", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), c("OBJECT", "ENCODING", "u"),
        c("ZINCRBY", "t", "1", "a"), c("OBJECT", "ENCODING", "t"), c("ZINCRBY", "t", "1", "1234567890"),
        c("OBJECT", "ENCODING", "t"),
        c("ZUNIONSTORE", "d", "1", "z"), c("OBJECT", "ENCODING", "d"), c("ZUNIONSTORE", "d", "2", "z", "u"),
        c("OBJECT", "ENCODING", "d"), c("ZINTERSTORE", "d", "2", "z", "u"), c("OBJECT", "ENCODING", "d"),
        c("ZUNIONSTORE", "d", "1", "w"), c("OBJECT", "ENCODING", "d"), c("ZDIFFSTORE", "d", "2", "w", "z"),
        c("OBJECT", "ENCODING", "d"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        c("ZRANGESTORE", "d", "u", "0", "3"), c("OBJECT", "ENCODING", "d"), c("ZRANGESTORE", "d", "u", "0", "4"),
        c("OBJECT", "ENCODING", "d"), c("ZRANGESTORE", "d", "u", "-inf", "+inf", "BYSCORE"), c("OBJECT", "ENCODING", "d"),
        c("ZRANGESTORE", "d", "w", "0", "0"), c("OBJECT", "ENCODING", "d"),
        c("ZRANGESTORE", "d", "w", "1", "1"), c("OBJECT", "ENCODING", "d"),
        c("COPY", "u", "u2"), c("OBJECT", "ENCODING", "u2"), c("ZRANGE", "u2", "0", "-1", "WITHSCORES"),
        c("COPY", "z", "z2"), c("OBJECT", "ENCODING", "z2"),
        *limits(0, 64),
        c("ZADD", "n", "1", "a"), c("OBJECT", "ENCODING", "n"), c("ZUNIONSTORE", "d", "1", "z"),
        c("OBJECT", "ENCODING", "d"), c("ZRANGESTORE", "d", "z", "0", "0"), c("OBJECT", "ENCODING", "d"),
        c("ZRANGESTORE", "d", "z", "0", "0", "BYSCORE"), c("OBJECT", "ENCODING", "d"),
        *limits(128, 0),
        c("ZADD", "m", "1", ""), c("OBJECT", "ENCODING", "m"), c("ZADD", "m", "1", "a"), c("OBJECT", "ENCODING", "m"),
        *RESTORE,
        c("ZADD", "p", *[a for i in range(128) for a in (str(i), f"m{i}")]), c("OBJECT", "ENCODING", "p"),
        c("ZADD", "p", "0", "m0"), c("OBJECT", "ENCODING", "p"), c("ZADD", "p", "999", "new"),
        c("OBJECT", "ENCODING", "p"), c("ZADD", "q", "1", "x" * 64), c("OBJECT", "ENCODING", "q"),
        c("ZADD", "q", "1", "y" * 65), c("OBJECT", "ENCODING", "q"),
    ],
    "resp3": [
        c("HELLO", "3"),
        c("ZADD", "z", "1", "a", "2.5", "b", "inf", "c"), c("ZSCORE", "z", "b"), c("ZSCORE", "z", "x"),
        c("ZMSCORE", "z", "a", "x"), c("ZRANK", "z", "x"), c("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        c("ZRANGE", "z", "0", "-1"), c("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "2"),
        c("ZINCRBY", "z", "1", "a"), c("ZADD", "z", "NX", "INCR", "1", "a"), c("ZADD", "z", "INCR", "1", "q"),
        c("ZPOPMIN", "z"), c("ZPOPMIN", "z", "1"), c("ZPOPMAX", "z", "0"), c("ZPOPMIN", "nokey"),
        c("ZADD", "z", "1", "a", "2", "b", "3", "c"), c("ZMPOP", "1", "z", "MAX", "COUNT", "2"),
        c("ZMPOP", "1", "nokey", "MIN"), c("ZRANDMEMBER", "z", "5", "WITHSCORES"), c("ZRANDMEMBER", "nokey"),
        c("ZADD", "y", "1", "a", "5", "x"), c("ZUNION", "2", "z", "y", "WITHSCORES"), c("ZINTER", "2", "z", "y"),
        c("ZDIFF", "2", "y", "z", "WITHSCORES"), c("ZSCAN", "y", "0"), c("ZSCAN", "nokey", "0"),
        c("ZRANGE", "nokey", "0", "-1"), c("ZRANDMEMBER", "y", "-0"),
        *limits(0, 64),
        c("ZADD", "s", "1", "a", "2", "b"), c("ZRANGE", "s", "0", "-1", "WITHSCORES"), c("ZPOPMAX", "s", "1"),
        c("ZRANDMEMBER", "s", "3", "WITHSCORES"), c("ZUNION", "1", "s", "WITHSCORES"),
        *RESTORE,
    ],
    "zrange_limits_both_encodings": ops_on_both_encodings([
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZRANGE", "z", "2", "5"), ("ZRANGE", "z", "-3", "-1"),
        ("ZRANGE", "z", "-100", "100"), ("ZRANGE", "z", "5", "2"), ("ZRANGE", "z", "20", "30"),
        ("ZRANGE", "z", "0", "-1", "REV", "WITHSCORES"), ("ZRANGE", "z", "1", "3", "REV"),
        ("ZREVRANGE", "z", "0", "2", "WITHSCORES"), ("ZREVRANGE", "z", "-2", "-1"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES"), ("ZRANGE", "z", "(1", "3", "BYSCORE"),
        ("ZRANGE", "z", "(3", "(3", "BYSCORE"), ("ZRANGE", "z", "3", "3", "BYSCORE"), ("ZRANGE", "z", "3", "2", "BYSCORE"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "WITHSCORES"), ("ZRANGE", "z", "3", "(1", "BYSCORE", "REV"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "3"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "-1"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "0"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "100", "1"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "3", "WITHSCORES"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "9223372036854775807"),
        ("ZRANGEBYSCORE", "z", "0", "3", "WITHSCORES", "LIMIT", "1", "1"), ("ZREVRANGEBYSCORE", "z", "3", "0"),
        ("ZREVRANGEBYSCORE", "z", "(3", "(0", "LIMIT", "0", "1"), ("ZRANGEBYSCORE", "z", "inf", "inf"),
        ("ZRANGEBYSCORE", "z", "-inf", "-inf"), ("ZRANGEBYSCORE", "z", "(-inf", "(inf"),
        ("ZCOUNT", "z", "-inf", "+inf"), ("ZCOUNT", "z", "(1", "3"), ("ZCOUNT", "z", "3", "1"), ("ZCOUNT", "z", "10", "20"),
        ("ZRANK", "z", "cc"), ("ZREVRANK", "z", "cc"), ("ZRANK", "z", "bottom"), ("ZREVRANK", "z", "top"),
        ("ZSCORE", "z", "neg"), ("ZMSCORE", "z", "top", "bottom", "nope"),
        ("ZRANDMEMBER", "z", "100"), ("ZRANDMEMBER", "z", "11", "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "REV", "LIMIT", "1", "2"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZREMRANGEBYSCORE", "z", "(3", "5.5"), ("ZREMRANGEBYRANK", "z", "-2", "-1"), ("ZRANGE", "z", "0", "-1"),
        ("ZPOPMAX", "z", "2"), ("ZPOPMIN", "z", "2"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ], FILL),
    "lex_both_encodings": ops_on_both_encodings([
        ("ZRANGEBYLEX", "z", "-", "+"), ("ZRANGEBYLEX", "z", "[b", "[e"), ("ZRANGEBYLEX", "z", "(b", "(e"),
        ("ZRANGEBYLEX", "z", "(a", "+", "LIMIT", "1", "3"), ("ZRANGEBYLEX", "z", "-", "(a"),
        ("ZRANGEBYLEX", "z", "[e", "[b"), ("ZRANGEBYLEX", "z", "+", "-"), ("ZRANGEBYLEX", "z", "-", "-"),
        ("ZRANGEBYLEX", "z", "+", "+"), ("ZRANGEBYLEX", "z", "[a", "[a"), ("ZRANGEBYLEX", "z", "(a", "[a"),
        ("ZREVRANGEBYLEX", "z", "+", "-"), ("ZREVRANGEBYLEX", "z", "[e", "(b", "LIMIT", "1", "2"),
        ("ZRANGE", "z", "[b", "[d", "BYLEX", "REV"), ("ZRANGE", "z", "[d", "[b", "BYLEX", "REV"),
        ("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", "2", "-5"), ("ZRANGEBYLEX", "z", "[b", "[b\x00"),
        ("ZRANGEBYLEX", "z", "(", "+"), ("ZRANGEBYLEX", "z", "[", "(b"), ("ZRANGEBYLEX", "z", "[\xff", "+"),
        ("ZLEXCOUNT", "z", "-", "+"), ("ZLEXCOUNT", "z", "[b", "(e"), ("ZLEXCOUNT", "z", "(e", "[b"),
        ("ZRANGESTORE", "d", "z", "[c", "+", "BYLEX", "LIMIT", "1", "2"), ("ZRANGE", "d", "0", "-1"),
        ("ZREMRANGEBYLEX", "z", "[b", "(d"), ("ZRANGE", "z", "0", "-1"), ("ZREMRANGEBYLEX", "z", "+", "-"),
        ("ZCARD", "z"),
    ], LEXFILL),
    "mixed_scores_lex_compact": [
        # A lex range over unequal scores: Redis answers from its listpack
        # walk; the compact encoding must walk the same way.
        c("ZADD", "z", "1", "b", "2", "a", "3", "d", "4", "c", "5", "e"),
        c("ZRANGEBYLEX", "z", "[a", "[c"), c("ZRANGEBYLEX", "z", "(a", "+"), c("ZREVRANGEBYLEX", "z", "[d", "[a"),
        c("ZLEXCOUNT", "z", "[b", "[d"), c("ZRANGEBYLEX", "z", "[c", "+"), c("ZREVRANGEBYLEX", "z", "+", "[c"),
        c("ZREMRANGEBYLEX", "z", "[b", "[c"), c("ZRANGE", "z", "0", "-1"),
    ],
}


def compare(name, mine, ref):
    for a, b in zip(mine, ref):
        assert a == b, f"{name}: after {a[1]!r} ringkv said {a[2]!r}, redis said {b[2]!r}"
    assert len(mine) == len(ref)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sorted_sets_match_redis(ringkv, redis_ref, name):
    steps = SCENARIOS[name]
    try:
        mine = harness.play(ringkv, steps)
        ref = harness.play(redis_ref, steps)
    finally:
        for s in (ringkv, redis_ref):
            with s.raw() as conn:
                for _, cmd in RESTORE:
                    conn.call(*cmd)
    compare(name, mine, ref)


SET_INPUT_STEPS = [
    c("SADD", "ints", "1", "2", "3", "-5", "100000"), c("SADD", "strs", "a", "b", "1", "x" * 70),
    c("ZADD", "z", "1", "a", "2", "2", "3", "3", "0.5", "-5", "7", "zz"),
    c("OBJECT", "ENCODING", "ints"), c("OBJECT", "ENCODING", "strs"),
    c("ZUNION", "3", "ints", "strs", "z", "WITHSCORES"), c("ZINTER", "2", "ints", "z", "WITHSCORES"),
    c("ZINTER", "2", "strs", "z", "WEIGHTS", "3", "2", "WITHSCORES"), c("ZDIFF", "2", "z", "ints", "WITHSCORES"),
    c("ZDIFF", "2", "ints", "z", "WITHSCORES"), c("ZDIFF", "2", "strs", "ints"), c("ZINTERCARD", "2", "ints", "strs"),
    c("ZUNIONSTORE", "d", "2", "ints", "strs", "AGGREGATE", "MAX"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
    c("OBJECT", "ENCODING", "d"), c("ZINTERSTORE", "d", "2", "ints", "ints"), c("ZRANGE", "d", "0", "-1", "WITHSCORES"),
    c("ZDIFFSTORE", "d", "1", "strs"), c("OBJECT", "ENCODING", "d"), c("ZINTER", "2", "ints", "nokey"),
]


def test_sets_as_inputs_match_redis(ringkv, redis_ref):
    """Sets (intset and hashtable) as ZUNION/ZINTER/ZDIFF inputs score 1;
    runs once the server has the set family."""
    with ringkv.raw() as conn:
        if conn.call("COMMAND", "INFO", "sadd")[1][0][1] is None:
            pytest.skip("this build has no SADD")
    compare("sets_as_inputs", harness.play(ringkv, SET_INPUT_STEPS), harness.play(redis_ref, SET_INPUT_STEPS))


# ---------------------------------------------------------------------------
# The seeded random mix


ZKEYS = [f"z{i}" for i in range(16)] + ["{t}a", "{t}b", "lexa", "lexb"]
MEMBERS = [f"m{i}" for i in range(24)] + ["", "a", "b", "long" + "x" * 20, "\x00", "-", "+", "10"]
SCORES = ["0", "1", "-1", "2", "3", "0.5", "-0.5", "0.1", "0.25", "1e308", "-1e308", "inf", "-inf", "-0",
          "100", "7", "1e-3", "3.0", "12345678901234567", "1.5"]
BOUNDS = ["-inf", "+inf", "0", "1", "(1", "2", "(0.5", "3", "(3", "100", "(-inf", "-1", "0.1"]
LEXB = ["-", "+", "[a", "(a", "[m1", "(m2", "[m5", "[b", "(long", "[m20", "[", "("]


def gen(rng: random.Random):
    def key():
        return rng.choice(ZKEYS[:18])

    def lexkey():
        return rng.choice(ZKEYS[18:])

    def mem():
        return rng.choice(MEMBERS)

    def sc():
        return rng.choice(SCORES)

    def ix():
        return str(rng.randint(-8, 8))

    def keys(n):
        return [rng.choice(ZKEYS) for _ in range(n)]

    r = rng.random()
    if r < 0.22:
        opts = rng.choice([[], [], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "GT", "CH"], ["LT", "CH"]])
        pairs = []
        for _ in range(rng.randint(1, 5)):
            pairs += [sc(), mem()]
        return ["ZADD", key(), *opts, *pairs]
    if r < 0.27:
        return ["ZADD", lexkey(), "0", mem()]
    if r < 0.32:
        return ["ZINCRBY", key(), rng.choice(["1", "-1", "0.5", "inf", "-inf", "2.5"]), mem()]
    if r < 0.37:
        return ["ZREM", key(), *[mem() for _ in range(rng.randint(1, 3))]]
    if r < 0.47:
        k = key()
        kind = rng.random()
        ws = ["WITHSCORES"] if rng.random() < 0.5 else []
        if kind < 0.4:
            return ["ZRANGE", k, ix(), ix(), *(["REV"] if rng.random() < 0.3 else []), *ws]
        lim = ["LIMIT", str(rng.randint(-1, 3)), str(rng.randint(-1, 4))] if rng.random() < 0.4 else []
        if kind < 0.8:
            return ["ZRANGE", k, rng.choice(BOUNDS), rng.choice(BOUNDS), "BYSCORE",
                    *(["REV"] if rng.random() < 0.3 else []), *lim, *ws]
        return ["ZRANGE", lexkey(), rng.choice(LEXB), rng.choice(LEXB), "BYLEX",
                *(["REV"] if rng.random() < 0.3 else []), *lim]
    if r < 0.52:
        return [rng.choice(["ZRANK", "ZREVRANK", "ZSCORE"]), key(), mem()]
    if r < 0.55:
        return ["ZMSCORE", key(), mem(), mem()]
    if r < 0.59:
        return ["ZCOUNT", key(), rng.choice(BOUNDS), rng.choice(BOUNDS)]
    if r < 0.61:
        return ["ZLEXCOUNT", lexkey(), rng.choice(LEXB), rng.choice(LEXB)]
    if r < 0.64:
        return [rng.choice(["ZPOPMIN", "ZPOPMAX"]), key(), *([str(rng.randint(0, 3))] if rng.random() < 0.6 else [])]
    if r < 0.66:
        ks = keys(rng.randint(1, 3))
        return ["ZMPOP", str(len(ks)), *ks, rng.choice(["MIN", "MAX"]),
                *(["COUNT", str(rng.randint(1, 3))] if rng.random() < 0.5 else [])]
    if r < 0.69:
        return ["ZREMRANGEBYRANK", key(), ix(), ix()]
    if r < 0.71:
        return ["ZREMRANGEBYSCORE", key(), rng.choice(BOUNDS), rng.choice(BOUNDS)]
    if r < 0.72:
        return ["ZREMRANGEBYLEX", lexkey(), rng.choice(LEXB), rng.choice(LEXB)]
    if r < 0.80:
        op = rng.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"])
        ks = keys(rng.randint(1, 3))
        tail = []
        if op not in ("ZDIFFSTORE", "ZDIFF", "ZINTERCARD"):
            if rng.random() < 0.4:
                tail += ["WEIGHTS", *[rng.choice(["1", "2", "0.5", "-1", "0", "0.1"]) for _ in ks]]
            if rng.random() < 0.4:
                tail += ["AGGREGATE", rng.choice(["SUM", "MIN", "MAX"])]
        if op in ("ZUNION", "ZINTER", "ZDIFF") and rng.random() < 0.6:
            tail.append("WITHSCORES")
        if op == "ZINTERCARD" and rng.random() < 0.5:
            tail += ["LIMIT", str(rng.randint(0, 3))]
        dst = [key()] if op.endswith("STORE") else []
        return [op, *dst, str(len(ks)), *ks, *tail]
    if r < 0.84:
        lim = ["LIMIT", str(rng.randint(0, 2)), str(rng.randint(-1, 3))] if rng.random() < 0.3 else []
        if rng.random() < 0.5:
            return ["ZRANGESTORE", key(), key(), ix(), ix(), *(["REV"] if rng.random() < 0.3 else [])]
        return ["ZRANGESTORE", key(), key(), rng.choice(BOUNDS), rng.choice(BOUNDS), "BYSCORE", *lim]
    if r < 0.90:
        return [rng.choice(["ZCARD", "TYPE", "EXISTS"]), key()]
    if r < 0.94:
        return ["ZRANGE", key(), "0", "-1", "WITHSCORES"]
    if r < 0.96:
        return ["ZRANDMEMBER", key(), rng.choice(["0", "100", "-0"]), *(["WITHSCORES"] if rng.random() < 0.5 else [])]
    if r < 0.98:
        return ["OBJECT", "ENCODING", key()]
    return ["DEL", key()]


def test_random_mix_matches_redis(ringkv, redis_ref):
    seed = int(os.environ.get("ZSET_SEED", random.randrange(1 << 30)))
    print(f"ZSET_SEED={seed}")
    rng = random.Random(seed)
    cmds = [gen(rng) for _ in range(OPS)]
    # Small limits so both encodings and the conversions between them occur.
    setup = [("FLUSHALL",), ("CONFIG", "SET", "zset-max-listpack-entries", "6"),
             ("CONFIG", "SET", "zset-max-listpack-value", "12")]
    replies = []
    try:
        for s in (ringkv, redis_ref):
            with s.raw() as conn:
                for cmd in setup:
                    conn.call(*cmd)
                out = []
                for i in range(0, len(cmds), 200):
                    out += conn.pipeline(cmds[i:i + 200])
                # Final state of every key, for a last comparison.
                out += conn.pipeline([("ZRANGE", k, "0", "-1", "WITHSCORES") for k in ZKEYS])
                replies.append(out)
    finally:
        for s in (ringkv, redis_ref):
            with s.raw() as conn:
                for _, cmd in RESTORE:
                    conn.call(*cmd)
    mine, ref = replies
    tail = [("ZRANGE", k, "0", "-1", "WITHSCORES") for k in ZKEYS]
    for i, (cmd, a, b) in enumerate(zip(cmds + tail, mine, ref)):
        assert a == b, f"seed {seed}, op {i} {cmd!r}: ringkv said {a!r}, redis said {b!r}"


# ---------------------------------------------------------------------------
# What cannot be compared reply by reply


def test_zscan_skiplist_covers_every_member(r):
    members = {f"member:{i}": float(i) / 4 for i in range(1000)}
    r.zadd("big", members)
    assert r.object("encoding", "big") == b"skiplist"
    seen = {}
    cursor = 0
    rounds = 0
    while True:
        cursor, items = r.zscan("big", cursor, count=50)
        for m, s in items:
            seen[m.decode()] = s
        rounds += 1
        if cursor == 0:
            break
    assert rounds > 1, "a skiplist ZSCAN is incremental"
    assert seen == members
    # MATCH filters after the walk, as Redis's does.
    got = dict(r.zscan_iter("big", match="member:99*"))
    assert {k.decode() for k in got} == {m for m in members if m.startswith("member:99")}


@pytest.mark.parametrize("entries", [128, 0])
def test_zrandmember_draws_members(r, entries):
    r.config_set("zset-max-listpack-entries", entries)
    try:
        members = {f"m{i}": i for i in range(50)}
        r.zadd("z", members)
        enc = r.object("encoding", "z")
        assert enc == (b"listpack" if entries else b"skiplist")
        assert r.zrandmember("z").decode() in members
        assert r.zrandmember("nokey") is None
        for count in (1, 5, 20, 49):  # distinct members, both sampling strategies
            got = r.zrandmember("z", count)
            assert len(got) == count and len(set(got)) == count
            assert all(m.decode() in members for m in got)
        got = r.zrandmember("z", -200)
        assert len(got) == 200 and all(m.decode() in members for m in got)
        assert len(set(got)) > 20, "repeats are allowed, but 200 draws of 50 should not cluster"
        pairs = r.zrandmember("z", 10, withscores=True)
        assert len(pairs) == 20
        for m, s in zip(pairs[::2], pairs[1::2]):
            assert float(s) == members[m.decode()]
    finally:
        r.config_set("zset-max-listpack-entries", 128)


def test_redis_py_round_trip(r):
    assert r.zadd("z", {"a": 1, "b": 2.5, "c": -3}) == 3
    assert r.zrange("z", 0, -1, withscores=True) == [(b"c", -3.0), (b"a", 1.0), (b"b", 2.5)]
    assert r.zincrby("z", 0.5, "a") == 1.5
    assert r.zpopmin("z") == [(b"c", -3.0)]
    assert r.zrangebyscore("z", "(1.5", "+inf") == [b"b"]
    assert r.zunionstore("u", {"z": 2, "nokey": 1}) == 2
    assert r.zscore("u", "b") == 5.0
    assert r.zmpop(1, ["u"], min=True, count=5) == [b"u", [[b"a", b"3"], [b"b", b"5"]]]
    assert r.exists("u") == 0


def test_pipelined_cross_shard_stores(r):
    """ZUNIONSTORE/ZRANGESTORE over keys that hash to different shards,
    interleaved with writes: each result is computed over a consistent state."""
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.zadd(f"src{i % 7}", {f"m{i}": i})
        p.zunionstore(f"dst{i % 5}", [f"src{j}" for j in range(7)])
        p.zrangestore(f"rs{i % 3}", f"src{i % 7}", 0, -1)
    out = p.execute()
    unions = out[1::3]
    assert unions == list(range(1, 201))
    assert r.zcard("dst4") == 200 and r.zscore("dst4", "m150") == 150


def _fill(client, key, n, batch=2000):
    p = client.pipeline(transaction=False)
    for start in range(0, n, batch):
        p.execute_command("ZADD", key, *[x for i in range(start, min(n, start + batch))
                                            for x in (str(i * 1.5), f"member:{i}")])
        if (start // batch) % 20 == 19:
            p.execute()
    p.execute()


def test_million_member_zset_memory_within_redis(server_factory):
    """A 1M-member skiplist zset must not cost more RSS than Redis's."""
    n = 1_000_000
    rk = server_factory("ringkv", shards=1)
    rd = server_factory("redis")
    used = {}
    for name, s in (("ringkv", rk), ("redis", rd)):
        cl = s.client()
        base = s.rss_kb()
        _fill(cl, "big", n)
        assert cl.zcard("big") == n
        assert cl.object("encoding", "big") == b"skiplist"
        assert cl.zrank("big", "member:777777") == 777777
        used[name] = s.rss_kb() - base
        cl.close()
    print(f"1M-member zset RSS growth: ringkv {used['ringkv']} KiB, redis {used['redis']} KiB")
    assert used["ringkv"] <= used["redis"], used
