"""Streams and consumer groups against redis-server 7.0.

Each scenario sends the same commands to ringkv (every matrix entry; with
4 shards XREAD's keys live on different shards) and to a real
redis-server, and compares the replies with their RESP types. IDs are
explicit wherever the reply shows them (`*` takes the clock). Times and
idle figures differ by construction: steps marked TIMES have every integer
that is a time masked (see `mask_times`); radix-tree-nodes depends on
Redis's rax layout and is masked too.
"""
from __future__ import annotations

import time

import pytest

import harness

TIMES = "times"
IGNORE = "ignore"
# XINFO keys whose values are times or rax internals.
TIME_KEYS = {b"idle", b"seen-time", b"radix-tree-nodes"}


def mask_times(reply, in_pending=False):
    """Masks time-valued integers: XINFO's idle/seen-time/radix-tree-nodes
    values, XPENDING's idle column and XINFO FULL's delivery times."""
    t, v = reply
    if t in "%" and isinstance(v, list):
        return (t, [(k, ("x", None) if k[1] in TIME_KEYS else mask_times(val, k[1] == b"pending"))
                    for k, val in v])
    if t == "*" and isinstance(v, list):
        # RESP2 maps are flat arrays of key, value.
        if len(v) % 2 == 0 and v and all(isinstance(k, tuple) and k[0] == "$" for k in v[0::2]) and \
                any(k[1] in TIME_KEYS or k[1] in (b"pending", b"length", b"name") for k in v[0::2]):
            out = []
            for k, val in zip(v[0::2], v[1::2]):
                out.append(k)
                out.append(("x", None) if k[1] in TIME_KEYS else mask_times(val, k[1] == b"pending"))
            return (t, out)
        if in_pending:
            # [id, consumer, idle-or-time, count] / [id, time, count] rows.
            rows = []
            for row in v:
                if row[0] == "*" and len(row[1]) in (3, 4):
                    r = list(row[1])
                    r[-2] = ("x", None)
                    rows.append(("*", r))
                else:
                    rows.append(mask_times(row))
            return (t, rows)
        return (t, [mask_times(x) for x in v])
    return reply


def run(server, steps, proto=2):
    out = []
    with server.raw() as c:
        c.call("FLUSHALL")
        if proto == 3:
            c.call("HELLO", "3")
        for s in steps:
            mark = s[0] if s and s[0] in (TIMES, IGNORE) else None
            cmd = s[1] if mark else s
            if cmd[0] == "SLEEP":
                time.sleep(cmd[1])
                continue
            reply = c.call(*cmd)
            if mark == IGNORE:
                reply = (reply[0],)
            elif mark == TIMES or (cmd[0] == "XPENDING" and len(cmd) > 3):
                # XPENDING's extended form shows idle times.
                reply = mask_times(reply, in_pending=cmd[0] == "XPENDING")
            out.append((cmd, reply))
        c.call("CONFIG", "SET", "stream-node-max-entries", "100")
        c.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
    return out


def compare(ringkv, redis_ref, steps, proto=2):
    got = run(ringkv, steps, proto)
    want = run(redis_ref, steps, proto)
    for (cmd, g), (_, w) in zip(got, want):
        assert g == w, f"{cmd}: ringkv {g!r} != redis {w!r}"


def fill(key, n, start=1, fields=("f", "v")):
    return [("XADD", key, f"{start + i}-{i % 3}", fields[0], f"{fields[1]}{i}") for i in range(n)]


