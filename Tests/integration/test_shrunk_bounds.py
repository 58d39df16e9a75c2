"""The internal bounds at their smallest legal values (configs/shrunk-bounds.conf,
`make shrunk` runs the whole suite that way): the regressions found there,
kept short enough for every run."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import harness

SHRUNK = Path(__file__).resolve().parents[2] / "configs" / "shrunk-bounds.conf"


def shrunk_args() -> list[str]:
    out = []
    for line in SHRUNK.read_text().splitlines():
        w = line.split()
        if w and not w[0].startswith("#"):
            out += ["--" + w[0], *w[1:]]
    return out


@pytest.fixture(scope="module", params=["uring", "epoll"])
def shrunk(request):
    s = harness.ringkv_server(request.param, 4, extra=shrunk_args())
    s.start()
    yield s
    alive = s.alive()
    rc = s.stop()
    s.cleanup()
    assert alive and rc == 0


def test_directives_are_set(shrunk):
    with shrunk.raw() as c:
        got = harness.plain(c.call("CONFIG", "GET", "shard-max-outstanding"))
        assert got == [b"shard-max-outstanding", b"1"]
        got = harness.plain(c.call("CONFIG", "GET", "client-output-pause-bytes"))
        assert got == [b"client-output-pause-bytes", b"1"]
        assert c.call("CONFIG", "SET", "shard-max-outstanding", "5")[0] == "-"


def test_paused_client_reads_again(shrunk):
    # Regression: a client paused for output was resumed only below half the
    # pause threshold; at client-output-pause-bytes 1 that was "< 0" and a
    # pipeline over several shards hung for good.
    keys = harness.keys_on_distinct_shards("pause", 4, 4)
    cmds = []
    for i in range(300):
        k = keys[i % 4]
        cmds += [("SET", k, "v" * (i % 50)), ("GET", k), ("MGET", *keys), ("EXISTS", keys[(i + 1) % 4])]
    with shrunk.raw(timeout=10) as c:
        replies = c.pipeline(cmds)
    assert len(replies) == len(cmds)
    for cmd, r in zip(cmds, replies):
        if cmd[0] == "SET":
            assert r == ("+", b"OK")
        elif cmd[0] == "MGET":
            assert r[0] == "*" and len(r[1]) == 4


def test_resumed_client_forwards_without_waiting_for_a_poll(shrunk):
    # Regression (epoll): a send completing at once resumed the paused
    # client, whose next commands for other shards then sat in the outgoing
    # lists through a poll that slept 1/hz: 100 ms per pause, 64 commands
    # apart (this pipeline took ~3 s).
    keys = harness.keys_on_distinct_shards("stall", 4, 4)
    cmds = [("SET", keys[i % 4], "v") for i in range(2000)]
    with shrunk.raw(timeout=20) as c:
        t0 = time.monotonic()
        replies = c.pipeline(cmds)
        took = time.monotonic() - t0
    assert replies == [("+", b"OK")] * len(cmds)
    assert took < 1.0, f"{took:.2f} s for {len(cmds)} pipelined SETs"


def test_big_command_spans_one_small_recv_buffer(shrunk):
    # recv-buffer-count 1 of 1 KiB: a 200 KiB value arrives in many recvs,
    # the multishot recv running out of buffers and being re-armed.
    big = b"x" * 200_000
    with shrunk.raw(timeout=10) as c:
        assert c.call("SET", "big", big) == ("+", b"OK")
        assert c.call("GET", "big") == ("$", big)
