"""Wire-level behaviour: protocol errors, inline commands, fragmentation, flow control.

Expected bytes come from the reference redis-server in the same run, so the
tests pin ringkv to what Redis 7.0 actually sends, not to our reading of it.
"""
from __future__ import annotations

import socket
import time

import pytest

import harness

GARBAGE = {
    "multibulk-not-a-number": b"*abc\r\n",
    "multibulk-too-long": b"*3000000000\r\n",
    "bulk-not-a-number": b"*1\r\n$x\r\n",
    "bulk-negative": b"*1\r\n$-5\r\n",
    "bulk-missing-dollar": b"*1\r\nfoo\r\n",
    "bulk-over-proto-max-bulk-len": b"*1\r\n$536870913\r\n",
    "bulk-over-configured-limit": b"*2\r\n$3\r\nSET\r\n$1048577\r\n",
    "bulk-count-without-newline": b"*1\r\n" + b"9" * 70000,
    "bulk-len-without-newline": b"*2\r\n$3\r\nGET\r\n$" + b"1" * 70000,
    "inline-unbalanced-double": b'SET "a b\r\n',
    "inline-unbalanced-single": b"SET a 'b\r\n",
    "inline-quote-then-char": b'GET "a"b\r\n',
    "inline-too-big": b"A" * 70000,
    "replies-before-error-are-sent": b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*abc\r\n",
}


def exchange(server, payload: bytes) -> tuple[bytes, bool]:
    """Send payload; return what came back and whether the server closed."""
    with server.raw(timeout=5) as c:
        c.send(payload)
        try:
            return c.read_until_close(timeout=3), True
        except socket.timeout:
            return b"", False


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_gets_redis_error_and_close(ringkv, redis_ref, r, case):
    payload = GARBAGE[case]
    # Other modules share redis_ref; `r` emptied ringkv, so empty it too.
    redis_ref.client().flushall()
    bystander = ringkv.raw()
    bystander.send(b"*3\r\n$3\r\nSET\r\n$3\r\nbys")  # half a command, finished after the garbage
    if case == "bulk-over-configured-limit":
        for s in (ringkv, redis_ref):
            assert s.client().config_set("proto-max-bulk-len", "1mb")
    try:
        theirs, theirs_closed = exchange(redis_ref, payload)
        ours, ours_closed = exchange(ringkv, payload)
    finally:
        if case == "bulk-over-configured-limit":
            for s in (ringkv, redis_ref):
                s.client().config_set("proto-max-bulk-len", "512mb")
    assert theirs_closed and b"-ERR Protocol error" in theirs, (theirs, theirs_closed)
    assert ours == theirs
    assert ours_closed, "connection must be closed after a protocol error"
    bystander.send(b"\r\n$1\r\nv\r\n")
    assert bystander.read() == ("+", b"OK")
    assert bystander.call("GET", "bys") == ("$", b"v")
    bystander.close()
    assert ringkv.alive()


def test_unauthenticated_limits_match_redis(server_factory, matrix_entry):
    backend, shards = matrix_entry
    ours = server_factory(backend=backend, shards=shards, password="pw")
    theirs = server_factory("redis", password="pw")
    for payload in (b"*100\r\n", b"*1\r\n$20000\r\n"):
        want = exchange(theirs, payload)
        assert want[0].startswith(b"-ERR Protocol error: unauthenticated"), want
        assert exchange(ours, payload) == want
    with ours.raw() as c:  # the same sizes are fine once authenticated
        assert c.call("AUTH", "pw") == ("+", b"OK")
        assert c.call("SET", "big", b"x" * 20000) == ("+", b"OK")
        assert c.call("MSET", *[b"m%d" % i for i in range(100)]) == ("+", b"OK")


def test_inline_commands(ringkv, r):
    with ringkv.raw() as c:
        c.send(b"PING\r\nSET a b\r\nGET a\nECHO \"x y\\x41\\n\"\r\nSET 'sp ace' \"q\\\"uote\"\r\nGET 'sp ace'\r\n")
        assert c.read() == ("+", b"PONG")
        assert c.read() == ("+", b"OK")
        assert c.read() == ("$", b"b")
        assert c.read() == ("$", b"x yA\n")
        assert c.read() == ("+", b"OK")
        assert c.read() == ("$", b'q"uote')
        # Empty lines and empty/negative multibulk counts are skipped without a reply.
        c.send(b"\r\n\n*0\r\n*-1\r\nPING\r\n")
        assert c.read() == ("+", b"PONG")


def test_inline_matches_redis(ringkv, redis_ref, r, rref):
    payload = b"SET k 'v1'\r\nINCR n\r\nGET nokey\r\nGET\r\nfoo bar\r\nMGET k n \"\"\r\n"
    replies = []
    for s in (ringkv, redis_ref):
        with s.raw() as c:
            c.send(payload)
            replies.append([c.read() for _ in range(6)])
    assert replies[0] == replies[1]


