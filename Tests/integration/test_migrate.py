"""MIGRATE between RingKV and redis-server 7.0, both ways, and RingKV to RingKV.

* every type and encoding of test_dump_restore's dataset, with TTLs, moves
  with the same TYPE, value, OBJECT ENCODING, DEBUG DIGEST-VALUE and about the
  same PTTL, and leaves the source (unless COPY);
* KEYS over keys on every shard (4 shards) moves them all in one call;
* options (COPY, REPLACE, AUTH, AUTH2, SELECT of the destination db) and the
  errors (BUSYKEY on the target, a closed port, a host that does not
  resolve, a target that never answers, bad arguments) are replied exactly
  as redis-server replies them for the same MIGRATE;
* the link to a target is cached and reused, survives the target closing it
  (one reconnect), and is closed after 10 s idle;
* COMMAND INFO/DOCS/GETKEYS for MIGRATE are Redis's.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest

import harness
from test_dump_restore import build, dataset, keys_of, snapshot

TTL_MS = 500_000


@pytest.fixture
def target(redis_dbg):
    """A redis-server with DEBUG enabled, emptied, as the MIGRATE target."""
    c = redis_dbg.client()
    c.flushall()
    yield redis_dbg, c
    c.close()


def _with_ttls(client, keys):
    for i, k in enumerate(keys):
        if i % 2 == 0:
            client.pexpire(k, TTL_MS + i)


def _state(client, keys, db: int):
    client.execute_command("SELECT", db)
    out = {}
    for k in keys:
        out[k] = (snapshot(client, k), client.execute_command("DEBUG", "DIGEST-VALUE", k), client.pttl(k))
    return out


def _assert_moved(before, after):
    assert before.keys() == after.keys()
    for k, (snap, digest, pttl) in before.items():
        snap2, digest2, pttl2 = after[k]
        assert snap2 == snap, k
        assert digest2 == digest, k
        if pttl < 0:
            assert pttl2 == pttl, k
        else:
            assert pttl - 5000 < pttl2 <= pttl, (k, pttl, pttl2)


def _migrate_all(src, port, keys, db, *opts):
    return src.execute_command("MIGRATE", "127.0.0.1", port, "", db, 5000, *opts, "KEYS", *keys)


def _move_dataset(src, dst, dst_port, seed, src_db, dst_db):
    """Builds the dataset (half the keys with TTLs) in src, MIGRATEs it all
    with KEYS, and checks it arrived whole and left src."""
    cmds = dataset(seed)
    keys = keys_of(cmds)
    build(src, cmds, db=src_db)
    _with_ttls(src, keys)
    before = _state(src, keys, src_db)
    assert _migrate_all(src, dst_port, keys, dst_db) == b"OK"
    assert src.execute_command("DBSIZE") == 0
    _assert_moved(before, _state(dst, keys, dst_db))


def test_every_type_ringkv_to_redis(r, target):
    tserver, t = target
    _move_dataset(r, t, tserver.port, 1, 2, 5)


def test_every_type_redis_to_ringkv(r, ringkv, target):
    _, t = target
    _move_dataset(t, r, ringkv.port, 2, 3, 1)


def test_every_type_ringkv_to_ringkv(r, server_factory, matrix_entry):
    backend, shards = matrix_entry
    other = server_factory("ringkv", backend=backend, shards=4)
    o = other.client()
    cmds = dataset(3)
    keys = keys_of(cmds)
    build(r, cmds)
    _with_ttls(r, keys)
    before = _state(r, keys, 0)
    # One key alone (the plain form), the rest with KEYS.
    assert r.execute_command("MIGRATE", "127.0.0.1", other.port, keys[0], 7, 5000) == b"OK"
    assert _migrate_all(r, other.port, keys[1:], 7, "COPY") == b"OK"
    assert r.execute_command("DBSIZE") == len(keys) - 1
    _assert_moved(before, _state(o, keys, 7))
    # COPY again without REPLACE: every key is BUSY on the target.
    with pytest.raises(Exception) as e:
        _migrate_all(r, other.port, keys[1:], 7)
    assert str(e.value).startswith("Target instance replied with error: BUSYKEY")
    assert r.execute_command("DBSIZE") == len(keys) - 1
    assert _migrate_all(r, other.port, keys[1:], 7, "REPLACE") == b"OK"
    assert r.execute_command("DBSIZE") == 0
    _assert_moved(before, _state(o, keys, 7))
    o.close()


def test_keys_on_every_shard(r, target):
    tserver, t = target
    keys = harness.keys_on_distinct_shards("mk", 8, 4)
    for i, k in enumerate(keys[:6]):
        r.set(k, f"v{i}", px=TTL_MS if i % 2 else None)
    # Missing keys are skipped; the others move together.
    assert _migrate_all(r, tserver.port, keys, 0, "COPY") == b"OK"
    assert r.execute_command("DBSIZE") == 6
    assert t.execute_command("DBSIZE") == 6
    assert [t.get(k) for k in keys] == [f"v{i}".encode() for i in range(6)] + [None, None]
    assert [t.pttl(k) > 0 for k in keys[:6]] == [False, True, False, True, False, True]
    # Without REPLACE the target refuses them all; nothing is deleted here.
    with pytest.raises(Exception, match="BUSYKEY"):
        _migrate_all(r, tserver.port, keys, 0)
    assert r.execute_command("DBSIZE") == 6
    # One key busy, the others not: those acknowledged are deleted.
    t.delete(*keys[1:6])
    with pytest.raises(Exception, match="BUSYKEY"):
        _migrate_all(r, tserver.port, keys, 0)
    assert r.execute_command("KEYS", "*") == [keys[0].encode()]
    assert _migrate_all(r, tserver.port, keys, 0, "REPLACE") == b"OK"
    assert r.execute_command("DBSIZE") == 0
    assert _migrate_all(r, tserver.port, keys, 0) == b"NOKEY"


def _listener():
    """A socket that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


