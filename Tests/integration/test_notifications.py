"""Keyspace notifications (notify-keyspace-events) against redis-server 7.0.

A seeded random mix of commands over every family (strings, keys, lists with
blocking pops, hashes, sets, sorted sets, geo, bitmaps, HyperLogLog, streams
with consumer groups, SORT
STORE, MULTI/EXEC, EVAL) runs on ringkv and on a real redis-server, each with
a PSUBSCRIBE '__key*__:*' client collecting every event. With one shard the
two event streams must be equal, message for message. With several shards a
command's keys live on different workers, and each worker publishes its own
shard's events: the order of events of *different* keys may then legitimately
differ from Redis's (as between two Redis Cluster nodes), so the streams are
compared per key (every event naming the key, in order), which is the order a
subscriber can rely on.
"""
from __future__ import annotations

import random
import time

import pytest

import harness

MARK_CHANNEL = b"__keymark__:end"


class Collector:
    """A PSUBSCRIBE '__key*__:*' connection; `drain` returns the
    (channel, message) pairs received up to a marker it publishes itself."""

    def __init__(self, server):
        self.server = server
        self.conn = server.raw()
        self.conn.send(harness.encode("PSUBSCRIBE", "__key*__:*"))
        assert self.conn.read()[1][0] == ("$", b"psubscribe")

    def drain(self, settle: float = 0.05):
        # Events of other workers travel by their own hops: let them land
        # before the marker, which is published from one worker.
        time.sleep(settle)
        with self.server.raw() as c:
            c.call("PUBLISH", MARK_CHANNEL, "x")
        out = []
        while True:
            f = self.conn.read()
            kind, items = f[1][0][1], f[1]
            assert kind == b"pmessage", f
            ch, msg = items[2][1], items[3][1]
            if ch == MARK_CHANNEL:
                return out
            out.append((ch, msg))

    def close(self):
        self.conn.close()


def per_key(events):
    """Events grouped by (db, key), each group in arrival order."""
    groups: dict[tuple[bytes, bytes], list] = {}
    for ch, msg in events:
        prefix, _, rest = ch.partition(b"__:")
        kind, _, db = prefix.partition(b"@")
        if kind == b"__keyspace":
            groups.setdefault((db, rest), []).append(("K", msg))
        else:
            groups.setdefault((db, msg), []).append(("E", rest))
    return groups


def compare(rk_events, rd_events, shards):
    if shards == 1:
        assert rk_events == rd_events
    else:
        assert per_key(rk_events) == per_key(rd_events)


# --------------------------------------------------------------------------
# The random command mix.

S = [f"s{i}" for i in range(5)]
L = [f"l{i}" for i in range(4)]
H = [f"h{i}" for i in range(3)]
ST = [f"set{i}" for i in range(4)]
Z = [f"z{i}" for i in range(4)]
G = ["g0", "g1"]
P = ["hll0", "hll1"]
B = ["bm0", "bm1"]
X = ["x0", "x1", "x2"]
ALL = S + L + H + ST + Z + G + P + B + X