SCENARIOS = {
    "xadd_ids_and_errors": [
        ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "1-0", "a", "1"),
        ("XADD", "s", "1-*", "b", "2"), ("XADD", "s", "1", "c", "3"), ("XADD", "s", "2-*", "d", "4"),
        ("XADD", "s", "5", "e", "5", "f", "6"), ("XADD", "s", "0-0", "x", "y"), ("XADD", "n", "0-*", "x", "y"),
        ("XADD", "s", "bad", "x", "y"), ("XADD", "s", "-", "x", "y"), ("XADD", "s", "+", "x", "y"),
        ("XADD", "s", "1-2-3", "x", "y"), ("XADD", "s", "9", "x"), ("XADD", "s", "9", "x", "y", "z"),
        ("XADD", "s", "18446744073709551615-18446744073709551615", "x", "y"),
        ("XADD", "s", "18446744073709551615-*", "x", "y"),
        ("XADD", "s", "18446744073709551616", "x", "y"), ("XADD", "s", " 7", "x", "y"),
        ("XADD", "s2", "007-08", "x", "y"), ("XADD", "s2", "+8", "x", "y"),
        ("XADD", "nomk", "NOMKSTREAM", "1-1", "a", "b"), ("EXISTS", "nomk"),
        ("XADD", "s", "NOMKSTREAM", "*", "a", "b"),
        ("XLEN", "s"), ("XLEN", "nokey"), ("TYPE", "s"), ("OBJECT", "ENCODING", "s"),
        ("XRANGE", "s", "-", "+"), ("XRANGE", "s2", "-", "+"),
        ("SET", "str", "x"), ("XADD", "str", "1-1", "a", "b"), ("XLEN", "str"), ("XRANGE", "str", "-", "+"),
        ("XADD", "s", "MAXLEN", "x", "1", "a", "b"), ("XADD", "s", "MAXLEN", "-1", "1", "a", "b"),
        ("XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "b"),
        ("XADD", "s", "LIMIT", "10", "*", "a", "b"), ("XADD", "s", "MAXLEN", "5", "LIMIT", "10", "*", "a", "b"),
        ("XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "b"),
        ("XADD", "s", "MINID", "bad", "*", "a", "b"),
    ],
    "xrange_bounds_and_count": fill("s", 30) + [
        ("XRANGE", "s", "-", "+", "COUNT", "5"), ("XRANGE", "s", "5", "9"), ("XRANGE", "s", "(5-2", "(9-2"),
        ("XRANGE", "s", "5-2", "9-2"), ("XREVRANGE", "s", "+", "-", "COUNT", "4"), ("XREVRANGE", "s", "(9", "(5"),
        ("XREVRANGE", "s", "9", "5"), ("XRANGE", "s", "-", "+", "COUNT", "0"), ("XRANGE", "s", "-", "+", "COUNT", "-3"),
        ("XRANGE", "s", "(-", "+"), ("XRANGE", "s", "-", "(+"), ("XRANGE", "s", "(0-0", "+", "COUNT", "1"),
        ("XRANGE", "s", "-", "(0-0"), ("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
        ("XRANGE", "s", "x", "+"), ("XRANGE", "s", "-", "+", "COUNT"), ("XRANGE", "s", "-", "+", "LIMIT", "1"),
        ("XRANGE", "s", "-", "+", "COUNT", "x"), ("XRANGE", "s", "20", "10"), ("XREVRANGE", "s", "10", "20"),
        ("XRANGE", "nokey", "-", "+"), ("XREVRANGE", "nokey", "+", "-"), ("XRANGE", "s", "(", "+"),
    ],
    "xdel_xtrim_xsetid": fill("s", 250) + [
        ("XDEL", "s", "1-0", "2-1", "2-1", "999-0"), ("XDEL", "s", "3-2", "bad"), ("XLEN", "s"),
        ("XRANGE", "s", "-", "+", "COUNT", "2"), ("XDEL", "nokey", "1-1"),
        (TIMES, ("XINFO", "STREAM", "s")),
        ("XTRIM", "s", "MAXLEN", "~", "200"), ("XLEN", "s"), ("XTRIM", "s", "MAXLEN", "=", "190"), ("XLEN", "s"),
        ("XTRIM", "s", "MINID", "~", "150"), ("XTRIM", "s", "MINID", "120"), ("XRANGE", "s", "-", "+", "COUNT", "1"),
        ("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "50"), ("XLEN", "s"),
        ("XTRIM", "s", "MAXLEN", "10", "LIMIT", "5"), ("XTRIM", "s"), ("XTRIM", "s", "FOO", "1"),
        ("XTRIM", "s", "MAXLEN", "1", "MINID", "1"), ("XTRIM", "nokey", "MAXLEN", "1"),
        ("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0"), ("XLEN", "s"),
        (TIMES, ("XINFO", "STREAM", "s")),
        ("XSETID", "s", "1-0"), ("XSETID", "s", "999999-0", "ENTRIESADDED", "1"),
        ("XSETID", "s", "999999-0", "ENTRIESADDED", "-1"), ("XSETID", "s", "5-0", "MAXDELETEDID", "6-0"),
        ("XSETID", "s", "999999-0", "ENTRIESADDED", "1000", "MAXDELETEDID", "5-0"),
        ("XSETID", "nokey", "1-1"), ("XSETID", "s", "bad"), ("XSETID", "s", "999999-0", "FOO", "1"),
        (TIMES, ("XINFO", "STREAM", "s")), ("XADD", "s", "999999-0", "a", "b"),
        ("XADD", "s", "MAXLEN", "0", "1000000-0", "a", "b"), ("XLEN", "s"), ("EXISTS", "s"),
        (TIMES, ("XINFO", "STREAM", "s")),
    ],
    "node_limits": [
        ("CONFIG", "SET", "stream-node-max-entries", "7"),
    ] + fill("s", 40) + [
        (TIMES, ("XINFO", "STREAM", "s")), ("XTRIM", "s", "MAXLEN", "~", "20"), ("XLEN", "s"),
        ("CONFIG", "SET", "stream-node-max-entries", "0"), ("CONFIG", "SET", "stream-node-max-bytes", "300"),
    ] + [("XADD", "b", f"{i}-1", "field", "v" * (i * 7 % 90), "n", str(i * 1000)) for i in range(1, 60)] + [
        (TIMES, ("XINFO", "STREAM", "b")), ("XTRIM", "b", "MAXLEN", "~", "30"), ("XLEN", "b"),
        ("XTRIM", "b", "MINID", "~", "50"), ("XLEN", "b"), ("XRANGE", "b", "-", "+", "COUNT", "2"),
    ],
    "groups_basic": fill("s", 10) + [
        ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g", "0"),
        ("XGROUP", "CREATE", "nokey", "g", "0"), ("XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"),
        ("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3"), ("XGROUP", "CREATE", "s", "g3", "bad"),
        ("XGROUP", "CREATE", "s", "g4", "5", "ENTRIESREAD", "-2"), ("XGROUP", "CREATE", "s", "g5", "0", "FOO"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "2"),
        ("XREADGROUP", "GROUP", "g", "carol", "NOACK", "COUNT", "2", "STREAMS", "s", ">"),
        ("XPENDING", "s", "g"), ("XPENDING", "s", "g", "-", "+", "10"),
        (TIMES, ("XPENDING", "s", "g", "-", "+", "10", "alice")), ("XPENDING", "s", "g", "-", "+", "10", "nobody"),
        (TIMES, ("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10")),
        ("XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"), ("XPENDING", "s", "g", "(1", "+", "2"),
        ("XPENDING", "s", "nog"), ("XPENDING", "nokey", "g"), ("XPENDING", "s", "g", "-", "+"),
        ("XPENDING", "s", "g", "-", "+", "x"), ("XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"),
        ("XACK", "s", "g", "1-0", "2-1", "99-0"), ("XACK", "s", "g", "bad"), ("XACK", "s", "nog", "1-0"),
        ("XACK", "nokey", "g", "1-0"), ("XPENDING", "s", "g"),
        (TIMES, ("XINFO", "GROUPS", "s")), (TIMES, ("XINFO", "CONSUMERS", "s", "g")),
        ("XINFO", "CONSUMERS", "s", "nog"), ("XINFO", "GROUPS", "nokey"),
        (TIMES, ("XINFO", "STREAM", "s", "FULL")), (TIMES, ("XINFO", "STREAM", "s", "FULL", "COUNT", "1")),
        ("XGROUP", "CREATECONSUMER", "s", "g", "dave"), ("XGROUP", "CREATECONSUMER", "s", "g", "dave"),
        ("XGROUP", "CREATECONSUMER", "s", "nog", "x"), ("XGROUP", "DELCONSUMER", "s", "g", "alice"),
        ("XGROUP", "DELCONSUMER", "s", "g", "nobody"), ("XPENDING", "s", "g"),
        ("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XGROUP", "SETID", "s", "g", "$"), ("XGROUP", "SETID", "s", "nog", "$"), ("XGROUP", "SETID", "s", "g", "x"),
        ("XGROUP", "DESTROY", "s", "g2"), ("XGROUP", "DESTROY", "s", "g2"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XGROUP", "HELP"), ("XINFO", "HELP"), ("XGROUP", "FOO", "s", "g"), ("XINFO", "FOO", "s"),
        ("XGROUP", "DESTROY", "nokey", "g"), ("XINFO", "STREAM", "s", "FULL", "COUNT"),
        ("XINFO", "STREAM", "s", "BAR"), ("XGROUP", "CREATE", "s"), ("XGROUP", "DESTROY", "s", "g", "x"),
        ("XGROUP", "HELP", "x"), ("XINFO", "GROUPS"), ("XINFO", "CONSUMERS", "s"), ("XINFO", "HELP", "x"),
        ("XGROUP", "CREATE", "s", "g9", "0", "MKSTREAM", "ENTRIESREAD", "1", "X"), ("XGROUP",), ("XINFO",),
    ],
    "readgroup_errors_and_lag": fill("s", 6) + [
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"), ("XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"),
        ("XREAD", "GROUP", "g", "c", "STREAMS", "s", ">"), ("XREAD", "NOACK", "STREAMS", "s", "0"),
        ("XREAD", "STREAMS", "s", ">"), ("XREAD", "STREAMS", "s"), ("XREAD", "COUNT", "1", "s", "0"),
        ("XREAD", "STREAMS", "s", "bad"), ("XREAD", "COUNT", "x", "STREAMS", "s", "0"),
        ("XREAD", "BLOCK", "x", "STREAMS", "s", "0"), ("XREAD", "BLOCK", "-1", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XDEL", "s", "5-1"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("XADD", "s", "100-0", "x", "y"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XGROUP", "CREATE", "s", "late", "3-2"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"), (TIMES, ("XINFO", "GROUPS", "e")),
        ("SET", "str", "v"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
        ("XREAD", "STREAMS", "str", "0"), ("XGROUP", "CREATE", "str", "g", "0"),
    ],
    "claim_and_autoclaim": fill("s", 12) + [
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "8", "STREAMS", "s", ">"),
        ("XCLAIM", "s", "g", "bob", "0", "1-0", "2-1", "50-0"), (TIMES, ("XPENDING", "s", "g", "-", "+", "20")),
        ("XCLAIM", "s", "g", "bob", "3600000", "3-2"), ("XCLAIM", "s", "g", "bob", "0", "3-2", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "0", "4-0", "RETRYCOUNT", "7", "IDLE", "5000", "JUSTID"),
        (TIMES, ("XPENDING", "s", "g", "-", "+", "20")), ("XPENDING", "s", "g", "IDLE", "4000", "-", "+", "20", "carol"),
        ("XCLAIM", "s", "g", "carol", "0", "10-0", "FORCE"), ("XCLAIM", "s", "g", "carol", "0", "99-0", "FORCE"),
        ("XCLAIM", "s", "g", "carol", "0", "11-1", "JUSTID"), ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "carol", "0", "5-1", "LASTID", "50-0"), (TIMES, ("XINFO", "GROUPS", "s")),
        ("XCLAIM", "s", "g", "carol", "x", "5-1"), ("XCLAIM", "s", "g", "carol", "0", "5-1", "IDLE", "x"),
        ("XCLAIM", "s", "g", "carol", "0", "5-1", "TIME", "x"), ("XCLAIM", "s", "g", "carol", "0", "5-1", "RETRYCOUNT", "x"),
        ("XCLAIM", "s", "g", "carol", "0", "5-1", "LASTID", "x"), ("XCLAIM", "s", "g", "carol", "0", "5-1", "BOGUS"),
        ("XCLAIM", "s", "nog", "carol", "0", "5-1"), ("XCLAIM", "nokey", "g", "carol", "0", "5-1"),
        ("XDEL", "s", "6-2", "7-0"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "3"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "(5-1", "COUNT", "2", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0"), ("XAUTOCLAIM", "s", "g", "dave", "3600000", "0"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "0"), ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "x"),
        ("XAUTOCLAIM", "s", "g", "dave", "x", "0"), ("XAUTOCLAIM", "s", "g", "dave", "0", "bad"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "FOO"), ("XAUTOCLAIM", "s", "nog", "dave", "0", "0"),
        (TIMES, ("XINFO", "CONSUMERS", "s", "g")), ("XPENDING", "s", "g"),
        (TIMES, ("XINFO", "STREAM", "s", "FULL")),
    ],
    "xread_single": fill("s", 5) + [
        ("XREAD", "STREAMS", "s", "0"), ("XREAD", "COUNT", "2", "STREAMS", "s", "2-1"),
        ("XREAD", "STREAMS", "s", "$"), ("XREAD", "STREAMS", "s", "nokey", "0", "0"),
        ("XREAD", "STREAMS", "nokey", "0"), ("XREAD", "COUNT", "0", "STREAMS", "s", "4"),
        # A repeated key: the second read sees what the first one left.
        ("XREAD", "COUNT", "1", "STREAMS", "s", "s", "0", "$"), ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", "s", ">", ">"),
        ("XADD", "s", "100-1", "f", "v"), ("XADD", "s", "100-2", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", "s", ">", ">"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", "s", "0", ">"),
    ],
    "copy_rename_type": fill("s", 8) + [
        ("XGROUP", "CREATE", "s", "g", "0"), ("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">"),
        ("COPY", "s", "{s}c"), ("XRANGE", "{s}c", "-", "+"), (TIMES, ("XINFO", "STREAM", "{s}c", "FULL")),
        ("RENAME", "{s}c", "{s}d"), ("TYPE", "{s}d"), ("XLEN", "{s}d"), ("OBJECT", "ENCODING", "{s}d"),
        ("DEL", "s"), ("EXISTS", "s"), (IGNORE, ("MEMORY", "USAGE", "{s}d")),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_stream_scenarios(ringkv, redis_ref, name):
    compare(ringkv, redis_ref, SCENARIOS[name])


@pytest.mark.parametrize("name", ["groups_basic", "claim_and_autoclaim", "xread_single", "xrange_bounds_and_count"])
def test_stream_scenarios_resp3(ringkv, redis_ref, name):
    compare(ringkv, redis_ref, SCENARIOS[name], proto=3)


def test_xread_across_shards(ringkv, redis_ref, matrix_entry):
    a, b, c = harness.keys_on_distinct_shards("xs", 3, matrix_entry[1])
    steps = [
        ("XADD", a, "1-1", "k", "a1"), ("XADD", a, "2-1", "k", "a2"), ("XADD", c, "5-0", "k", "c1"),
        ("XREAD", "STREAMS", a, b, c, "0", "0", "0"), ("XREAD", "COUNT", "1", "STREAMS", a, b, c, "1-1", "0", "0"),
        ("XREAD", "STREAMS", a, b, c, "$", "$", "$"), ("XREAD", "STREAMS", b, c, "0", "5-0"),
        ("XGROUP", "CREATE", a, "g", "0"), ("XGROUP", "CREATE", c, "g", "0"),
        ("XREADGROUP", "GROUP", "g", "x", "STREAMS", a, c, ">", ">"),
        ("XREADGROUP", "GROUP", "g", "x", "STREAMS", a, b, ">", ">"),
        ("XREADGROUP", "GROUP", "g", "x", "STREAMS", a, c, "0", "0"),
        # Pair commands and EXEC across shards carry the stream and its groups.
        ("COPY", a, b), ("XRANGE", b, "-", "+"), ("XPENDING", b, "g"), ("DEL", c), ("RENAME", a, c),
        ("XPENDING", c, "g"), ("EXISTS", a), ("MULTI",), ("XADD", b, "9-1", "k", "v"), ("XADD", c, "9-1", "k", "v"),
        ("XREAD", "STREAMS", b, c, "8", "8"), ("EXEC",),
    ]
    compare(ringkv, redis_ref, steps)
    compare(ringkv, redis_ref, steps, proto=3)


def play_blocking(server, steps):
    """Like harness.play_blocking, but a step marked ("B", conn, cmd) is the
    blocking one (XREAD BLOCK does not start with B)."""
    conns = [server.raw(), server.raw()]
    try:
        conns[0].call("FLUSHALL")
        owed = [[], []]
        out = []

        def drain(i):
            while owed[i]:
                owed[i].pop()
                out.append((i, conns[i].read()))

        for step in steps:
            if step[0] == "SLEEP":
                time.sleep(step[1])
                continue
            blocking = step[0] == "B"
            who, cmd = step[1:] if blocking else step
            drain(who)
            conns[who].send(harness.encode(*cmd))
            owed[who].append(True)
            if not blocking:
                drain(who)
        drain(0)
        drain(1)
        return out
    finally:
        for c in conns:
            c.close()


def blocking_scenarios(keys):
    a, b = keys
    return {
        "xread_dollar_woken_by_xadd": [
            (0, ("XADD", a, "1-1", "k", "old")), ("B", 1, ("XREAD", "BLOCK", "0", "STREAMS", b, a, "$", "$")),
            ("SLEEP", 0.1), (0, ("XADD", a, "2-1", "k", "new")), (0, ("XADD", b, "3-1", "k", "later")),
        ],
        "xread_second_key_served": [
            ("B", 1, ("XREAD", "BLOCK", "5000", "COUNT", "1", "STREAMS", a, b, "0", "0")), ("SLEEP", 0.1),
            (0, ("XADD", b, "1-1", "k", "v")), (0, ("XADD", b, "1-2", "k", "v")),
        ],
        "xread_timeout": [
            ("B", 1, ("XREAD", "BLOCK", "50", "STREAMS", a, b, "$", "$")), ("SLEEP", 0.2),
            (0, ("XADD", a, "1-1", "k", "v")),
        ],
        "xread_not_woken_by_old_id": [
            (0, ("XADD", a, "5-1", "k", "v")),
            ("B", 1, ("XREAD", "BLOCK", "300", "STREAMS", a, "9-0")), ("SLEEP", 0.05),
            (0, ("XDEL", a, "5-1")), (0, ("XADD", a, "9-0", "k", "eq")), ("SLEEP", 0.05),
            (0, ("XADD", a, "9-1", "k", "gt")),
        ],
        "xreadgroup_woken": [
            (0, ("XGROUP", "CREATE", a, "g", "$", "MKSTREAM")),
            ("B", 1, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", a, ">")), ("SLEEP", 0.1),
            (0, ("XADD", a, "1-1", "k", "v")), (0, ("XPENDING", a, "g")),
        ],
        "xreadgroup_group_destroyed": [
            (0, ("XGROUP", "CREATE", a, "g", "$", "MKSTREAM")),
            ("B", 1, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", a, ">")), ("SLEEP", 0.1),
            (0, ("XGROUP", "DESTROY", a, "g")),
        ],
        "xreadgroup_key_deleted": [
            (0, ("XGROUP", "CREATE", a, "g", "$", "MKSTREAM")),
            ("B", 1, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", a, ">")), ("SLEEP", 0.1),
            (0, ("DEL", a)), (0, ("XADD", a, "1-1", "k", "v")),
        ],
        "xread_resp3_woken": [
            (1, ("HELLO", "3")), ("B", 1, ("XREAD", "BLOCK", "0", "STREAMS", a, "$")), ("SLEEP", 0.1),
            (0, ("XADD", a, "1-1", "k", "v")), ("B", 1, ("XREAD", "BLOCK", "30", "STREAMS", a, "$")),
        ],
    }


def _hello_free(reply):
    return reply[0] if reply[0] == "%" else reply


@pytest.mark.parametrize("name", sorted(blocking_scenarios(("a", "b"))))
def test_blocking_xread(ringkv, redis_ref, matrix_entry, name):
    keys = harness.keys_on_distinct_shards("bx", 2, matrix_entry[1])
    steps = blocking_scenarios(keys)[name]
    got = [(i, _hello_free(r)) for i, r in play_blocking(ringkv, steps)]
    want = [(i, _hello_free(r)) for i, r in play_blocking(redis_ref, steps)]
    assert got == want, f"{name}:\n ringkv {got}\n redis  {want}"


def test_large_stream_range_and_trim(ringkv, redis_ref):
    """Many nodes: ranges that cross node boundaries, both ways, and trims."""
    steps = []
    for i in range(0, 3000, 500):
        steps.append(("XADD", "big", f"{i + 1}-0", "f", str(i)))
    big = []
    for i in range(1, 3001):
        big += ["XADD", "s", f"{i}-{i % 4}", "f", f"v{i}", "g", str(i * 31)]
    with ringkv.raw() as c, redis_ref.raw() as r:
        for conn in (c, r):
            conn.call("FLUSHALL")
            for i in range(0, len(big), 7 * 200):
                chunk = big[i:i + 7 * 200]
                conn.send(b"".join(harness.encode(*chunk[j:j + 7]) for j in range(0, len(chunk), 7)))
                for _ in range(len(chunk) // 7):
                    conn.read()
        for cmd in [("XRANGE", "s", "950", "1210"), ("XREVRANGE", "s", "2222", "1999", "COUNT", "77"),
                    ("XRANGE", "s", "(1500-0", "+", "COUNT", "3"), ("XLEN", "s"),
                    ("XDEL", "s", *[f"{i}-{i % 4}" for i in range(1100, 1301)]),
                    ("XRANGE", "s", "1090", "1310"), ("XREVRANGE", "s", "1310", "1090"),
                    ("XTRIM", "s", "MAXLEN", "~", "1500"), ("XLEN", "s"), ("XTRIM", "s", "MINID", "2000"),
                    ("XRANGE", "s", "-", "+", "COUNT", "2")]:
            assert c.call(*cmd) == r.call(*cmd), cmd
        gi, ri = c.call("XINFO", "STREAM", "s"), r.call("XINFO", "STREAM", "s")
        assert mask_times(gi) == mask_times(ri)


STREAM_COMMANDS = """xadd xlen xrange xrevrange xdel xtrim xsetid xread xreadgroup xgroup xack xpending
    xclaim xautoclaim xinfo""".split()


def sort_subcommands(reply):
    """Redis lists a container's subcommands in its dict's order, which a
    random hash seed decides per process: sort them by name."""
    t, v = reply
    if not isinstance(v, list):
        return reply
    if t == "%":
        items = [(k, sort_subcommands(val)) for k, val in v]
        return (t, [(k, _sorted_pairs(val) if k[1] == b"subcommands" else val) for k, val in items])
    items = [sort_subcommands(x) if isinstance(x, tuple) else x for x in v]
    # RESP2 docs: flat key, value lists.
    for i in range(0, len(items) - 1):
        if items[i] == ("$", b"subcommands") or items[i] == ("+", b"subcommands"):
            items[i + 1] = _sorted_pairs(items[i + 1])
    return (t, items)


def sort_info_subcommands(reply):
    """COMMAND INFO's entry: its 10th field lists the subcommands."""
    t, rows = reply
    out = []
    for row in rows:
        if row[1] is not None and len(row[1]) == 10:
            f = list(row[1])
            f[9] = ("*", sorted(f[9][1], key=lambda e: e[1][0][1]))
            row = (row[0], f)
        out.append(row)
    return (t, out)


def _sorted_pairs(reply):
    t, v = reply
    if t == "%":
        return (t, sorted(v, key=lambda kv: kv[0][1]))
    pairs = sorted(zip(v[0::2], v[1::2]), key=lambda kv: kv[0][1])
    return (t, [x for kv in pairs for x in kv])


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs_match_redis(ringkv, redis_ref, proto):
    with ringkv.raw() as ours, redis_ref.raw() as ref:
        if proto == 3:
            ours.call("HELLO", "3")
            ref.call("HELLO", "3")
        for name in STREAM_COMMANDS:
            for sub in ("INFO", "DOCS"):
                norm = sort_info_subcommands if sub == "INFO" else sort_subcommands
                got = norm(ours.call("COMMAND", sub, name))
                want = norm(ref.call("COMMAND", sub, name))
                assert got == want, f"COMMAND {sub} {name} (RESP{proto}) differs:\n ringkv {got}\n redis  {want}"
        for cmd in [("COMMAND", "GETKEYS", "XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"),
                    ("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">"),
                    ("COMMAND", "GETKEYS", "XGROUP", "CREATE", "k", "g", "$"),
                    ("COMMAND", "GETKEYS", "XINFO", "STREAM", "k"),
                    ("COMMAND", "GETKEYS", "XADD", "k", "*", "a", "b")]:
            assert ours.call(*cmd) == ref.call(*cmd), cmd


def random_ops(seed, n):
    """A seeded mix of stream commands with explicit IDs over two keys, with
    small nodes so ranges, deletes and trims cross node boundaries."""
    import random
    rnd = random.Random(seed)
    ops = [("CONFIG", "SET", "stream-node-max-entries", str(rnd.choice([3, 5, 8]))),
           ("XGROUP", "CREATE", "a", "g", "0", "MKSTREAM"), ("XGROUP", "CREATE", "b", "g", "0", "MKSTREAM")]
    ms = {"a": 1, "b": 1}

    def rid():
        return f"{rnd.randint(0, 200)}-{rnd.randint(0, 3)}"

    for _ in range(n):
        k = rnd.choice("ab")
        r = rnd.random()
        if r < 0.35:
            ms[k] += rnd.randint(0, 3)
            fields = rnd.choice([("f", "v"), ("f", "v", "g", "w"), ("x", str(rnd.randint(0, 99999)))])
            ops.append(("XADD", k, f"{ms[k]}-*", *fields))
        elif r < 0.45:
            ops.append(("XDEL", k, *[rid() for _ in range(rnd.randint(1, 4))]))
        elif r < 0.5:
            if rnd.random() < 0.5:
                ops.append(("XTRIM", k, "MAXLEN", rnd.choice(["~", "="]), str(rnd.randint(0, 60))))
            else:
                ops.append(("XTRIM", k, "MINID", rnd.choice(["~", "="]), rid()))
        elif r < 0.6:
            ops.append(("XRANGE", k, rnd.choice(["-", rid(), "(" + rid()]), rnd.choice(["+", rid()]),
                        "COUNT", str(rnd.randint(1, 30))))
        elif r < 0.7:
            ops.append(("XREVRANGE", k, rnd.choice(["+", rid()]), rnd.choice(["-", rid(), "(" + rid()]),
                        "COUNT", str(rnd.randint(1, 30))))
        elif r < 0.8:
            ops.append(("XREADGROUP", "GROUP", "g", rnd.choice(["c1", "c2"]), "COUNT", str(rnd.randint(1, 5)),
                        "STREAMS", k, rnd.choice([">", ">", "0"])))
        elif r < 0.85:
            ops.append(("XACK", k, "g", *[rid() for _ in range(rnd.randint(1, 4))]))
        elif r < 0.9:
            ops.append(("XCLAIM", k, "g", rnd.choice(["c1", "c2", "c3"]), "0", rid(), rid(), "JUSTID"))
        elif r < 0.93:
            ops.append(("XAUTOCLAIM", k, "g", "c3", "0", rid(), "COUNT", str(rnd.randint(1, 5))))
        elif r < 0.96:
            ops.append(("XPENDING", k, "g"))
        else:
            ops.append((TIMES, ("XINFO", "STREAM", k, "FULL", "COUNT", "5")))
        if rnd.random() < 0.05:
            ops.append((TIMES, ("XINFO", "GROUPS", k)))
    return ops


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_stream_ops(ringkv, redis_ref, seed):
    compare(ringkv, redis_ref, random_ops(seed, 700))


def test_debug_digest_of_streams(ringkv, redis_dbg):
    """DEBUG DIGEST-VALUE mixes each live entry's "<ms>.<seq>", fields and values, as debug.c."""
    steps = fill("s", 30) + [("XDEL", "s", "3-2", "4-0"), ("XADD", "t", "1-1", "a", "b"), ("XDEL", "t", "1-1"),
                             ("XADD", "u", "5-5", "f", "1", "g", "2"),
                             ("DEBUG", "DIGEST-VALUE", "s", "t", "u"), ("DEBUG", "DIGEST")]
    compare(ringkv, redis_dbg, steps)


def build_for_dump():
    return fill("s", 250, fields=("f", "v")) + [
        ("XADD", "s", "300-1", "other", "fields", "n", "123456789"), ("XADD", "s", "300-2", "f", "x" * 100),
        ("XDEL", "s", "5-1", "120-1", "300-1"), ("XTRIM", "s", "MAXLEN", "=", "230"),
        ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "7"),
        ("XGROUP", "CREATE", "s", "g3", "100-0"),
        ("XADD", "e", "1-1", "a", "b"), ("XDEL", "e", "1-1"),
        ("XADD", "m", "18446744073709551614-5", "f", "v"), ("XGROUP", "CREATE", "m", "g", "$", "ENTRIESREAD", "-1"),
    ]


def test_dump_is_redis_bytes(ringkv, redis_ref):
    """DUMP of streams (no consumers, so no clock in the payload) is byte for byte Redis's."""
    compare(ringkv, redis_ref, build_for_dump() + [("DUMP", "s"), ("DUMP", "e"), ("DUMP", "m")])


def test_restore_across_servers(ringkv, redis_ref):
    """A stream with PELs and consumers DUMPed by either server RESTOREs on
    the other with every entry, counter, delivery time and seen time."""
    extra = [("XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">"),
             ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "s", ">"),
             ("XCLAIM", "s", "g", "carol", "0", "2-1", "RETRYCOUNT", "9"), ("XGROUP", "CREATECONSUMER", "s", "g3", "x")]
    run(ringkv, build_for_dump() + extra)
    run(redis_ref, build_for_dump() + extra)
    with ringkv.raw() as a, redis_ref.raw() as b:
        for src, dst in ((a, b), (b, a)):
            for k in ("s", "e", "m"):
                t, payload = src.call("DUMP", k)
                assert t == "$" and payload
                assert dst.call("RESTORE", f"{k}:copy", "0", payload, "REPLACE") == ("+", b"OK")
                for cmd in (("XINFO", "STREAM", "{}", "FULL", "COUNT", "0"), ("XRANGE", "{}", "-", "+"),
                            ("XINFO", "GROUPS", "{}")):
                    want = src.call(*[x.format(k) for x in cmd])
                    got = dst.call(*[x.format(f"{k}:copy") for x in cmd])
                    if cmd[1] == "GROUPS":  # lag and entries-read only: nothing timed
                        want, got = mask_times(want), mask_times(got)
                    assert got == want, (cmd, k)
        # A truncated payload is refused, not loaded half.
        t, payload = a.call("DUMP", "s")
        assert a.call("RESTORE", "bad", "0", payload[:len(payload) // 2])[0] == "-"