def test_replies_and_errors_match_redis(r, rref, target, server_factory):
    """Each MIGRATE runs from ringkv and from redis-server against the same
    targets; the replies (and what is left at the source) must agree."""
    tserver, t = target
    secured = server_factory("redis", password="s3cret")
    silent = _listener()
    closed = harness.free_port()
    cases = [
        ("k", tserver.port, "k", 0, 1000),
        ("k", tserver.port, "k", 0, 1000),                       # BUSYKEY
        ("k", tserver.port, "k", 0, 1000, "REPLACE", "COPY"),
        ("k", tserver.port, "k", 9, 1000, "COPY"),
        ("k", tserver.port, "k", 16, 1000),                      # target's SELECT fails
        ("k", tserver.port, "k", "x", 1000),
        ("k", tserver.port, "k", 0, "1.5"),
        ("k", tserver.port, "k", 0, 1000, "AUTH"),
        ("k", tserver.port, "k", 0, 1000, "AUTH2", "u"),
        ("k", tserver.port, "k", 0, 1000, "BOGUS"),
        ("k", tserver.port, "k", 0, 1000, "KEYS", "k"),
        ("k", tserver.port, "", 0, 1000, "KEYS"),
        ("k", tserver.port, "", 0, 1000),
        ("k", tserver.port, "nokey", 0, 1000),
        ("k", tserver.port, "k", 0, 1000, "AUTH", "pw"),      # no password configured
        ("k", secured.port, "k", 0, 1000),                       # NOAUTH
        ("k", secured.port, "k", 0, 1000, "AUTH", "wrong"),
        ("k", secured.port, "k", 0, 1000, "COPY", "AUTH2", "default", "s3cret"),
        ("k", secured.port, "k", 0, 1000, "REPLACE", "AUTH", "s3cret"),
        ("k", closed, "k", 0, 300),
        ("k", "not-a-port", "k", 0, 300),
        ("k", silent.getsockname()[1], "k", 0, 200),
    ]
    sec = secured.client()
    try:
        for case in cases:
            src_key, port, *rest = case
            replies = []
            for src in (r, rref):
                for c in (t, sec):
                    c.flushall()
                src.flushall()
                src.set(src_key, "val", px=TTL_MS)
                try:
                    got = src.execute_command("MIGRATE", "127.0.0.1", port, *rest)
                except Exception as e:  # redis-py raises error replies
                    got = ("error", str(e))
                replies.append((got, src.exists(src_key), t.dbsize() + sec.dbsize()))
            assert replies[0] == replies[1], case
        for src in (r, rref):
            src.set("k", "v")
            try:
                got = src.execute_command("MIGRATE", "no-such-host.invalid", 6379, "k", 0, 300)
            except Exception as e:
                got = str(e)
            assert got == "IOERR error or timeout connecting to the client"
    finally:
        sec.close()
        silent.close()