def gen(rng: random.Random):
    c = rng.choice
    n = rng.randint
    v = lambda: c(["a", "b", "c", "1", "7", "x"])
    fam = c(["str", "str", "key", "key", "list", "list", "hash", "set", "zset", "geo", "bits", "hll",
             "sort", "multi", "eval", "stream", "stream"])
    if fam == "str":
        k = c(S)
        return c([
            ["SET", k, v()], ["SET", k, v(), "EX", "100"], ["SET", k, v(), "NX"], ["SET", k, v(), "XX", "GET"],
            ["SET", k, v(), "KEEPTTL"], ["SETNX", k, v()], ["SETEX", k, "100", v()], ["PSETEX", k, "100000", v()],
            ["GETSET", k, v()], ["GETDEL", k], ["GETEX", k, "EX", "50"], ["GETEX", k, "PERSIST"],
            ["GETEX", k, "PXAT", "1"], ["MSET", k, v(), c(S), v()], ["MSETNX", k, v(), c(S), v()],
            ["INCR", k], ["DECRBY", k, "3"], ["INCRBYFLOAT", k, "1.5"], ["APPEND", k, v()],
            ["SETRANGE", k, str(n(0, 4)), v()], ["SETRANGE", k, "1", ""], ["GET", k], ["STRLEN", k],
        ])
    if fam == "key":
        k, k2 = c(ALL), c(ALL)
        return c([
            ["DEL", k, k2], ["UNLINK", k], ["EXPIRE", k, "100"], ["EXPIRE", k, "0"], ["PEXPIRE", k, "100000", "NX"],
            ["EXPIREAT", k, "1"], ["PERSIST", k], ["RENAME", k, k2], ["RENAMENX", k, k2], ["MOVE", k, "1"],
            ["COPY", k, k2], ["COPY", k, k2, "REPLACE"], ["COPY", k, k2, "DB", "1"], ["EXISTS", k], ["TYPE", k],
            ["TOUCH", k],
        ])
    if fam == "list":
        k, k2 = c(L), c(L)
        return c([
            ["LPUSH", k, v(), v()], ["RPUSH", k, v()], ["LPUSHX", k, v()], ["RPUSHX", k, v()], ["LPOP", k],
            ["RPOP", k, "2"], ["LSET", k, "0", v()], ["LINSERT", k, "BEFORE", "a", v()], ["LREM", k, "0", "a"],
            ["LTRIM", k, "0", "1"], ["LMOVE", k, k2, "LEFT", "RIGHT"], ["RPOPLPUSH", k, k2], ["LMOVE", k, k, "LEFT", "RIGHT"],
            ["BLPOP", k, k2, "0.01"], ["BRPOP", k, "0.01"], ["BLMOVE", k, k2, "RIGHT", "LEFT", "0.01"],
            ["LMPOP", "2", k, k2, "LEFT", "COUNT", "2"], ["BLMPOP", "0.01", "1", k, "RIGHT"], ["LRANGE", k, "0", "-1"],
        ])
    if fam == "hash":
        k = c(H)
        return c([
            ["HSET", k, v(), v(), v(), v()], ["HSET", k, v(), v()], ["HMSET", k, v(), v()], ["HSETNX", k, v(), v()],
            ["HDEL", k, v(), v()], ["HINCRBY", k, "n", "2"], ["HINCRBYFLOAT", k, "f", "0.5"], ["HGET", k, v()],
        ])
    if fam == "set":
        k, k2, k3 = c(ST), c(ST), c(ST)
        return c([
            ["SADD", k, v(), v()], ["SREM", k, v(), v()], ["SMOVE", k, k2, v()], ["SPOP", k, "100"], ["SPOP", k, "0"],
            ["SINTERSTORE", k3, k, k2], ["SUNIONSTORE", k3, k, k2], ["SDIFFSTORE", k3, k, k2], ["SISMEMBER", k, v()],
        ])
    if fam == "zset":
        k, k2, k3 = c(Z), c(Z), c(Z)
        return c([
            ["ZADD", k, str(n(0, 5)), v(), str(n(0, 5)), v()], ["ZADD", k, "NX", "1", v()], ["ZADD", k, "INCR", "1", v()],
            ["ZINCRBY", k, "2", v()], ["ZREM", k, v(), v()], ["ZREMRANGEBYRANK", k, "0", "0"],
            ["ZREMRANGEBYSCORE", k, "0", "2"], ["ZREMRANGEBYLEX", k, "[a", "[b"], ["ZPOPMIN", k], ["ZPOPMAX", k, "2"],
            ["BZPOPMIN", k, k2, "0.01"], ["ZMPOP", "2", k, k2, "MAX", "COUNT", "2"], ["ZUNIONSTORE", k3, "2", k, k2],
            ["ZINTERSTORE", k3, "2", k, k2], ["ZDIFFSTORE", k3, "2", k, k2], ["ZRANGESTORE", k3, k, "0", "1"],
            ["ZSCORE", k, v()],
        ])
    if fam == "geo":
        k, k2 = c(G), c(Z + G)
        return c([
            ["GEOADD", k, str(n(0, 10)), str(n(0, 10)), v()],
            ["GEOSEARCHSTORE", k2, k, "FROMLONLAT", "0", "0", "BYRADIUS", "2000", "km"],
            ["GEORADIUS", k, "0", "0", "2000", "km", "STORE", k2], ["GEOPOS", k, v()],
        ])
    if fam == "bits":
        k, k2 = c(B), c(B)
        return c([
            ["SETBIT", k, str(n(0, 20)), str(n(0, 1))], ["BITFIELD", k, "SET", "u8", "0", str(n(0, 255))],
            ["BITOP", "OR", k2, k, c(B)], ["BITOP", "AND", k2, "nokey", k], ["GETBIT", k, "3"],
        ])
    if fam == "hll":
        k = c(P)
        return c([["PFADD", k, v(), v()], ["PFADD", k], ["PFMERGE", k, c(P)], ["PFCOUNT", k]])
    if fam == "stream":
        return gen_stream(rng)
    if fam == "sort":
        return c([["SORT", c(L), "ALPHA", "STORE", c(L)], ["SORT", c(ST), "ALPHA", "LIMIT", "0", "2", "STORE", c(L)]])
    if fam == "multi":
        return ["MULTI", [gen(rng) for _ in range(n(1, 3))]]
    return c([
        ["EVAL", "redis.call('set', KEYS[1], ARGV[1]); redis.call('lpush', KEYS[2], ARGV[1]); "
                 "return redis.call('del', KEYS[1])", "2", c(S), c(L), v()],
        ["EVAL", "redis.call('hset', KEYS[1], 'f', 'v'); return redis.call('expire', KEYS[1], 100)", "1", c(H)],
    ])


