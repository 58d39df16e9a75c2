"""CLIENT PAUSE / UNPAUSE: Redis 7.0's errors, which commands wait under
WRITE and ALL, that held commands run afterwards in order (none dropped),
and, with 4 shards, that the pause reaches every worker."""
from __future__ import annotations

import threading
import time

import pytest

import harness


def timed(conn, *cmd):
    t0 = time.monotonic()
    reply = conn.call(*cmd)
    return reply, time.monotonic() - t0


@pytest.mark.parametrize("cmd", [
    ("CLIENT", "PAUSE", "abc"), ("CLIENT", "PAUSE", "-1"), ("CLIENT", "PAUSE", "10", "foo"),
    ("CLIENT", "PAUSE", "10", "write", "x"), ("CLIENT", "PAUSE"), ("CLIENT", "UNPAUSE", "x"),
    ("CLIENT", "PAUSE", "0"), ("CLIENT", "PAUSE", "0", "WRITE"), ("CLIENT", "UNPAUSE"),
    ("CLIENT", "PAUSE", "9223372036854775807"),
])
def test_errors_match_redis(ringkv, redis_ref, cmd):
    with ringkv.raw() as a, redis_ref.raw() as b:
        assert a.call(*cmd) == b.call(*cmd)
        a.call("CLIENT", "UNPAUSE")
        b.call("CLIENT", "UNPAUSE")


def test_pause_write_holds_writes_not_reads(ringkv):
    with ringkv.raw() as admin, ringkv.raw() as w, ringkv.raw() as rd:
        w.call("SET", "k", "0")
        assert admin.call("CLIENT", "PAUSE", "600", "WRITE") == ("+", b"OK")
        reply, dt = timed(rd, "GET", "k")
        assert reply == ("$", b"0") and dt < 0.3
        for cmd in (("EVAL_RO", "return 1", "0"), ("PUBSUB", "NUMPAT")):
            reply, dt = timed(rd, *cmd)
            assert dt < 0.3, cmd
        reply, dt = timed(w, "INCR", "k")
        assert reply == (":", 1) and dt >= 0.45, dt
        for cmd in (("PUBLISH", "c", "m"), ("EVAL", "return 1", "0")):
            admin.call("CLIENT", "PAUSE", "400", "WRITE")
            reply, dt = timed(w, *cmd)
            assert dt >= 0.3, cmd
        # EXEC of a block with a write waits; a read-only block does not.
        admin.call("CLIENT", "PAUSE", "400", "WRITE")
        assert rd.pipeline([("MULTI",), ("GET", "k")]) == [("+", b"OK"), ("+", b"QUEUED")]
        reply, dt = timed(rd, "EXEC")
        assert reply == ("*", [("$", b"1")]) and dt < 0.3
        admin.call("CLIENT", "UNPAUSE")


def test_pause_all_holds_everything_in_order(ringkv):
    with ringkv.raw() as admin, ringkv.raw() as c, ringkv.raw() as other:
        c.call("DEL", "n")
        assert admin.call("CLIENT", "PAUSE", "500", "ALL") == ("+", b"OK")
        t0 = time.monotonic()
        cmds = [("INCR", "n")] * 100 + [("GET", "n")]
        replies = c.pipeline(cmds)
        dt = time.monotonic() - t0
        assert dt >= 0.4, dt
        assert replies == [(":", i) for i in range(1, 101)] + [("$", b"100")]
        reply, dt = timed(other, "PING")
        assert reply == ("+", b"PONG") and dt < 0.3


def test_unpause_releases_held_clients(ringkv):
    with ringkv.raw() as admin, ringkv.raw() as w:
        admin.call("CLIENT", "PAUSE", "20000", "WRITE")
        out = {}

        def writer():
            out["r"] = timed(w, "SET", "released", "1")

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.2)
        assert t.is_alive()
        assert admin.call("CLIENT", "UNPAUSE") == ("+", b"OK")
        t.join(5)
        assert not t.is_alive()
        reply, dt = out["r"]
        assert reply == ("+", b"OK") and dt < 2


def test_pause_reaches_every_worker(ringkv):
    conns = [ringkv.raw() for _ in range(12)]
    try:
        with ringkv.raw() as admin:
            admin.call("CLIENT", "PAUSE", "400", "WRITE")
            t0 = time.monotonic()
            for i, c in enumerate(conns):
                c.send(harness.encode("SET", f"pw{i}", "1"))
            for c in conns:
                assert c.read() == ("+", b"OK")
            assert time.monotonic() - t0 >= 0.3
    finally:
        for c in conns:
            c.close()


def test_no_active_expiry_during_pause(ringkv):
    """Redis keeps the dataset still while paused: the active expiry cycle
    does not run (the key is still counted by DBSIZE), then catches up."""
    with ringkv.raw() as c, ringkv.raw() as admin:
        c.call("FLUSHALL")
        for i in range(20):
            c.call("SET", f"e{i}", "v", "PX", "50")
        admin.call("CLIENT", "PAUSE", "800", "WRITE")
        time.sleep(0.5)
        assert c.call("DBSIZE") == (":", 20)
        admin.call("CLIENT", "UNPAUSE")
        deadline = time.time() + harness.scaled(5)
        while c.call("DBSIZE") != (":", 0) and time.time() < deadline:
            time.sleep(0.05)
        assert c.call("DBSIZE") == (":", 0)


def test_lazy_expiry_keeps_keys_during_pause(ringkv, redis_ref):
    """Redis 7.0's expireIfNeeded under a pause: an expired key reads as
    missing (GET, EXISTS, TTL, TYPE, KEYS, SCAN) but is not deleted, so
    DBSIZE, expired_keys and the `expired` event stay until the pause ends;
    the first read after UNPAUSE deletes it. With several shards the keys
    are spread over every worker."""
    keys = [f"lx{i}" for i in range(8)]
    def scenario(server):
        out = []
        with server.raw() as c, server.raw() as admin, server.raw() as sub:
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "notify-keyspace-events", "Ex")
            sub.call("SUBSCRIBE", "__keyevent@0__:expired")
            before = int(harness.info_dict(c.call("INFO", "stats")[1])["expired_keys"])
            for k in keys:
                c.call("SET", k, "v", "PX", "150")
            c.call("SET", "live", "v")
            out.append(admin.call("CLIENT", "PAUSE", "5000", "WRITE"))
            time.sleep(0.3)
            for k in keys:
                out += [c.call("GET", k), c.call("EXISTS", k), c.call("TTL", k), c.call("TYPE", k)]
            out.append(c.call("KEYS", "*"))
            cursor, found = b"0", []
            while True:
                _, (cur, batch) = c.call("SCAN", cursor)
                found += [x[1] for x in batch[1]]
                cursor = cur[1]
                if cursor == b"0":
                    break
            out.append(sorted(found))
            out.append(c.call("DBSIZE"))
            out.append(int(harness.info_dict(c.call("INFO", "stats")[1])["expired_keys"]) - before)
            out.append(admin.call("CLIENT", "UNPAUSE"))
            out += [c.call("GET", k) for k in keys]
            out.append(c.call("DBSIZE"))
            out.append(int(harness.info_dict(c.call("INFO", "stats")[1])["expired_keys"]) - before)
            time.sleep(0.1)
            sub.sock.settimeout(2)
            got = sorted(sub.read()[1][2][1] for _ in keys)
            out.append(got)
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
        return out
    a = scenario(ringkv)
    b = scenario(redis_ref)
    assert a == b
    assert a[-1] == sorted(k.encode() for k in keys)
