"""Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
BZPOPMAX, BZMPOP) against redis-server 7.0, and their semantics across
shards: first come first served, one element to one client, timeouts,
disconnects, CLIENT UNBLOCK, and BLMOVE between keys on different shards.

The differential part runs on every matrix entry. The semantic part starts
its own servers on both backends with 1 and 4 shards.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest

import harness

# (connection, command) steps, compared reply by reply with redis.
SCENARIOS = {
    "served_at_once": [
        (0, ("RPUSH", "l1", "a", "b", "c")), (0, ("BLPOP", "nokey", "l1", "1")), (0, ("BRPOP", "l1", "1")),
        (0, ("BLPOP", "l1", "0")), (0, ("EXISTS", "l1")),
    ],
    "times_out": [(0, ("BLPOP", "nokey", "0.05")), (0, ("BRPOP", "a", "b", "0.01")),
                  (0, ("BLMOVE", "x", "y", "LEFT", "RIGHT", "0.01")), (0, ("BRPOPLPUSH", "x", "y", "0.01")),
                  (0, ("BLMPOP", "0.01", "2", "x", "y", "LEFT")), (0, ("BZPOPMIN", "z", "0.01")),
                  (0, ("BZMPOP", "0.01", "1", "z", "MAX", "COUNT", "3"))],
    "times_out_resp3": [(0, ("HELLO", "3")), (0, ("BLPOP", "nokey", "0.01")),
                        (0, ("BLMOVE", "x", "y", "LEFT", "RIGHT", "0.01")), (0, ("BZPOPMAX", "z", "0.01")),
                        (0, ("RPUSH", "l", "1", "2")), (0, ("BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5")),
                        (0, ("ZADD", "z", "1", "a", "2.5", "b")), (0, ("BZPOPMAX", "z", "0")),
                        (0, ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"))],
    "moves": [
        (0, ("RPUSH", "src", "1", "2", "3")), (0, ("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")),
        (0, ("BRPOPLPUSH", "src", "dst", "0")), (0, ("BLMOVE", "src", "src", "LEFT", "RIGHT", "0")),
        (0, ("LRANGE", "src", "0", "-1")), (0, ("LRANGE", "dst", "0", "-1")),
    ],
    "mpop": [
        (0, ("RPUSH", "m2", "a", "b", "c")), (0, ("BLMPOP", "0", "3", "m1", "m2", "m3", "LEFT", "COUNT", "2")),
        (0, ("BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "10")), (0, ("EXISTS", "m2")),
        (0, ("ZADD", "z2", "1", "a", "2", "b", "3", "c")), (0, ("BZMPOP", "0", "2", "z1", "z2", "MAX", "COUNT", "2")),
        (0, ("BZPOPMIN", "z1", "z2", "0")), (0, ("EXISTS", "z2")),
    ],
    "errors": [
        (0, ("BLPOP", "k", "-1")), (0, ("BLPOP", "k", "abc")), (0, ("BLPOP", "k", "nan")),
        (0, ("BLPOP", "k", "1e300")), (0, ("BLMPOP", "0", "0", "k", "LEFT")), (0, ("BLMPOP", "0", "x", "k", "LEFT")),
        (0, ("BLMPOP", "0", "2", "k", "LEFT")), (0, ("BLMPOP", "0", "1", "k", "UP")),
        (0, ("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0")), (0, ("BLMPOP", "0", "1", "k", "LEFT", "COUNT")),
        (0, ("BLMOVE", "a", "b", "UP", "LEFT", "0")), (0, ("BZMPOP", "0", "1", "k", "LEFT")),
        (0, ("BZPOPMIN", "k", "-0.5")), (0, ("BLPOP", "k")),
        (0, ("SET", "s", "x")), (0, ("BLPOP", "nokey", "s", "0")), (0, ("BZPOPMIN", "s", "0")),
        (0, ("RPUSH", "l", "1")), (0, ("BLMOVE", "l", "s", "LEFT", "LEFT", "0")), (0, ("LLEN", "l")),
        (0, ("BLMOVE", "s", "l", "LEFT", "LEFT", "0")),
    ],
    "inside_multi_never_blocks": [
        (0, ("MULTI",)), (0, ("BLPOP", "nokey", "0")), (0, ("BZPOPMIN", "nokey", "0")),
        (0, ("BLMOVE", "a", "b", "LEFT", "LEFT", "0")), (0, ("RPUSH", "q", "x")), (0, ("BLPOP", "q", "0")),
        (0, ("EXEC",)),
    ],
    # A block whose keys all live on one shard that is not the client's
    # worker runs on that shard in one step; a blocking command there must
    # still answer (as if timed out), not leave EXEC's reply short.
    "inside_multi_on_one_other_shard": [
        step for k in harness.keys_on_distinct_shards("mb", 4, 4) for step in (
            (0, ("MULTI",)), (0, ("BLPOP", k, "0")), (0, ("BZPOPMIN", k, "0")),
            (0, ("BLMOVE", k, k, "LEFT", "LEFT", "0")), (0, ("XREAD", "BLOCK", "0", "STREAMS", k, "$")),
            (0, ("EXEC",)))
    ],
    "wakes_after_push_before_next_command": [
        # Connection 1 blocks; connection 0's LPUSH serves it before connection 0's LPOP runs.
        (1, ("BLPOP", "wq", "5")), ("SLEEP", 0.2), (0, ("LPUSH", "wq", "v")), (0, ("LPOP", "wq")),
        (1, ("PING",)),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_blocking_matches_redis(ringkv, redis_ref, name):
    steps = SCENARIOS[name]
    got = harness.play_blocking(ringkv, steps)
    want = harness.play_blocking(redis_ref, steps)
    assert got == want, f"{name}:\n ringkv {got}\n redis  {want}"


MATRIX = [("uring", 1), ("uring", 4), ("epoll", 1), ("epoll", 4)]


@pytest.fixture(scope="module", params=MATRIX, ids=[f"{b}-{s}" for b, s in MATRIX])
def srv(request):
    backend, shards = request.param
    s = harness.ringkv_server(backend, shards)
    s.start()
    yield s
    alive = s.alive()
    s.cleanup()
    assert alive, "ringkv died"


def blocked_clients(c) -> int:
    return int(harness.info_dict(c.call("INFO", "clients")[1])["blocked_clients"])


def wait_blocked(c, n, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if blocked_clients(c) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"expected {n} blocked clients, have {blocked_clients(c)}")


def first_come_first_served(srv) -> None:
    """Three BLPOPs, each sent once INFO counts the one before as blocked,
    are served in that order (test_shrunk_bounds repeats it)."""
    with srv.raw() as admin:
        admin.call("FLUSHALL")
        waiters = [srv.raw() for _ in range(3)]
        try:
            for i, w in enumerate(waiters):
                w.send(harness.encode("BLPOP", "fifo", "5"))
                wait_blocked(admin, i + 1)
            assert harness.plain(admin.call("RPUSH", "fifo", "a", "b", "c")) == 3
            got = [harness.plain(w.read()) for w in waiters]
            assert got == [[b"fifo", b"a"], [b"fifo", b"b"], [b"fifo", b"c"]]
            assert harness.plain(admin.call("EXISTS", "fifo")) == 0
            assert blocked_clients(admin) == 0
        finally:
            for w in waiters:
                w.close()


def test_first_come_first_served(srv):
    first_come_first_served(srv)


def test_wait_on_keys_of_several_shards(srv):
    shards = int(harness.info_dict(srv.raw().call("INFO", "server")[1]).get("shards", "1"))
    keys = harness.keys_on_distinct_shards("multi", 4, shards)
    with srv.raw() as admin, srv.raw() as w:
        admin.call("FLUSHALL")
        w.send(harness.encode("BLPOP", *keys, "5"))
        wait_blocked(admin, 1)
        admin.call("RPUSH", keys[2], "x")
        assert harness.plain(w.read()) == [keys[2].encode(), b"x"]
        # Served once: a later push to another of its keys stays there.
        admin.call("RPUSH", keys[3], "y")
        time.sleep(0.1)
        assert harness.plain(admin.call("LRANGE", keys[3], "0", "-1")) == [b"y"]
        assert blocked_clients(admin) == 0


def test_timeout_and_forever(srv):
    with srv.raw() as admin, srv.raw() as w:
        admin.call("FLUSHALL")
        t0 = time.time()
        assert w.call("BLPOP", "never", "0.3") == ("*", None)
        took = time.time() - t0
        assert 0.25 <= took < 2.0, took
        w.send(harness.encode("BZPOPMAX", "zz", "0"))
        wait_blocked(admin, 1)
        time.sleep(0.3)
        admin.call("ZADD", "zz", "1", "a", "2", "b")
        assert harness.plain(w.read()) == [b"zz", b"b", b"2"]


def test_blmove_across_shards(srv):
    shards = int(harness.info_dict(srv.raw().call("INFO", "server")[1]).get("shards", "1"))
    src, dst = harness.keys_on_distinct_shards("mv", 2, shards)
    with srv.raw() as admin, srv.raw() as w:
        admin.call("FLUSHALL")
        admin.call("RPUSH", dst, "old")
        w.send(harness.encode("BLMOVE", src, dst, "LEFT", "RIGHT", "5"))
        wait_blocked(admin, 1)
        admin.call("RPUSH", src, "e1", "e2")
        assert harness.plain(w.read()) == b"e1"
        assert harness.plain(admin.call("LRANGE", dst, "0", "-1")) == [b"old", b"e1"]
        assert harness.plain(admin.call("LRANGE", src, "0", "-1")) == [b"e2"]


def test_disconnect_leaves_nothing_behind(srv):
    with srv.raw() as admin:
        admin.call("FLUSHALL")
        w = srv.raw()
        w.send(harness.encode("BRPOP", "gone", "0"))
        wait_blocked(admin, 1)
        w.close()
        end = time.time() + 5
        while blocked_clients(admin) and time.time() < end:
            time.sleep(0.01)
        assert blocked_clients(admin) == 0
        admin.call("RPUSH", "gone", "kept")
        time.sleep(0.1)
        assert harness.plain(admin.call("LRANGE", "gone", "0", "-1")) == [b"kept"]


def test_client_unblock(srv):
    with srv.raw() as admin, srv.raw() as w1, srv.raw() as w2:
        admin.call("FLUSHALL")
        id1 = harness.plain(w1.call("CLIENT", "ID"))
        id2 = harness.plain(w2.call("CLIENT", "ID"))
        assert harness.plain(admin.call("CLIENT", "UNBLOCK", str(id1))) == 0
        w1.send(harness.encode("BLPOP", "u", "0"))
        w2.send(harness.encode("BZPOPMIN", "u2", "0"))
        wait_blocked(admin, 2)
        assert harness.plain(admin.call("CLIENT", "UNBLOCK", str(id1), "TIMEOUT")) == 1
        assert w1.read() == ("*", None)
        assert harness.plain(admin.call("CLIENT", "UNBLOCK", str(id2), "ERROR")) == 1
        assert w2.read() == ("-", b"UNBLOCKED client unblocked via CLIENT UNBLOCK")
        assert blocked_clients(admin) == 0
        # The connections work afterwards.
        assert w1.call("PING") == ("+", b"PONG")


def test_no_element_lost_under_concurrency(srv):
    shards = int(harness.info_dict(srv.raw().call("INFO", "server")[1]).get("shards", "1"))
    keys = harness.keys_on_distinct_shards("conc", 4, shards)
    total = 400
    got = []
    lock = threading.Lock()

    def consumer():
        with srv.raw() as c:
            while True:
                r = c.call("BLPOP", *keys, "0.5")
                if r == ("*", None):
                    return
                with lock:
                    got.append(harness.plain(r)[1])

    with srv.raw() as admin:
        admin.call("FLUSHALL")
        threads = [threading.Thread(target=consumer) for _ in range(6)]
        for t in threads:
            t.start()

        def producer(n0):
            with srv.raw() as p:
                for i in range(n0, total, 2):
                    p.call("RPUSH", keys[i % len(keys)], str(i))

        ps = [threading.Thread(target=producer, args=(k,)) for k in (0, 1)]
        for t in ps:
            t.start()
        for t in ps:
            t.join()
        for t in threads:
            t.join(30)
        left = sum(harness.plain(admin.call("LLEN", k)) for k in keys)
        assert sorted(int(x) for x in got) == list(range(total)) or len(got) + left == total
        assert len(got) + left == total and len(set(got)) == len(got)


def test_fin_while_blocked_frees_the_connection(srv):
    # Regression: a blocked client that half-closed (FIN, not RST) kept its
    # unwritten reply ticket, so its flushing close waited forever: the
    # connection leaked and connected_clients never came back down.
    shards = int(harness.info_dict(srv.raw().call("INFO", "server")[1]).get("shards", "1"))
    keys = harness.keys_on_distinct_shards("fin", 2, shards)
    cmds = [("BLPOP", *keys, "0"), ("BLMOVE", keys[0], keys[1], "LEFT", "RIGHT", "0"),
            ("BZPOPMIN", *keys, "0"), ("BRPOPLPUSH", keys[1], keys[0], "0"), ("XREAD", "BLOCK", "0",
            "STREAMS", keys[0], "$")]
    with srv.raw() as admin:
        admin.call("FLUSHALL")
        before = int(harness.info_dict(admin.call("INFO", "clients")[1])["connected_clients"])
        waiters = [srv.raw() for _ in cmds]
        for w, cmd in zip(waiters, cmds):
            w.send(harness.encode(*cmd))
        wait_blocked(admin, len(cmds))
        for w in waiters:
            w.sock.shutdown(socket.SHUT_WR)
            w.close()
        end = time.time() + 5
        while time.time() < end:
            i = harness.info_dict(admin.call("INFO", "clients")[1])
            if int(i["connected_clients"]) == before and i["blocked_clients"] == "0":
                break
            time.sleep(0.02)
        assert int(i["connected_clients"]) == before, i
        assert i["blocked_clients"] == "0"
        listed = harness.plain(admin.call("CLIENT", "LIST")).decode().strip().splitlines()
        assert len(listed) == before
