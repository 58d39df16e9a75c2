"""MONITOR against redis-server 7.0: the same commands on both, and the
monitor's lines compared without their timestamp and client address (the
address is checked to be the issuing client's). Covers Redis's quoting
(sdscatrepr), AUTH/HELLO redaction, admin commands left out, MULTI/EXEC
and EVAL ordering, and, with 4 shards, commands of every worker.
"""
from __future__ import annotations

import re
import time

import harness

LINE = re.compile(rb"^(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")


def collect(server, cmds, settle=0.3):
    """The monitor's lines for `cmds` sent on one client, as (db, who, args)."""
    with server.raw() as m, server.raw() as c:
        assert m.call("MONITOR") == ("+", b"OK")
        addr = c.call("CLIENT", "INFO")[1].decode().split(" addr=")[1].split(" ")[0].encode()
        for cmd in cmds:
            c.send(harness.encode(*cmd))
            c.read()
        c.call("ECHO", "__last__")
        lines = []
        while True:
            t, v = m.read()
            assert t == "+", (t, v)
            g = LINE.match(v)
            assert g, v
            sec = int(g.group(1))
            assert abs(sec - time.time()) < 60
            who = g.group(4)
            assert who in (addr, b"lua"), (who, addr)
            if g.group(5) == b'"ECHO" "__last__"':
                return lines
            lines.append((int(g.group(3)), who == b"lua", g.group(5)))


CMDS = [
    ("SET", "a b", b'x\ny"\\\x01\xff\t\r\x07\x08 '), ("GET", "a b"), ("AUTH", "secret"),
    ("AUTH", "user", "secret"), ("HELLO", "2", "AUTH", "default", "pw"), ("HELLO", "2", "SETNAME", "n"),
    ("CLIENT", "LIST"), ("CONFIG", "GET", "maxmemory"), ("CLIENT", "GETNAME"), ("SELECT", "3"),
    ("SET", "k", "1"), ("SELECT", "0"), ("MULTI",), ("SET", "k", "1"), ("INCR", "k"), ("EXEC",),
    ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"), ("MULTI",), ("NOSUCHCMD",), ("EXEC",),
    ("NOSUCHCMD",), ("GET",), ("PING",), ("DEL", "k", "a b", "x", "y", "z"), ("PUBLISH", "ch", "m"),
    ("MGET", "a", "b", "c", "d"), ("DEBUG", "SLEEP", "0"), ("MONITOR",),
]


def test_lines_match_redis(ringkv, redis_ref):
    got = collect(ringkv, CMDS)
    want = collect(redis_ref, CMDS)
    assert got == want


def test_every_worker_feeds_the_monitor(ringkv):
    with ringkv.raw() as m:
        m.call("MONITOR")
        clients = [ringkv.raw() for _ in range(12)]
        for i, c in enumerate(clients):
            assert c.call("SET", f"key{i}", "v") == ("+", b"OK")
        seen = set()
        m.sock.settimeout(5)
        while len(seen) < 12:
            t, v = m.read()
            g = LINE.match(v)
            seen.add(g.group(5))
        assert seen == {f'"SET" "key{i}" "v"'.encode() for i in range(12)}
        for c in clients:
            c.close()
        # RESET ends monitoring: the connection is an ordinary one again.
        assert m.call("RESET") == ("+", b"RESET")
        assert m.call("PING") == ("+", b"PONG")
        with ringkv.raw() as c:
            c.call("SET", "after", "reset")
        assert m.call("ECHO", "x") == ("$", b"x")


def test_redis_py_monitor(ringkv):
    r = ringkv.client()
    with r.monitor() as mon:
        r2 = ringkv.client()
        r2.set("foo", "bar baz")
        r2.get("foo")
        got = []
        while len(got) < 2:
            cmd = mon.next_command()
            if cmd["command"].startswith(("SET", "GET")):
                got.append(cmd)
        assert got[0]["command"] == "SET foo bar baz"
        assert got[1]["command"] == "GET foo"
        assert got[0]["db"] == 0 and got[0]["client_type"] == "tcp"
        r2.close()
    r.close()