def gen_stream(rng: random.Random):
    c = rng.choice
    n = rng.randint
    v = lambda: c(["a", "b", "c", "1", "7", "x"])
    # Explicit IDs: "*" would differ between the servers.
    k, k2, g, cn = c(X), c(X), c(["g1", "g2"]), c(["c1", "c2", "c3"])
    i = lambda: f"{n(1, 30)}-{n(0, 2)}"
    return c([
        ["XADD", k, i(), "f", v()], ["XADD", k, f"{n(1, 30)}-*", "f", v(), "g", v()],
        ["XADD", k, f"{n(1, 30)}-*", "f", v()],
        ["XADD", k, "MAXLEN", "=", str(n(0, 3)), i(), "f", v()], ["XADD", k, "MAXLEN", "~", "1", i(), "f", v()],
        ["XADD", k, "NOMKSTREAM", "MINID", str(n(1, 20)), i(), "f", v()],
        ["XTRIM", k, "MAXLEN", str(n(0, 3))], ["XTRIM", k, "MINID", "=", str(n(1, 30))],
        ["XTRIM", k, "MAXLEN", "~", "0"], ["XDEL", k, i(), i(), i()], ["XSETID", k, f"{n(25, 40)}-0"],
        ["XDEL", k] + [f"{m}-{q}" for m in range(n(1, 25), 31) for q in range(2)],
        ["XGROUP", "CREATE", k, g, "0", "MKSTREAM"], ["XGROUP", "CREATE", k, g, "$"],
        ["XGROUP", "CREATE", k, g, "0"],
        ["XGROUP", "SETID", k, g, c(["0", "$", i()])], ["XGROUP", "DESTROY", k, g],
        ["XGROUP", "CREATECONSUMER", k, g, cn], ["XGROUP", "DELCONSUMER", k, g, cn],
        ["XGROUP", "DELCONSUMER", k, g, cn],
        ["XREADGROUP", "GROUP", g, cn, "COUNT", "2", "STREAMS", k, ">"],
        ["XREADGROUP", "GROUP", g, cn, "STREAMS", k, "0"],
        ["XREADGROUP", "GROUP", g, cn, "BLOCK", "10", "STREAMS", k, ">"],
        ["XACK", k, g, i()], ["XCLAIM", k, g, cn, "0", i(), i(), "JUSTID"], ["XCLAIM", k, g, cn, "0", i()],
        ["XAUTOCLAIM", k, g, cn, "0", "0", "COUNT", "2"], ["XAUTOCLAIM", k, g, cn, "0", "0", "JUSTID"],
        ["XREAD", "COUNT", "2", "STREAMS", k, k2, "0", "0"], ["XLEN", k], ["XRANGE", k, "-", "+"],
        ["DEL", k], ["COPY", k, k2], ["RENAME", k, k2], ["EXPIRE", k, "100"],
    ])


