"""maxmemory and eviction, against redis-server 7.0 where replies can match.

-OOM under noeviction (plain commands, MULTI at queue time and EXEC, scripts)
is compared reply for reply with the real server. The eviction policies are
checked by their properties on ringkv (1 and 4 shards): used_memory stays
within maxmemory under a write load that outgrows it, evicted_keys grows, and
the keys that must survive do (volatile-* never evicts a key without TTL,
volatile-ttl evicts the nearest expiries first, allkeys-lru keeps a recently
read hot set, allkeys-lfu keeps frequently read keys). OBJECT FREQ under an
LFU policy is compared with Redis with lfu-log-factor 0, where the counter
is deterministic.
"""
from __future__ import annotations

import random
import time

import pytest

import harness
from harness import RespConn, encode

OOM = b"OOM command not allowed when used memory > 'maxmemory'."
# What a write may overshoot maxmemory by: one command's growth, plus the
# other shards' counters read once per loop iteration.
SLACK = 96 * 1024


def info(c, section="all"):
    return harness.info_dict(harness.plain(c.call("INFO", section)))


def used(c) -> int:
    return int(info(c, "memory")["used_memory"])


def evicted(c) -> int:
    return int(info(c, "stats")["evicted_keys"])


def settled_used(c, limit: int, wait: float = 5.0) -> int:
    """used_memory once cron has evicted down to the limit (or after
    `wait` s): the last write may overshoot by its own growth, which cron
    then takes back. Waiting for the limit itself, not for limit + SLACK,
    keeps a read taken a moment later (another INFO, a lazy-free credit)
    from landing just past the slack on a loaded machine."""
    deadline = time.time() + harness.scaled(wait)
    u = used(c)
    while u > limit and time.time() < deadline:
        time.sleep(0.05)
        u = used(c)
    return u


def reset_limits(c):
    for name, value in [("maxmemory", "0"), ("maxmemory-policy", "noeviction"), ("maxmemory-samples", "5"),
                        ("lfu-log-factor", "10"), ("lfu-decay-time", "1")]:
        c.call("CONFIG", "SET", name, value)


@pytest.fixture
def limits(ringkv):
    """Puts ringkv back to no limit after the test, whatever happened."""
    yield
    with ringkv.raw() as c:
        reset_limits(c)
        c.call("FLUSHALL")


# ---------------------------------------------------------------------------
# noeviction: -OOM, exactly as Redis

