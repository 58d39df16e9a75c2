"""Shard messaging under pressure: tiny inboxes, bounded outstanding work,
flushes on the epoll backend, ring sizing, and the start-up probe's ring.

Each test starts its own server with the bound it exercises, on both backends.
"""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest

import harness

BACKENDS = ["uring", "epoll"]


@pytest.fixture
def server_factory():
    started = []

    def start(backend: str, shards: int, extra: list[str] | None = None) -> harness.Server:
        s = harness.ringkv_server(backend, shards, extra=extra)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        alive = s.alive()
        s.stop()
        log = s.log_tail()
        s.cleanup()
        assert alive, f"{s} died\n{log}"


def _incr_client(port: int, key_prefix: str, rounds: int, batch: int, out: list, errors: list):
    """Pipelines INCRs over keys on every shard; each key's replies must count
    up by one, which fails if a later command overtook an earlier one."""
    try:
        c = harness.RespConn(port, timeout=60)
        keys = [f"{key_prefix}:{i}" for i in range(8)]
        last = {k: 0 for k in keys}
        for _ in range(rounds):
            cmds = [("INCR", keys[i % len(keys)]) for i in range(batch)]
            replies = c.pipeline(cmds)
            for (_, k), tagged in zip(cmds, replies):
                v = harness.plain(tagged)
                if v != last[k] + 1:
                    errors.append(f"{k}: {v} after {last[k]}")
                    return
                last[k] = v
        out.append(sum(last.values()))
        c.close()
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))


@pytest.mark.parametrize("backend", BACKENDS)
def test_full_inboxes_keep_per_connection_order(server_factory, backend):
    """An inbox of 2 messages overflows all the time; a connection's commands
    for one shard must still run in the order it sent them."""
    s = server_factory(backend, 4, ["--shard-queue-capacity", "2"])
    out, errors = [], []
    threads = [threading.Thread(target=_incr_client, args=(s.port, f"ord{t}", 40, 200, out, errors))
               for t in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]
    assert out == [40 * 200] * 12


@pytest.mark.parametrize("backend", BACKENDS)
def test_fanouts_count_toward_outstanding_cap(server_factory, backend):
    """A client that pipelines cross-shard EXISTS (tiny replies, so the
    output-size pause never fires) and never reads must be paused like one
    that pipelines forwarded GETs: server memory stays bounded."""
    s = server_factory(backend, 4, ["--shard-queue-capacity", "2"])
    r = s.client()
    keys = [f"fan:{i}" for i in range(16)]
    r.mset({k: "x" * 1000 for k in keys})
    rss0 = s.rss_kb()
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    cmd = harness.encode("EXISTS", *keys)
    sock.settimeout(0.2)
    sent = 0
    deadline = time.time() + 8
    try:
        while time.time() < deadline:
            try:
                sock.send(cmd * 64)
                sent += 64
            except socket.timeout:
                break   # the server stopped reading us: back-pressure works
        grown_mb = (s.rss_kb() - rss0) / 1024
    finally:
        sock.close()
    print(f"RSS grew {grown_mb:.0f} MiB after {sent} EXISTS sent")
    assert grown_mb < 256, f"RSS grew {grown_mb:.0f} MiB after {sent} EXISTS"
    assert r.ping()


@pytest.mark.parametrize("shards", [1, 4])
def test_epoll_pipelining_under_backpressure_gets_every_reply(server_factory, shards):
    """A send that completes at once on epoll can resume a paused client while
    the dirty list is being walked; its later replies must still be sent."""
    s = server_factory("epoll", shards)
    r = s.client()
    r.set("big", "v" * (256 * 1024))
    n = 600   # 150 MiB of replies: past the 64 MiB pause, several times
    c = harness.RespConn(s.port, timeout=30)
    payload = harness.encode("GET", "big") * n + harness.encode("PING")

    def sender():
        c.send(payload)

    t = threading.Thread(target=sender)
    t.start()
    time.sleep(1.0)   # let output pile up so the server pauses this client
    got = 0
    for _ in range(n):
        v = harness.plain(c.read())
        assert len(v) == 256 * 1024
        got += 1
    assert harness.plain(c.read()) == b"PONG"
    t.join(30)
    c.close()
    assert got == n


def _io_uring_fds(pid: int) -> int:
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[io_uring]":
                n += 1
        except OSError:
            pass
    return n


@pytest.mark.parametrize("shards", [1, 2])
def test_probe_ring_is_released(server_factory, shards):
    """One ring per worker: the start-up probe must not keep its own."""
    s = server_factory("uring", shards)
    assert _io_uring_fds(s.pid) == shards


def test_largest_uring_entries_still_uses_io_uring(server_factory):
    """uring-entries 32768 used to ask for a CQ past the kernel's limit; the
    EINVAL was taken for an old kernel and `uring` refused to start."""
    s = server_factory("uring", 1, ["--uring-entries", "32768"])
    assert s.client().info("server")["io_backend"] == "uring"
    assert s.client().ping()


@pytest.mark.parametrize("backend", BACKENDS)
def test_config_set_waits_for_earlier_forwarded_commands(server_factory, redis_ref, backend):
    """CONFIG SET runs where it is read; SETBITs pipelined before it on the
    same connection, forwarded to other shards, must still run under the
    old proto-max-bulk-len (1mb: a bit offset of 2 MiB is out of range)."""
    s = server_factory(backend, 4)
    cmds = [("SETBIT", f"cfgorder:{i}", "16777216", "1") for i in range(16)]
    cmds.append(("CONFIG", "SET", "proto-max-bulk-len", "512mb"))
    got = {}
    for name, srv in (("ringkv", s), ("redis", redis_ref)):
        r = srv.client()
        r.delete(*[c[1] for c in cmds[:-1]])
        assert r.config_set("proto-max-bulk-len", "1mb")
        with harness.RespConn(srv.port) as c:
            got[name] = c.pipeline(cmds)
        assert r.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "536870912"}
        assert r.exists(*[c[1] for c in cmds[:-1]]) == 0
    assert got["ringkv"] == got["redis"]
    assert got["ringkv"][0] == ("-", b"ERR bit offset is not an integer or out of range")
