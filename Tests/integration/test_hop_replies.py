"""Replies of pipelines that go partly to other shards.

A connection's output waits for the forwarded batch at the head of its reply
order, so a pipeline is answered in one send (Server/HopReplies.swift). These
tests pin what that wait must never do: hold replies behind a command that
can wait for long (a blocked pop), or hold them for good.
"""
from __future__ import annotations

import socket
import time

import pytest

import harness

BACKENDS = ["uring", "epoll"]
SHARDS = 4


@pytest.fixture(params=BACKENDS)
def server(request):
    s = harness.ringkv_server(request.param, SHARDS).start()
    yield s
    alive = s.alive()
    s.stop()
    log = s.log_tail()
    s.cleanup()
    assert alive, f"{s} died\n{log}"


def keys_on_every_shard(prefix: str) -> list[str]:
    found: dict[int, str] = {}
    i = 0
    while len(found) < SHARDS:
        k = f"{prefix}:{i}"
        found.setdefault(harness.shard_of(k, SHARDS), k)
        i += 1
    return [found[s] for s in range(SHARDS)]


def test_replies_before_a_blocked_pop_are_not_held(server):
    """Connections land on every worker; each pipelines writes to every shard
    (so for each, some are local and some forwarded), then a BLPOP that
    blocks for 3 s. The writes' replies must come at once, not with the pop's."""
    conns = [harness.RespConn(server.port, timeout=10) for _ in range(8)]
    try:
        for n, c in enumerate(conns):
            cmds = [("SET", k, "v") for k in keys_on_every_shard(f"hop{n}")]
            empty = keys_on_every_shard(f"hopempty{n}")[n % SHARDS]
            cmds.append(("BLPOP", empty, "3"))
            c.send(b"".join(harness.encode(*x) for x in cmds))
        t0 = time.monotonic()
        for c in conns:
            c.sock.settimeout(1.5)
            for _ in range(SHARDS):
                assert c.read() == ("+", b"OK")
        assert time.monotonic() - t0 < 1.5
        for c in conns:
            c.sock.settimeout(10)
            assert harness.plain(c.read()) is None
    finally:
        for c in conns:
            c.close()


def test_mixed_pipelines_answer_in_order(server):
    """Pipelines that start with a local key, a forwarded one, or a run of
    either, over many rounds: every reply arrives, in order (a held output
    that nothing flushed would time out here)."""
    conns = [harness.RespConn(server.port, timeout=10) for _ in range(6)]
    try:
        keys = keys_on_every_shard("order") * 4
        for c in conns:
            c.call("DEL", *set(keys))
        for rnd in range(150):
            for n, c in enumerate(conns):
                start = (rnd + n) % len(keys)
                run = (rnd % 5) + 1
                cmds = [("INCR", keys[(start + i // run) % len(keys)]) for i in range(16)]
                c.send(b"".join(harness.encode(*x) for x in cmds))
            for n, c in enumerate(conns):
                got = [harness.plain(c.read()) for _ in range(16)]
                assert all(isinstance(v, int) for v in got), got
        totals = conns[0].call("MGET", *sorted(set(keys)))
        assert sum(int(v) for v in harness.plain(totals)) == 150 * 6 * 16
    finally:
        for c in conns:
            c.close()


def test_client_closing_with_held_output_gets_its_replies(server):
    """A pipeline whose first reply is local and whose next is forwarded,
    then QUIT: everything owed is sent before the close."""
    keys = keys_on_every_shard("quit")
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            cmds = [("SET", k, "1") for k in keys] + [("GET", k) for k in keys] + [("QUIT",)]
            s.sendall(b"".join(harness.encode(*x) for x in cmds))
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        assert data == b"+OK\r\n" * SHARDS + b"$1\r\n1\r\n" * SHARDS + b"+OK\r\n"