def test_byte_by_byte(ringkv, r):
    cmds = harness.encode("SET", "frag", b"a\r\nb") + harness.encode("GET", "frag") + b"PING\r\n"
    with ringkv.raw() as c:
        for i in range(len(cmds)):
            c.send(cmds[i:i + 1])
            time.sleep(0.001)  # separate segments, so the server sees one byte per recv
        assert c.read() == ("+", b"OK")
        assert c.read() == ("$", b"a\r\nb")
        assert c.read() == ("+", b"PONG")


def test_bulk_larger_than_recv_buffers(ringkv, r):
    value = bytes(range(256)) * 4096 * 4  # 4 MiB: spans many recv buffers
    with ringkv.raw() as c:
        assert c.call("SET", "huge", value) == ("+", b"OK")
        assert c.call("STRLEN", "huge") == (":", len(value))
        assert c.call("GET", "huge") == ("$", value)


def test_big_pipeline_in_order(ringkv, r):
    n = 20000
    cmds = []
    for i in range(n):
        cmds.append(("SET", f"pl:{i}", i))
        cmds.append(("GET", f"pl:{i % 97}"))  # keys land on every shard
    with ringkv.raw(timeout=30) as c:
        replies = c.pipeline(cmds)
    for i in range(n):
        assert replies[2 * i] == ("+", b"OK")
        j = i % 97
        assert replies[2 * i + 1] == ("$", str(j).encode() if j <= i else None), i


def test_slow_reader_is_bounded(ringkv, r):
    """A client that stops reading must not make the server buffer without bound."""
    slow_reader_is_bounded(ringkv, r)


def test_slow_reader_is_bounded_with_small_reads(server_factory):
    """With 1 KiB receive buffers a read holds 46 of these GETs, and the
    pause check ran only at every 64th command of a read: never. The key is
    local (1 shard), so no in-flight cap paused the client either, and the
    server buffered a reply for every request (found by `make shrunk`)."""
    s = server_factory(backend="uring", shards=1, extra=["--recv-buffer-size", "1024",
                                                         "--client-output-pause-bytes", "1mb"])
    slow_reader_is_bounded(s, s.client())


def slow_reader_is_bounded(ringkv, r):
    value = b"v" * (1 << 20)
    r.set("mb", value)
    base = ringkv.rss_kb()
    n = 800  # 800 MB of replies if the server read every request (redis-server does)
    with ringkv.raw(timeout=60, rcvbuf=65536) as c:
        c.send(harness.encode("GET", "mb") * n)
        time.sleep(1.5)
        grown_mb = (ringkv.rss_kb() - base) / 1024
        assert grown_mb < 300, f"server RSS grew {grown_mb:.0f} MB while the client was not reading"
        assert r.ping()  # other clients are still served
        for i in range(n):
            assert c.read() == ("$", value), i
    assert ringkv.alive()


def overflow_output_buffer(server) -> None:
    r = server.client()
    assert r.config_set("client-output-buffer-limit", "normal 1mb 0 0")
    r.set("v", b"x" * 100_000)
    n = 400  # 40 MB of replies, far over the 1mb hard limit
    with server.raw(timeout=10, rcvbuf=16384) as c:
        c.send(harness.encode("GET", "v") * n)
        time.sleep(1.0)
        got = c.read_until_close(timeout=10)
    assert len(got) < n * 100_000, "the server should have closed the connection"
    assert r.ping()
    assert r.config_set("client-output-buffer-limit", "normal 0 0 0")


def test_client_output_buffer_limit_disconnects(server_factory, matrix_entry):
    backend, shards = matrix_entry
    # The replies must pile up past the limit, so the client's reads pause
    # above it (the default 64 MiB), also under configs/shrunk-bounds.conf:
    # its client-output-pause-bytes 1 stops reading before any pile-up
    # unless one read's worth of commands already overflows.
    overflow_output_buffer(server_factory(backend=backend, shards=shards,
                                          extra=["--client-output-pause-bytes", "64mb"]))


def test_client_output_buffer_limit_scenario_holds_for_redis(redis_ref):
    # Guards the scenario itself: if Redis stopped disconnecting here, the
    # ringkv test above would be asserting something Redis does not do.
    overflow_output_buffer(redis_ref)


@pytest.mark.parametrize("backend", ["epoll", "uring"])
def test_half_close_after_a_partial_command_closes_at_once(server_factory, backend):
    """An EOF after half a command closes the connection with no reply, as
    Redis does. (epoll marks a connection paused when it reads its EOF; a
    change that kept such a connection open for its unread input left it
    open for good, and the worker spinning on the EOF.)"""
    s = server_factory(backend=backend, shards=1)
    with socket.create_connection(("127.0.0.1", s.port), timeout=3) as sock:
        sock.sendall(b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk")
        sock.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := sock.recv(100):
            got += chunk
    assert got == b"+PONG\r\n"
