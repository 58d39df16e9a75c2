"""Lists against redis-server 7.0: every non-blocking LIST command, reply by
reply, on each matrix entry (including 4 shards, where LMOVE, RPOPLPUSH and
LMPOP over keys of different shards run with those shards held).
"""
from __future__ import annotations

import random

import pytest

import harness

def test_shard_port_matches_the_server_hash():
    # Values printed by the Swift hashBytes for these keys (4 shards).
    assert [harness.shard_of(k, 4) for k in ["a", "list:1", "list:2", "abcdefghijklmnop", "k17"]] == [1, 2, 0, 2, 3]


A, B, C = harness.keys_on_distinct_shards("lk", 3, 4)


def same(ringkv, redis_ref, steps):
    mine = harness.play(ringkv, steps)
    ref = harness.play(redis_ref, steps)
    for m, r in zip(mine, ref):
        assert m == r, f"{m[1]}: ringkv {m[2]!r} != redis {r[2]!r}"
    assert len(mine) == len(ref)


def c(*cmds):
    return [(0, cmd) for cmd in cmds]


SCENARIOS = {
    "push_pop_basics": c(
        ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "x", "y"), ("LRANGE", "l", "0", "-1"), ("LLEN", "l"),
        ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "2"), ("RPOP", "l", "5"), ("EXISTS", "l"), ("LLEN", "l"),
        ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "3"), ("RPOP", "l", "0"),
        ("RPUSH", "l", "1"), ("LPOP", "l", "0"), ("LLEN", "l"), ("RPOP", "l", "0"),
        ("LPOP", "l", "-1"), ("LPOP", "l", "abc"), ("LPOP", "l", "1", "2"), ("RPOP", "l", "1", "2"),
        ("LPOP", "nokey", "-1"), ("LPOP", "l", "9223372036854775807"), ("EXISTS", "l"),
    ),
    "pushx": c(
        ("LPUSHX", "l", "a"), ("RPUSHX", "l", "a", "b"), ("EXISTS", "l"), ("RPUSH", "l", "z"),
        ("LPUSHX", "l", "a", "b"), ("RPUSHX", "l", "c", "d"), ("LRANGE", "l", "0", "-1"),
    ),
    "lrange_ltrim_edges": c(
        ("RPUSH", "l", *[str(i) for i in range(10)]),
        *[("LRANGE", "l", s, e) for s, e in [("0", "0"), ("-1", "-1"), ("-100", "100"), ("5", "2"), ("10", "20"),
                                               ("-3", "-1"), ("0", "-11"), ("3", "-4"), ("-9223372036854775808", "9223372036854775807"),
                                               ("a", "1"), ("1", "1.5")]],
        ("LRANGE", "nokey", "0", "-1"), ("LRANGE", "nokey", "x", "1"),
        ("LTRIM", "l", "1", "-2"), ("LRANGE", "l", "0", "-1"), ("LTRIM", "l", "-3", "100"), ("LRANGE", "l", "0", "-1"),
        ("LTRIM", "l", "x", "1"), ("LTRIM", "nokey", "0", "1"), ("LTRIM", "l", "5", "1"), ("EXISTS", "l"),
        ("RPUSH", "m", "a", "b"), ("LTRIM", "m", "0", "-1"), ("LRANGE", "m", "0", "-1"), ("LTRIM", "m", "2", "-1"),
        ("EXISTS", "m"),
    ),
    "lindex_lset": c(
        ("RPUSH", "l", "a", "b", "c"), ("LINDEX", "l", "0"), ("LINDEX", "l", "-1"), ("LINDEX", "l", "3"),
        ("LINDEX", "l", "-4"), ("LINDEX", "l", "x"), ("LINDEX", "nokey", "x"), ("LINDEX", "nokey", "0"),
        ("LINDEX", "l", "-9223372036854775808"), ("LSET", "l", "1", "B"), ("LSET", "l", "-1", "C"),
        ("LSET", "l", "3", "x"), ("LSET", "l", "-4", "x"), ("LSET", "l", "x", "y"), ("LSET", "nokey", "0", "x"),
        ("LSET", "nokey", "x", "x"), ("LSET", "l", "0", "x" * 20000), ("LRANGE", "l", "0", "-1"),
        ("LSET", "l", "0", ""), ("LRANGE", "l", "0", "-1"),
    ),
    "linsert": c(
        ("RPUSH", "l", "a", "b", "c", "b"), ("LINSERT", "l", "BEFORE", "b", "x"), ("LINSERT", "l", "after", "b", "y"),
        ("LINSERT", "l", "AFTER", "c", "z"), ("LINSERT", "l", "before", "a", "first"),
        ("LINSERT", "l", "after", "b", "last"), ("LINSERT", "l", "before", "nope", "q"),
        ("LINSERT", "l", "middle", "a", "q"), ("LINSERT", "nokey", "before", "a", "q"),
        ("LINSERT", "nokey", "middle", "a", "q"), ("LRANGE", "l", "0", "-1"), ("EXISTS", "nokey"),
    ),
    "lrem": c(
        ("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"), ("LREM", "l", "2", "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "-1", "b"), ("LRANGE", "l", "0", "-1"), ("LREM", "l", "0", "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "zz"), ("LREM", "l", "x", "a"), ("LREM", "nokey", "0", "a"), ("LREM", "nokey", "x", "a"),
        ("LREM", "l", "-9223372036854775808", "b"), ("LREM", "l", "0", "c"), ("EXISTS", "l"),
    ),
    "lpos": c(
        ("RPUSH", "l", "a", "b", "c", "a", "b", "a", "c", "a"),
        *[("LPOS", "l", *args) for args in [
            ("a",), ("c",), ("z",), ("a", "RANK", "2"), ("a", "RANK", "-1"), ("a", "RANK", "-3"), ("a", "RANK", "9"),
            ("a", "COUNT", "0"), ("a", "COUNT", "2"), ("a", "RANK", "-2", "COUNT", "2"), ("z", "COUNT", "3"),
            ("a", "MAXLEN", "3"), ("a", "RANK", "2", "MAXLEN", "3"), ("a", "COUNT", "0", "MAXLEN", "4"),
            ("a", "RANK", "-1", "MAXLEN", "2"), ("a", "RANK", "0"), ("a", "RANK", "x"),
            ("a", "RANK", "-9223372036854775808"), ("a", "RANK", "-9223372036854775808", "COUNT", "2"),
            ("a", "RANK", "-9223372036854775807"), ("a", "RANK", "9223372036854775807", "COUNT", "0"),
            ("a", "COUNT", "-1"), ("a", "COUNT", "x"), ("a", "MAXLEN", "-1"), ("a", "MAXLEN", "x"),
            ("a", "RANK"), ("a", "FOO", "1"), ("a", "count", "1", "rank", "3", "maxlen", "0"),
        ]],
        ("LPOS", "nokey", "a"), ("LPOS", "nokey", "a", "COUNT", "1"), ("LPOS", "nokey", "a", "RANK", "0"),
        ("LPOS", "nokey", "a", "COUNT", "-1"),
    ),
    "lmove_rpoplpush": c(
        ("RPUSH", A, "1", "2", "3", "4"), ("LMOVE", A, B, "LEFT", "RIGHT"), ("LMOVE", A, B, "right", "left"),
        ("LMOVE", A, A, "LEFT", "RIGHT"), ("LMOVE", A, A, "RIGHT", "LEFT"), ("LMOVE", A, A, "LEFT", "LEFT"),
        ("LRANGE", A, "0", "-1"), ("LRANGE", B, "0", "-1"), ("RPOPLPUSH", A, C), ("RPOPLPUSH", A, C),
        ("EXISTS", A), ("RPOPLPUSH", A, C), ("LMOVE", A, B, "LEFT", "LEFT"), ("LMOVE", B, A, "UP", "LEFT"),
        ("LMOVE", B, A, "LEFT", "DOWN"), ("RPOPLPUSH", C, C), ("LRANGE", C, "0", "-1"), ("LRANGE", B, "0", "-1"),
        ("LMOVE", B, C, "RIGHT", "RIGHT"), ("LMOVE", B, C, "RIGHT", "RIGHT"), ("EXISTS", B),
        ("LRANGE", C, "0", "-1"),
    ),
    "lmpop": c(
        ("RPUSH", B, "a", "b", "c"), ("RPUSH", C, "x"),
        ("LMPOP", "3", A, B, C, "LEFT"), ("LMPOP", "3", A, B, C, "RIGHT", "COUNT", "10"),
        ("LMPOP", "2", A, B, "LEFT"), ("LMPOP", "1", C, "left", "count", "1"), ("EXISTS", B, C),
        ("LMPOP", "1", A, "LEFT"), ("LMPOP", "0", A, "LEFT"), ("LMPOP", "x", A, "LEFT"), ("LMPOP", "-1", A, "LEFT"),
        ("LMPOP", "2", A, "LEFT"), ("LMPOP", "1", A, "MIDDLE"), ("LMPOP", "1", A, "LEFT", "COUNT", "0"),
        ("LMPOP", "1", A, "LEFT", "COUNT", "x"), ("LMPOP", "1", A, "LEFT", "COUNT", "1", "COUNT", "2"),
        ("LMPOP", "1", A, "LEFT", "COUNT"), ("LMPOP", "1", A, "LEFT", "FOO"),
        ("LMPOP", "9223372036854775807", A, "LEFT"), ("LMPOP", "5", A, "LEFT"),
        ("RPUSH", C, "1", "2"), ("SET", A, "str"), ("LMPOP", "2", B, A, "LEFT"), ("LMPOP", "2", C, A, "LEFT"),
        ("LMPOP", "2", A, C, "LEFT"),
    ),
    "wrongtype_both_ways": c(
        ("SET", "s", "v"), ("RPUSH", "l", "a"),
        *[(cmd[0], "s", *cmd[1:]) for cmd in [
            ("LPUSH", "x"), ("RPUSH", "x"), ("LPUSHX", "x"), ("RPUSHX", "x"), ("LPOP",), ("RPOP",), ("LPOP", "0"),
            ("RPOP", "2"), ("LLEN",), ("LRANGE", "0", "1"), ("LINDEX", "0"), ("LINDEX", "x"), ("LSET", "0", "x"),
            ("LSET", "x", "x"), ("LINSERT", "before", "a", "b"), ("LREM", "0", "a"), ("LTRIM", "0", "1"),
            ("LPOS", "a"), ("LPOS", "a", "COUNT", "0"), ("RPOPLPUSH", "l"), ("LMOVE", "l", "left", "left"),
        ]],
        ("RPOPLPUSH", "l", "s"), ("LMOVE", "l", "s", "LEFT", "RIGHT"), ("LRANGE", "l", "0", "-1"),
        ("LMOVE", "nokey", "s", "LEFT", "RIGHT"), ("LMPOP", "2", "s", "l", "LEFT"),
        ("GET", "l"), ("INCR", "l"), ("APPEND", "l", "x"), ("STRLEN", "l"), ("SETRANGE", "l", "0", "x"),
        ("GETRANGE", "l", "0", "1"), ("TYPE", "l"), ("OBJECT", "ENCODING", "l"), ("SET", "l", "now a string"),
        ("GET", "l"),
    ),
    "binary_empty_huge": c(
        ("RPUSH", "l", "", "\x00\x01\xff", "x" * 70000, "\r\n", ""), ("LRANGE", "l", "0", "-1"), ("LLEN", "l"),
        ("LPOS", "l", ""), ("LPOS", "l", "", "RANK", "-1"), ("LREM", "l", "1", ""), ("LINDEX", "l", "1"),
        ("LINSERT", "l", "before", "x" * 70000, "y" * 10000), ("LRANGE", "l", "0", "-1"),
        ("LSET", "l", "0", "z" * 9000), ("RPOP", "l", "3"), ("LPOP", "l", "3"),
        ("RPUSH", "n", "1", "01", "-0", "+1", "1.0", "9223372036854775808", "-9223372036854775808"),
        ("LPOS", "n", "1", "COUNT", "0"), ("LREM", "n", "0", "1"), ("LRANGE", "n", "0", "-1"),
    ),
    "encoding_and_node_limits": c(
        ("CONFIG", "SET", "list-max-listpack-size", "4"),
        ("RPUSH", "l", *[f"e{i}" for i in range(50)]), ("OBJECT", "ENCODING", "l"),
        ("LINSERT", "l", "before", "e10", "ins"), ("LINSERT", "l", "after", "e3", "ins2"), ("LSET", "l", "25", "set"),
        ("LREM", "l", "3", "e20"), ("LRANGE", "l", "0", "-1"), ("LTRIM", "l", "3", "-3"), ("LRANGE", "l", "0", "-1"),
        ("CONFIG", "SET", "list-max-listpack-size", "-1"),
        ("RPUSH", "big", *[("%05d" % i) * 30 for i in range(300)]), ("LINDEX", "big", "150"),
        ("LINSERT", "big", "before", "00150" * 30, "mid"), ("LRANGE", "big", "148", "153"),
        ("LPOP", "big", "100"), ("RPOP", "big", "100"), ("LLEN", "big"), ("OBJECT", "ENCODING", "big"),
        ("CONFIG", "SET", "list-max-listpack-size", "-2"), ("LPUSH", "small", "x"), ("OBJECT", "ENCODING", "small"),
        ("COPY", "big", "big2"), ("RPOP", "big2", "2"), ("LLEN", "big"), ("LLEN", "big2"),
    ),
    "ttl_and_rename_keep_list": c(
        ("RPUSH", "l", "a", "b"), ("EXPIRE", "l", "100"), ("RPUSH", "l", "c"), ("TTL", "l"), ("LPOP", "l"),
        ("TTL", "l"), ("RENAME", "l", "m"), ("LRANGE", "m", "0", "-1"), ("TYPE", "m"),
    ),
    "arity": c(
        ("LPUSH", "l"), ("RPUSH", "l"), ("LPOP",), ("LLEN",), ("LLEN", "a", "b"), ("LRANGE", "l", "0"),
        ("LINDEX", "l"), ("LSET", "l", "0"), ("LINSERT", "l", "before", "a"), ("LREM", "l", "0"),
        ("LTRIM", "l", "0"), ("LPOS", "l"), ("LMOVE", "a", "b", "left"), ("RPOPLPUSH", "a"),
        ("LMPOP", "1", "a"),
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_lists_match_redis(ringkv, redis_ref, name):
    same(ringkv, redis_ref, SCENARIOS[name])


def test_resp3_reply_types(ringkv, redis_ref):
    steps = c(
        ("HELLO", "3"), ("RPUSH", "l", "a", "b", "c"), ("LPOP", "nokey"), ("LPOP", "nokey", "2"),
        ("LPOP", "l", "0"), ("LPOP", "nokey", "0"), ("LPOP", "l", "1"), ("RPOP", "l"), ("LINDEX", "l", "5"),
        ("LINDEX", "nokey", "0"), ("LPOS", "l", "zz"), ("LPOS", "l", "zz", "COUNT", "0"), ("LPOS", "nokey", "a"),
        ("LMPOP", "1", "nokey", "LEFT"), ("LMPOP", "1", "l", "LEFT"), ("LMOVE", "nokey", "x", "LEFT", "LEFT"),
        ("RPOPLPUSH", "nokey", "x"), ("LRANGE", "nokey", "0", "-1"), ("LLEN", "nokey"), ("HELLO", "2"),
    )
    same(ringkv, redis_ref, steps)


def test_commands_info_matches_redis(ringkv, redis_ref):
    names = ["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset", "linsert",
             "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop"]
    with ringkv.raw() as a, redis_ref.raw() as b:
        for n in names:
            mine, ref = a.call("COMMAND", "INFO", n), b.call("COMMAND", "INFO", n)
            # name, arity, flags, first, last, step, ACL categories
            assert mine[1][0][1][:7] == ref[1][0][1][:7], n
        # LMPOP's GETKEYS needs the Server's COMMAND GETKEYS to use keysOf (integrator).
        for args in [("LMOVE", "a", "b", "LEFT", "RIGHT"), ("RPOPLPUSH", "a", "b")]:
            assert a.call("COMMAND", "GETKEYS", *args) == b.call("COMMAND", "GETKEYS", *args), args


def _random_steps(seed: int, n: int) -> list:
    rnd = random.Random(seed)
    keys = [f"rk{i}" for i in range(18)] + [A, B]
    vals = ["a", "b", "c", "", "1", "-1", "x" * 50, "y" * 600]

    def k():
        return rnd.choice(keys)

    def v():
        return rnd.choice(vals)

    def idx():
        return str(rnd.choice([0, 1, 2, -1, -2, 5, -7, 30, rnd.randint(-40, 40)]))

    def side():
        return rnd.choice(["LEFT", "RIGHT", "left"])

    gens = [
        lambda: ("RPUSH", k(), *[v() for _ in range(rnd.randint(1, 6))]),
        lambda: ("LPUSH", k(), *[v() for _ in range(rnd.randint(1, 6))]),
        lambda: ("RPUSHX", k(), v()),
        lambda: ("LPUSHX", k(), v(), v()),
        lambda: ("LPOP", k()),
        lambda: ("RPOP", k()),
        lambda: ("LPOP", k(), str(rnd.randint(0, 5))),
        lambda: ("RPOP", k(), str(rnd.randint(0, 5))),
        lambda: ("LLEN", k()),
        lambda: ("LRANGE", k(), idx(), idx()),
        lambda: ("LINDEX", k(), idx()),
        lambda: ("LSET", k(), idx(), v()),
        lambda: ("LINSERT", k(), rnd.choice(["BEFORE", "AFTER"]), v(), v()),
        lambda: ("LREM", k(), str(rnd.randint(-3, 3)), v()),
        lambda: ("LTRIM", k(), idx(), idx()),
        lambda: ("LPOS", k(), v(), *rnd.choice([(), ("RANK", str(rnd.choice([1, 2, -1, -2]))), ("COUNT", "0"),
                                                 ("COUNT", "2", "MAXLEN", "5"), ("RANK", "-1", "COUNT", "0")])),
        lambda: ("LMOVE", k(), k(), side(), side()),
        lambda: ("RPOPLPUSH", k(), k()),
        lambda: ("LMPOP", "3", k(), k(), k(), side(), *rnd.choice([(), ("COUNT", str(rnd.randint(1, 4)))])),
        lambda: ("SET", k(), "str") if rnd.random() < 0.2 else ("DEL", k()),
        lambda: ("EXISTS", k(), k()),
    ]
    weights = [6, 6, 2, 2, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2, 1, 2, 3, 2, 2, 1, 1]
    return [(0, rnd.choices(gens, weights)[0]()) for _ in range(n)]


@pytest.mark.parametrize("seed,node_limit", [(1, "-2"), (2, "2"), (3, "-1")])
def test_random_mix_matches_redis(ringkv, redis_ref, seed, node_limit):
    # Small nodes put most lists over several nodes: splits, merges, walks.
    steps = [(0, ("CONFIG", "SET", "list-max-listpack-size", node_limit))] + _random_steps(seed, 1500)
    steps += [(0, ("LRANGE", key, "0", "-1")) for key in [f"rk{i}" for i in range(18)] + [A, B]]
    steps += [(0, ("CONFIG", "SET", "list-max-listpack-size", "-2"))]
    same(ringkv, redis_ref, steps)


def test_lmove_across_shards_on_four_shards(server_factory, redis_ref):
    """LMOVE/RPOPLPUSH/LMPOP with keys on different shards of a 4-shard
    server, whatever the matrix: the .colocated route's held-shards path."""
    s = server_factory(shards=4)
    assert len({harness.shard_of(A, 4), harness.shard_of(B, 4), harness.shard_of(C, 4)}) == 3
    steps = c(
        ("RPUSH", A, *[str(i) for i in range(20)]),
        *[("LMOVE", A, B, "LEFT", "RIGHT") for _ in range(5)], ("RPOPLPUSH", B, C), ("RPOPLPUSH", A, C),
        ("LMPOP", "3", "nokey", C, A, "RIGHT", "COUNT", "2"), ("LRANGE", A, "0", "-1"), ("LRANGE", B, "0", "-1"),
        ("LRANGE", C, "0", "-1"), ("LMOVE", C, B, "RIGHT", "LEFT"), ("EXISTS", C), ("SET", C, "s"),
        ("LMOVE", B, C, "LEFT", "LEFT"), ("LMPOP", "2", C, B, "LEFT"), ("LRANGE", B, "0", "-1"),
        ("MULTI",), ("LMOVE", A, B, "LEFT", "LEFT"), ("RPOPLPUSH", B, A), ("EXEC",),
        ("LRANGE", A, "0", "-1"), ("LRANGE", B, "0", "-1"),
    )
    same(s, redis_ref, steps)


def test_watch_sees_list_changes(ringkv, redis_ref):
    steps = [
        (0, ("RPUSH", "w", "a", "b")), (0, ("WATCH", "w")), (1, ("LTRIM", "w", "0", "-1")), (0, ("MULTI",)),
        (0, ("LLEN", "w")), (0, ("EXEC",)),
        (0, ("WATCH", "w")), (1, ("LREM", "w", "0", "zz")), (1, ("LINSERT", "w", "before", "zz", "q")),
        (1, ("LPOS", "w", "a")), (0, ("MULTI",)), (0, ("LLEN", "w")), (0, ("EXEC",)),
        (0, ("WATCH", "w")), (1, ("RPOPLPUSH", "w", "w")), (0, ("MULTI",)), (0, ("LLEN", "w")), (0, ("EXEC",)),
    ]
    same(ringkv, redis_ref, steps)


def test_redis_py_lists(r, rref):
    for cl in (r, rref):
        cl.rpush("q", *range(10))
    for op in [
        lambda cl: cl.lrange("q", 0, -1), lambda cl: cl.lpop("q", 3), lambda cl: cl.rpop("q"),
        lambda cl: cl.lpos("q", "5"), lambda cl: cl.linsert("q", "AFTER", "5", "x"),
        lambda cl: cl.lmove("q", "r", "LEFT", "RIGHT"), lambda cl: cl.lmpop(2, "none", "q", direction="RIGHT", count=2),
        lambda cl: cl.lrem("q", 0, "x"), lambda cl: cl.ltrim("q", 1, -1), lambda cl: cl.lrange("q", 0, -1),
        lambda cl: cl.lrange("r", 0, -1), lambda cl: cl.type("q"),
    ]:
        assert op(r) == op(rref)


def test_big_list_memory_is_not_above_redis(server_factory):
    """A 1M-element list costs no more RSS than in redis-server. On epoll:
    io_uring's receive buffers grow RSS under big pipelines by themselves."""
    mine = server_factory(backend="epoll", shards=1)
    ref = server_factory("redis")
    grown = []
    for s in (mine, ref):
        with s.raw(timeout=60) as conn:
            before = s.rss_kb()
            for base in range(0, 1_000_000, 10_000):
                conn.send(b"".join(harness.encode("RPUSH", "big", *[f"element:{i}" for i in range(base, base + 1000)])
                                   for _ in range(10)))
                for _ in range(10):
                    conn.read()
            assert harness.plain(conn.call("LLEN", "big")) == 1_000_000
            grown.append(s.rss_kb() - before)
    assert grown[0] <= grown[1], f"ringkv +{grown[0]} KiB, redis +{grown[1]} KiB"
