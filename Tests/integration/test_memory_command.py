"""MEMORY (Redis 7.0's object.c memoryCommand) and DEBUG OBJECT on collections.

RingKV's byte counts are its own (an entry is one malloc block, compact
collections live inside it), so MEMORY USAGE and MEMORY STATS values are
checked by property: the stored bytes are a lower bound, Redis's own figure
(times two) an upper one, a bigger value reports more, every field has the
wire type Redis gives it. Replies that do not depend on the allocator (errors,
nulls, HELP, PURGE, reply types, COMMAND INFO/DOCS, DEBUG OBJECT's encoding,
serializedlength and quicklist figures for values RDB would not compress)
are compared with redis-server 7.0 exactly.
"""
from __future__ import annotations

import random
import re

import pytest

import harness


def _conn(server, proto: int = 2):
    c = server.raw()
    if proto == 3:
        t, _ = c.call("HELLO", "3")
        assert t == "%", f"{server}: HELLO 3 failed"
    return c


def _pairs(n: int, fmt_f: str = "f{}", fmt_v: str = "v{}") -> list[str]:
    out: list[str] = []
    for i in range(n):
        out += [fmt_f.format(i), fmt_v.format(i)]
    return out


def _scored(n: int, score=lambda i: i, fmt: str = "m{}") -> list:
    out: list = []
    for i in range(n):
        out += [repr(score(i)), fmt.format(i)]
    return out


# One key per encoding of every type: (key, commands building it, encoding,
# bytes of key plus elements that the value must at least hold).
def _scenarios():
    big = "x" * 100_000
    rows = [
        ("s:int", [("SET", "s:int", "123456789")], "int", 8),
        ("s:embstr", [("SET", "s:embstr", "e" * 40)], "embstr", 40),
        ("s:raw", [("SET", "s:raw", "r" * 300)], "raw", 300),
        ("s:huge", [("SET", "s:huge", big)], "raw", len(big)),
        ("l:small", [("RPUSH", "l:small", "a", "b", "1", "12345")], "quicklist", 8),
        ("l:big", [("RPUSH", "l:big", *[f"element-{i}" for i in range(20_000)])], "quicklist",
         sum(len(f"element-{i}") for i in range(20_000))),
        ("t:intset", [("SADD", "t:intset", *range(200))], "intset", 200 * 2),
        ("t:hashtable", [("SADD", "t:hashtable", *[f"member-{i}" for i in range(2000)])], "hashtable",
         sum(len(f"member-{i}") for i in range(2000))),
        ("t:ints600", [("SADD", "t:ints600", *range(600))], "hashtable", 600),
        ("z:listpack", [("ZADD", "z:listpack", *_scored(60, lambda i: i / 4))], "listpack",
         sum(len(f"m{i}") for i in range(60))),
        ("z:skiplist", [("ZADD", "z:skiplist", *_scored(2000))], "skiplist",
         sum(len(f"m{i}") for i in range(2000))),
        ("z:longmember", [("ZADD", "z:longmember", 1, "m" * 65)], "skiplist", 65),
        ("h:listpack", [("HSET", "h:listpack", *_pairs(60))], "listpack",
         sum(len(f"f{i}") + len(f"v{i}") for i in range(60))),
        ("h:hashtable", [("HSET", "h:hashtable", *_pairs(2000))], "hashtable",
         sum(len(f"f{i}") + len(f"v{i}") for i in range(2000))),
        ("h:longvalue", [("HSET", "h:longvalue", "f", "v" * 65)], "hashtable", 66),
    ]
    return rows


SCENARIOS = _scenarios()


def _load(conn, scenarios=SCENARIOS):
    for _, cmds, _, _ in scenarios:
        for c in cmds:
            t, v = conn.call(*c)
            assert t != "-", (c[:2], v)


# --------------------------------------------------------------------------
# Replies that do not depend on the allocator: exactly Redis's.