OOM_STEPS = [
    ("SET", "a", "1"),
    ("GET", "a"),
    ("EXISTS", "a", "b", "c"),
    ("DEL", "k1"),
    ("INCR", "k2"),
    ("LPUSH", "list", "x"),
    ("LPOP", "list"),
    ("SADD", "{t}s", "m"),
    ("ZADD", "z", "1", "m"),
    ("HSET", "h", "f", "v"),
    ("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
    ("MGET", "a", "k1", "k2", "list"),
    ("EXPIRE", "k1", "100"),
    ("APPEND", "k1", "x"),
    ("SETRANGE", "k1", "3", "x"),
    ("SUNIONSTORE", "dst", "k1", "k2"),
    ("RENAME", "k1", "k9"),
    ("MULTI",), ("GET", "a"), ("SET", "a", "b"), ("EXEC",),
    ("MULTI",), ("DISCARD",),
    ("EVAL", "return redis.call('set','a','b')", "0"),
    ("EVAL", "return redis.pcall('set','a','b')", "0"),
    ("EVAL", "return redis.call('get','a')", "0"),
    ("EVAL", "return redis.call('del','k1')", "0"),
    # Declared keys: on 4 shards a known script runs on its keys' shard.
    *[("EVAL", "return redis.call('set',KEYS[1],'x')", "1", k) for k in ("a", "b", "c", "d", "e", "f")],
    *[("EVAL", "return redis.call('get',KEYS[1])", "1", k) for k in ("k1", "k2", "a", "b")],
    ("EVAL", "#!lua\nreturn 1", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','k1')", "0"),
    ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','k1','v')", "0"),
    ("GET", "k1"),
    ("DEL", "k1"),
]


def oom_run(server):
    out = []
    with server.raw() as c:
        c.call("FLUSHALL")
        c.call("SET", "k1", "v1")
        c.call("SET", "k2", "5")
        c.call("RPUSH", "list", "a", "b")
        try:
            assert c.call("CONFIG", "SET", "maxmemory", "1") == ("+", b"OK")
            for cmd in OOM_STEPS:
                out.append((cmd, c.call(*cmd)))
            stats = info(c, "stats")
        finally:
            reset_limits(c)
        out.append(("GET k2 after", c.call("GET", "k2")))
        c.call("FLUSHALL")
    return out, stats


def test_oom_under_noeviction_matches_redis(ringkv, redis_ref, limits):
    got, got_stats = oom_run(ringkv)
    want, want_stats = oom_run(redis_ref)
    for g, w in zip(got, want):
        assert g == w, (g, w)
    assert len(got) == len(want)
    assert got[0][1] == ("-", OOM)
    assert got_stats["evicted_keys"] == "0"


@pytest.mark.parametrize("backend", ["epoll", "uring"])
def test_config_set_binds_scripts_forwarded_to_busy_workers(server_factory, backend):
    """CONFIG SET maxmemory binds at once on every worker, also on one that
    was busy when it was set. Such a worker finds the forwarded script in
    its inbox, so its next poll does not wait and returns no event; it used
    to pick up another worker's CONFIG SET only from a poll that returned
    one, and ran the script under the stale maxmemory 0 (seen once on a
    loaded CI run). A spinning script on the key's shard keeps it busy."""
    s = server_factory(shards=4, backend=backend)
    spin = "local i = 0 while i < tonumber(ARGV[1]) do i = i + 1 end return i"
    # No shebang: the OOM is decided as the script starts, on the key's worker.
    write = "return redis.call('set', KEYS[1], 'v')"
    conns = [s.raw() for _ in range(4)]
    got = []
    try:
        for r in range(12):
            # With connections on every worker, most rounds set the config
            # from a worker other than the busy one.
            busy, setter = conns[r % 4], conns[(r + 1 + r // 4) % 4]
            busy.send(encode("EVAL", spin, "1", "{t}spin", "1000000"))
            time.sleep(0.01)
            got += setter.pipeline([("CONFIG", "SET", "maxmemory", "1"), ("EVAL", write, "1", "{t}k"),
                                    ("CONFIG", "SET", "maxmemory", "0")])[1:2]
            assert busy.read() == (":", 1000000)
        assert conns[0].call("EXISTS", "{t}k") == (":", 0)
    finally:
        for c in conns:
            c.close()
    assert len(got) == 12
    assert [g for g in got if g[0] != "-" or not g[1].startswith(OOM)] == []


def test_script_oom_forgotten_when_limit_lifted(ringkv, redis_ref, limits):
    """A writing script refused for OOM runs again once maxmemory is 0: the
    out-of-memory answer of the last script must not outlive the limit."""
    script = "#!lua\nreturn redis.call('set', KEYS[1], 'v')"
    res = []
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            c.call("FLUSHALL")
            try:
                assert c.call("CONFIG", "SET", "maxmemory", "1") == ("+", b"OK")
                first = c.call("EVAL", script, "1", "a")
            finally:
                reset_limits(c)
            res.append((first, c.call("EVAL", script, "1", "a"), c.call("GET", "a")))
            c.call("FLUSHALL")
    assert res[0] == res[1]
    assert res[0] == (("-", OOM), ("+", b"OK"), ("$", b"v"))


def test_exec_refused_when_block_has_denyoom(ringkv, redis_ref, limits):
    """Queued while memory was fine, refused at EXEC: EXECABORT naming OOM,
    and the transaction is gone."""
    res = []
    for server in (ringkv, redis_ref):
        with server.raw() as c, server.raw() as admin:
            c.call("FLUSHALL")
            steps = [c.call("MULTI"), c.call("SET", "a", "b"), c.call("GET", "a")]
            try:
                admin.call("CONFIG", "SET", "maxmemory", "1")
                steps.append(c.call("EXEC"))
                steps.append(c.call("EXEC"))
                # A block without a denyoom command still runs... but queueing
                # anything while out of memory is refused.
                steps.append(c.call("MULTI"))
                steps.append(c.call("PING"))
                steps.append(c.call("EXEC"))
            finally:
                reset_limits(admin)
            steps.append(c.call("EXISTS", "a"))
        res.append(steps)
    assert res[0] == res[1], res
    assert res[0][3] == ("-", b"EXECABORT Transaction discarded because of: " + OOM)


# ---------------------------------------------------------------------------
# The eviction policies


def fill_until(c, budget_keys: int, value: bytes, start: int, prefix="cold", ttl=None, pipeline=500):
    """Writes budget_keys keys; returns the replies that were errors."""
    errors = []
    for lo in range(start, start + budget_keys, pipeline):
        cmds = []
        for i in range(lo, min(lo + pipeline, start + budget_keys)):
            if ttl is None:
                cmds.append(("SET", f"{prefix}:{i}", value))
            else:
                cmds.append(("SET", f"{prefix}:{i}", value, "EX", str(ttl(i))))
        for reply in c.pipeline(cmds):
            if reply[0] == "-":
                errors.append(reply)
    return errors


def set_limit(c, extra: int, policy: str):
    c.call("FLUSHALL")
    time.sleep(0.15)
    base = used(c)
    assert c.call("CONFIG", "SET", "maxmemory-policy", policy) == ("+", b"OK")
    assert c.call("CONFIG", "SET", "maxmemory", str(base + extra)) == ("+", b"OK")
    return base + extra


VALUE = b"v" * 200


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random",
                                    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_policy_keeps_memory_under_limit(ringkv, limits, policy):
    volatile = policy.startswith("volatile")
    rng = random.Random(7)
    with ringkv.raw() as c:
        limit = set_limit(c, 2 * 1024 * 1024, policy)
        # Keys without TTL that volatile-* must keep: well inside the budget.
        assert fill_until(c, 1500, VALUE, 0, prefix="keep") == []
        ttls = {}

        def ttl(i):
            ttls[i] = rng.randrange(1000, 100000)
            return ttls[i]

        seen = []
        start = evicted(c)
        for round_ in range(4):
            errors = fill_until(c, 8000, VALUE, round_ * 8000, ttl=ttl if volatile else None)
            assert errors == [], errors[:3]
            u = used(c)
            seen.append(evicted(c))
            assert u <= limit + SLACK, (policy, round_, u, limit)
        # evicted_keys grows with the load.
        assert seen[0] > start and seen == sorted(seen) and seen[-1] > seen[0], (start, seen)
        total_keys = int(c.call("DBSIZE")[1])
        assert total_keys < 1500 + 4 * 8000
        kept = sum(r[1] for r in c.pipeline([("EXISTS", f"keep:{i}") for i in range(1500)]))
        if volatile:
            assert kept == 1500, (policy, kept)
        if policy == "volatile-ttl":
            # The nearest expiries go first: survivors have the longest TTLs.
            alive = c.pipeline([("EXISTS", f"cold:{i}") for i in range(4 * 8000)])
            survivors = sorted(ttls[i] for i, r in enumerate(alive) if r[1] == 1)
            everything = sorted(ttls.values())
            assert survivors, "nothing survived"
            median_all = everything[len(everything) // 2]
            median_alive = survivors[len(survivors) // 2]
            assert median_alive > median_all * 1.3, (median_alive, median_all)
            low_quartile = everything[len(everything) // 4]
            assert sum(1 for t in survivors if t < low_quartile) < len(survivors) * 0.1


def test_volatile_policy_ooms_when_no_key_has_ttl(ringkv, limits):
    with ringkv.raw() as c:
        set_limit(c, 1024 * 1024, "volatile-lru")
        before = evicted(c)
        errors = fill_until(c, 12000, VALUE, 0)
        assert errors and errors[0] == ("-", OOM)
        assert evicted(c) == before
        # Reads go on.
        assert c.call("GET", "cold:0") == ("$", VALUE)


def test_allkeys_lru_keeps_recently_read_hot_set(ringkv, limits):
    with ringkv.raw() as c:
        set_limit(c, 3 * 1024 * 1024, "allkeys-lru")
        c.call("CONFIG", "SET", "maxmemory-samples", "10")
        hot = [f"hot:{i}" for i in range(1000)]
        assert [r[0] for r in c.pipeline([("SET", k, VALUE) for k in hot])] == ["+"] * len(hot)
        # The LRU clock counts seconds (Redis's resolution): the cold keys of
        # each round are a second older than the hot keys read after it.
        for round_ in range(4):
            time.sleep(1.05)
            assert all(r[0] == "$" for r in c.pipeline([("GET", k) for k in hot]))
            assert fill_until(c, 8000, VALUE, round_ * 8000) == []
        hot_alive = sum(r[1] for r in c.pipeline([("EXISTS", k) for k in hot]))
        cold_alive = sum(r[1] for r in c.pipeline([("EXISTS", f"cold:{i}") for i in range(24000)]))
        assert hot_alive >= 950, hot_alive
        assert cold_alive / 24000 < 0.5, cold_alive


def test_allkeys_lfu_keeps_frequently_read_keys(ringkv, limits):
    with ringkv.raw() as c:
        set_limit(c, 3 * 1024 * 1024, "allkeys-lfu")
        c.call("CONFIG", "SET", "maxmemory-samples", "10")
        hot = [f"hot:{i}" for i in range(1000)]
        c.pipeline([("SET", k, VALUE) for k in hot])
        for round_ in range(4):
            for _ in range(3):
                assert all(r[0] == "$" for r in c.pipeline([("GET", k) for k in hot]))
            assert fill_until(c, 8000, VALUE, round_ * 8000) == []
        hot_alive = sum(r[1] for r in c.pipeline([("EXISTS", k) for k in hot]))
        assert hot_alive >= 950, hot_alive
        # Of the hot keys still there (up to 50 may have gone, as above).
        freqs = [r[1] for r in c.pipeline([("OBJECT", "FREQ", k) for k in hot[:50]]) if r[0] == ":"]
        assert len(freqs) >= 40 and all(f >= 6 for f in freqs), freqs


def test_lower_maxmemory_evicts_at_once(ringkv, limits):
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        time.sleep(0.15)
        base = used(c)
        fill_until(c, 20000, VALUE, 0)
        assert used(c) > base + 4 * 1024 * 1024
        before = int(c.call("DBSIZE")[1])
        evicted_before = evicted(c)
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
        limit = base + 2 * 1024 * 1024
        assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == ("+", b"OK")
        # Redis evicts in CONFIG SET (time-limited) and then in its timer;
        # every shard here does the same from its next loop iteration and cron.
        assert settled_used(c, limit) <= limit + SLACK
        assert evicted(c) > evicted_before
        assert int(c.call("DBSIZE")[1]) < before


def test_eviction_cut_short_goes_on_before_cron(ringkv, redis_ref, limits):
    """An eviction stopped by its time limit carries on from the next loop
    iteration (Redis's evictionTimeProc), not from cron alone: with
    tenacity 0 each pass frees 16 keys, and with hz 1 cron would free 16 a
    second, so the limit is reached within the wait only if the shard keeps
    going between crons. Checked on redis-server 7.0 the same way."""
    for server in (redis_ref, ringkv):
        with server.raw() as c:
            try:
                c.call("FLUSHALL")
                time.sleep(0.15)
                base = used(c)
                fill_until(c, 20000, VALUE, 0)
                assert c.call("CONFIG", "SET", "hz", "1") == ("+", b"OK")
                assert c.call("CONFIG", "SET", "maxmemory-eviction-tenacity", "0") == ("+", b"OK")
                c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
                limit = base + 2 * 1024 * 1024
                assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == ("+", b"OK")
                assert settled_used(c, limit, wait=3.0) <= limit + SLACK, server
            finally:
                reset_limits(c)
                c.call("CONFIG", "SET", "hz", "10")
                c.call("CONFIG", "SET", "maxmemory-eviction-tenacity", "10")
                c.call("FLUSHALL")


# ---------------------------------------------------------------------------
# OBJECT FREQ under an LFU policy


FREQ_STEPS = [
    ("SET", "k", "v"), ("OBJECT", "FREQ", "k"),
    ("GET", "k"), ("OBJECT", "FREQ", "k"),
    ("GET", "k"), ("GET", "k"), ("OBJECT", "FREQ", "k"),
    # Inspecting is no access.
    ("EXISTS", "k"), ("TYPE", "k"), ("OBJECT", "FREQ", "k"),
    ("HSET", "h", "f", "v"), ("OBJECT", "FREQ", "h"),
    ("HGET", "h", "f"), ("HSET", "h", "g", "w"), ("OBJECT", "FREQ", "h"),
    # An overwrite keeps the counter (dbOverwrite), after its own write lookup.
    ("SET", "k", "v2"), ("OBJECT", "FREQ", "k"),
    # (Not INCR: with maxmemory 0 Redis answers for its shared integer
    # objects, whose field holds the LRU clock of their creation.)
    ("OBJECT", "FREQ", "missing"),
    ("OBJECT", "IDLETIME", "k"),
]


def test_object_freq_lfu_matches_redis(ringkv, redis_ref, limits):
    res = []
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            c.call("FLUSHALL")
            try:
                c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
                c.call("CONFIG", "SET", "lfu-log-factor", "0")
                res.append([c.call(*s) for s in FREQ_STEPS])
            finally:
                reset_limits(c)
                c.call("FLUSHALL")
    diff = [(s, g, w) for s, g, w in zip(FREQ_STEPS, res[0], res[1]) if g != w]
    assert diff == []
    assert res[0][1] == (":", 5)


def test_object_freq_default_log_factor(ringkv, limits):
    """With lfu-log-factor 10 the counter climbs logarithmically: the first
    read always counts, then 1 in 11, then 1 in 21, ... After 1000 reads a
    counter is 19 on average (5 + k, where 5k^2 - 4k ~ 1000; Redis's table in
    redis.conf says 18), between 15 and 25 for 98% of keys."""
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        keys = [f"k{i}" for i in range(20)]
        for k in keys:
            c.call("SET", k, "v")
        for _ in range(10):
            c.pipeline([("GET", k) for k in keys for _ in range(100)])
        freqs = [r[1] for r in c.pipeline([("OBJECT", "FREQ", k) for k in keys])]
        assert all(12 <= f <= 30 for f in freqs), freqs
        assert 17 <= sum(freqs) / len(freqs) <= 21, freqs


def test_eviction_touches_watched_keys(ringkv, limits):
    """An evicted key is a modified key for WATCH (Redis's signalModifiedKey)."""
    with ringkv.raw() as c, ringkv.raw() as w:
        set_limit(c, 1024 * 1024, "volatile-ttl")
        # The nearest expiry of all: volatile-ttl takes it first.
        assert w.call("SET", "watched", "v", "EX", "50") == ("+", b"OK")
        assert w.call("WATCH", "watched") == ("+", b"OK")
        assert fill_until(c, 10000, VALUE, 0, ttl=lambda i: 100000 + i) == []
        assert c.call("EXISTS", "watched") == (":", 0)
        assert w.call("MULTI") == ("+", b"OK")
        assert w.call("SET", "x", "y") == ("+", b"QUEUED")
        assert w.call("EXEC") == ("*", None)


def test_big_values_evicted_lazily_stay_under_limit(ringkv, limits):
    """Collections past the lazy-free threshold are freed by the LazyFree
    thread: the shard counts what they will free, and the limit holds."""
    with ringkv.raw() as c:
        limit = set_limit(c, 3 * 1024 * 1024, "allkeys-random")
        before = evicted(c)
        members = [b"m%05d" % i for i in range(2000)]
        for i in range(60):
            assert c.call("SADD", f"set:{i}", *members)[0] == ":"
        assert settled_used(c, limit) <= limit + SLACK
        assert evicted(c) > before
        assert 0 < int(c.call("DBSIZE")[1]) < 60
