"""Pub/Sub against redis-server 7.0, and across ringkv's workers.

Differential scenarios send the same commands to ringkv (every matrix entry)
and to a real redis-server, in RESP2 and RESP3, and compare every frame a
command produces (a SUBSCRIBE of three channels answers three frames). A
step ends at a PING with a marker sent right behind the command, so the
frames of each step are known without timeouts. Frames whose order follows
a Redis hash table (UNSUBSCRIBE with no channel, PUBSUB CHANNELS, pattern
messages of one PUBLISH) are compared sorted.

The cross-worker tests need 4 shards: connections land on workers by the
kernel's SO_REUSEPORT hash, so a dozen subscribers cover every worker.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

import harness

MARK = b"__step_end__"
SORTED = "sorted"


def step(conn, cmd):
    """Frames `cmd` produced, up to the marker PING sent behind it."""
    conn.send(harness.encode(*cmd) + harness.encode("PING", MARK))
    frames = []
    while True:
        f = conn.read()
        if f == ("$", MARK) or f == ("*", [("$", b"pong"), ("$", MARK)]):
            return frames
        frames.append(f)


def norm(cmd, frames, sort):
    name = cmd[0].upper() if cmd else ""
    if name in ("UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE") and len(cmd) == 1 and len(frames) > 1:
        # Redis walks a dict: the channels come in hash order, the counts count down.
        return ("all", sorted(f[1][1] for f in frames), [f[1][2] for f in frames])
    if name == "PUBSUB" and len(cmd) >= 2 and cmd[1].upper() in ("CHANNELS", "SHARDCHANNELS"):
        t, v = frames[0]
        return [(t, sorted(v))]
    if sort:
        return sorted(frames, key=repr)
    return frames


def run(server, steps, proto):
    conns = {}
    out = []
    with server.raw() as c:
        c.call("FLUSHALL")
    try:
        for s in steps:
            who, cmd = s[0], s[1]
            sort = len(s) > 2 and s[2] == SORTED
            if who not in conns:
                conns[who] = server.raw()
                if proto == 3:
                    assert conns[who].call("HELLO", "3")[0] == "%"
            out.append((who, cmd, norm(cmd, step(conns[who], cmd), sort)))
    finally:
        for c in conns.values():
            try:
                c.call("RESET")
            except Exception:
                pass
            c.close()
    return out


def compare(ringkv, redis_ref, steps, proto):
    got = run(ringkv, steps, proto)
    want = run(redis_ref, steps, proto)
    for (who, cmd, g), (_, _, w) in zip(got, want):
        assert g == w, f"RESP{proto} {who} {cmd}: ringkv {g!r} != redis {w!r}"


S, P = "sub", "pub"

SCENARIOS = {
    "subscribe_reply_sequences": [
        (S, ("SUBSCRIBE", "a", "b", "c")), (S, ("SUBSCRIBE", "a")), (S, ("UNSUBSCRIBE", "b", "x")),
        (S, ("PSUBSCRIBE", "p*", "q?")), (S, ("PSUBSCRIBE", "p*")), (S, ("PUNSUBSCRIBE", "p*", "zz")),
        (S, ("PING",)), (S, ("PING", "hi")), (S, ("UNSUBSCRIBE",)), (S, ("PING",)),
        (S, ("PUNSUBSCRIBE",)), (S, ("PING",)), (S, ("UNSUBSCRIBE",)), (S, ("PUNSUBSCRIBE",)),
        (S, ("SUNSUBSCRIBE",)), (S, ("UNSUBSCRIBE", "never")), (S, ("PUNSUBSCRIBE", "never*")),
        (S, ("PSUBSCRIBE", "only*")), (S, ("UNSUBSCRIBE",)), (S, ("PUNSUBSCRIBE",)),
    ],
    "subscribed_mode_errors": [
        (S, ("SUBSCRIBE", "a")), (S, ("GET", "k")), (S, ("SET", "k", "v")), (S, ("CLIENT", "GETNAME")),
        (S, ("CLIENT", "ID", "extra")), (S, ("PUBLISH", "a", "m")), (S, ("SPUBLISH", "a", "m")),
        (S, ("ECHO", "x")), (S, ("PUBSUB", "NUMSUB", "a")), (S, ("PING", "a", "b")), (S, ("NOSUCHCMD",)),
        (S, ("SUBSCRIBE",)), (S, ("UNSUBSCRIBE", "a")), (S, ("GET", "k")), (S, ("PING",)),
    ],
    "shard_channels": [
        (S, ("SSUBSCRIBE", "s1", "s2")), (S, ("SUBSCRIBE", "c")), (S, ("SSUBSCRIBE", "s1")),
        (S, ("PSUBSCRIBE", "s*")), (S, ("SUNSUBSCRIBE", "s1", "nope")), (P, ("SPUBLISH", "s2", "x")),
        (S, ("PING",), SORTED), (P, ("PUBLISH", "s2", "y")), (S, ("PING",), SORTED),
        (P, ("PUBSUB", "SHARDCHANNELS")), (P, ("PUBSUB", "SHARDCHANNELS", "s?")),
        (P, ("PUBSUB", "SHARDNUMSUB", "s1", "s2", "c")), (S, ("SUNSUBSCRIBE",)), (S, ("SUNSUBSCRIBE",)),
        (S, ("UNSUBSCRIBE",)), (S, ("PUNSUBSCRIBE",)), (S, ("GET", "k")),
    ],
    "reset_leaves_subscribed_mode": [
        (S, ("SUBSCRIBE", "r1")), (S, ("PSUBSCRIBE", "r*")), (S, ("SSUBSCRIBE", "rs")), (S, ("RESET",)),
        (S, ("PING",)), (S, ("GET", "k")), (P, ("PUBSUB", "NUMSUB", "r1")), (P, ("PUBSUB", "NUMPAT")),
        (P, ("PUBSUB", "SHARDNUMSUB", "rs")), (P, ("PUBLISH", "r1", "gone")),
    ],
    "messages_and_counts": [
        (S, ("SUBSCRIBE", "news", "chat")), (S, ("PSUBSCRIBE", "n*", "*", "[a-c]hat")),
        (S, ("SSUBSCRIBE", "sh")), ("s2", ("PSUBSCRIBE", "n*")), ("s2", ("SUBSCRIBE", "news")),
        (P, ("PUBLISH", "news", "hello")), (S, ("PING",), SORTED), ("s2", ("PING",), SORTED),
        (P, ("PUBLISH", "chat", "")), (P, ("PUBLISH", "other", "bin\x00\r\n")),
        (P, ("SPUBLISH", "sh", "z")), (P, ("PUBLISH", "sh", "w")), (P, ("SPUBLISH", "news", "none")),
        (S, ("PING",), SORTED), ("s2", ("PING",), SORTED),
        (P, ("PUBSUB", "NUMSUB", "news", "chat", "sh", "nobody")), (P, ("PUBSUB", "NUMSUB")),
        (P, ("PUBSUB", "CHANNELS")), (P, ("PUBSUB", "CHANNELS", "n*")), (P, ("PUBSUB", "CHANNELS", "zz*")),
        (P, ("PUBSUB", "NUMPAT")), (P, ("PUBSUB", "SHARDNUMSUB", "sh")),
        ("s2", ("PUNSUBSCRIBE",)), (P, ("PUBSUB", "NUMPAT")), (P, ("PUBLISH", "news", "again")),
        (S, ("UNSUBSCRIBE", "news"), SORTED), (P, ("PUBLISH", "news", "3")), (S, ("PING",), SORTED),
        ("s2", ("PING",), SORTED),
    ],
    "pubsub_command": [
        (P, ("PUBSUB", "HELP")), (P, ("PUBSUB", "help", "x")), (P, ("PUBSUB", "FOO")),
        (P, ("PUBSUB", "NUMPAT", "x")), (P, ("PUBSUB", "CHANNELS", "a", "b")),
        (P, ("PUBSUB", "SHARDCHANNELS", "a", "b")), (P, ("PUBSUB",)), (P, ("PUBLISH", "nobody", "x")),
        (P, ("SPUBLISH", "nobody", "x")), (P, ("PUBLISH", "a")), (P, ("SUBSCRIBE",)),
        (P, ("PUBSUB", "NUMSUB", "x", "x")), (P, ("PUBSUB", "CHANNELS")),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_differential(ringkv, redis_ref, name, proto):
    compare(ringkv, redis_ref, SCENARIOS[name], proto)


def test_resp3_any_command_while_subscribed(ringkv):
    with ringkv.raw() as s, ringkv.raw() as p:
        s.call("HELLO", "3")
        assert s.call("SUBSCRIBE", "r3") == (">", [("$", b"subscribe"), ("$", b"r3"), (":", 1)])
        assert s.call("SET", "k", "v") == ("+", b"OK")
        assert s.call("GET", "k") == ("$", b"v")
        assert p.call("PUBLISH", "r3", "m") == (":", 1)
        assert s.read() == (">", [("$", b"message"), ("$", b"r3"), ("$", b"m")])
        assert s.call("PING") == ("+", b"PONG")
        s.call("RESET")


def _subscribers(server, n, *cmd):
    conns = []
    for _ in range(n):
        c = server.raw()
        c.send(harness.encode(*cmd))
        for _ in cmd[1:]:
            c.read()
        conns.append(c)
    return conns


def test_cross_worker_delivery_order_and_counts(ringkv):
    """Subscribers on every worker get every message of a pipelined
    publisher, in publish order, and each PUBLISH counts them exactly."""
    subs = _subscribers(ringkv, 12, "SUBSCRIBE", "xw")
    psubs = _subscribers(ringkv, 4, "PSUBSCRIBE", "x*", "*w")
    try:
        with ringkv.raw() as p, ringkv.raw() as q:
            assert p.call("PUBSUB", "NUMSUB", "xw") == ("*", [("$", b"xw"), (":", 12)])
            n = 400
            p.send(b"".join(harness.encode("PUBLISH", "xw", f"p{i}") for i in range(n)))
            q.send(b"".join(harness.encode("PUBLISH", "xw", f"q{i}") for i in range(n)))
            # 12 channel subscribers + 4 clients x 2 matching patterns.
            assert [p.read() for _ in range(n)] == [(":", 20)] * n
            assert [q.read() for _ in range(n)] == [(":", 20)] * n
        for c in subs:
            got = [c.read() for _ in range(2 * n)]
            msgs = [f[1][2][1].decode() for f in got]
            assert all(f[1][0] == ("$", b"message") for f in got)
            assert [m for m in msgs if m[0] == "p"] == [f"p{i}" for i in range(n)]
            assert [m for m in msgs if m[0] == "q"] == [f"q{i}" for i in range(n)]
        for c in psubs:
            got = [c.read() for _ in range(4 * n)]
            for pat in (b"x*", b"*w"):
                msgs = [f[1][3][1].decode() for f in got if f[1][1][1] == pat]
                assert [m for m in msgs if m[0] == "p"] == [f"p{i}" for i in range(n)]
                assert [m for m in msgs if m[0] == "q"] == [f"q{i}" for i in range(n)]
    finally:
        for c in subs + psubs:
            c.close()


def test_publish_after_subscribe_reply_is_delivered(ringkv):
    """Once a SUBSCRIBE was answered, a PUBLISH from any connection (any
    worker) reaches it and counts it."""
    with ringkv.raw() as p:
        for i in range(40):
            with ringkv.raw() as s:
                ch = f"race{i}"
                assert s.call("SUBSCRIBE", ch)[1][2] == (":", 1)
                assert p.call("PUBLISH", ch, "m") == (":", 1)
                assert s.read() == ("*", [("$", b"message"), ("$", ch.encode()), ("$", b"m")])
                assert s.call("UNSUBSCRIBE", ch)[1][2] == (":", 0)
                assert p.call("PUBLISH", ch, "m") == (":", 0)


def test_publish_inside_multi_and_script_counts(ringkv, redis_ref):
    for server in (ringkv, redis_ref):
        subs = _subscribers(server, 6, "SUBSCRIBE", "tx")
        try:
            with server.raw() as p:
                got = p.pipeline([("MULTI",), ("PUBLISH", "tx", "a"), ("PUBLISH", "none", "b"), ("EXEC",)])
                assert got[3] == ("*", [(":", 6), (":", 0)]), server
                assert p.call("EVAL", "return redis.call('publish', 'tx', 'c')", "0") == (":", 6)
            for s in subs:
                assert [s.read()[1][2][1] for _ in range(2)] == [b"a", b"c"]
        finally:
            for s in subs:
                s.close()


def test_redis_py_pubsub(ringkv):
    r = ringkv.client()
    p = r.pubsub()
    got = []
    p.subscribe("plain", handled=lambda m: got.append(("h", m["channel"], m["data"])))
    p.psubscribe(**{"pat.*": lambda m: got.append(("ph", m["pattern"], m["channel"], m["data"]))})
    msg = p.get_message(timeout=2)
    assert msg["type"] == "subscribe" and msg["channel"] == b"plain"
    for _ in range(2):
        m = p.get_message(timeout=2)
        assert m is None or m["type"] in ("subscribe", "psubscribe")
    assert r.publish("plain", "1") == 1
    assert r.publish("handled", "2") == 1
    assert r.publish("pat.x", "3") == 1
    deadline = time.time() + harness.scaled(5)
    while len(got) < 3 and time.time() < deadline:
        m = p.get_message(timeout=0.2)
        if m and m["type"] == "message" and m["channel"] == b"plain":
            got.append(("m", m["channel"], m["data"]))
    assert ("m", b"plain", b"1") in got
    assert ("h", b"handled", b"2") in got
    assert ("ph", b"pat.*", b"pat.x", b"3") in got
    assert r.pubsub_numsub("plain", "handled") == [(b"plain", 1), (b"handled", 1)]
    assert r.pubsub_numpat() == 1
    # listen() in a thread, ended by an unsubscribe.
    seen = []

    def listener():
        for m in p.listen():
            seen.append(m)
            if m["type"] == "unsubscribe" and m["channel"] == b"plain":
                return

    t = threading.Thread(target=listener)
    t.start()
    r.publish("plain", "4")
    time.sleep(0.2)
    p.unsubscribe("plain")
    t.join(5)
    assert not t.is_alive()
    assert any(m["type"] == "message" and m["data"] == b"4" for m in seen)
    p.close()
    r.close()


def test_slow_subscriber_is_disconnected_by_pubsub_limit(ringkv):
    r = ringkv.client()
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    r.config_set("client-output-buffer-limit", "pubsub 1048576 0 0")
    try:
        s = ringkv.raw(rcvbuf=4096)
        s.call("SUBSCRIBE", "flood")
        normal = ringkv.raw(rcvbuf=4096)
        payload = "x" * 65536
        p = ringkv.raw()
        for _ in range(80):
            p.call("PUBLISH", "flood", payload)
        # The slow subscriber is gone; a normal client with unread replies
        # of the same size is not (normal class: no limit by default).
        deadline = time.time() + harness.scaled(5)
        while r.pubsub_numsub("flood")[0][1] != 0 and time.time() < deadline:
            time.sleep(0.05)
        assert r.pubsub_numsub("flood") == [(b"flood", 0)]
        assert "pubsub" not in r.execute_command("CLIENT", "LIST", "TYPE", "pubsub").decode() or \
            "sub=1" not in r.execute_command("CLIENT", "LIST", "TYPE", "pubsub").decode()
        with pytest.raises((harness.Closed, ConnectionError, socket.timeout, OSError)):
            while True:
                s.read()
        normal.call("PING")
        s.close()
        normal.close()
        p.close()
    finally:
        r.config_set("client-output-buffer-limit", old)
        r.close()


def _fields(line: bytes) -> dict:
    return dict(kv.split("=", 1) for kv in line.decode().strip().split(" "))


def test_client_list_and_info(ringkv, redis_ref):
    for server in (ringkv, redis_ref):
        with server.raw() as s, server.raw() as c:
            step(s, ("SUBSCRIBE", "l1", "l2"))
            step(s, ("PSUBSCRIBE", "l*"))
            step(s, ("SSUBSCRIBE", "ls"))
            t, text = c.call("CLIENT", "LIST", "TYPE", "pubsub")
            rows = [_fields(x) for x in text.split(b"\n") if x]
            assert len(rows) == 1, (server, rows)
            f = rows[0]
            assert (f["flags"], f["sub"], f["psub"], f["ssub"], f["cmd"]) == ("P", "2", "1", "1", "ping"), server
            normal = [_fields(x) for x in c.call("CLIENT", "LIST", "TYPE", "normal")[1].split(b"\n") if x]
            assert all(x["flags"] != "P" for x in normal)
            info = c.call("INFO", "stats")[1].decode()
            for want in ("pubsub_channels:2", "pubsub_patterns:1", "pubsubshard_channels:1"):
                assert want in info, (server, want)
            assert c.call("CLIENT", "KILL", "TYPE", "pubsub") == (":", 1)
            with pytest.raises((harness.Closed, ConnectionError, OSError)):
                s.read()
        deadline = time.time() + harness.scaled(3)
        while time.time() < deadline:
            with server.raw() as c:
                if "pubsub_channels:0" in c.call("INFO", "stats")[1].decode():
                    break
            time.sleep(0.05)


COMMANDS = ["subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
            "publish", "spublish", "pubsub", "monitor", "pubsub|channels", "pubsub|numsub",
            "pubsub|numpat", "pubsub|shardchannels", "pubsub|shardnumsub", "pubsub|help",
            "client|pause", "client|unpause", "client", "client|tracking", "client|caching", "client|getredir",
            "client|trackinginfo"]


def _unordered_subcommands(reply):
    """Redis lists a container's subcommands in its dict's order, which
    changes from one redis-server process to the next: compare them sorted."""
    t, v = reply
    if t in "%|":
        pairs = [(_unordered_subcommands(k), _unordered_subcommands(x)) for k, x in v]
        return (t, [(k, (x[0], sorted(x[1], key=repr)) if k == ("$", b"subcommands") else x) for k, x in pairs])
    if t in "*~>" and v is not None:
        items = [_unordered_subcommands(x) for x in v]
        for i in range(len(items) - 1):
            if items[i] == ("$", b"subcommands") and items[i + 1][0] == "*":
                flat = items[i + 1][1]
                pairs = sorted(zip(flat[::2], flat[1::2]), key=repr)
                items[i + 1] = ("*", [y for p in pairs for y in p])
        if len(items) == 10 and items[0][0] == "$" and items[9][0] == "*":
            items[9] = ("*", sorted(items[9][1], key=repr))
        return (t, items)
    return reply


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs(ringkv, redis_ref, proto):
    with ringkv.raw() as ours, redis_ref.raw() as ref:
        if proto == 3:
            ours.call("HELLO", "3")
            ref.call("HELLO", "3")
        for name in COMMANDS:
            for sub in ("INFO", "DOCS"):
                got = _unordered_subcommands(ours.call("COMMAND", sub, name))
                want = _unordered_subcommands(ref.call("COMMAND", sub, name))
                assert got == want, f"COMMAND {sub} {name}"