def flat(cmds):
    out = []
    for cmd in cmds:
        if cmd[0] == "MULTI":
            # No nested MULTI. Blocking commands stay out of MULTI: on main,
            # EXEC of a block holding BZPOPMIN/BLPOP hangs with 4 shards when
            # the key lives on another worker (not a notification matter).
            inner = [x for x in flat(cmd[1]) if x[0] not in ("MULTI", "EXEC") and not x[0].startswith("B")]
            out.append(["MULTI"])
            out += inner
            out.append(["EXEC"])
        else:
            out.append(cmd)
    return out


def play(server, cmds):
    replies = []
    with server.raw() as c:
        for cmd in cmds:
            replies.append(c.call(*cmd))
    return replies


def run(server, flags, cmds):
    with server.raw() as c:
        c.call("FLUSHALL")
        c.call("CONFIG", "SET", "notify-keyspace-events", flags)
    col = Collector(server)
    try:
        replies = play(server, cmds)
        return replies, col.drain()
    finally:
        col.close()
        with server.raw() as c:
            c.call("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.mark.parametrize("flags,seed", [
    ("KEA", 1), ("KEA", 2), ("KEA", 3), ("KEAnm", 4), ("Kgl", 5), ("E$hzn", 6), ("Ksxe", 7), ("Em", 8),
    ("Ktn", 9), ("KEA", 10),
])
def test_random_mix(ringkv, redis_ref, matrix_entry, flags, seed):
    rng = random.Random(seed)
    cmds = flat([gen(rng) for _ in range(250)])
    rk_replies, rk_events = run(ringkv, flags, cmds)
    rd_replies, rd_events = run(redis_ref, flags, cmds)
    # Same replies first: same state, so the events can be compared.
    for cmd, a, b in zip(cmds, rk_replies, rd_replies):
        if cmd[0] in ("SPOP",):
            continue
        assert a == b, cmd
    assert rd_events, "the mix produced no events"
    compare(rk_events, rd_events, matrix_entry[1])


@pytest.mark.parametrize("flags,seed", [("KEA", 11), ("KEAn", 12), ("Etn", 13), ("Km", 14)])
def test_stream_mix(ringkv, redis_ref, matrix_entry, flags, seed):
    """Streams and consumer groups only, with MULTI blocks: every event
    t_stream.c fires (xadd, xtrim, xdel, xsetid, xgroup-*, new)."""
    rng = random.Random(seed)
    cmds = flat([["MULTI", [gen_stream(rng) for _ in range(3)]] if rng.random() < 0.1 else gen_stream(rng)
                 for _ in range(300)])
    rk_replies, rk_events = run(ringkv, flags, cmds)
    rd_replies, rd_events = run(redis_ref, flags, cmds)
    for cmd, a, b in zip(cmds, rk_replies, rd_replies):
        assert a == b, cmd
    assert rd_events, "the mix produced no events"
    compare(rk_events, rd_events, matrix_entry[1])


def test_config_values(ringkv, redis_ref):
    cases = ["KEA", "", "Kgxm", "Ag$lshzxetdn", "KEn", "E$", "AKE", "Kd", "q", "KEAz?", "xK"]
    got = []
    for server in (ringkv, redis_ref):
        out = []
        with server.raw() as c:
            for v in cases:
                out.append((c.call("CONFIG", "SET", "notify-keyspace-events", v),
                            c.call("CONFIG", "GET", "notify-keyspace-events")))
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
        got.append(out)
    assert got[0] == got[1]


def test_off_by_default_and_live(ringkv, redis_ref):
    """No events until CONFIG SET turns them on; the next command emits."""
    for server in (ringkv, redis_ref):
        col = Collector(server)
        with server.raw() as c:
            c.call("FLUSHALL")
            c.call("SET", "k", "1")
            assert col.drain() == []
            c.call("CONFIG", "SET", "notify-keyspace-events", "E$")
            c.call("SET", "k", "2")
            assert col.drain() == [(b"__keyevent@0__:set", b"k")]
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
            c.call("SET", "k", "3")
            assert col.drain() == []
        col.close()


