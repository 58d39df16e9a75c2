#!/usr/bin/env python3
"""Differential campaign: a long seeded command stream, every command family,
sent to redis-server 7.0 and to ringkv, every reply compared.

  Tests/stress/diff_campaign.py --ops 500000 --seed 1 --matrix uring-4,epoll-4

For each matrix entry a fresh ringkv and a fresh redis-server are started and
get the same stream: CLIENTS connection pairs (odd ones speak RESP3), each
batch pipelined to both servers at once and read back before the next batch,
so both see the same interleaving. Keys come from small per-family pools with
a share drawn from all pools (wrong types), values include binary bytes.

Replies are compared on the wire (type and bytes). Only what Redis leaves
unspecified is normalised: set-valued replies and hash-table orders are
sorted, TTLs compared within a tolerance, random picks (SRANDMEMBER,
HRANDFIELD, ZRANDMEMBER, RANDOMKEY, SPOP) checked by properties against the
key's contents, idle times masked, SCAN/HSCAN/SSCAN/ZSCAN iterated to the end
and compared as sets. Every CHECK_EVERY commands both keyspaces are dumped
(type, contents, encoding, TTL of every key in the databases used) and
compared.

A divergence prints the command, both replies and the preceding commands on
its keys; that history is then replayed in a scratch database on both servers
and cut down while it still diverges (the minimal reproducer). The keys
involved are then deleted on both sides so one difference does not cascade.
Exit status 1 when a divergence or a crash was seen. A markdown summary goes
to --report (default: none).
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

CLIENTS = 4             # connection pairs; odd ones use RESP3
DBS = 3                 # databases the stream touches (SELECT/MOVE/SWAPDB/COPY DB)
SCRATCH_DB = 9          # where reproducers are replayed
PTTL_TOL_MS = 1500
SHORT_TTL_SLEEP = 0.05

# ---------------------------------------------------------------------------
# pools

def _pool(prefix, n, tagged=2):
    keys = [f"{prefix}:{i}".encode() for i in range(n)]
    keys += [f"{{a}}{prefix}{i}".encode() for i in range(tagged)]
    return keys


POOLS = {
    "string": _pool("s", 5) + [b"s:\x00\xff\r\n", "s:caf\u00e9".encode()],
    "list": _pool("l", 4),
    "hash": _pool("h", 4),
    "set": _pool("t", 4),
    "zset": _pool("z", 4),
    "bitmap": _pool("b", 3),
    "hll": _pool("p", 3),
    "stream": _pool("x", 3, tagged=1),
    "geo": _pool("g", 3),
}
# Random draws (wrong types, RENAME targets) come from ALL_KEYS. The lex
# pool is left out: BYLEX ranges over members of different scores are
# unspecified (Redis walks its skiplist's random levels), so those keys only
# ever hold score 0, written by the zset generator alone.
ALL_KEYS = sorted({k for v in POOLS.values() for k in v})
POOLS["lex"] = [b"zl:0", b"zl:1", b"{a}zl"]
MEMBERS = [f"m{i}".encode() for i in range(24)] + [str(i).encode() for i in range(-3, 30)] + [
    b"", b"\x00\xff", b"a b", b"\r\n", b"x" * 70, b"9223372036854775807", b"1.5", "\u00e9".encode()]
VALUES = [b"", b"v", b"hello", b"0", b"1", b"-1", b"42", b"007", b" 1", b"3.14", b"-0.5", b"1e3",
          b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808", b"abc",
          b"\x00\xff\r\n", b"x" * 50, b"y" * 100, b"inf", b"nan", b"10.50", b"0x10", b"+5",
          b"12345678901234567890", b"9999", b"10000", b"5", bytes(range(256))[:40]]
INTS = [b"0", b"1", b"-1", b"5", b"100", b"-100", b"9223372036854775807", b"-9223372036854775808",
        b"abc", b"1.5", b"", b" 1", b"99999999999999999999", b"+3", b"0x1", b"2", b"3"]
FLOATS = [b"0.1", b"-2.5", b"1e2", b"abc", b"inf", b"-inf", b"nan", b"1e400", b"3", b"5.0e3",
          b"0x10", b" 1", b"1.0", b"-0", b"1.7976931348623157e308", b"", b"1e-5", b"2", b"0"]
PATTERNS = [b"*", b"s:*", b"?:?", b"[lh]:[0-2]", b"{a}*", b"*\xff*", b"*z*", b"[^s]*", b"\\{a\\}*", b"t:1"]

SCRIPTS = [
    (b"return redis.call('GET', KEYS[1])", 1),
    (b"redis.call('SET', KEYS[1], ARGV[1]); return redis.call('STRLEN', KEYS[1])", 1),
    (b"return redis.call('INCRBY', KEYS[1], ARGV[1])", 1),
    (b"return redis.pcall('INCRBY', KEYS[1], ARGV[1])", 1),
    (b"return {1, 2, {3, 'x'}, ARGV[1], 3.9, true, false}", 0),
    (b"return redis.call('LRANGE', KEYS[1], 0, -1)", 1),
    (b"return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", 1),
    (b"return redis.call('HGET', KEYS[1], ARGV[1])", 1),
    (b"return redis.status_reply('FINE')", 0),
    (b"return redis.error_reply('MY ERR')", 0),
    (b"return redis.call('NOSUCHCMD')", 0),
    (b"return redis.call('RPUSH', KEYS[1], ARGV[1]) + redis.call('SADD', KEYS[2], ARGV[1])", 2),
    (b"local v = redis.call('GET', KEYS[1]); if v then redis.call('SET', KEYS[2], v) end; return v", 2),
    (b"return tonumber(ARGV[1]) * 2", 0),
    (b"return redis.call('EXISTS', KEYS[1], KEYS[2])", 2),
    (b"redis.setresp(3); return redis.call('HGETALL', KEYS[1])", 1, "pairs"),
    (b"return redis.sha1hex(ARGV[1])", 0),
    (b"return cjson.encode({a=1})", 0),
    (b"return #KEYS + #ARGV", 2),
    (b"error('boom')", 0),
    (b"return redis.call('TYPE', KEYS[1])", 1),
    (b"return redis.call('ZSCORE', KEYS[1], ARGV[1])", 1),
    (b"local t = redis.call('TYPE', KEYS[1]); return t['ok']", 1),
    (b"redis.setresp(3); return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", 1),
    (b"redis.setresp(3); return redis.call('ZSCORE', KEYS[1], ARGV[1])", 1),
    (b"redis.setresp(3); return redis.call('SMEMBERS', KEYS[1])", 1, "sorted"),
    (b"return redis.call('SMEMBERS', KEYS[1])", 1, "sorted"),
    (b"return redis.call('HGETALL', KEYS[1])", 1, "pairs"),
    (b"return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])", 1),
    (b"return {tonumber(ARGV[1]), tostring(tonumber(ARGV[1])), -0.5, 1e308 * 10}", 0),
    (b"return struct.unpack('>i2', struct.pack('>i2', tonumber(ARGV[1]) or 0))", 0),
    (b"return cmsgpack.unpack(cmsgpack.pack({1, 2.5, ARGV[1], {a=1}}))", 0),
    (b"return cjson.decode(ARGV[1])", 0),
    (b"return bit.band(tonumber(ARGV[1]) or 0, 255)", 0),
    (b"return redis.call('OBJECT', 'ENCODING', KEYS[1])", 1),
    (b"return redis.call('BITFIELD', KEYS[1], 'INCRBY', 'i5', 0, ARGV[1])", 1),
    (b"return {redis.call('SET', KEYS[1], ARGV[1], 'GET'), redis.call('GETDEL', KEYS[1])}", 1),
    (b"return redis.pcall('XADD', KEYS[1], '1-1', 'f', ARGV[1])", 1),
    (b"return {err='CUSTOM ' .. ARGV[1]}", 0),
    (b"return {ok=ARGV[1]}", 0),
    (b"return nil", 0),
    (b"return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 3)", 1),
    (b"return redis.call('LPOS', KEYS[1], ARGV[1], 'COUNT', 0)", 1),
]
SCRIPT_KEY_FAMILIES = ["string", "list", "zset", "hash", "set", "stream", "bitmap"]


def wire(x) -> bytes:
    return x if isinstance(x, bytes) else str(x).encode()


class Cmd:
    """One command of the stream: its arguments, family and comparison mode.
    `mode` is None (exact) or a tag the comparator knows; `end` cuts the batch
    after it (short TTLs, SPOP); `stale` asks for an EXISTS of its key after
    the batch (an expired-but-present key would skew DBSIZE)."""

    __slots__ = ("args", "family", "mode", "end", "stale", "short", "queued")

    def __init__(self, args, family, mode=None, end=False, stale=False, short=False):
        self.args = [wire(a) for a in args]
        self.family = family
        self.mode = mode
        self.end = end
        self.stale = stale
        self.short = short
        self.queued: list[Cmd] | None = None  # EXEC: the commands of its block


# ---------------------------------------------------------------------------
# generator

class Gen:
    def __init__(self, rng: random.Random, now: int):
        self.rng = rng
        self.now = now
        self.stream_ms = now * 1000 - 10_000_000
        self.loaded_sha: list[bytes] = []
        self.families = {
            "string": 14, "keys": 8, "list": 10, "hash": 10, "set": 10, "zset": 10, "bitmap": 5,
            "hll": 3, "stream": 6, "geo": 4, "script": 3, "sort": 2.5, "scan": 0.6, "object": 1.5,
            "multi": 2.5, "error": 1.5, "server": 1,
        }
        self.fam_names = list(self.families)
        self.fam_weights = [self.families[f] for f in self.fam_names]

    # ---- pickers
    def key(self, fam):
        if self.rng.random() < 0.08:
            return self.rng.choice(ALL_KEYS)
        return self.rng.choice(POOLS[fam])

    def keys(self, fam, lo=1, hi=4):
        return [self.key(fam) for _ in range(self.rng.randint(lo, hi))]

    def member(self):
        r = self.rng.random()
        if r < 0.55:
            return self.rng.choice(MEMBERS[:24])
        if r < 0.85:
            return self.rng.choice(MEMBERS[24:57])
        return self.rng.choice(MEMBERS)

    def members(self, lo=1, hi=5):
        if self.rng.random() < 0.01:  # big enough to leave a compact encoding
            base = self.rng.choice([b"n", b""])
            return [base + str(i).encode() for i in range(self.rng.choice([130, 520, 600]))]
        return [self.member() for _ in range(self.rng.randint(lo, hi))]

    def value(self):
        return self.rng.choice(VALUES)

    def int_(self):
        if self.rng.random() < 0.8:
            return self.rng.randint(-20, 40)
        return self.rng.choice(INTS)

    def idx(self):
        if self.rng.random() < 0.9:
            return self.rng.randint(-12, 12)
        return self.rng.choice([9223372036854775807, -9223372036854775808, b"abc", b"", 100000, b"1.5"])

    def score(self):
        r = self.rng.random()
        if r < 0.7:
            return self.rng.randint(-10, 30)
        if r < 0.85:
            return self.rng.choice([b"1.5", b"-2.25", b"0.1", b"1e3", b"3.0"])
        return self.rng.choice(FLOATS)

    def ttl_s(self):
        if self.rng.random() < 0.85:
            return self.rng.randint(100, 100000)
        return self.rng.choice([0, -5, b"abc", 9223372036854775807, 9223372036854775, b"", b"1.5"])

    def ttl_ms(self, c):
        r = self.rng.random()
        if r < 0.005:
            c.short = c.end = True
            return self.rng.randint(5, 20)
        if r < 0.85:
            return self.rng.randint(100_000, 100_000_000)
        return self.rng.choice([0, -5, b"abc", 9223372036854775807, 9223372036854775806])

    def at_s(self, c):
        r = self.rng.random()
        if r < 0.85:
            return self.now + self.rng.randint(1000, 100000)
        if r < 0.93:
            c.stale = c.end = True
            return self.rng.randint(1, self.now - 100)
        return self.rng.choice([0, -1, b"abc", 9223372036854775807])

    def expire_opts(self):
        r = self.rng.random()
        if r < 0.65:
            return []
        if r < 0.93:
            return [self.rng.choice([b"NX", b"XX", b"GT", b"LT", b"nx"])]
        return self.rng.choice([[b"NX", b"XX"], [b"GT", b"LT"], [b"BOGUS"]])

    def casing(self, name: bytes) -> bytes:
        if self.rng.random() < 0.85:
            return name
        return bytes(c + 32 if 65 <= c <= 90 and self.rng.random() < 0.5 else c for c in name)

    def random_pick(self, c, k, with_flag, companion):
        """HRANDFIELD/ZRANDMEMBER with an optional count and WITH flag,
        followed by the key's contents to check the picks against."""
        c.args += [k]
        if self.rng.random() < 0.7:
            c.args.append(self.rng.choice([1, 3, 10, -3, -10, 0, 500, b"x"]))
            if self.rng.random() < 0.5:
                c.args.append(with_flag)
        c.mode = c.args[0].decode().lower()
        return [self.mangle(c), companion]

    def start(self, fam, ops, weights):
        """A family's key, its command name (weighted) and the command begun."""
        k = self.key(fam)
        op = self.rng.choices(ops, weights)[0]
        return self.rng, k, op, Cmd([op], fam)

    # ---- entry point
    def unit(self) -> list[list[Cmd]]:
        """One unit of work for one client: usually a single command; a
        transaction is several steps (WATCH, maybe a write by the next
        client, MULTI..EXEC), returned as batches with a client offset."""
        fam = self.rng.choices(self.fam_names, self.fam_weights)[0]
        if fam == "multi":
            return self.g_multi()
        cmds = getattr(self, "g_" + fam)()
        return [(0, cmds)]

    def one(self, fams=None) -> list[Cmd]:
        fam = self.rng.choice(fams or ["string", "keys", "list", "hash", "set", "zset", "bitmap", "hll",
                                       "stream", "geo", "sort", "script"])
        return getattr(self, "g_" + fam)()

    def mangle(self, c: Cmd) -> Cmd:
        """Wrong arity, extra junk and mixed-case names: the error paths."""
        r = self.rng.random()
        if r < 0.02 and len(c.args) > 1:
            c.args = c.args[: self.rng.randrange(1, len(c.args))]
        elif r < 0.03:
            c.args = c.args + [self.rng.choice([b"BOGUS", b"1", b""])]
        c.args[0] = self.casing(c.args[0])
        return c

    # ---- strings
    def g_string(self):
        rng, k, op, c = self.start(
            "string",
            ["GET", "SET", "SETNX", "SETEX", "PSETEX", "MGET", "MSET", "MSETNX", "GETSET", "GETDEL", "GETEX",
             "APPEND", "STRLEN", "INCR", "DECR", "INCRBY", "DECRBY", "INCRBYFLOAT", "GETRANGE", "SETRANGE",
             "SUBSTR", "LCS", "W"],
            [10, 12, 2, 2, 1, 3, 3, 1, 1, 1, 2, 4, 2, 4, 2, 3, 2, 3, 2, 3, 1, 2, 2])
        if op in ("GET", "STRLEN", "GETDEL", "INCR", "DECR"):
            c.args += [k]
        elif op == "SET":
            c.args += [k, self.value()]
            opts = []
            if rng.random() < 0.3:
                opts.append(rng.choice([b"NX", b"XX"]))
            if rng.random() < 0.2:
                opts.append(b"GET")
            r = rng.random()
            if r < 0.12:
                opts += [b"EX", self.ttl_s()]
            elif r < 0.22:
                opts += [b"PX", self.ttl_ms(c)]
            elif r < 0.26:
                opts += [b"EXAT", self.at_s(c)]
            elif r < 0.3:
                opts += [b"PXAT", (self.now + rng.randint(1000, 90000)) * 1000]
            elif r < 0.36:
                opts.append(b"KEEPTTL")
            if rng.random() < 0.03:
                opts += rng.choice([[b"NX", b"XX"], [b"EX", b"10", b"PX", b"10"], [b"KEEPTTL", b"EX", b"5"],
                                    [b"EX"], [b"BOGUS"], [b"EX", b"0"]])
            c.args += opts
        elif op == "SETNX":
            c.args += [k, self.value()]
        elif op == "SETEX":
            c.args += [k, self.ttl_s(), self.value()]
        elif op == "PSETEX":
            c.args += [k, self.ttl_ms(c), self.value()]
        elif op == "MGET":
            c.args += self.keys("string", 1, 6)
        elif op in ("MSET", "MSETNX"):
            for _ in range(rng.randint(1, 4)):
                c.args += [self.key("string"), self.value()]
        elif op in ("GETSET", "APPEND"):
            c.args += [k, self.value()]
        elif op == "GETEX":
            r = rng.random()
            c.args += [k] + ([] if r < 0.3 else [b"EX", self.ttl_s()] if r < 0.5 else
                             [b"PX", self.ttl_ms(c)] if r < 0.65 else [b"EXAT", self.at_s(c)] if r < 0.72 else
                             [b"PERSIST"] if r < 0.95 else rng.choice([[b"EX"], [b"PERSIST", b"EX", b"5"], [b"FOO"]]))
        elif op in ("INCRBY", "DECRBY"):
            c.args += [k, self.int_()]
        elif op == "INCRBYFLOAT":
            c.args += [k, rng.choice(FLOATS)]
        elif op in ("GETRANGE", "SUBSTR"):
            c.args += [k, self.idx() * rng.choice([1, 5]), self.idx() * rng.choice([1, 5])]
        elif op == "SETRANGE":
            off = rng.randint(0, 80) if rng.random() < 0.93 else rng.choice([-1, 536870912, b"abc"])
            c.args += [k, off, self.value()]
        elif op == "LCS":
            c.args += [k, self.key("string")] + rng.choice(
                [[], [b"LEN"], [b"IDX"], [b"IDX", b"WITHMATCHLEN"], [b"IDX", b"MINMATCHLEN", rng.choice([0, 1, 2, -1])],
                 [b"LEN", b"IDX"], [b"BOGUS"]])
        elif op == "W":  # the weight and object keys SORT's BY and GET patterns read
            c.args = [b"SET", rng.choice([b"w_", b"o_"]) + self.member()[:6], rng.choice([self.score(), self.value()])]
        return [self.mangle(c)]

    # ---- keys and expiry
    def g_keys(self):
        rng = self.rng
        k = self.rng.choice(ALL_KEYS)
        op = rng.choices(
            ["DEL", "UNLINK", "EXISTS", "TYPE", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "EXPIRETIME",
             "PEXPIRETIME", "TTL", "PTTL", "PERSIST", "RENAME", "RENAMENX", "COPY", "MOVE", "KEYS", "RANDOMKEY",
             "DBSIZE", "TOUCH", "DUMPRESTORE"],
            [3, 1, 4, 4, 3, 2, 1, 1, 1, 1, 3, 2, 2, 2, 1, 2, 0.5, 1, 0.5, 1, 1, 1])[0]
        c = Cmd([op], "keys")
        if op in ("DEL", "UNLINK", "EXISTS", "TOUCH"):
            c.args += [rng.choice(ALL_KEYS) for _ in range(rng.randint(1, 4))]
        elif op in ("TYPE", "PERSIST"):
            c.args += [k]
        elif op in ("TTL", "PTTL"):
            c.args += [k]
            c.mode = op.lower()
        elif op == "EXPIRE":
            c.args += [k, self.ttl_s()] + self.expire_opts()
        elif op == "PEXPIRE":
            c.args += [k, self.ttl_ms(c)] + self.expire_opts()
        elif op == "EXPIREAT":
            c.args += [k, self.at_s(c)] + self.expire_opts()
        elif op == "PEXPIREAT":
            at = self.at_s(c)
            c.args += [k, at * 1000 if isinstance(at, int) else at] + self.expire_opts()
        elif op in ("EXPIRETIME", "PEXPIRETIME"):
            c.args += [k]
            c.mode = op.lower()
        elif op in ("RENAME", "RENAMENX"):
            c.args += [k, rng.choice(ALL_KEYS)]
        elif op == "COPY":
            c.args += [k, rng.choice(ALL_KEYS)]
            if rng.random() < 0.2:
                c.args += [b"DB", rng.choice([0, 1, 2, 16, b"x"])]
            if rng.random() < 0.4:
                c.args.append(b"REPLACE")
        elif op == "MOVE":
            c.args += [k, rng.choice([0, 1, 2, 17, b"x"])]
        elif op == "KEYS":
            c.args += [rng.choice(PATTERNS)]
            c.mode = "sorted"
        elif op == "RANDOMKEY":
            c.mode = "randomkey"
        elif op == "DUMPRESTORE":
            # DUMP payloads are only comparable between equal encodings, so
            # the round trip is checked (RESTORE of a key's own DUMP), not
            # the bytes.
            return [Cmd([b"EVAL", b"local d = redis.call('DUMP', KEYS[1]); if not d then return 0 end; "
                         b"redis.call('RESTORE', KEYS[2], 0, d, 'REPLACE'); return 1", 2, k,
                         rng.choice(ALL_KEYS)], "keys")]
        return [self.mangle(c)]

    # ---- lists
    def g_list(self):
        rng, k, op, c = self.start(
            "list",
            ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LLEN", "LRANGE", "LINDEX", "LSET", "LINSERT",
             "LREM", "LTRIM", "LPOS", "LMOVE", "RPOPLPUSH", "LMPOP", "BLPOP", "BRPOP", "BLMOVE", "BLMPOP"],
            [6, 6, 1, 1, 3, 3, 2, 5, 2, 2, 2, 2, 1, 2, 2, 1, 1, 0.3, 0.3, 0.2, 0.2])
        if op in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
            c.args += [k] + self.members()
        elif op in ("LPOP", "RPOP"):
            c.args += [k] + ([] if rng.random() < 0.6 else [self.int_()])
        elif op == "LLEN":
            c.args += [k]
        elif op == "LRANGE":
            c.args += [k, self.idx(), self.idx() if rng.random() < 0.7 else -1]
        elif op == "LINDEX":
            c.args += [k, self.idx()]
        elif op == "LSET":
            c.args += [k, self.idx(), self.member()]
        elif op == "LINSERT":
            c.args += [k, rng.choice([b"BEFORE", b"AFTER", b"after", b"MIDDLE"]), self.member(), self.member()]
        elif op == "LREM":
            c.args += [k, self.idx(), self.member()]
        elif op == "LTRIM":
            c.args += [k, self.idx(), self.idx()]
        elif op == "LPOS":
            c.args += [k, self.member()]
            for o in (b"RANK", b"COUNT", b"MAXLEN"):
                if rng.random() < 0.3:
                    c.args += [o, self.idx()]
        elif op in ("LMOVE", "BLMOVE"):
            c.args += [k, self.key("list"), rng.choice([b"LEFT", b"RIGHT"]), rng.choice([b"LEFT", b"RIGHT", b"UP"])]
            if op == "BLMOVE":
                c.args.append(b"0.01")
        elif op == "RPOPLPUSH":
            c.args += [k, self.key("list")]
        elif op in ("LMPOP", "BLMPOP"):
            ks = self.keys("list", 1, 3)
            c.args += ([b"0.01"] if op == "BLMPOP" else []) + [len(ks) if rng.random() < 0.95 else 5] + ks
            c.args.append(rng.choice([b"LEFT", b"RIGHT", b"NONE"]))
            if rng.random() < 0.4:
                c.args += [b"COUNT", self.int_()]
        elif op in ("BLPOP", "BRPOP"):
            c.args += self.keys("list", 1, 3) + [rng.choice([b"0.01", b"-1", b"abc"])]
        return [self.mangle(c)]

    # ---- hashes
    def g_hash(self):
        rng, k, op, c = self.start(
            "hash",
            ["HSET", "HSETNX", "HMSET", "HGET", "HMGET", "HDEL", "HLEN", "HSTRLEN", "HEXISTS", "HINCRBY",
             "HINCRBYFLOAT", "HGETALL", "HKEYS", "HVALS", "HRANDFIELD"],
            [8, 1, 1, 5, 2, 3, 2, 1, 2, 2, 2, 3, 1, 1, 1])
        if op in ("HSET", "HMSET"):
            c.args += [k]
            fs = self.members()
            for f in fs:
                c.args += [f, self.value() if rng.random() < 0.7 else f]
        elif op == "HSETNX":
            c.args += [k, self.member(), self.value()]
        elif op in ("HGET", "HSTRLEN", "HEXISTS"):
            c.args += [k, self.member()]
        elif op in ("HMGET", "HDEL"):
            c.args += [k] + self.members(1, 4)
        elif op == "HLEN":
            c.args += [k]
        elif op == "HINCRBY":
            c.args += [k, self.member(), self.int_()]
        elif op == "HINCRBYFLOAT":
            c.args += [k, self.member(), rng.choice(FLOATS)]
        elif op == "HGETALL":
            c.args += [k]
            c.mode = "pairs"
        elif op in ("HKEYS", "HVALS"):
            c.args += [k]
            c.mode = "sorted"
        elif op == "HRANDFIELD":
            return self.random_pick(c, k, b"WITHVALUES", Cmd([b"HGETALL", k], "hash", mode="pairs"))
        return [self.mangle(c)]

    # ---- sets
    def g_set(self):
        rng, k, op, c = self.start(
            "set",
            ["SADD", "SREM", "SCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "SMOVE", "SPOP", "SRANDMEMBER",
             "SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "SINTERCARD"],
            [8, 3, 2, 2, 1, 3, 1, 1, 1.5, 1.5, 1.5, 1.5, 1, 1, 1, 1])
        if op in ("SADD", "SREM"):
            c.args += [k] + self.members()
        elif op == "SCARD":
            c.args += [k]
        elif op == "SISMEMBER":
            c.args += [k, self.member()]
        elif op == "SMISMEMBER":
            c.args += [k] + self.members(1, 4)
        elif op == "SMEMBERS":
            c.args += [k]
            c.mode = "sorted"
        elif op == "SMOVE":
            c.args += [k, self.key("set"), self.member()]
        elif op == "SPOP":
            c.args += [k] + ([] if rng.random() < 0.5 else [rng.choice([1, 2, 5, 0, 1000, -1, b"x"])])
            c.mode = "spop"
            c.end = True
        elif op == "SRANDMEMBER":
            c.args += [k] + ([] if rng.random() < 0.3 else [rng.choice([1, 3, 10, -3, -10, 0, 1000, b"x"])])
            c.mode = "srandmember"
            return [self.mangle(c), Cmd([b"SMEMBERS", k], "set", mode="sorted")]
        elif op in ("SINTER", "SUNION", "SDIFF"):
            c.args += self.keys("set", 1, 3)
            c.mode = "sorted"
        elif op in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
            c.args += [self.key("set")] + self.keys("set", 1, 3)
        elif op == "SINTERCARD":
            ks = self.keys("set", 1, 3)
            c.args += [len(ks) if rng.random() < 0.95 else 0] + ks
            if rng.random() < 0.4:
                c.args += [b"LIMIT", rng.choice([0, 1, 2, -1])]
        return [self.mangle(c)]

    # ---- sorted sets
    def g_lex(self):
        """Sorted sets whose members all score 0: the BYLEX commands."""
        rng = self.rng
        k = rng.choice(POOLS["lex"])
        op = rng.choices(["ZADD", "ZREM", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX", "ZRANGE",
                          "ZRANGESTORE", "ZPOPMIN", "ZCARD"], [6, 1, 3, 2, 2, 1, 3, 1, 0.5, 0.5])[0]
        c = Cmd([op], "zset")

        def lex():
            return rng.choice([b"-", b"+", b"[m1", b"(m5", b"[a", b"(", b"m1", b"[", b"[1", b"(2", b"[m", b"(m22"])
        if op == "ZADD":
            c.args += [k] + [x for m in self.members(1, 4) for x in (0, m)]
        elif op in ("ZREM",):
            c.args += [k] + self.members(1, 3)
        elif op in ("ZRANGEBYLEX", "ZREVRANGEBYLEX"):
            c.args += [k, lex(), lex()]
            if rng.random() < 0.3:
                c.args += [b"LIMIT", rng.randint(-1, 3), rng.randint(-1, 5)]
        elif op in ("ZLEXCOUNT", "ZREMRANGEBYLEX"):
            c.args += [k, lex(), lex()]
        elif op in ("ZRANGE", "ZRANGESTORE"):
            if op == "ZRANGESTORE":
                c.args.append(rng.choice(POOLS["lex"]))
            c.args += [k, lex(), lex(), b"BYLEX"]
            if rng.random() < 0.3:
                c.args.append(b"REV")
            if rng.random() < 0.3:
                c.args += [b"LIMIT", rng.randint(-1, 3), rng.randint(-1, 5)]
        elif op == "ZPOPMIN":
            c.args += [k, rng.choice([1, 2])]
        else:
            c.args += [k]
        return [self.mangle(c)]

    def g_zset(self):
        if self.rng.random() < 0.2:
            return self.g_lex()
        rng, k, op, c = self.start(
            "zset",
            ["ZADD", "ZINCRBY", "ZREM", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZCOUNT", "ZLEXCOUNT",
             "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX",
             "ZRANGESTORE", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX",
             "ZMPOP", "BZPOPMIN", "BZMPOP", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER",
             "ZDIFF", "ZINTERCARD", "ZRANDMEMBER"],
            [8, 2, 2, 1, 2, 1, 1, 1, 1, 0, 4, 1, 2, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0.2, 0.2, 1, 1, 1, 1, 1, 1, 1, 1])

        def lex():
            return rng.choice([b"-", b"+", b"[m1", b"(m5", b"[a", b"(", b"m1", b"[", b"[1", b"(2"])

        def sc():
            return rng.choice([b"-inf", b"+inf", b"(1", b"(5", b"0", b"10", b"2.5", b"abc", b"(abc", b"-5"])
        if op == "ZADD":
            c.args += [k]
            for o in (b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"):
                if rng.random() < 0.07:
                    c.args.append(o)
            ms = self.members(1, 4)
            for m in ms:
                c.args += [self.score(), m]
        elif op == "ZINCRBY":
            c.args += [k, self.score(), self.member()]
        elif op == "ZREM":
            c.args += [k] + self.members(1, 4)
        elif op == "ZCARD":
            c.args += [k]
        elif op in ("ZSCORE", "ZRANK", "ZREVRANK"):
            c.args += [k, self.member()]
        elif op == "ZMSCORE":
            c.args += [k] + self.members(1, 4)
        elif op == "ZCOUNT":
            c.args += [k, sc(), sc()]
        elif op == "ZLEXCOUNT":
            c.args += [k, lex(), lex()]
        elif op in ("ZRANGE", "ZRANGESTORE"):
            if op == "ZRANGESTORE":
                c.args.append(self.key("zset"))
            c.args.append(k)
            r = rng.random()
            if r < 0.5:
                c.args += [self.idx(), self.idx() if rng.random() < 0.6 else -1]
            elif r < 0.8:
                c.args += [sc(), sc(), b"BYSCORE"]
            else:
                c.args += [sc(), sc(), b"BYSCORE"]
            if rng.random() < 0.3:
                c.args.append(b"REV")
            if rng.random() < 0.2:
                c.args += [b"LIMIT", rng.randint(-1, 3), rng.randint(-1, 5)]
            if op == "ZRANGE" and rng.random() < 0.4:
                c.args.append(b"WITHSCORES")
        elif op == "ZREVRANGE":
            c.args += [k, self.idx(), self.idx()] + ([b"WITHSCORES"] if rng.random() < 0.5 else [])
        elif op in ("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"):
            c.args += [k, sc(), sc()]
            if rng.random() < 0.4:
                c.args.append(b"WITHSCORES")
            if rng.random() < 0.3:
                c.args += [b"LIMIT", rng.randint(-1, 3), rng.randint(-1, 5)]
        elif op in ("ZRANGEBYLEX", "ZREVRANGEBYLEX"):
            c.args += [k, lex(), lex()]
            if rng.random() < 0.3:
                c.args += [b"LIMIT", rng.randint(-1, 3), rng.randint(-1, 5)]
        elif op == "ZREMRANGEBYRANK":
            c.args += [k, self.idx(), self.idx()]
        elif op == "ZREMRANGEBYSCORE":
            c.args += [k, sc(), sc()]
        elif op == "ZREMRANGEBYLEX":
            c.args += [k, lex(), lex()]
        elif op in ("ZPOPMIN", "ZPOPMAX"):
            c.args += [k] + ([] if rng.random() < 0.5 else [rng.choice([1, 2, 5, 0, -1, b"x"])])
        elif op in ("ZMPOP", "BZMPOP"):
            ks = self.keys("zset", 1, 3)
            c.args += ([b"0.01"] if op == "BZMPOP" else []) + [len(ks)] + ks + [rng.choice([b"MIN", b"MAX", b"MID"])]
            if rng.random() < 0.4:
                c.args += [b"COUNT", rng.choice([1, 3, 0, -1])]
        elif op == "BZPOPMIN":
            c.args += self.keys("zset", 1, 3) + [b"0.01"]
        elif op in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"):
            ks = self.keys("zset", 1, 3)
            if rng.random() < 0.2:
                ks[0] = self.key("set")  # sets are valid inputs (score 1)
            if op.endswith("STORE"):
                c.args.append(self.key("zset"))
            c.args += [len(ks) if rng.random() < 0.95 else 0] + ks
            if op not in ("ZDIFF", "ZDIFFSTORE", "ZINTERCARD"):
                if rng.random() < 0.3:
                    c.args += [b"WEIGHTS"] + [rng.choice([b"1", b"2", b"-1", b"0.5", b"x"]) for _ in ks]
                if rng.random() < 0.3:
                    c.args += [b"AGGREGATE", rng.choice([b"SUM", b"MIN", b"MAX", b"AVG"])]
            if op == "ZINTERCARD" and rng.random() < 0.4:
                c.args += [b"LIMIT", rng.choice([0, 1, 2, -1])]
            if op in ("ZUNION", "ZINTER", "ZDIFF") and rng.random() < 0.5:
                c.args.append(b"WITHSCORES")
        elif op == "ZRANDMEMBER":
            return self.random_pick(c, k, b"WITHSCORES", Cmd([b"ZRANGE", k, 0, -1, b"WITHSCORES"], "zset"))
        return [self.mangle(c)]

    # ---- bitmaps
    def g_bitmap(self):
        rng, k, op, c = self.start(
            "bitmap",
            ["SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO"],
            [6, 3, 3, 3, 2, 3, 1])

        def off():
            return rng.randint(0, 300) if rng.random() < 0.95 else rng.choice([-1, 4294967296, b"x", 100000])
        if op == "SETBIT":
            c.args += [k, off(), rng.choice([0, 1, 1, 2, b"x"])]
        elif op == "GETBIT":
            c.args += [k, off()]
        elif op in ("BITCOUNT", "BITPOS"):
            c.args += [k]
            if op == "BITPOS":
                c.args.append(rng.choice([0, 1, 2]))
            if rng.random() < 0.6:
                c.args += [self.idx(), self.idx()][: rng.choice([1, 2, 2])]
                if rng.random() < 0.4:
                    c.args.append(rng.choice([b"BIT", b"BYTE", b"bit", b"NOPE"]))
        elif op == "BITOP":
            verb = rng.choice([b"AND", b"OR", b"XOR", b"NOT", b"nand"])
            c.args += [verb, self.key("bitmap")] + self.keys("bitmap", 1, 1 if verb == b"NOT" else 3)
        else:
            c.args.append(k)
            for _ in range(rng.randint(1, 3)):
                t = rng.choice([b"u8", b"i8", b"u1", b"i16", b"u63", b"i64", b"u64", b"x3", b"i5"])
                o = rng.choice([0, 1, 7, 13, 64, b"#1", b"#3", -1])
                sub = rng.choice([b"GET", b"SET", b"INCRBY", b"OVERFLOW"]) if op == "BITFIELD" else b"GET"
                if sub == b"OVERFLOW":
                    c.args += [sub, rng.choice([b"WRAP", b"SAT", b"FAIL", b"BAD"])]
                elif sub == b"GET":
                    c.args += [sub, t, o]
                else:
                    c.args += [sub, t, o, rng.choice([1, -1, 100, 300, -300, 9223372036854775807, b"x"])]
        return [self.mangle(c)]

    # ---- HyperLogLog
    def g_hll(self):
        rng, k, op, c = self.start(
            "hll",
            ["PFADD", "PFCOUNT", "PFMERGE", "GET"],
            [6, 3, 1.5, 0.5])
        if op == "PFADD":
            c.args += [k] + ([self.member() for _ in range(rng.randint(0, 5))] if rng.random() < 0.97 else
                             [str(i).encode() for i in range(rng.randint(100, 3000))])
        elif op == "PFCOUNT":
            c.args += self.keys("hll", 1, 3)
        elif op == "PFMERGE":
            c.args += [self.key("hll")] + self.keys("hll", 0, 3)
        else:  # the representation itself: sparse/dense bytes must match
            c.args += [k]
        return [self.mangle(c)]

    # ---- streams
    def next_id(self):
        self.stream_ms += self.rng.choice([0, 1, 1, 2, 5])
        r = self.rng.random()
        if r < 0.5:
            return f"{self.stream_ms}-{self.rng.randint(0, 3)}".encode()
        if r < 0.85:
            return f"{self.stream_ms}-*".encode()
        return self.rng.choice([b"0-1", b"1-1", f"{self.stream_ms - 100}-0".encode(), b"x", b"0-0", b"5"])

    def some_id(self):
        r = self.rng.random()
        if r < 0.5:
            return f"{self.stream_ms - self.rng.randint(0, 60)}-{self.rng.randint(0, 2)}".encode()
        return self.rng.choice([b"-", b"+", b"0", b"0-0", b"$", b"(0-1", b"x", b"18446744073709551615-0"])

    def g_stream(self):
        rng, k, op, c = self.start(
            "stream",
            ["XADD", "XLEN", "XRANGE", "XREVRANGE", "XDEL", "XTRIM", "XREAD", "XGROUP", "XREADGROUP", "XACK",
             "XPENDING", "XCLAIM", "XAUTOCLAIM", "XINFO", "XSETID"],
            [10, 2, 3, 1, 1, 1, 2, 2, 3, 1, 2, 1, 1, 2, 0.3])
        grp = rng.choice([b"g1", b"g2", b"nog"])
        cons = rng.choice([b"c1", b"c2", b"c3"])
        if op == "XADD":
            c.args.append(k)
            if rng.random() < 0.1:
                c.args.append(b"NOMKSTREAM")
            if rng.random() < 0.15:
                c.args.append(rng.choice([b"MAXLEN", b"MINID"]))
                if rng.random() < 0.7:
                    c.args.append(rng.choice([b"=", b"~"]))
                c.args.append(rng.choice([0, 3, 10, 150]) if rng.random() < 0.7 else self.some_id())
                if rng.random() < 0.2:
                    c.args += [b"LIMIT", rng.choice([0, 1, 50, 100, -1, b"x"])]
            c.args.append(self.next_id())
            for _ in range(rng.randint(1, 3)):
                c.args += [self.member(), self.value()]
        elif op == "XLEN":
            c.args.append(k)
        elif op in ("XRANGE", "XREVRANGE"):
            c.args += [k, self.some_id(), self.some_id()]
            if rng.random() < 0.4:
                c.args += [b"COUNT", rng.choice([0, 1, 3, -1])]
        elif op == "XDEL":
            c.args += [k] + [self.some_id() for _ in range(rng.randint(1, 3))]
        elif op == "XTRIM":
            c.args += [k, rng.choice([b"MAXLEN", b"MINID"]), rng.choice([b"=", b"~"]),
                       rng.choice([0, 2, 10, 120]) if rng.random() < 0.6 else self.some_id()]
            if rng.random() < 0.2:
                c.args += [b"LIMIT", rng.choice([0, 1, 50, 100, -1, b"x"])]
        elif op == "XREAD":
            ks = self.keys("stream", 1, 2)
            if rng.random() < 0.4:
                c.args += [b"COUNT", rng.choice([1, 2, 10])]
            c.args += [b"STREAMS"] + ks + [self.some_id() for _ in ks]
        elif op == "XGROUP":
            sub = rng.choice([b"CREATE", b"CREATE", b"SETID", b"DESTROY", b"CREATECONSUMER", b"DELCONSUMER"])
            c.args += [sub, k, grp]
            if sub in (b"CREATE", b"SETID"):
                c.args.append(rng.choice([b"$", b"0", self.some_id()]))
                if sub == b"CREATE" and rng.random() < 0.6:
                    c.args.append(b"MKSTREAM")
                if rng.random() < 0.2:
                    c.args += [b"ENTRIESREAD", rng.choice([0, 3, -1, b"x"])]
            elif sub in (b"CREATECONSUMER", b"DELCONSUMER"):
                c.args.append(cons)
        elif op == "XREADGROUP":
            c.args += [b"GROUP", grp, cons]
            if rng.random() < 0.5:
                c.args += [b"COUNT", rng.choice([1, 2, 5])]
            if rng.random() < 0.1:
                c.args.append(b"NOACK")
            c.args += [b"STREAMS", k, rng.choice([b">", b">", b"0", self.some_id()])]
        elif op == "XACK":
            c.args += [k, grp] + [self.some_id() for _ in range(rng.randint(1, 3))]
        elif op == "XPENDING":
            c.args += [k, grp]
            if rng.random() < 0.6:
                if rng.random() < 0.2:
                    c.args += [b"IDLE", 0]
                c.args += [self.some_id(), self.some_id(), rng.choice([1, 5, 10])]
                if rng.random() < 0.4:
                    c.args.append(cons)
                c.mode = "xpending"
        elif op == "XCLAIM":
            c.args += [k, grp, cons, 0] + [self.some_id() for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.5:
                c.args.append(b"JUSTID")
            if rng.random() < 0.2:
                c.args += [b"RETRYCOUNT", 3]
            c.mode = "xclaim"
        elif op == "XAUTOCLAIM":
            c.args += [k, grp, cons, 0, self.some_id()]
            if rng.random() < 0.5:
                c.args += [b"COUNT", rng.choice([1, 3, 100])]
            if rng.random() < 0.3:
                c.args.append(b"JUSTID")
        elif op == "XINFO":
            sub = rng.choice([b"STREAM", b"GROUPS", b"CONSUMERS", b"HELP"])
            c.args += [sub] + ([] if sub == b"HELP" else [k]) + ([grp] if sub == b"CONSUMERS" else [])
            c.mode = "xinfo"
        elif op == "XSETID":
            c.args += [k, self.some_id()]
        return [self.mangle(c)]

    # ---- geo
    def g_geo(self):
        rng, k, op, c = self.start(
            "geo",
            ["GEOADD", "GEODIST", "GEOPOS", "GEOHASH", "GEOSEARCH", "GEOSEARCHSTORE", "GEORADIUS",
             "GEORADIUSBYMEMBER", "GEORADIUS_RO"],
            [6, 2, 2, 1, 3, 1, 1, 1, 0.5])

        def lon():
            return f"{rng.uniform(-20, 20):.6f}".encode() if rng.random() < 0.95 else rng.choice([b"181", b"x"])

        def lat():
            return f"{rng.uniform(-20, 20):.6f}".encode() if rng.random() < 0.95 else rng.choice([b"86", b"x"])

        def unit():
            return rng.choice([b"m", b"km", b"mi", b"ft", b"KM", b"parsec"])

        def tail(store=False):
            out = []
            if rng.random() < 0.5:
                out.append(rng.choice([b"ASC", b"DESC"]))
            if rng.random() < 0.4:
                out += [b"COUNT", rng.choice([1, 3, 10, 0])]
                if rng.random() < 0.3:
                    out.append(b"ANY")
            if not store:
                for o in (b"WITHCOORD", b"WITHDIST", b"WITHHASH"):
                    if rng.random() < 0.3:
                        out.append(o)
            return out
        if op == "GEOADD":
            c.args.append(k)
            for o in (b"NX", b"XX", b"CH"):
                if rng.random() < 0.06:
                    c.args.append(o)
            for _ in range(rng.randint(1, 4)):
                c.args += [lon(), lat(), self.member()]
        elif op == "GEODIST":
            c.args += [k, self.member(), self.member()] + ([unit()] if rng.random() < 0.5 else [])
        elif op in ("GEOPOS", "GEOHASH"):
            c.args += [k] + self.members(1, 3)
        elif op in ("GEOSEARCH", "GEOSEARCHSTORE"):
            if op == "GEOSEARCHSTORE":
                c.args.append(self.key("geo"))
            c.args.append(k)
            c.args += [b"FROMMEMBER", self.member()] if rng.random() < 0.4 else [b"FROMLONLAT", lon(), lat()]
            if rng.random() < 0.6:
                c.args += [b"BYRADIUS", rng.choice([100, 1000, 3000, 0, -1]), unit()]
            else:
                c.args += [b"BYBOX", rng.choice([500, 3000]), rng.choice([500, 5000]), unit()]
            c.args += tail(op == "GEOSEARCHSTORE")
            if op == "GEOSEARCHSTORE" and rng.random() < 0.3:
                c.args.append(b"STOREDIST")
        elif op in ("GEORADIUS", "GEORADIUS_RO"):
            c.args += [k, lon(), lat(), rng.choice([100, 1000, 3000]), unit()] + tail()
        elif op == "GEORADIUSBYMEMBER":
            c.args += [k, self.member(), rng.choice([100, 1000, 3000]), unit()] + tail()
        # Without ASC/DESC (and COUNT, which implies ASC) the order is the
        # geohash cells' walk, which Redis does not specify.
        if op in ("GEOSEARCH", "GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER") and \
                not any(a in (b"ASC", b"DESC") for a in c.args) and b"COUNT" not in c.args:
            c.mode = "sorted"
        if b"ANY" in c.args:
            c.mode = "geo-any"
        return [self.mangle(c)]

    # ---- scripts
    def g_script(self):
        rng = self.rng
        body, nkeys, *mode = rng.choice(SCRIPTS)
        fams = [rng.choice(SCRIPT_KEY_FAMILIES) for _ in range(nkeys)]
        ks = [self.key(f) for f in fams]
        argv = [rng.choice([self.value(), self.member(), b"3", b"2"]) for _ in range(rng.randint(0, 2))] or [b"1"]
        r = rng.random()
        if r < 0.6:
            c = Cmd([b"EVAL", body, nkeys] + ks + argv, "script")
        elif r < 0.75:
            c = Cmd([b"EVAL_RO" if b"SET" not in body and b"PUSH" not in body and b"INCR" not in body else b"EVAL",
                     body, nkeys] + ks + argv, "script")
        elif r < 0.93:
            sha = hashlib.sha1(body).hexdigest().encode()
            if rng.random() < 0.3:
                return [Cmd([b"SCRIPT", b"LOAD", body], "script"),
                        Cmd([b"EVALSHA", sha, nkeys] + ks + argv, "script", mode=mode[0] if mode else None)]
            c = Cmd([b"EVALSHA", sha, nkeys] + ks + argv, "script")
        else:
            mode = []
            c = Cmd(rng.choice([[b"SCRIPT", b"EXISTS", b"abc", b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"],
                                [b"EVAL", b"return 1", b"-1"], [b"EVAL", b"return 1", b"5", b"a"],
                                [b"EVAL", b"syntax error here", 0], [b"EVALSHA", b"ffff", 0],
                                [b"EVAL", b"return redis.call('SET', KEYS[1], 'x')", 1, self.key("string")]]),
                    "script")
        c.mode = mode[0] if mode else None
        return [c]

    # ---- SORT
    def g_sort(self):
        rng = self.rng
        k = self.key(rng.choice(["list", "set", "zset"]))
        op = rng.choice([b"SORT", b"SORT", b"SORT_RO"])
        c = Cmd([op, k], "sort")
        nosort = by_pattern = False
        if rng.random() < 0.4:
            p = rng.choice([b"w_*", b"nosort", b"o_*->rank", b"w_*x", b"constant"])
            nosort = p in (b"nosort", b"constant")
            by_pattern = not nosort
            c.args += [b"BY", p]
        if rng.random() < 0.3:
            c.args += [b"LIMIT", rng.randint(-1, 4), rng.randint(-1, 6)]
        for _ in range(rng.choice([0, 0, 1, 2])):
            c.args += [b"GET", rng.choice([b"#", b"w_*", b"o_*->name", b"o_*", b"nokey_*"])]
        if rng.random() < 0.4:
            c.args.append(rng.choice([b"ASC", b"DESC"]))
        if rng.random() < 0.5:
            c.args.append(b"ALPHA")
        # Elements BY leaves tied under ALPHA keep the order they were read
        # in: a set's or a sorted set's hash table (Redis reads a sorted set
        # through its dict), or, with LIMIT, whatever Redis's partial
        # quicksort leaves. Those replies are compared as sorted lists (or
        # by shape when LIMIT/GET pick by that order), and never stored.
        if op == b"SORT" and rng.random() < 0.2 and not (by_pattern and b"ALPHA" in c.args):
            c.args += [b"STORE", self.key("list")]  # a set sorted BY nosort is sorted before it is stored
        c.mode = ("sort", nosort, by_pattern and b"ALPHA" in c.args,
                  b"LIMIT" in c.args or b"GET" in c.args, b"LIMIT" in c.args,
                  not by_pattern and not nosort and b"ALPHA" in c.args and b"STORE" not in c.args)
        # The source's type (a pool key may hold anything by now) decides
        # which orders are unspecified; see same().
        return [Cmd([b"TYPE", k], "sort"), self.mangle(c)]
        return [self.mangle(c)]

    # ---- SCAN family: iterated to the end and compared as sets
    def g_scan(self):
        rng = self.rng
        r = rng.random()
        opts = []
        if rng.random() < 0.4:
            opts += [b"MATCH", rng.choice(PATTERNS + [b"m1*", b"*1*", b"n*"])]
        if rng.random() < 0.5:
            opts += [b"COUNT", rng.choice([1, 5, 10, 100])]
        if r < 0.4:
            if rng.random() < 0.3:
                opts += [b"TYPE", rng.choice([b"string", b"list", b"hash", b"set", b"zset", b"stream", b"nope"])]
            return [Cmd([b"SCAN", b"0"] + opts, "scan", mode="scan")]
        verb, fam = rng.choice([(b"HSCAN", "hash"), (b"SSCAN", "set"), (b"ZSCAN", "zset")])
        return [Cmd([verb, self.key(fam), b"0"] + opts, "scan", mode="scan")]

    # ---- OBJECT
    def g_object(self):
        rng = self.rng
        sub = rng.choice([b"ENCODING", b"ENCODING", b"ENCODING", b"REFCOUNT", b"FREQ", b"HELP", b"BOGUS"])
        if sub in (b"HELP", b"BOGUS"):
            return [Cmd([b"OBJECT", sub], "object")]
        return [Cmd([b"OBJECT", sub, rng.choice(ALL_KEYS)], "object")]

    # ---- error paths that no family above produces
    def g_error(self):
        rng = self.rng
        return [Cmd(rng.choice([
            [b"NOPE", b"a"], [b"GETX", b"s:0"], [b"SET"], [b"GET"], [b"HSET", b"h:0", b"f"], [b"ZADD", b"z:0", b"1"],
            [b"LPUSH"], [b"INCRBY", b"s:0"], [b"XADD", b"x:0"], [b"ZADD", b"z:0", b"nan", b"m"],
            [b"ZADD", b"z:0", b"INCR", b"1", b"a", b"2", b"b"], [b"ZADD", b"z:0", b"NX", b"XX", b"1", b"a"],
            [b"ZADD", b"z:0", b"GT", b"NX", b"1", b"a"], [b"SETEX", b"s:0", b"0", b"v"], [b"EXPIRE", b"s:0"],
            [b"LINDEX", b"l:0", b"x"], [b"HINCRBYFLOAT", b"h:0", b"f", b"inf"], [b"INCRBYFLOAT", b"s:0", b"nan"],
            [b"GETRANGE", b"s:0", b"0"], [b"BITCOUNT", b"b:0", b"0"], [b"SINTERCARD", b"-1", b"t:0"],
            [b"LMPOP", b"0", b"l:0", b"LEFT"], [b"ZRANGE", b"z:0", b"0", b"1", b"BYSCORE", b"BYLEX"],
            [b"SELECT", b"99"], [b"MSET", b"a"], [b"HMGET", b"h:0"], [b"PFMERGE"], [b"GEOADD", b"g:0", b"1", b"2"],
            [b"SRANDMEMBER", b"t:0", b"-9223372036854775808"], [b"LPOS", b"l:0", b"a", b"RANK", b"0"],
            [b"XRANGE", b"x:0", b"+", b"-", b"COUNT", b"x"], [b"OBJECT", b"ENCODING"], [b"SORT", b"l:0", b"LIMIT", b"0"],
        ]), "error")]

    # ---- server-ish, deterministic
    def g_server(self):
        rng = self.rng
        return [Cmd(rng.choice([
            [b"PING"], [b"PING", self.value()], [b"ECHO", self.value()], [b"DBSIZE"],
            [b"SELECT", rng.choice([0, 0, 0, 1, 2])], [b"SWAPDB", rng.choice([0, 1]), rng.choice([1, 2])],
            [b"EXISTS", b"s:0"], [b"FLUSHDB"] if rng.random() < 0.05 else [b"DBSIZE"],
        ]), "server")]

    # ---- transactions: a list of (client offset, batch)
    def g_multi(self):
        rng = self.rng
        steps = []
        watched = []
        if rng.random() < 0.4:
            watched = [rng.choice(ALL_KEYS) for _ in range(rng.randint(1, 3))]
            steps.append((0, [Cmd([b"WATCH"] + watched, "multi")]))
            if rng.random() < 0.5:  # another client may touch a watched key
                k = rng.choice(watched)
                steps.append((1, [Cmd(rng.choice([[b"SET", k, b"x"], [b"DEL", k], [b"EXPIRE", k, b"1000"],
                                                   [b"GET", k], [b"LPUSH", k, b"e"]]), "multi")]))
        block = []
        for _ in range(rng.randint(0, 5)):
            for c in self.one():
                if c.mode in ("spop", "scan", "srandmember", "hrandfield", "zrandmember", "randomkey") or c.end:
                    continue
                block.append(c)
        if rng.random() < 0.05:
            block.insert(rng.randrange(len(block) + 1),
                         Cmd(rng.choice([[b"MULTI"], [b"WATCH", b"s:0"], [b"NOPE"], [b"GET"]]), "multi"))
        end = Cmd([b"EXEC"] if rng.random() < 0.9 else [b"DISCARD"], "multi")
        end.queued = block
        batch = [Cmd([b"MULTI"], "multi")] + block + [end]
        if rng.random() < 0.03:
            batch = rng.choice([[Cmd([b"EXEC"], "multi")], [Cmd([b"DISCARD"], "multi")],
                                [Cmd([b"UNWATCH"], "multi")]])
        steps.append((0, batch))
        return steps


# ---------------------------------------------------------------------------
# comparison

def _sorted_reply(rep):
    t, v = rep
    if t in "*~%" and v is not None:
        return (t, sorted(v, key=repr))
    return rep


def _pairs_reply(rep):
    t, v = rep
    if t == "*" and v is not None:
        return (t, sorted(zip(v[0::2], v[1::2]), key=repr))
    return _sorted_reply(rep)


_TIME_KEYS = {b"idle", b"seen-time", b"radix-tree-nodes", b"inactive"}


def _mask_times(rep):
    t, v = rep
    if t == "%" and isinstance(v, list):
        return (t, [(k, ("x", None) if k[1] in _TIME_KEYS else _mask_times(x)) for k, x in v])
    if t == "*" and isinstance(v, list):
        if len(v) % 2 == 0 and v and all(isinstance(k, tuple) and k[0] == "$" for k in v[0::2]) and \
                any(k[1] in _TIME_KEYS for k in v[0::2]):
            out = []
            for k, x in zip(v[0::2], v[1::2]):
                out += [k, ("x", None) if k[1] in _TIME_KEYS else _mask_times(x)]
            return (t, out)
        return (t, [_mask_times(x) for x in v])
    return rep


def _mask_pending(rep):
    # XPENDING's extended rows: [id, consumer, idle, deliveries].
    t, v = rep
    if t == "*" and v:
        rows = []
        for row in v:
            if row[0] == "*" and row[1] and len(row[1]) == 4:
                r = list(row[1])
                r[2] = ("x", None)
                row = ("*", r)
            rows.append(row)
        return (t, rows)
    return rep


def _flat(rep):
    """Members of a collection reply (arrays, sets and maps flattened)."""
    t, v = rep
    if v is None:
        return []
    if t in "*~":
        return list(v)
    if t == "%":
        return [x for kv in v for x in kv]
    return [rep]


def _members_of(companion, pairs):
    """The key's contents from the companion reply (SMEMBERS, HGETALL,
    ZRANGE .. WITHSCORES): a set of members or a dict member -> value."""
    t, v = companion
    if t == "-":
        return None
    items = _flat(companion)
    if t == "%":
        return dict(zip(items[0::2], items[1::2]))
    if pairs:
        if items and items[0][0] == "*":  # RESP3 ZRANGE WITHSCORES: [[m, s], ...]
            return {p[1][0]: p[1][1] for p in items}
        return dict(zip(items[0::2], items[1::2]))
    return set(items)


def check_random(cmd: Cmd, rep, companion) -> str | None:
    """Properties of a random pick against the key's own contents; None when
    they hold. Works per server: each side against its own companion."""
    args = cmd.args
    if rep[0] == "-":
        return None
    with_vals = len(args) > 3 and args[3].upper() in (b"WITHVALUES", b"WITHSCORES")
    pool = _members_of(companion, pairs=cmd.mode != "srandmember")
    if pool is None:
        return None
    if len(args) == 2:
        if rep[1] is None:
            return None if not pool else "nil from a non-empty key"
        return None if rep in pool else f"{rep[1]!r} is not a member"
    count = int(args[2])
    items = _flat(rep)
    if with_vals:
        if items and items[0][0] in "*":  # RESP3 pairs
            picks = [(p[1][0], p[1][1]) for p in items]
        else:
            picks = list(zip(items[0::2], items[1::2]))
    else:
        picks = [(x, None) for x in items]
    want = min(count, len(pool)) if count >= 0 else (abs(count) if pool else 0)
    if len(picks) != want:
        return f"{len(picks)} picks, want {want}"
    for m, val in picks:
        if m not in pool:
            return f"{m!r} is not a member"
        if val is not None and isinstance(pool, dict) and pool[m] != val:
            return f"{m!r} paired with {val!r}, stored {pool[m]!r}"
    if count > 0 and len({m for m, _ in picks}) != len(picks):
        return "repeated picks for a positive count"
    return None


def normalise(cmd: Cmd, rep):
    m = cmd.mode
    if m is None or rep[0] == "-":
        return rep
    if m == "sorted":
        return _sorted_reply(rep)
    if m == "pairs":
        return _pairs_reply(rep)
    if m == "xinfo":
        return _mask_times(rep)
    if m == "xpending":
        return _mask_pending(rep)
    if m == "xclaim":
        return rep
    return rep


def same(cmd: Cmd, a, b, prev=None) -> bool:
    """`prev` is the reply before this one on the same connection (the TYPE
    a SORT is preceded by)."""
    if a == b:
        return True
    m = cmd.mode
    if isinstance(m, tuple) and m[0] == "sort":
        # Tied or unsorted elements keep the order they were read in: a set's
        # table order (BY nosort), a set's or sorted set's (Redis reads a
        # sorted set through its dict) when BY leaves ALPHA ties, and with
        # LIMIT whatever Redis's partial quicksort leaves. Those compare as
        # sorted lists, or by shape when LIMIT/GET picked by that order.
        _, nosort, by_alpha, picks, limit, plain_alpha = m
        t = prev[1] if prev and prev[0] in "+$" else b"none"
        if a[0] != b[0] or a[0] == "-":
            return False
        if plain_alpha and (t != b"list" or limit) and a[0] == "*":
            # ALPHA without STORE collates with strcoll, which stops at a
            # NUL: "" and "\0\xff" tie and keep their read order. The
            # collation keys must match in order; the elements as a multiset.
            def keys(r):
                return [x[1].split(b"\0", 1)[0] if x[1] is not None else None for x in r[1]]
            if any(x.upper() == b"GET" for x in cmd.args):
                return len(a[1]) == len(b[1])
            if keys(a) != keys(b):
                return False
            return picks or _sorted_reply(a) == _sorted_reply(b)
        if (nosort and t == b"set") or (by_alpha and (t != b"list" or limit)):
            if picks:
                return len(a[1] or []) == len(b[1] or [])
            return _sorted_reply(a) == _sorted_reply(b)
        return False
    if a[0] != b[0] and not (m == "randomkey"):
        return False
    if m in ("ttl", "pttl", "expiretime", "pexpiretime"):
        if a[0] != ":" or a[1] < 0 or b[1] < 0:
            return False
        return abs(a[1] - b[1]) <= (PTTL_TOL_MS if m.startswith("p") else 2)
    if m == "randomkey":
        return a[0] == b[0] and (a[1] is None) == (b[1] is None)
    if m == "geo-any":
        # ANY takes the first matches in the cells' walk: same count and shape.
        return a[0] == b[0] and len(a[1] or []) == len(b[1] or [])
    if m == "skip-shape":
        return a[0] == b[0] and len(a[1] or []) == len(b[1] or [])
    if m in ("srandmember", "hrandfield", "zrandmember"):
        return a[0] == b[0] and len(_flat(a)) == len(_flat(b))
    if m == "spop":
        return a[0] == b[0] and len(_flat(a)) == len(_flat(b))
    return normalise(cmd, a) == normalise(cmd, b)


def fmt(args) -> str:
    """Copy-pasteable into redis-cli: quote what is empty, spaced or binary."""
    def one(a: bytes) -> str:
        if a and all(32 < c < 127 and c not in b'"\\\'' for c in a):
            return a.decode()
        return '"' + "".join(chr(c) if 32 <= c < 127 and c not in b'"\\' else f"\\x{c:02x}" for c in a) + '"'
    return " ".join(one(a) for a in args)


def short_rep(rep, n=300) -> str:
    s = repr(rep)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


# ---------------------------------------------------------------------------
# runner

class Divergence(Exception):
    pass


class Pair:
    def __init__(self, ours_port, ref_port, resp3):
        self.ours = harness.RespConn(ours_port, timeout=60)
        self.ref = harness.RespConn(ref_port, timeout=60)
        self.resp3 = resp3
        if resp3:
            for c in (self.ours, self.ref):
                c.call("HELLO", "3")

    def run(self, cmds: list[list[bytes]]):
        payload = b"".join(harness.encode(*c) for c in cmds)
        self.ours.send(payload)
        self.ref.send(payload)
        out = []
        for conn, who in ((self.ours, "ringkv"), (self.ref, "redis")):
            try:
                out.append([conn.read() for _ in cmds])
            except (OSError, harness.Closed, ValueError) as e:
                self.last_batch = cmds
                raise Divergence(f"{who} gave no reply ({type(e).__name__}: {e}) to a batch of {len(cmds)}: "
                                 + "; ".join(fmt(c) for c in cmds[:10]))
        return out

    def close(self):
        self.ours.close()
        self.ref.close()


class Campaign:
    def __init__(self, a, ours: harness.Server, ref: harness.Server, seed: int, ops: int, label: str):
        self.a = a
        self.seed = seed
        self.ops = ops
        self.label = label
        self.rng = random.Random(seed)
        self.gen = Gen(self.rng, now=int(time.time()))
        self.pairs = [Pair(ours.port, ref.port, resp3=(i % 2 == 1)) for i in range(CLIENTS)]
        self.checker = Pair(ours.port, ref.port, resp3=False)
        self.scratch = [Pair(ours.port, ref.port, resp3=r) for r in (False, True)]
        self.checker.run([[b"FLUSHALL"], [b"SCRIPT", b"FLUSH"]])
        self.ours, self.ref = ours, ref
        self.index = 0
        self.counts = collections.Counter()       # family -> commands
        self.cmd_counts = collections.Counter()   # command name -> commands
        self.div_counts = collections.Counter()   # family -> divergences
        self.divergences: list[dict] = []
        self.seen_sigs = collections.Counter()
        self.log = collections.deque(maxlen=50000)   # (index, client, args)
        self.by_key: dict[bytes, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=80))
        self.checkpoints = 0
        self.order_only = 0
        self.known_counts = collections.Counter()
        self.scans = 0
        self.random_checks = 0
        self.t0 = time.monotonic()
        self.at = 0

    # ---- bookkeeping
    def record(self, client, cmd: Cmd):
        i = self.index
        self.index += 1
        cmd.args = [wire(x) for x in cmd.args]
        self.counts[cmd.family] += 1
        self.cmd_counts[cmd.args[0].upper().decode("latin1")] += 1
        self.log.append((i, client, cmd.args))
        for a in cmd.args[1:]:
            if a in KEYSET:
                self.by_key[a].append(i)
            elif a[:2] in (b"w_", b"o_"):  # what SORT's BY and GET patterns read
                self.by_key[PATTERN_KEYS].append(i)
        return i

    def history(self, args, upto, client=None) -> list[tuple]:
        idx = set()
        for a in args[1:]:
            if a in KEYSET:
                idx.update(self.by_key[a])
        if args[0].upper() in (b"SORT", b"SORT_RO"):
            idx.update(self.by_key[PATTERN_KEYS])
        if args[0].upper() in (b"EXEC", b"DISCARD") and client is not None:
            # A block's outcome hangs on the client's WATCH and MULTI: its
            # own last commands, and what touched the keys they name.
            own = [e for e in list(self.log)[-3000:] if e[1] == client and e[0] < upto][-15:]
            idx.update(e[0] for e in own)
            for e in own:
                for a in e[2][1:]:
                    if a in KEYSET:
                        idx.update(self.by_key[a])
        idx = {i for i in idx if i < upto}
        first = self.log[0][0] if self.log else 0
        return [self.log[i - first] for i in sorted(idx) if i >= first and i - first < len(self.log)]

    def diverged(self, client, cmd: Cmd, a, b, where: str, why: str = ""):
        sig = (cmd.args[0].upper(), a[0], b[0], (a[1][:40] if a[0] == "-" and isinstance(a[1], bytes) else None),
               (b[1][:40] if b[0] == "-" and isinstance(b[1], bytes) else None))
        self.seen_sigs[sig] += 1
        self.div_counts[cmd.family] += 1
        entry = dict(where=where, family=cmd.family, cmd=fmt(cmd.args), ours=short_rep(a), ref=short_rep(b),
                     why=why, client=client, resp3=self.pairs[client].resp3 if client >= 0 else False)
        if self.seen_sigs[sig] <= 3:
            hist = self.history(cmd.args, self.at, client)
            entry["history"] = [f"#{i} c{c}: {fmt(x)}" for i, c, x in hist[-25:]]
            entry["minimal"] = self.minimise(cmd, [x for _, _, x in hist], entry["resp3"])
            self.print_divergence(entry)
        self.divergences.append(entry)
        # Heal: drop the keys involved on both sides so the difference does not cascade.
        ks = [x for x in cmd.args[1:] if x in KEYSET]
        if ks:
            pair = self.pairs[client] if client >= 0 else self.checker
            pair.run([[b"DEL", *ks]])

    def print_divergence(self, e):
        print(f"\n=== DIVERGENCE [{self.label} seed {self.seed}] {e['where']} ({e['family']}, "
              f"{'RESP3' if e['resp3'] else 'RESP2'}) {e['why']}\n  command: {e['cmd']}\n"
              f"  ringkv:  {e['ours']}\n  redis:   {e['ref']}", flush=True)
        if e.get("history"):
            print("  preceding commands on its keys:\n    " + "\n    ".join(e["history"]))
        m = e.get("minimal")
        if m:
            print("  minimal reproducer (replayed in a scratch db, still diverges):\n    "
                  + "\n    ".join(m))
        elif m is not None:
            print("  (did not reproduce in isolation)")

    def minimise(self, cmd: Cmd, hist: list[list[bytes]], resp3: bool):
        """Replays the key history in SCRATCH_DB on fresh connections and drops
        commands one by one while the last one still diverges."""
        bad = {b"SELECT", b"MOVE", b"SWAPDB", b"FLUSHALL", b"COPY", b"MULTI", b"EXEC", b"WATCH", b"DISCARD",
               b"SPOP", b"SRANDMEMBER", b"HRANDFIELD", b"ZRANDMEMBER", b"RANDOMKEY", b"KEYS", b"SCAN"}
        if cmd.mode in ("scan", "spop") or cmd.args[0].upper() in bad or cmd.queued is not None:
            return None
        seq = [h for h in hist if h[0].upper() not in bad]
        if len(seq) > 80:
            seq = seq[-80:]
        pair = self.scratch[1 if resp3 else 0]

        def diverges(prefix):
            try:
                pair.run([[b"SELECT", str(SCRATCH_DB).encode()], [b"FLUSHDB"]])
                if prefix:
                    pair.run(prefix)
                pre = [[b"TYPE", cmd.args[1]]] if isinstance(cmd.mode, tuple) and len(cmd.args) > 1 else []
                ours, ref = pair.run(pre + [cmd.args])
                return not same(cmd, ours[-1], ref[-1], ours[0] if pre else None)
            except Divergence:
                return True
            finally:
                try:
                    pair.run([[b"FLUSHDB"], [b"SELECT", b"0"]])
                except Divergence:
                    pass
        if not diverges(seq):
            return []
        i = 0
        while i < len(seq):
            trial = seq[:i] + seq[i + 1:]
            if diverges(trial):
                seq = trial
            else:
                i += 1
        return [fmt(x) for x in seq + [cmd.args]]

    # ---- the stream
    def run(self):
        next_check = self.a.check_every
        last_print = time.monotonic()
        while self.index < self.ops:
            client = self.rng.randrange(CLIENTS)
            if self.rng.random() < 0.3:
                self.batch(client, self.rng.randint(1, 3))
            else:
                self.batch(client, self.rng.randint(10, self.a.batch))
            if self.index >= next_check:
                self.checkpoint()
                next_check += self.a.check_every
            if time.monotonic() - last_print > 15:
                last_print = time.monotonic()
                rate = self.index / (time.monotonic() - self.t0)
                print(f"[{self.label} seed {self.seed}] {self.index}/{self.ops} commands, {rate:.0f}/s, "
                      f"{len(self.divergences)} divergences", flush=True)
        self.checkpoint()
        for p in self.pairs + [self.checker] + self.scratch:
            p.close()

    def batch(self, client, units):
        """Builds and runs up to `units` generator units for one client (a
        transaction's steps may involve the next client)."""
        pending: list[Cmd] = []
        for _ in range(units):
            for off, cmds in self.gen.unit():
                c = (client + off) % CLIENTS
                if c != client:
                    # Another client's step: what this one has runs first.
                    if pending:
                        self.execute(client, pending)
                        pending = []
                    self.execute(c, cmds)
                    continue
                pending += cmds
                if any(x.end for x in cmds):
                    self.execute(client, pending)
                    return
        if pending:
            self.execute(client, pending)

    def execute(self, client, cmds: list[Cmd]):
        scans = [c for c in cmds if c.mode == "scan"]
        cmds = [c for c in cmds if c.mode != "scan"]
        if cmds:
            base = self.index
            for c in cmds:
                self.record(client, c)
            ours, ref = self.pairs[client].run([c.args for c in cmds])
            self.compare(client, cmds, ours, ref, base)
            self.after(client, cmds, ours, ref)
        for c in scans:
            self.record(client, c)
            self.scan(client, c)

    def compare(self, client, cmds, ours, ref, base):
        queued = None  # commands the open MULTI block has queued so far
        for i, (c, a, b) in enumerate(zip(cmds, ours, ref)):
            where = f"command #{base + i} (client {client})"
            self.at = base + i
            name = c.args[0].upper()
            if name == b"MULTI" and a == ("+", b"OK"):
                queued = []
            elif queued is not None and a == ("+", b"QUEUED"):
                queued.append(c)
            if name == b"EXEC" and queued is not None and a[0] == b[0] and a[0] in "*" \
                    and a[1] is not None and b[1] is not None and len(a[1]) == len(b[1]) == len(queued):
                block, queued = queued, None
                for j, (q, x, y) in enumerate(zip(block, a[1], b[1])):
                    prev = a[1][j - 1] if j else None
                    if not same(q, x, y, prev) and not self.known(client, q, x, y, prev):
                        self.diverged(client, q, x, y, where + " inside EXEC")
                continue
            prev = ours[i - 1] if i else None
            if not same(c, a, b, prev) and not self.known(client, c, a, b, prev):
                if c.mode is None and normalise(Cmd([b"X"], "", "sorted"), a) == \
                        normalise(Cmd([b"X"], "", "sorted"), b):
                    self.order_only += 1
                self.diverged(client, c, a, b, where)
                continue
            if c.mode in ("srandmember", "hrandfield", "zrandmember") and i + 1 < len(cmds):
                self.random_checks += 1
                for rep, comp, who in ((a, ours[i + 1], "ringkv"), (b, ref[i + 1], "redis")):
                    why = check_random(c, rep, comp)
                    if why:
                        self.diverged(client, c, a, b, where, f"{who}: {why}")
                        break

    def known(self, client, c: Cmd, a, b, prev) -> bool:
        """Differences that are Redis 7.0 bugs, documented in the campaign
        report, counted in self.known_counts instead of as divergences."""
        if c.args[0].upper() in (b"SORT", b"SORT_RO") and b == ("-", SORT_ERANGE) and a[0] in "*:":
            # sort.c tests errno == ERANGE after strtod without clearing it
            # first, so an earlier strtod overflow in the same read (ZADD
            # 1e400 in a pipeline) fails a later SORT of plain numbers. The
            # same SORT sent on its own gets the real answer.
            # ZADD parses its score with errno cleared first (string2d); XX
            # on a missing key then writes nothing.
            again = self.pairs[client].ref.pipeline([[b"ZADD", ERRNO_RESET_KEY, b"XX", b"0", b"m"], c.args])[1]
            if same(c, a, again, prev):
                self.known_counts["redis SORT: stale errno ERANGE"] += 1
                return True
        return False

    def after(self, client, cmds, ours, ref):
        fix = []
        for c, a, b in zip(cmds, ours, ref):
            if c.mode == "spop" and a[0] != "-" and b[0] != "-":
                # Each side popped its own picks; remove both sides' picks on
                # both, which leaves the same set.
                popped = {x[1] for x in _flat(a) + _flat(b) if x[1] is not None}
                if popped:
                    fix.append([b"SREM", c.args[1], *sorted(popped)])
            if (c.stale or c.short) and len(c.args) > 1:
                fix.append(None)
        if any(f is None for f in fix):
            if any(c.short for c in cmds):
                time.sleep(SHORT_TTL_SLEEP)
            # Reclaim logically expired keys on both sides so DBSIZE agrees.
            fix = [f for f in fix if f is not None] + [[b"EXISTS", *[c.args[1] for c in cmds if len(c.args) > 1]]]
        if fix:
            self.pairs[client].run(fix)

    def scan(self, client, c: Cmd):
        self.at = self.index - 1
        """Iterates SCAN/HSCAN/SSCAN/ZSCAN to cursor 0 on each server; the
        union of what each returned must be equal (duplicates allowed)."""
        self.scans += 1
        pair = self.pairs[client]
        results = []
        for conn in (pair.ours, pair.ref):
            seen, cursor, first_err = set(), b"0", None
            keyed = c.args[0].upper() != b"SCAN"
            for _ in range(100000):
                args = list(c.args)
                args[2 if keyed else 1] = cursor
                rep = conn.call(*args)
                if rep[0] == "-":
                    first_err = rep
                    break
                cursor = rep[1][0][1]
                items = [x[1] for x in rep[1][1][1]]
                if keyed and args[0].upper() != b"SSCAN":
                    seen.update(zip(items[0::2], items[1::2]))
                else:
                    seen.update(items)
                if cursor == b"0":
                    break
            else:
                first_err = ("timeout", "SCAN did not end")
            results.append(first_err or ("set", sorted(seen)))
        if results[0] != results[1]:
            self.diverged(client, c, results[0], results[1], f"command #{self.index - 1} (client {client})",
                          "full iteration differs")

    def checkpoint(self):
        """Both keyspaces in full: keys, types, contents, encodings, TTLs."""
        self.checkpoints += 1
        self.at = self.index
        ck = self.checker
        for db in range(DBS):
            (o, r) = ck.run([[b"SELECT", str(db).encode()], [b"DBSIZE"], [b"KEYS", b"*"]])
            where = f"checkpoint {self.checkpoints} after command #{self.index}, db {db}"
            ko = {x[1] for x in o[2][1]}
            kr = {x[1] for x in r[2][1]}
            if o[1] != r[1] or ko != kr:
                self.diverged(-1, Cmd([b"KEYS", b"*"], "checkpoint"), ("keys", sorted(ko - kr)), ("keys", sorted(kr - ko)),
                              where, f"DBSIZE {o[1]} vs {r[1]}")
                for k in ko ^ kr:
                    ck.run([[b"DEL", k]])
            keys = sorted(ko & kr)
            cmds = []
            for k in keys:
                cmds += [Cmd([b"TYPE", k], "checkpoint"), Cmd([b"OBJECT", b"ENCODING", k], "checkpoint"),
                         Cmd([b"PTTL", k], "checkpoint", mode="pttl")]
            if not cmds:
                continue
            o, r = ck.run([c.args for c in cmds])
            self.compare_dump(cmds, o, r, where)
            content = []
            for k, t in zip(keys, o[0::3]):
                t = t[1]
                if t == b"string":
                    content.append(Cmd([b"GET", k], "checkpoint"))
                elif t == b"list":
                    content.append(Cmd([b"LRANGE", k, 0, -1], "checkpoint"))
                elif t == b"hash":
                    content.append(Cmd([b"HGETALL", k], "checkpoint", mode="pairs"))
                elif t == b"set":
                    content.append(Cmd([b"SMEMBERS", k], "checkpoint", mode="sorted"))
                elif t == b"zset":
                    content.append(Cmd([b"ZRANGE", k, 0, -1, b"WITHSCORES"], "checkpoint"))
                elif t == b"stream":
                    content += [Cmd([b"XRANGE", k, b"-", b"+"], "checkpoint"),
                                Cmd([b"XINFO", b"STREAM", k], "checkpoint", mode="xinfo"),
                                Cmd([b"XINFO", b"GROUPS", k], "checkpoint", mode="xinfo")]
            if content:
                o, r = ck.run([c.args for c in content])
                self.compare_dump(content, o, r, where)
        ck.run([[b"SELECT", b"0"]])

    def compare_dump(self, cmds, o, r, where):
        for c, a, b in zip(cmds, o, r):
            if not same(c, a, b):
                self.diverged(-1, c, a, b, where)


SORT_ERANGE = b"ERR One or more scores can't be converted into double"
ERRNO_RESET_KEY = b"{errno-reset}"
KEYSET = set(ALL_KEYS) | set(POOLS["lex"])
PATTERN_KEYS = b"<w_* and o_* keys>"
SET_KEYS = set(POOLS["set"])
LIST_KEYS = set(POOLS["list"])


# ---------------------------------------------------------------------------
# report

def summary_md(results, a) -> str:
    out = []
    total = sum(r["ops"] for r in results)
    divs = sum(len(r["divergences"]) for r in results)
    out.append(f"{total} commands in {len(results)} runs; {divs} divergences.\n")
    out.append("| backend | seed | commands | s | cmd/s | checkpoints | full SCAN iterations | random picks checked "
               "| divergences |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        out.append(f"| {r['label']} | {r['seed']} | {r['ops']} | {r['secs']:.0f} | {r['ops'] / r['secs']:.0f} | "
                   f"{r['checkpoints']} | {r['scans']} | {r['random_checks']} | {len(r['divergences'])} |")
    known = collections.Counter()
    for r in results:
        known.update(r["known"])
    if known:
        out.append("\nKnown Redis 7.0 bugs seen (not counted as divergences): " +
                   "; ".join(f"{k}: {v}" for k, v in known.items()))
    fams = collections.Counter()
    fdiv = collections.Counter()
    names = collections.Counter()
    for r in results:
        fams.update(r["counts"])
        fdiv.update(r["div_counts"])
        names.update(r["cmd_counts"])
    out.append("\n| family | commands | divergences |")
    out.append("|---|---|---|")
    for f, n in sorted(fams.items(), key=lambda x: -x[1]):
        out.append(f"| {f} | {n} | {fdiv.get(f, 0)} |")
    if fdiv.get("checkpoint"):
        out.append(f"| checkpoint (dump compare) | - | {fdiv['checkpoint']} |")
    out.append(f"\n{len(names)} distinct command names sent: " +
               ", ".join(f"{k} {v}" for k, v in sorted(names.items(), key=lambda x: -x[1])))
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=20000, help="commands per (backend, seed) run")
    ap.add_argument("--seed", default="1", help="comma list of seeds")
    ap.add_argument("--matrix", default="uring-4,epoll-4")
    ap.add_argument("--batch", type=int, default=60, help="largest pipeline")
    ap.add_argument("--check-every", type=int, default=25000, help="commands between keyspace dumps")
    ap.add_argument("--max-divergences", type=int, default=200, help="stop a run after this many")
    ap.add_argument("--report", help="append a markdown summary to this file")
    ap.add_argument("--crash-dir", default="/tmp", help="where a dead ringkv's log is kept")
    a = ap.parse_args()
    os.environ["RINGKV_MATRIX"] = a.matrix
    results = []
    failed = False
    for backend, shards in harness.matrix():
        for seed in [int(s) for s in a.seed.split(",")]:
            label = f"{backend}-{shards}"
            ours = harness.ringkv_server(backend, shards).start()
            ref = harness.redis_server().start()
            camp = None
            try:
                camp = Campaign(a, ours, ref, seed, a.ops, label)
                print(f"== {label} seed {seed}: {a.ops} commands (ringkv :{ours.port}, redis :{ref.port})",
                      flush=True)
                try:
                    camp.run()
                except Divergence as e:
                    print(f"FATAL [{label} seed {seed}] at #{camp.index}: {e}", flush=True)
                    for p in camp.pairs + [camp.checker] + camp.scratch:
                        if getattr(p, "last_batch", None):
                            kept = Path(a.crash_dir) / f"ringkv-batch-{label}-seed{seed}.txt"
                            kept.write_text("\n".join(fmt(c) for c in p.last_batch) + "\n")
                            print(f"the whole batch: {kept}")
                    camp.divergences.append(dict(where=f"#{camp.index}", family="fatal", cmd=str(e), ours="",
                                                 ref="", why="no reply"))
                alive = ours.alive()
                if not alive:
                    kept = Path(a.crash_dir) / f"ringkv-crash-{label}-seed{seed}.log"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_bytes(ours.logpath.read_bytes())
                    print(f"ringkv died (full log: {kept}):\n{ours.log_tail(1500)}")
                    camp.divergences.append(dict(where="end", family="fatal", cmd="server died", ours="", ref="",
                                                 why=""))
            finally:
                ours.stop()
                ours.cleanup()
                ref.cleanup()
            secs = time.monotonic() - camp.t0
            res = dict(label=label, seed=seed, ops=camp.index, secs=secs, counts=dict(camp.counts),
                       cmd_counts=dict(camp.cmd_counts), div_counts=dict(camp.div_counts),
                       divergences=camp.divergences, checkpoints=camp.checkpoints, scans=camp.scans,
                       random_checks=camp.random_checks, known=dict(camp.known_counts))
            results.append(res)
            failed |= bool(camp.divergences)
            print(f"== {label} seed {seed}: {camp.index} commands in {secs:.0f} s, "
                  f"{len(camp.divergences)} divergences", flush=True)
    md = summary_md(results, a)
    print("\n" + md)
    if a.report:
        with open(a.report, "a") as f:
            f.write(md + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