SHAPE_CASES = [
    ("MEMORY",),
    ("MEMORY", "USAGE"),
    ("MEMORY", "usage", "nokey"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "-1"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "x"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "1.5"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "99999999999999999999"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "0"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "3", "SAMPLES", "0"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "3", "bogus"),
    ("MEMORY", "USAGE", "nokey", "bogus", "1"),
    ("MEMORY", "USAGE", "s:int", "SAMPLES", "-5"),
    ("MEMORY", "USAGE", "s:int", "samples", "x"),
    ("MEMORY", "bogus"),
    ("MEMORY", "bogus", "a", "b"),
    ("MEMORY", "x" * 200),
    ("MEMORY", "HELP"),
    ("memory", "help"),
    ("MEMORY", "HELP", "x"),
    ("MEMORY", "STATS", "x"),
    ("MEMORY", "DOCTOR", "x"),
    ("MEMORY", "MALLOC-STATS", "x"),
    ("MEMORY", "PURGE", "x"),
    ("MEMORY", "PURGE"),
    ("MEMORY", "purge"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_errors_nulls_help_purge_match_redis(ringkv, redis_ref, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        for c in (ours, ref):
            c.call("FLUSHALL")
            c.call("SET", "s:int", "1")
        for cmd in SHAPE_CASES:
            got, want = ours.call(*cmd), ref.call(*cmd)
            assert got == want, f"{cmd[:4]}: ringkv {got!r}, redis {want!r}"


@pytest.mark.parametrize("proto", [2, 3])
def test_usage_reply_type_and_encoding_for_every_encoding(ringkv, redis_ref, proto):
    """An integer for every key of every encoding, null once it is gone,
    in RESP2 and RESP3, as Redis; OBJECT ENCODING agrees, so each encoding
    is really the one named."""
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        for c in (ours, ref):
            c.call("FLUSHALL")
            _load(c)
        for key, _, enc, _ in SCENARIOS:
            assert ours.call("OBJECT", "ENCODING", key) == ref.call("OBJECT", "ENCODING", key) == ("$", enc.encode())
            for opts in ((), ("SAMPLES", "1"), ("SAMPLES", "0")):
                got, want = ours.call("MEMORY", "USAGE", key, *opts), ref.call("MEMORY", "USAGE", key, *opts)
                assert got[0] == want[0] == ":", (key, opts, got, want)
                assert got[1] > 0
        for c in (ours, ref):
            c.call("DEL", *[k for k, *_ in SCENARIOS])
        for key, *_ in SCENARIOS:
            assert ours.call("MEMORY", "USAGE", key) == ref.call("MEMORY", "USAGE", key)
            assert ours.call("MEMORY", "USAGE", key)[0] == ("_" if proto == 3 else "$")


# --------------------------------------------------------------------------
# MEMORY USAGE values: properties.

def test_usage_bounds_per_encoding(ringkv, redis_ref):
    """At least the key and element bytes the value holds, and at most
    twice what Redis 7.0 reports for the same value (plus a block's slack)."""
    with ringkv.raw() as ours, redis_ref.raw() as ref:
        for c in (ours, ref):
            c.call("FLUSHALL")
            _load(c)
        for key, _, enc, payload in SCENARIOS:
            for opts in ((), ("SAMPLES", "0")):
                got = ours.call("MEMORY", "USAGE", key, *opts)[1]
                want = ref.call("MEMORY", "USAGE", key, *opts)[1]
                assert got >= payload + len(key), f"{key} ({enc}) {opts}: {got} < {payload + len(key)} stored bytes"
                assert got <= 2 * want + 256, f"{key} ({enc}) {opts}: {got} vs Redis's {want}"


@pytest.mark.parametrize("kind", ["list", "set", "intset", "zset", "hash", "string"])
def test_usage_grows_with_the_value(ringkv, kind):
    """Across each compact encoding and into the scalable one (default
    thresholds), a bigger value never reports less, and the scalable one
    with ten times the elements reports clearly more."""
    def add(c, i):
        if kind == "list":
            return c.call("RPUSH", "k", f"item-{i}")
        if kind == "set":
            return c.call("SADD", "k", f"member-{i}")
        if kind == "intset":
            return c.call("SADD", "k", i)
        if kind == "zset":
            return c.call("ZADD", "k", i, f"member-{i}")
        if kind == "hash":
            return c.call("HSET", "k", f"field-{i}", f"value-{i}")
        return c.call("APPEND", "k", "0123456789")

    with ringkv.raw() as c:
        c.call("FLUSHALL")
        sizes = []
        for i in range(1, 1201):
            assert add(c, i)[0] != "-"
            if i in (1, 2, 5, 10, 50, 100, 120, 200, 400, 600, 800, 1000, 1200):
                sizes.append((i, c.call("MEMORY", "USAGE", "k", "SAMPLES", "0")[1]))
        for (i, a), (j, b) in zip(sizes, sizes[1:]):
            assert b >= a, f"{kind}: {j} elements report {b} bytes, {i} reported {a}"
        n120 = dict(sizes)[120]
        assert dict(sizes)[1200] > 5 * n120, sizes
        # Removing most of it reports less again (nothing is cached).
        if kind != "string":
            c.call("DEL", "k")
            for i in range(1, 11):
                add(c, i)
            assert c.call("MEMORY", "USAGE", "k", "SAMPLES", "0")[1] < dict(sizes)[1200] / 10


def test_samples_estimate_the_whole_for_big_values(ringkv):
    """SAMPLES n (default 5) measures n fields or nodes and scales; for
    values of uniform elements the estimate lands near SAMPLES 0's full
    count, and a bigger sample never reports nonsense.

    Blocks are measured with glibc's malloc_usable_size, and glibc hands
    out a whole free chunk when splitting it would leave less than its
    32-byte minimum, so equal requests can differ by one 16-byte granule.
    A sample of one or five can land on such a block (CI saw the first
    field of `h` at +16 bytes: +29%), so small samples may miss by at most a
    granule per element, either way; SAMPLES 100 keeps the plain 25% bound."""
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        c.call("HSET", "h", *_pairs(20_000, "field-{:06d}", "value-{:06d}"))
        c.call("RPUSH", "l", *[f"element-{i:06d}" for i in range(50_000)])
        c.call("SADD", "s", *[f"member-{i:06d}" for i in range(20_000)])
        c.call("ZADD", "z", *_scored(20_000, fmt="member-{:06d}"))
        counts = {"h": 20_000, "l": 50_000, "s": 20_000, "z": 20_000}
        for key, count in counts.items():
            full = c.call("MEMORY", "USAGE", key, "SAMPLES", "0")[1]
            assert c.call("MEMORY", "USAGE", key, "SAMPLES", "1000000")[1] == full, key
            for opts in ((), ("SAMPLES", "1"), ("SAMPLES", "5"), ("SAMPLES", "100")):
                est = c.call("MEMORY", "USAGE", key, *opts)[1]
                slack = 0 if opts == ("SAMPLES", "100") else 16 * count
                assert min(0.75 * full, full - slack) <= est <= max(1.25 * full, full + slack), \
                    f"{key} {opts}: {est} vs full {full}"


def test_usage_is_no_access(ringkv, redis_ref):
    """Like Redis (dictFind), MEMORY USAGE counts no keyspace hit or miss."""
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            c.call("FLUSHALL")
            c.call("SET", "k", "v")
            c.call("CONFIG", "RESETSTAT")
            for _ in range(3):
                c.call("MEMORY", "USAGE", "k")
                c.call("MEMORY", "USAGE", "missing")
            info = harness.info_dict(c.call("INFO", "stats")[1])
            assert (info["keyspace_hits"], info["keyspace_misses"]) == ("0", "0"), server


def test_usage_on_every_shard_in_multi_and_scripts(ringkv, matrix_entry):
    """USAGE runs where its key lives: keys spread over every shard answer
    alike alone, pipelined, inside MULTI/EXEC and from a script."""
    _, shards = matrix_entry
    keys = harness.keys_on_distinct_shards("spread:", max(8, shards * 2), shards)
    assert shards == 1 or len({harness.shard_of(k, shards) for k in keys}) == shards
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        for i, k in enumerate(keys):
            c.call("HSET", k, *_pairs(10 + 300 * (i % 3)))
        alone = [c.call("MEMORY", "USAGE", k, "SAMPLES", "0")[1] for k in keys]
        assert all(isinstance(v, int) and v > 0 for v in alone), alone
        assert c.pipeline([("MEMORY", "USAGE", k, "SAMPLES", "0") for k in keys]) == [(":", v) for v in alone]
        assert c.call("MULTI") == ("+", b"OK")
        for k in keys:
            assert c.call("MEMORY", "USAGE", k, "SAMPLES", "0") == ("+", b"QUEUED")
        c.call("MEMORY", "USAGE", "spread:missing")
        c.call("HSET", keys[0], "extra", "x" * 1000)
        # SAMPLES 0: five sampled fields could all miss the big one.
        c.call("MEMORY", "USAGE", keys[0], "SAMPLES", "0")
        t, replies = c.call("EXEC")
        assert t == "*"
        assert replies[:len(keys)] == [(":", v) for v in alone]
        assert replies[len(keys)][0] == "$" and replies[len(keys)][1] is None
        assert replies[-1][0] == ":" and replies[-1][1] > alone[0] + 1000
        script = "local o = {} for i, k in ipairs(KEYS) do o[i] = redis.call('MEMORY', 'USAGE', k, 'SAMPLES', 0) end return o"
        t, got = c.call("EVAL", script, len(keys), *keys)
        assert t == "*" and [v for _, v in got[1:]] == [v for v in alone[1:]], got
        assert got[0][1] == replies[-1][1]


# --------------------------------------------------------------------------
# STATS, DOCTOR, MALLOC-STATS.

def _stats_fields(conn):
    t, v = conn.call("MEMORY", "STATS")
    if t == "%":
        return [(k[1].decode(), x) for k, x in v]
    assert t == "*"
    return [(v[i][1].decode(), v[i + 1]) for i in range(0, len(v), 2)]


@pytest.mark.parametrize("proto", [2, 3])
def test_stats_fields_in_redis_order_with_redis_types(ringkv, redis_ref, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        for c in (ours, ref):
            c.call("FLUSHALL")
            c.call("SET", "a", "1")
            c.call("SELECT", "5")
            c.call("SET", "b", "1")
            c.call("SELECT", "0")
        got, want = _stats_fields(ours), _stats_fields(ref)
        assert [k for k, _ in got] == [k for k, _ in want]
        for (k, g), (_, w) in zip(got, want):
            assert g[0] == w[0], f"{k}: ringkv type {g!r}, redis {w!r}"
            if k.startswith("db."):
                names = (lambda m: [x[0] for x in m[1]]) if proto == 3 else (lambda m: m[1][::2])
                assert names(g) == names(w), k


def test_stats_figures_follow_the_data(ringkv, matrix_entry):
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        c.call("MEMORY", "PURGE")
        before = dict(_stats_fields(c))
        n = 20_000
        for i in range(0, n, 1000):
            c.call("MSET", *sum([[f"key:{j}", "v" * 50] for j in range(i, i + 1000)], []))
        c.call("HSET", "big", *_pairs(5000))
        after = dict(_stats_fields(c))
        num = lambda d, k: d[k][1] if d[k][0] == ":" else float(d[k][1])
        assert num(after, "keys.count") == n + 1 == c.call("DBSIZE")[1]
        assert "db.0" not in before and "db.0" in after
        main = dict((k[1].decode(), v[1]) for k, v in zip(after["db.0"][1][::2], after["db.0"][1][1::2]))
        assert main["overhead.hashtable.main"] >= 8 * (n + 1)
        assert main["overhead.hashtable.slot-to-keys"] == 0
        # At least the keys' and values' bytes arrived.
        grew = num(after, "total.allocated") - num(before, "total.allocated")
        assert grew >= n * 50, grew
        assert num(after, "peak.allocated") >= num(after, "total.allocated")
        assert 0 < num(after, "startup.allocated") <= num(after, "peak.allocated")
        assert num(after, "overhead.total") >= num(after, "startup.allocated") + main["overhead.hashtable.main"]
        assert num(after, "dataset.bytes") == num(after, "total.allocated") - num(after, "overhead.total")
        assert num(after, "clients.normal") > 0
        for k in ("replication.backlog", "clients.slaves", "cluster.links", "aof.buffer"):
            assert num(after, k) == 0
        # Ratios are computed in float, as Redis does: 100 may read 100.00001.
        assert 0 < num(after, "dataset.percentage") <= 100.001
        assert 0 < num(after, "peak.percentage") <= 100.001
        net = num(after, "total.allocated") - num(after, "startup.allocated")
        assert num(after, "keys.bytes-per-key") == net // (n + 1)
        assert num(after, "allocator.active") >= num(after, "allocator.allocated")
        assert num(after, "fragmentation.bytes") == num(after, "allocator.resident") - num(after, "total.allocated")
        # Scripts and functions are counted where Redis counts them.
        lua0 = num(after, "lua.caches")
        c.call("SCRIPT", "LOAD", "return '" + "x" * 5000 + "'")
        assert num(dict(_stats_fields(c)), "lua.caches") >= lua0 + 5000
        c.call("SCRIPT", "FLUSH")
        c.call("FLUSHALL")
        c.call("MEMORY", "PURGE")
        assert num(dict(_stats_fields(c)), "total.allocated") < num(after, "total.allocated") - n * 50


@pytest.mark.parametrize("proto", [2, 3])
def test_doctor_and_malloc_stats(ringkv, redis_ref, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        for c in (ours, ref):
            c.call("FLUSHALL")
        c.call("MEMORY", "PURGE")
        got, want = ours.call("MEMORY", "DOCTOR"), ref.call("MEMORY", "DOCTOR")
        assert got[0] == want[0] == ("=" if proto == 3 else "$")
        stats = dict(_stats_fields(ours))
        if stats["total.allocated"][1] - stats["startup.allocated"][1] < 5 << 20:
            # Both near-empty (RingKV: since startup, its I/O buffers aside): Redis's own words.
            assert got == want
        else:
            assert re.match(rb"(txt:)?(Hi Sam|Sam, I detected)", got[1]), got
        got, want = ours.call("MEMORY", "MALLOC-STATS"), ref.call("MEMORY", "MALLOC-STATS")
        assert got[0] == want[0] == ("=" if proto == 3 else "$")
        assert b"<malloc version=" in got[1]
        # Busy enough: the doctor runs its checks and still answers in text.
        ours.call("HSET", "fill", *_pairs(100_000, "f{}", "x" * 60 + "{}"))
        t, text = ours.call("MEMORY", "DOCTOR")
        assert t == ("=" if proto == 3 else "$") and re.match(rb"(txt:)?(Hi Sam|Sam, I detected)", text), text
        ours.call("FLUSHALL")


# --------------------------------------------------------------------------
# COMMAND INFO / DOCS.

def _sorted_container(reply):
    """A container's entry with its subcommands in name order: Redis lists
    them in its dict's order, which is seeded per process."""
    t, v = reply
    if t == "*" and v and v[0] and v[0][0] == "*":  # COMMAND INFO: [entry]
        entry = list(v[0][1])
        subs = entry[-1]
        entry[-1] = (subs[0], sorted(subs[1], key=lambda s: s[1][0][1]))
        return (t, [(v[0][0], entry)])
    if t in "*%" and v:  # COMMAND DOCS: name -> doc map
        if t == "%":
            (name, (dt, doc)), = v
            doc = [(k, (x[0], sorted(x[1], key=lambda p: p[0][1])) if k[1] == b"subcommands" else x)
                   for k, x in doc]
            return (t, [(name, (dt, doc))])
        name, (dt, doc) = v
        doc = list(doc)
        for i in range(0, len(doc), 2):
            if doc[i][1] == b"subcommands":
                pairs = [doc[i + 1][1][j:j + 2] for j in range(0, len(doc[i + 1][1]), 2)]
                pairs.sort(key=lambda p: p[0][1])
                doc[i + 1] = (doc[i + 1][0], [x for p in pairs for x in p])
        return (t, [name, (dt, doc)])
    return reply


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs_match_redis(ringkv, redis_ref, proto):
    names = ["memory|usage", "memory|stats", "memory|doctor", "memory|malloc-stats", "memory|purge",
             "memory|help"]
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        for sub in ("INFO", "DOCS"):
            for name in names:
                got, want = ours.call("COMMAND", sub, name), ref.call("COMMAND", sub, name)
                assert got == want, f"COMMAND {sub} {name} (RESP{proto}):\n ringkv {got!r}\n redis  {want!r}"
            got = _sorted_container(ours.call("COMMAND", sub, "MEMORY"))
            want = _sorted_container(ref.call("COMMAND", sub, "MEMORY"))
            assert got == want, f"COMMAND {sub} MEMORY (RESP{proto}):\n ringkv {got!r}\n redis  {want!r}"
        assert ours.call("COMMAND", "GETKEYS", "MEMORY", "USAGE", "k", "SAMPLES", "0") == \
            ref.call("COMMAND", "GETKEYS", "MEMORY", "USAGE", "k", "SAMPLES", "0")


# --------------------------------------------------------------------------
# DEBUG OBJECT on collections.

_DEBUG_RE = re.compile(rb"^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) serializedlength:(\d+) "
                       rb"lru:\d+ lru_seconds_idle:\d+(.*)$")


def _debug(conn, key):
    t, v = conn.call("DEBUG", "OBJECT", key)
    assert t == "+", (key, v)
    m = _DEBUG_RE.match(v)
    assert m, v
    return {"refcount": int(m[1]), "encoding": m[2].decode(), "serializedlength": int(m[3]),
            "extra": m[4].decode()}


def _ql(extra: str) -> dict[str, str]:
    return dict(f.split(":") for f in extra.split())


# Values an RDB file stores as they are (no blob over 20 bytes that LZF
# could shrink): serializedlength and the quicklist figures are exact.
EXACT = [
    [("RPUSH", "l1", "a", "b", "1", "12345", "-7", "4294967296", "")],
    [("RPUSH", "l2", *[str(i) for i in range(3)])],
    [("SADD", "i1", 1, 2, 3)],
    [("SADD", "i2", 1, 70000)],
    [("SADD", "i3", -1, 70000)],
    [("SADD", "h1", *range(600))],
    [("SADD", "h2", *[f"m{i}" for i in range(520)], "a" * 20)],
    [("HSET", "p1", "a", "1")],
    [("HSET", "p2", "f", "-3000", "g", "3000000")],
    [("HSET", "t1", *_pairs(600))],
    [("ZADD", "z1", 1, "a", "2.5", "b")],
    [("ZADD", "z2", -1, "n", "1e20", "big", "inf", "i")],
    [("ZADD", "z3", *_scored(200, lambda i: i / 8))],
    # Quicklists of several nodes: a count per node keeps the nodes small.
    # ql_listpack_max and ql_compressed show the settings.
    [("CONFIG", "SET", "list-max-listpack-size", "3"), ("RPUSH", "q1", *[str(i) for i in range(10)]),
     ("LPUSH", "q1", "a", "b")],
    [("CONFIG", "SET", "list-max-listpack-size", "2"), ("RPUSH", "q2", *"abcdefg")],
    # Random bytes: nothing for LZF to find.
    [("CONFIG", "SET", "list-max-listpack-size", "-1"),
     ("RPUSH", "q3", *[random.Random(i).randbytes(30) for i in range(100)])],
    [("RPUSH", "q4", *[random.Random(i).randbytes(30) for i in range(1000)])],
]
RESTORE = [("CONFIG", "SET", "list-max-listpack-size", "-2")]


def test_debug_object_exact_for_uncompressed_values(ringkv, redis_dbg):
    with ringkv.raw() as ours, redis_dbg.raw() as ref:
        try:
            for steps in EXACT:
                for c in (ours, ref):
                    c.call("FLUSHALL")
                    for cmd in steps:
                        t, v = c.call(*cmd)
                        assert t != "-", (cmd[:3], v)
                key = next(cmd[1] for cmd in steps if cmd[0] != "CONFIG")
                got, want = _debug(ours, key), _debug(ref, key)
                assert got == want, f"{key}: ringkv {got}, redis {want}"
                for c in (ours, ref):
                    for cmd in RESTORE:
                        c.call(*cmd)
        finally:
            for c in (ours, ref):
                for cmd in RESTORE:
                    c.call(*cmd)


def test_debug_object_estimates_for_big_values(ringkv, redis_dbg):
    """Where Redis LZF-compresses (blobs over 20 bytes that shrink), the
    estimate is the uncompressed size: never below Redis's, and the
    quicklist figures still describe the list."""
    rnd = random.Random(7)
    with ringkv.raw() as ours, redis_dbg.raw() as ref:
        for c in (ours, ref):
            c.call("FLUSHALL")
            _load(c)
            c.call("RPUSH", "rand", *[bytes(rnd.getrandbits(8) for _ in range(30)) for _ in range(300)])
        for key, _, enc, payload in SCENARIOS + [("rand", None, "quicklist", 9000)]:
            got, want = _debug(ours, key), _debug(ref, key)
            assert got["encoding"] == want["encoding"]
            assert want["serializedlength"] <= got["serializedlength"], (key, got, want)
            assert got["serializedlength"] >= (payload if key != "s:int" else 0), (key, got)
            if enc != "quicklist":
                assert got["extra"] == want["extra"] == ""
                continue
            g, w = _ql(got["extra"]), _ql(want["extra"])
            assert list(g) == ["ql_nodes", "ql_avg_node", "ql_listpack_max", "ql_compressed", "ql_uncompressed_size"]
            assert g["ql_listpack_max"] == w["ql_listpack_max"] and g["ql_compressed"] == w["ql_compressed"]
            llen = ours.call("LLEN", key)[1]
            nodes = int(g["ql_nodes"])
            assert abs(float(g["ql_avg_node"]) * nodes - llen) <= nodes * 0.005 + 0.01
            # Node boundaries are RingKV's own; the listpack bytes are not.
            assert abs(nodes - int(w["ql_nodes"])) <= max(1, int(w["ql_nodes"]) // 10), (g, w)
            assert abs(int(g["ql_uncompressed_size"]) - int(w["ql_uncompressed_size"])) <= 7 * max(nodes, int(w["ql_nodes"]))
        ours.call("FLUSHALL")


# --------------------------------------------------------------------------
# A client library's view.

def test_redis_py(r):
    r.hset("h", mapping={f"f{i}": i for i in range(1000)})
    r.rpush("l", *range(1000))
    assert isinstance(r.memory_usage("h"), int) and r.memory_usage("h", samples=0) > 1000 * 8
    assert r.memory_usage("missing") is None
    stats = r.memory_stats()
    assert stats["keys.count"] == 2 and "db.0" in stats
    assert r.memory_purge() is True
    assert re.match(rb"Hi Sam|Sam, I detected", r.execute_command("MEMORY DOCTOR"))