def test_link_is_cached_and_reconnects(r, target):
    tserver, t = target
    received = lambda: int(t.info("stats")["total_connections_received"])
    r.set("a", 1)
    r.execute_command("MIGRATE", "127.0.0.1", tserver.port, "a", 0, 1000, "COPY", "REPLACE")
    n = received()
    for db in (0, 1, 1, 0):
        assert r.execute_command("MIGRATE", "127.0.0.1", tserver.port, "a", db, 1000, "COPY", "REPLACE") == b"OK"
    assert received() == n
    assert t.execute_command("DBSIZE") == 1
    t.execute_command("SELECT", 1)
    assert t.get("a") == b"1"
    t.execute_command("SELECT", 0)
    # The target drops the link: the next MIGRATE reconnects once and succeeds.
    t.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    assert r.execute_command("MIGRATE", "127.0.0.1", tserver.port, "a", 2, 1000) == b"OK"
    assert received() == n + 1
    assert r.exists("a") == 0


def test_idle_link_is_closed(r, target, matrix_entry):
    if matrix_entry[1] != 4:
        pytest.skip("one matrix entry is enough for an 11 s wait")
    tserver, t = target
    r.set("a", 1)
    assert r.execute_command("MIGRATE", "127.0.0.1", tserver.port, "a", 0, 1000, "COPY") == b"OK"
    links = lambda: len([c for c in t.client_list() if c["cmd"] == "restore"])
    assert links() == 1
    deadline = time.monotonic() + 15
    while links() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert links() == 0
    assert time.monotonic() > deadline - 15 + 9


def test_migrate_in_multi_across_shards(r, target):
    tserver, t = target
    keys = harness.keys_on_distinct_shards("tx", 4, 4)
    for k in keys:
        r.rpush(k, "x", "y")
    p = r.pipeline(transaction=True)
    _migrate_all(p, tserver.port, keys, 0)
    p.dbsize()
    assert p.execute() == [b"OK", 0]
    assert [t.lrange(k, 0, -1) for k in keys] == [[b"x", b"y"]] * 4


def test_command_meta(ringkv, redis_ref):
    ours, ref = ringkv.raw(), redis_ref.raw()
    for cmd in (("COMMAND", "INFO", "migrate"), ("COMMAND", "DOCS", "migrate"),
                ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "1"),
                ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "1", "AUTH2", "keys", "x", "KEYS", "a", "b"),
                ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "1", "COPY", "KEYS"),
                ("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "1", "KEYS", "a")):
        assert ours.call(*cmd) == ref.call(*cmd), cmd
    ours.close()
    ref.close()


@pytest.mark.parametrize("opts", [("COPY", "AUTH", "secret"), ("AUTH2", "user", "secret", "REPLACE"),
                                  ("AUTH", "secret", "KEYS")])
def test_passwords_are_redacted(r, rref, target, opts):
    """SLOWLOG and MONITOR show MIGRATE's AUTH/AUTH2 arguments as Redis does."""
    tserver, _ = target
    got = []
    for src in (r, rref):
        src.config_set("slowlog-log-slower-than", 0)
        try:
            src.set("k", "v")
            with src.monitor() as m:
                try:
                    src.execute_command("MIGRATE", "127.0.0.1", tserver.port, "k", 0, 1000, *opts)
                except Exception:
                    pass
                line = next(m.listen())["command"]
                while not line.startswith("MIGRATE"):
                    line = next(m.listen())["command"]
            entry = [e for e in src.slowlog_get(5) if e["command"].startswith(b"MIGRATE")][0]
            got.append((line, entry["command"]))
        finally:
            src.config_set("slowlog-log-slower-than", 10000)
    assert got[0] == got[1]
    assert b"secret" not in got[0][1] and "secret" not in got[0][0]


def test_keyspace_events_match_redis(r, rref, target):
    """The source emits `del` for each key moved (none with COPY), as Redis does."""
    tserver, t = target
    got = []
    for src in (r, rref):
        src.config_set("notify-keyspace-events", "KEA")
        p = src.pubsub()
        try:
            p.psubscribe("__key*__:*")
            p.get_message(timeout=1)
            src.mset({"a": 1, "b": 2, "c": 3})
            src.execute_command("MIGRATE", "127.0.0.1", tserver.port, "", 0, 1000, "COPY", "KEYS", "a", "b")
            src.execute_command("MIGRATE", "127.0.0.1", tserver.port, "", 0, 1000, "REPLACE", "KEYS", "a", "c", "x")
            src.publish("__keyevent@0__:mark", "end")
            events = []
            while True:
                m = p.get_message(timeout=2)
                if m is None or m["channel"] == b"__keyevent@0__:mark":
                    break
                events.append((m["channel"], m["data"]))
            got.append(sorted(events))
        finally:
            p.close()
            src.config_set("notify-keyspace-events", "")
        t.flushall()
    assert got[0] == got[1]
    assert (b"__keyevent@0__:del", b"a") in got[0] and (b"__keyevent@0__:del", b"b") not in got[0]