def expiry_events(server, lazy: bool):
    with server.raw() as c:
        c.call("FLUSHALL")
        c.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0" if lazy else "1")
    col = Collector(server)
    try:
        with server.raw() as c:
            for i in range(6):
                c.call("SET", f"e{i}", "v", "PX", "30")
            c.call("HSET", "eh", "f", "v")
            c.call("PEXPIRE", "eh", "30")
            time.sleep(0.4 if lazy else 1.5)
            if lazy:
                for i in range(6):
                    c.call("GET", f"e{i}")
                c.call("HGET", "eh", "f")
        ev = col.drain()
    finally:
        col.close()
        with server.raw() as c:
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
    return ev


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "active"])
def test_expired_events(ringkv, redis_dbg, matrix_entry, lazy):
    rk = expiry_events(ringkv, lazy)
    rd = expiry_events(redis_dbg, lazy)
    expired = [e for e in rd if e[0] == b"__keyevent@0__:expired"]
    assert len(expired) == 7
    if lazy:
        compare(rk, rd, matrix_entry[1])
    else:
        # The active cycle samples keys at random: the same events, in its own order.
        assert sorted(rk) == sorted(rd)


def test_blocked_pop_events(ringkv, redis_ref, matrix_entry):
    """A pop served to a blocked client: the push's events, then its pop's."""
    def scenario(server):
        with server.raw() as c:
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "notify-keyspace-events", "KEAn")
        col = Collector(server)
        waiter = server.raw()
        try:
            waiter.send(harness.encode("BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"))
            waiter2 = server.raw()
            waiter2.send(harness.encode("BZPOPMAX", "zz", "5"))
            time.sleep(0.2)
            with server.raw() as c:
                c.call("RPUSH", "src", "a")
                c.call("ZADD", "zz", "1", "m")
            assert waiter.read() == ("$", b"a")
            assert waiter2.read()[0] == "*"
            waiter2.close()
            return col.drain()
        finally:
            waiter.close()
            col.close()
            with server.raw() as c:
                c.call("CONFIG", "SET", "notify-keyspace-events", "")
    compare(scenario(ringkv), scenario(redis_ref), matrix_entry[1])


@pytest.mark.parametrize("proto", [2, 3])
def test_tracking_queries_without_tracking(ringkv, redis_ref, proto):
    """Without CLIENT TRACKING on, the tracking queries answer as Redis's
    (test_tracking.py covers tracking itself)."""
    got = []
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            if proto == 3:
                c.call("HELLO", "3")
            got.append([c.call("CLIENT", "TRACKINGINFO"), c.call("CLIENT", "GETREDIR"),
                        c.call("CLIENT", "CACHING", "YES"), c.call("CLIENT", "GETREDIR", "x")])
    assert got[0] == got[1]


def test_blocked_xreadgroup_events(ringkv, redis_ref, matrix_entry):
    """An XREADGROUP served when an XADD wakes it creates its consumer
    then: xadd, then xgroup-createconsumer (Redis's serve order)."""
    def scenario(server):
        with server.raw() as c:
            c.call("FLUSHALL")
            c.call("XGROUP", "CREATE", "xs", "g", "$", "MKSTREAM")
            c.call("CONFIG", "SET", "notify-keyspace-events", "KEAn")
        col = Collector(server)
        waiter = server.raw()
        try:
            waiter.send(harness.encode("XREADGROUP", "GROUP", "g", "newc", "BLOCK", "5000", "STREAMS", "xs", ">"))
            time.sleep(0.2)
            with server.raw() as c:
                c.call("XADD", "xs", "5-1", "f", "v")
            assert waiter.read()[0] == "*"
            return col.drain()
        finally:
            waiter.close()
            col.close()
            with server.raw() as c:
                c.call("CONFIG", "SET", "notify-keyspace-events", "")
    rd = scenario(redis_ref)
    assert (b"__keyevent@0__:xgroup-createconsumer", b"xs") in rd
    compare(scenario(ringkv), rd, matrix_entry[1])
