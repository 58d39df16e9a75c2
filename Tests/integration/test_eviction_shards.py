"""maxmemory with several shards: no spurious -OOM.

Redis under an allkeys-* policy never answers -OOM to a write while it
has keys to evict. With 4 shards each shard evicts from its own keyspace,
judged by per-thread allocation counters; blocks one thread allocates and
another frees (keyspace events fanned out to a subscriber on another
worker) used to skew those counters until a shard with no keys left
refused writes while the other shards still held plenty. The load here is
that case: notify-keyspace-events KEA, a subscriber reading
__key*__:* (keyspace and keyevent channels) as events come, a few MB of maxmemory, a random write load
several times larger. Checked: not one -OOM, evictions happen, and
used_memory stays within maxmemory (plus a command's slack) at the end.
"""
from __future__ import annotations

import random
import threading
import time

import pytest

import harness
from test_eviction import SLACK, evicted, reset_limits, set_limit, settled_used


class Subscriber:
    """PSUBSCRIBE __key*__:*, read on a thread, counting messages."""

    def __init__(self, server):
        self.conn = server.raw()
        self.count = 0
        t, _ = self.conn.call("PSUBSCRIBE", "__key*__:*")
        assert t == "*"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                self.conn.read()
            except Exception:
                return
            self.count += 1

    def close(self):
        self.conn.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random"])
def test_no_spurious_oom_with_subscriber(ringkv, matrix_entry, policy):
    rnd = random.Random(11)
    with ringkv.raw() as c:
        try:
            for _ in range(3):
                c.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
                sub = Subscriber(ringkv)
                try:
                    limit = set_limit(c, 2 * 1024 * 1024, policy)
                    before = evicted(c)
                    errors = []
                    # About 5 MB of keys and values into a 2 MB budget.
                    for lo in range(0, 16000, 500):
                        cmds = [("SET", f"k:{i}", b"x" * rnd.randrange(100, 300)) for i in range(lo, lo + 500)]
                        errors += [r for r in c.pipeline(cmds) if r[0] == "-"]
                    # Once cron has evicted for what arrived last (the
                    # subscriber's queued events count too): the slack is one
                    # command's growth, not a loaded machine's backlog.
                    over = settled_used(c, limit) - limit
                    n = evicted(c) - before
                    size = c.call("DBSIZE")[1]
                    # The events did flow (set, and evicted for each eviction).
                    deadline = time.monotonic() + harness.scaled(10)
                    while sub.count < 16000 and time.monotonic() < deadline:
                        time.sleep(0.05)
                    got = sub.count
                finally:
                    sub.close()
                    reset_limits(c)
                    c.call("FLUSHALL")
                assert errors == [], (len(errors), errors[:3])
                assert n > 1000 and size > 0, (n, size)
                assert over <= SLACK, over
                assert got >= 16000, got
        finally:
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
