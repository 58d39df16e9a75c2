"""Drive ringkv with redis-py from PyPI, the way applications use it."""
from __future__ import annotations

import threading
import time

import pytest
import redis

import harness


def test_strings(r):
    assert r.set("s", "v") is True
    assert r.get("s") == b"v"
    assert r.append("s", "xyz") == 4
    assert r.strlen("s") == 4
    assert r.getrange("s", 1, -1) == b"xyz"
    assert r.setrange("s", 6, "!") == 7
    assert r.get("s") == b"vxyz\x00\x00!"
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.decrby("n", 2) == 40
    assert r.incrbyfloat("n", 0.5) == 40.5
    assert r.getset("n", "z") == b"40.5"
    assert r.getdel("n") == b"z"
    assert r.get("n") is None
    assert r.set("s", "new", get=True) == b"vxyz\x00\x00!"
    assert r.setnx("s", "nope") is False
    assert r.msetnx({"m1": 1, "m2": 2}) is True
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("s")
    r.set("big", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("big")


def test_expiry(r):
    r.set("px", "v", px=150)
    r.set("ex", "v", ex=100)
    r.set("keep", "v", ex=100)
    assert 0 < r.pttl("px") <= 150
    assert 99 <= r.ttl("ex") <= 100
    assert r.ttl("nokey") == -2
    r.set("plain", "v")
    assert r.ttl("plain") == -1
    assert r.set("keep", "w", keepttl=True)
    assert r.ttl("keep") > 0
    r.set("keep", "w")
    assert r.ttl("keep") == -1
    assert r.persist("ex") is True and r.ttl("ex") == -1
    assert r.expire("ex", 50, gt=True) is False  # no TTL counts as infinite
    assert r.expire("ex", 50, nx=True) is True
    assert r.expiretime("ex") >= int(time.time()) + 48
    time.sleep(0.3)
    assert r.get("px") is None
    assert r.exists("px") == 0
    r.getex("plain", px=100)
    time.sleep(0.25)
    assert r.get("plain") is None


def test_active_expiry_frees_keys_nobody_reads(r):
    with r.pipeline(transaction=False) as p:
        for i in range(2000):
            p.set(f"exp:{i}", "v", px=100)
        p.execute()
    r.set("stay", "v")
    # DBSIZE counts expired keys until something removes them, so only the
    # active expiry cycle can bring it down to 1 without reads.
    deadline = time.monotonic() + harness.scaled(5)
    while r.dbsize() > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert r.dbsize() == 1
    assert r.keys("*") == [b"stay"]


def test_pipeline_preserves_order(r):
    n = 3000
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.set(f"p:{i}", i)
            p.get(f"p:{i}")
            p.incr(f"p:{i}")
        out = p.execute()
    assert out == [x for i in range(n) for x in (True, str(i).encode(), i + 1)]


@pytest.mark.parametrize("tagged", [False, True])
def test_mget_mset_across_shards(r, tagged):
    key = (lambda i: f"{{user}}:{i}") if tagged else (lambda i: f"k:{i}")
    data = {key(i): f"v{i}" for i in range(200)}
    assert r.mset(data) is True
    order = [key(i) for i in range(199, -1, -3)] + ["absent"]
    assert r.mget(order) == [data[k].encode() for k in order[:-1]] + [None]
    assert r.exists(*order, key(0), key(0)) == len(order) - 1 + 2
    assert r.touch(*order) == len(order) - 1
    # MSETNX is all-or-nothing even when one existing key lives on another shard.
    assert r.msetnx({key(1000): "x", key(1001): "y", key(5): "clash"}) is False
    assert r.mget(key(1000), key(1001), key(5)) == [None, None, b"v5"]
    assert r.delete(*order) == len(order) - 1
    assert r.unlink(*[key(i) for i in range(200)]) == 200 - len(order) + 1
    assert r.dbsize() == 0


def test_scan_sees_every_stable_key_during_writes(ringkv, r):
    stable = {f"stable:{i}".encode() for i in range(5000)}
    r.mset({k: b"1" for k in stable})
    stop = threading.Event()
    churned: set[bytes] = set()

    def churn():
        # Enough inserts to force table growth mid-scan, plus deletes to force reuse.
        w = ringkv.client()
        i = 0
        while not stop.is_set():
            with w.pipeline(transaction=False) as p:
                for j in range(200):
                    k = f"churn:{i}:{j}"
                    churned.add(k.encode())
                    p.set(k, "x")
                p.delete(*[f"churn:{i - 1}:{j}" for j in range(0, 200, 2)])
                p.execute()
            i += 1
        w.close()

    t = threading.Thread(target=churn)
    t.start()
    try:
        seen: list[bytes] = []
        cursor = 0
        while True:
            cursor, keys = r.scan(cursor, count=50)
            seen.extend(keys)
            if cursor == 0:
                break
    finally:
        stop.set()
        t.join()
    seen_set = set(seen)
    missing = stable - seen_set
    assert not missing, f"{len(missing)} stable keys never returned, e.g. {sorted(missing)[:5]}"
    assert seen_set <= stable | churned, f"unknown keys: {sorted(seen_set - stable - churned)[:5]}"
    assert r.dbsize() >= len(stable)


def test_scan_options(r):
    r.mset({f"a:{i}": i for i in range(300)})
    r.mset({f"b:{i}": i for i in range(300)})
    got = set(r.scan_iter(match="a:*", count=1000))
    assert got == {f"a:{i}".encode() for i in range(300)}
    assert set(r.scan_iter(_type="string")) == got | {f"b:{i}".encode() for i in range(300)}
    assert list(r.scan_iter(_type="list")) == []
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("SCAN", "notanumber")


def test_dbsize_across_shards(r):
    with r.pipeline(transaction=False) as p:
        for i in range(1234):
            p.set(f"d:{i}", 1)
        p.execute()
    assert r.dbsize() == 1234
    assert len(r.keys("d:*")) == 1234
    assert r.randomkey().startswith(b"d:")


def test_select_swapdb_flushdb(ringkv):
    r = ringkv.client(single_connection_client=True)
    r.flushall()
    r.set("x", "db0")
    r.select(1)
    assert r.get("x") is None
    r.set("x", "db1")
    r.set("only1", "y")
    assert r.dbsize() == 2
    assert r.swapdb(0, 1) is True
    assert r.get("x") == b"db0" and r.get("only1") is None  # still db1, now holding db0's data
    r.select(0)
    assert r.get("x") == b"db1" and r.get("only1") == b"y"
    assert r.move("only1", 5) is True
    r.select(5)
    assert r.get("only1") == b"y"
    assert r.flushdb() is True
    assert r.dbsize() == 0
    r.select(0)
    assert r.dbsize() == 1
    r.select(1)
    r.flushall()
    r.select(0)
    assert r.dbsize() == 0
    with pytest.raises(redis.ResponseError, match="^DB index is out of range$"):
        r.select(16)
    with pytest.raises(redis.ResponseError, match="^DB index is out of range$"):
        r.swapdb(0, 16)
    r.close()


def test_hello3_resp3_client(ringkv):
    r3 = ringkv.client(protocol=3)
    hello = r3.execute_command("HELLO", "3")
    assert hello[b"server"] == b"redis" and hello[b"version"] == b"7.0.15"
    assert hello[b"proto"] == 3 and hello[b"mode"] == b"standalone" and hello[b"role"] == b"master"
    assert isinstance(hello[b"id"], int)
    r3.set("k", "v")
    assert r3.get("k") == b"v"
    assert r3.get("nokey") is None
    assert r3.config_get("maxclients") == {b"maxclients": b"10000"} or \
        r3.config_get("maxclients") == {"maxclients": "10000"}
    r3.delete("k")
    r3.close()


def test_hello3_wire_types_match_redis(ringkv, redis_ref):
    script = [
        ("HELLO", "3", "SETNAME", "resp3conn"),
        ("CLIENT", "GETNAME"),
        ("SET", "h3k", "v"),
        ("GET", "h3:missing"),
        ("MGET", "h3k", "h3:missing"),
        ("EXISTS", "h3k"),
        ("CONFIG", "GET", "maxclients"),
        ("INCRBYFLOAT", "h3f", "1.5"),
        ("HELLO", "4"),
        ("HELLO", "2"),
        ("GET", "h3:missing"),
        ("DEL", "h3k", "h3f"),
    ]
    replies = {}
    for server in (ringkv, redis_ref):
        with server.raw() as c:
            replies[server.name] = [c.call(*cmd) for cmd in script]

    def scrub(reply):  # connection ids differ between servers
        if reply[0] == "%":
            return ("%", [(k, (":", 0) if k == ("$", b"id") else v) for k, v in reply[1]])
        if reply[0] == "*" and reply[1] and reply[1][0] == ("$", b"server"):
            flat = list(reply[1])
            flat[flat.index(("$", b"id")) + 1] = (":", 0)
            return ("*", flat)
        return reply

    ours, theirs = (list(map(scrub, replies[s.name])) for s in (ringkv, redis_ref))
    for cmd, a, b in zip(script, ours, theirs):
        assert a == b, f"{cmd}: ringkv {a!r} != redis {b!r}"


def test_client_setname_getname_id(ringkv, r):
    a = ringkv.client(single_connection_client=True)
    b = ringkv.client(single_connection_client=True)
    ida, idb = a.client_id(), b.client_id()
    assert isinstance(ida, int) and ida != idb
    assert a.client_getname() is None
    assert a.client_setname("alpha") is True
    assert a.client_getname() == "alpha" or a.client_getname() == b"alpha"
    with pytest.raises(redis.ResponseError, match="Client names cannot contain spaces"):
        a.client_setname("has space")
    listing = {c["id"]: c for c in r.client_list()}
    assert listing[str(ida)]["name"] == "alpha"
    assert str(idb) in listing
    assert b.client_kill_filter(_id=ida) == 1
    with pytest.raises(redis.ConnectionError):
        a.ping()
    b.close()


def test_auth_requirepass(server_factory, matrix_entry):
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards, password="pw1")
    anon = server.client(password=None)
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        anon.get("x")
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        server.client(password="wrong").ping()
    good = server.client()
    assert good.set("x", "1") and good.get("x") == b"1"
    with server.raw() as c:
        assert c.call("AUTH", "pw1") == ("+", b"OK")
        assert c.call("GET", "x") == ("$", b"1")
    with server.raw() as c:
        hello = harness.plain(c.call("HELLO", "3", "AUTH", "default", "pw1"))
        assert hello[b"proto"] == 3
        assert c.call("GET", "x") == ("$", b"1")
    r3 = server.client(protocol=3)
    assert r3.get("x") == b"1"


