"""MULTI/EXEC/WATCH against redis-server 7.0, and the isolation of
multi-shard commands (the VLL transaction layer) under concurrent clients.

The differential part runs on every matrix entry: each scenario drives two
connections per server with the same commands and compares every reply.
The isolation part starts its own 4-shard servers on both backends.
"""
from __future__ import annotations

import threading
import time

import pytest
import redis

import harness

# Each scenario: a list of (connection, command). Connection 1 is "another client".
SCENARIOS = {
    "basics": [
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("INCR", "a")), (0, ("GET", "a")),
        (0, ("MGET", "a", "b", "c", "d")), (0, ("EXEC",)),
    ],
    "empty": [(0, ("MULTI",)), (0, ("EXEC",))],
    "keyless_block": [(0, ("MULTI",)), (0, ("PING",)), (0, ("ECHO", "x")), (0, ("EXEC",))],
    "exec_without_multi": [(0, ("EXEC",)), (0, ("DISCARD",))],
    "nested_multi": [
        (0, ("MULTI",)), (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("EXEC",)), (0, ("GET", "a")),
    ],
    "watch_inside_multi": [(0, ("MULTI",)), (0, ("WATCH", "x")), (0, ("PING",)), (0, ("EXEC",))],
    "unknown_command_aborts": [
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("NOSUCHCMD", "x")), (0, ("EXEC",)), (0, ("EXISTS", "a")),
    ],
    "arity_error_aborts": [
        (0, ("MULTI",)), (0, ("SET", "a")), (0, ("SET", "b", "2")), (0, ("EXEC",)), (0, ("EXISTS", "b")),
    ],
    # Found by the differential campaign (Tests/stress/diff_campaign.py): a
    # container's subcommand is looked up and its arity checked at queueing.
    "bad_subcommand_aborts": [
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("XGROUP", "DELCONSUMER")), (0, ("OBJECT", "ENCODING")),
        (0, ("XGROUP", "NOPE", "a", "b")), (0, ("XINFO", "STREAM")), (0, ("CONFIG", "GET")),
        (0, ("XGROUP", "CREATECONSUMER", "x", "g", "c", "extra")), (0, ("OBJECT", "ne\r\nw\x00x")),
        (0, ("EXEC",)), (0, ("EXISTS", "a")),
    ],
    "good_subcommands_queue": [
        (0, ("SET", "s", "12")), (0, ("MULTI",)), (0, ("OBJECT", "encoding", "s")), (0, ("XINFO", "HELP")),
        (0, ("xgroup", "create", "x", "g", "$", "MKSTREAM")), (0, ("EXEC",)),
    ],
    "no_multi_command_aborts": [
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("SAVE",)), (0, ("EXEC",)), (0, ("EXISTS", "a")),
    ],
    "runtime_errors_do_not_roll_back": [
        (0, ("SET", "s", "notanint")),
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("INCR", "s")), (0, ("SET", "b", "2")), (0, ("EXEC",)),
        (0, ("MGET", "a", "b", "s")),
    ],
    "discard": [
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("DISCARD",)), (0, ("EXISTS", "a")), (0, ("EXEC",)),
    ],
    "cross_shard_block": [
        (0, ("MULTI",)), (0, ("MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4")), (0, ("RENAME", "k1", "k9")),
        (0, ("MSETNX", "k5", "5", "k6", "6")), (0, ("MSETNX", "k9", "x", "k7", "7")), (0, ("DEL", "k2", "k3")),
        (0, ("DBSIZE",)), (0, ("COPY", "k4", "k8")), (0, ("MGET", "k1", "k4", "k5", "k6", "k7", "k8", "k9")),
        (0, ("EXEC",)),
    ],
    "select_inside_multi": [
        (0, ("MULTI",)), (0, ("SELECT", "2")), (0, ("SET", "a", "db2")), (0, ("SELECT", "0")),
        (0, ("SET", "a", "db0")), (0, ("EXEC",)), (0, ("GET", "a")), (0, ("SELECT", "2")), (0, ("GET", "a")),
        (0, ("FLUSHDB",)), (0, ("SELECT", "0")),
    ],
    "flushall_inside_multi": [
        (0, ("MSET", "a", "1", "b", "2", "c", "3")),
        (0, ("MULTI",)), (0, ("DBSIZE",)), (0, ("FLUSHALL",)), (0, ("DBSIZE",)), (0, ("SET", "z", "1")),
        (0, ("DBSIZE",)), (0, ("EXEC",)),
    ],
    "watch_untouched": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w", "other1", "other2")), (0, ("MULTI",)), (0, ("INCR", "w")),
        (0, ("EXEC",)), (0, ("GET", "w")),
    ],
    "watch_touched_by_other_client": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SET", "w", "2")), (0, ("MULTI",)),
        (0, ("INCR", "w")), (0, ("EXEC",)), (0, ("GET", "w")),
    ],
    "watch_touched_by_same_value": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SET", "w", "1")), (0, ("MULTI",)),
        (0, ("PING",)), (0, ("EXEC",)),
    ],
    "watch_noop_write_does_not_touch": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w", "nokey")), (1, ("SET", "w", "9", "NX")),
        (1, ("DEL", "nokey")), (1, ("EXPIRE", "nokey", "100")), (0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",)),
    ],
    "watch_many_shards_one_touched": [
        (0, ("MSET", "w1", "1", "w2", "2", "w3", "3", "w4", "4")), (0, ("WATCH", "w1", "w2", "w3", "w4")),
        (1, ("INCR", "w3")), (0, ("MULTI",)), (0, ("SET", "w1", "x")), (0, ("EXEC",)), (0, ("GET", "w1")),
    ],
    "watch_deleted": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("DEL", "w")), (0, ("MULTI",)), (0, ("PING",)),
        (0, ("EXEC",)),
    ],
    "watch_created": [
        (0, ("WATCH", "w")), (1, ("SET", "w", "new")), (0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",)),
    ],
    "unwatch": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SET", "w", "2")), (0, ("UNWATCH",)),
        (0, ("MULTI",)), (0, ("GET", "w")), (0, ("EXEC",)),
    ],
    "after_exec_key_is_no_longer_watched": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",)),
        (1, ("SET", "w", "2")), (0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",)),
    ],
    "discard_clears_watch": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SET", "w", "2")), (0, ("MULTI",)),
        (0, ("DISCARD",)), (0, ("MULTI",)), (0, ("GET", "w")), (0, ("EXEC",)),
    ],
    "flushall_touches_watched": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("FLUSHALL",)), (0, ("MULTI",)), (0, ("PING",)),
        (0, ("EXEC",)),
    ],
    "flushall_skips_missing_keys": [
        (0, ("WATCH", "missing")), (1, ("FLUSHALL",)), (0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",)),
    ],
    "flushdb_other_db_does_not_touch": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SELECT", "3")), (1, ("FLUSHDB",)),
        (1, ("SELECT", "0")), (0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",)),
    ],
    # Found by the differential campaign: SWAPDB of a database with itself
    # touched the keys WATCHed in it.
    "swapdb_same_db_touches_nothing": [
        (0, ("SELECT", "1")), (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SWAPDB", "1", "1")),
        (0, ("MULTI",)), (0, ("GET", "w")), (0, ("EXEC",)), (1, ("SWAPDB", "0", "0")), (0, ("SELECT", "0")),
    ],
    "swapdb_touches_watched": [
        (0, ("SET", "w", "1")), (0, ("WATCH", "w")), (1, ("SWAPDB", "0", "1")), (0, ("MULTI",)),
        (0, ("PING",)), (0, ("EXEC",)), (1, ("SWAPDB", "0", "1")),
    ],
    "swapdb_touches_key_that_appears": [
        (1, ("SELECT", "1")), (1, ("SET", "w", "one")), (1, ("SELECT", "0")), (0, ("WATCH", "w")),
        (1, ("SWAPDB", "0", "1")), (0, ("MULTI",)), (0, ("GET", "w")), (0, ("EXEC",)), (1, ("SWAPDB", "0", "1")),
        (1, ("SELECT", "1")), (1, ("FLUSHDB",)), (1, ("SELECT", "0")),
    ],
    "watch_expired_key_lazy": [
        (0, ("DEBUG", "SET-ACTIVE-EXPIRE", "0")),
        (0, ("SET", "w", "1", "PX", "50")), (0, ("WATCH", "w")), (0, ("SLEEP", 0.15)), (0, ("MULTI",)),
        (0, ("PING",)), (0, ("EXEC",)), (0, ("DEBUG", "SET-ACTIVE-EXPIRE", "1")),
    ],
    "watch_stale_key_does_not_fail": [
        (0, ("DEBUG", "SET-ACTIVE-EXPIRE", "0")),
        (0, ("SET", "w", "1", "PX", "10")), (0, ("SLEEP", 0.05)), (0, ("WATCH", "w")), (0, ("MULTI",)),
        (0, ("PING",)), (0, ("EXEC",)), (0, ("DEBUG", "SET-ACTIVE-EXPIRE", "1")),
    ],
    "watch_key_expired_by_active_cycle": [
        (0, ("SET", "w", "1", "PX", "30")), (0, ("WATCH", "w")), (0, ("SLEEP", 0.4)), (0, ("MULTI",)),
        (0, ("PING",)), (0, ("EXEC",)),
    ],
    "reset_ends_multi": [
        (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("RESET",)), (0, ("EXEC",)), (0, ("EXISTS", "a")),
    ],
    "tagged_block_on_one_shard": [
        (0, ("SET", "{t}a", "1")), (0, ("WATCH", "{t}a")), (1, ("SET", "{t}a", "2")), (0, ("MULTI",)),
        (0, ("INCR", "{t}a")), (0, ("GET", "{t}b")), (0, ("EXEC",)), (0, ("WATCH", "{t}a", "{t}b")),
        (0, ("MULTI",)), (0, ("INCR", "{t}a")), (0, ("SET", "{t}b", "x")), (0, ("MGET", "{t}a", "{t}b")),
        (0, ("INCR", "{t}b")), (0, ("EXEC",)), (0, ("MGET", "{t}a", "{t}b")),
    ],
    "resp3_exec": [
        (0, ("HELLO", "3")), (0, ("MULTI",)), (0, ("SET", "a", "1")), (0, ("GET", "a")), (0, ("EXEC",)),
        (0, ("WATCH", "a")), (1, ("SET", "a", "2")), (0, ("MULTI",)), (0, ("GET", "a")), (0, ("EXEC",)),
        (0, ("HELLO", "2")),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_multi_exec_matches_redis(ringkv, redis_dbg, name):
    steps = SCENARIOS[name]
    mine = harness.play(ringkv, steps)
    ref = harness.play(redis_dbg, steps)
    for a, b in zip(mine, ref):
        assert a == b, f"{name}: after {a[1]} ringkv said {a[2]!r}, redis said {b[2]!r}"
    assert len(mine) == len(ref)


def test_client_list_shows_multi(r):
    c = harness.RespConn(r.connection_pool.connection_kwargs["port"])
    try:
        cid = harness.plain(c.call("CLIENT", "ID"))

        def line():
            text = r.execute_command("CLIENT", "LIST").decode()
            return next(x for x in text.splitlines() if x.startswith(f"id={cid} "))

        c.call("MULTI")
        c.call("SET", "a", "1")
        c.call("SET", "b", "2")
        assert " multi=2 " in line() and " flags=x " in line(), line()
        c.call("EXEC")
        assert " multi=-1 " in line() and " flags=N " in line(), line()
    finally:
        c.close()


def test_redis_py_transaction_pipeline_and_watch(r):
    r.mset({"acct:a": 100, "acct:b": 0})
    with r.pipeline(transaction=True) as p:
        p.decrby("acct:a", 30).incrby("acct:b", 30).mget("acct:a", "acct:b")
        assert p.execute() == [70, 30, [b"70", b"30"]]

    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    attempts = 0

    def move(pipe):
        nonlocal attempts
        attempts += 1
        a = int(pipe.get("acct:a"))
        if attempts == 1:
            other.incr("acct:a")  # a concurrent change: the first EXEC must fail
        pipe.multi()
        pipe.set("acct:a", a - 10)
        pipe.incrby("acct:b", 10)

    r.transaction(move, "acct:a", "acct:b")
    other.close()
    assert attempts == 2
    assert r.mget("acct:a", "acct:b") == [b"61", b"40"]


# --- isolation of multi-shard commands -------------------------------------

KEYS = [f"iso:{i}" for i in range(8)]


def _run_for(seconds, workers):
    stop = time.monotonic() + seconds
    errors: list[str] = []
    counts = [0] * len(workers)

    def wrap(i, fn):
        try:
            while time.monotonic() < stop and not errors:
                fn()
                counts[i] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{fn.__name__}: {e!r}")

    threads = [threading.Thread(target=wrap, args=(i, f)) for i, f in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, counts


def _isolation_workers(port: int):
    """Writers change all KEYS together (MSET, MULTI/EXEC); movers RENAME a
    token between shards; readers must only ever see whole states."""
    state = {"gen": 0}
    lock = threading.Lock()

    def gen() -> str:
        with lock:
            state["gen"] += 1
            return str(state["gen"])

    def mset_writer():
        c = mset_writer.c
        g = gen()
        c.call("MSET", *[x for k in KEYS for x in (k, g)])

    def exec_writer():
        c = exec_writer.c
        g = gen()
        c.pipeline([("MULTI",)] + [("SET", k, g) for k in KEYS] + [("EXEC",)])

    def mover():
        c = mover.c
        src, dst = ("tok:a", "tok:b") if mover.at_a else ("tok:b", "tok:a")
        reply = c.call("RENAME", src, dst)
        assert reply == ("+", b"OK"), reply
        mover.at_a = not mover.at_a

    def mget_reader():
        vals = harness.plain(mget_reader.c.call("MGET", *KEYS))
        assert len(set(vals)) == 1, f"torn MGET: {vals}"

    def exec_reader():
        replies = exec_reader.c.pipeline([("MULTI",)] + [("GET", k) for k in KEYS] + [("EXEC",)])
        vals = harness.plain(replies[-1])
        assert len(set(vals)) == 1, f"torn EXEC read: {vals}"

    def token_reader():
        n = harness.plain(token_reader.c.call("EXISTS", "tok:a", "tok:b"))
        assert n == 1, f"token seen {n} times"

    workers = [mset_writer, exec_writer, mover, mget_reader, exec_reader, token_reader]
    for w in workers:
        w.c = harness.RespConn(port, timeout=30)
    mover.at_a = True
    return workers


@pytest.mark.parametrize("backend", ["uring", "epoll"])
def test_multi_shard_commands_are_isolated(server_factory, backend):
    s = server_factory(shards=4, backend=backend)
    setup = harness.RespConn(s.port)
    setup.call("MSET", *[x for k in KEYS for x in (k, "0")])
    setup.call("SET", "tok:a", "token")
    workers = _isolation_workers(s.port)
    errors, counts = _run_for(3.0, workers)
    for w in workers:
        w.c.close()
    assert not errors, errors
    # Every worker made progress: no deadlock, no starvation.
    assert all(n > 20 for n in counts), counts
    assert harness.plain(setup.call("EXISTS", "tok:a", "tok:b")) == 1
    assert len(set(harness.plain(setup.call("MGET", *KEYS)))) == 1
    setup.close()


@pytest.mark.parametrize("backend", ["uring", "epoll"])
def test_keyspace_commands_are_ordered_against_transactions(server_factory, backend):
    """DBSIZE never sees half of an MSET of new keys, and FLUSHALL never
    leaves half of one behind."""
    s = server_factory(shards=4, backend=backend)
    keys = [f"fresh:{i}" for i in range(8)]

    def writer():
        writer.c.call("MSET", *[x for k in keys for x in (k, "v")])
        writer.c.call("DEL", *keys)

    def sizer():
        n = harness.plain(sizer.c.call("DBSIZE"))
        assert n in (0, 8), f"DBSIZE saw {n}"

    def flusher():
        flusher.c.call("FLUSHALL")

    for w in (writer, sizer, flusher):
        w.c = harness.RespConn(s.port, timeout=30)
    errors, counts = _run_for(2.0, [writer, sizer, flusher])
    for w in (writer, sizer, flusher):
        w.c.close()
    assert not errors, errors
    assert all(n > 10 for n in counts), counts


# --- isolation of multi-shard collection commands ----------------------------

@pytest.mark.parametrize("backend", ["uring", "epoll"])
def test_multi_shard_collection_commands_are_isolated(server_factory, backend):
    """SMOVE and LMOVE shuttle members between keys on different shards,
    ZUNIONSTORE snapshots two sorted sets; readers (SUNION, MULTI/EXEC,
    ZCARD of the union) must never see a member in both places or in none."""
    s = server_factory(shards=4, backend=backend)
    sa, sb = harness.keys_on_distinct_shards("iso:set", 2, 4)
    la, lb = harness.keys_on_distinct_shards("iso:list", 2, 4)
    za, zb, zu = harness.keys_on_distinct_shards("iso:z", 3, 4)
    members = [f"m{i}" for i in range(10)]
    setup = harness.RespConn(s.port)
    setup.call("SADD", sa, *members)
    setup.call("RPUSH", la, *members)
    setup.call("ZADD", za, *[x for i, m in enumerate(members) for x in (i, m)])

    def smover():
        c = smover.c
        m = members[smover.i % len(members)]
        smover.i += 1
        src, dst = (sa, sb) if harness.plain(c.call("SISMEMBER", sa, m)) else (sb, sa)
        assert harness.plain(c.call("SMOVE", src, dst, m)) == 1

    def lmover():
        lmover.c.call("LMOVE", la, lb, "LEFT", "RIGHT") if lmover.flip else lmover.c.call("LMOVE", lb, la, "LEFT", "RIGHT")
        lmover.flip = not lmover.flip

    def zmover():
        c = zmover.c
        m = members[zmover.i % len(members)]
        zmover.i += 1
        # One member changes sets inside a transaction: never in both, never in neither.
        src, dst = (za, zb) if harness.plain(c.call("ZSCORE", za, m)) is not None else (zb, za)
        c.pipeline([("MULTI",), ("ZREM", src, m), ("ZADD", dst, "1", m), ("EXEC",)])

    def set_reader():
        got = harness.plain(set_reader.c.call("SUNION", sa, sb))
        assert sorted(got) == sorted(m.encode() for m in members), f"torn SMOVE: {got}"
        rep = set_reader.c.pipeline([("MULTI",), ("SCARD", sa), ("SCARD", sb), ("EXEC",)])
        assert sum(harness.plain(rep[-1])) == len(members), rep[-1]

    def list_reader():
        rep = list_reader.c.pipeline([("MULTI",), ("LLEN", la), ("LLEN", lb), ("EXEC",)])
        assert sum(harness.plain(rep[-1])) == len(members), f"torn LMOVE: {rep[-1]}"

    def zunion_reader():
        n = harness.plain(zunion_reader.c.call("ZUNIONSTORE", zu, "2", za, zb))
        assert n == len(members), f"torn move seen by ZUNIONSTORE: {n}"
        assert harness.plain(zunion_reader.c.call("ZINTERCARD", "2", za, zb)) == 0

    workers = [smover, lmover, zmover, set_reader, list_reader, zunion_reader]
    for w in workers:
        w.c = harness.RespConn(s.port, timeout=30)
    smover.i = zmover.i = 0
    lmover.flip = True
    errors, counts = _run_for(3.0, workers)
    for w in workers:
        w.c.close()
    assert not errors, errors
    assert all(n > 10 for n in counts), counts
    assert harness.plain(setup.call("SCARD", sa)) + harness.plain(setup.call("SCARD", sb)) == len(members)
    setup.close()