def test_non_utf8_and_unicode_normalization(r):
    composed = "caf\u00e9".encode()         # é as one code point
    decomposed = "cafe\u0301".encode()      # e + combining acute
    raw = b"\xff\xfe\x00key\x80"
    r.set(composed, "composed")
    r.set(decomposed, "decomposed")
    r.set(raw, b"\xc3\x28")
    assert r.dbsize() == 3
    assert r.get(composed) == b"composed"
    assert r.get(decomposed) == b"decomposed"
    assert r.get(raw) == b"\xc3\x28"
    assert sorted(r.keys("*")) == sorted([composed, decomposed, raw])
    assert r.exists(raw[:-1]) == 0
    assert r.delete(composed) == 1 and r.get(decomposed) == b"decomposed"


def test_server_commands(ringkv, r):
    t = r.time()
    assert abs(t[0] - time.time()) < 5
    assert r.echo("hi") == b"hi"
    assert r.config_set("slowlog-log-slower-than", 0)
    r.set("slow", 1)
    assert len(r.slowlog_get()) >= 1
    assert r.config_get("slowlog-log-slower-than") == {"slowlog-log-slower-than": "0"} or \
        r.config_get("slowlog-log-slower-than") == {b"slowlog-log-slower-than": b"0"}
    assert r.config_set("slowlog-log-slower-than", 10000)
    with ringkv.raw() as c:
        assert c.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == ("*", [("$", b"a"), ("$", b"b")])
    assert isinstance(r.execute_command("LATENCY", "LATEST"), list)


def test_command_info_matches_redis(ringkv, redis_ref):
    names = ("get set setnx setex psetex mget mset msetnx getset getdel getex append strlen incr decr "
             "incrby decrby incrbyfloat getrange setrange substr lcs del unlink exists type expire "
             "pexpire expireat pexpireat expiretime pexpiretime ttl pttl persist rename renamenx copy "
             "move keys scan randomkey dbsize touch ping echo select swapdb flushdb flushall").split()

    def info(server):
        with server.raw() as c:
            rows = harness.plain(c.call("COMMAND", "INFO", *names))
        # name, arity, flags, first key, last key, step
        return [(row[0], row[1], sorted(row[2]), row[3], row[4], row[5]) for row in rows]

    for ours, theirs in zip(info(ringkv), info(redis_ref)):
        assert ours == theirs
