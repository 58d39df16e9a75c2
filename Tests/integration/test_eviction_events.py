"""Eviction's keyspace events and tracking invalidations.

Under maxmemory with an allkeys-* policy, every evicted key is announced as
Redis's performEvictions does it: an `evicted` event (class e) on
__keyevent@<db>__:evicted (and __keyspace@<db>__:<key> with K), and an
invalidation for clients tracking the key. The keys a load makes disappear
are exactly the keys announced, once each, on 1 and several shards; and the
same holds when the evictions happen outside any command (the shards' cron
after CONFIG SET lowers maxmemory).
"""
from __future__ import annotations

import collections
import threading
import time

import pytest

import harness
from test_eviction import VALUE, evicted, fill_until, reset_limits, set_limit, used, SLACK
from test_notifications import MARK_CHANNEL, Collector


class Reader(Collector):
    """A Collector that reads as events come (a subscriber that does not
    read holds its pending output in used_memory, which would skew what
    the load evicts)."""

    def __init__(self, server):
        super().__init__(server)
        self.events = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                f = self.conn.read()
            except OSError:
                return  # closed by a test that failed before draining
            items = f[1]
            ch, msg = items[2][1], items[3][1]
            if ch == MARK_CHANNEL:
                return
            self.events.append((ch, msg))

    def drain(self, settle: float = 0.05):
        time.sleep(settle)
        with self.server.raw() as c:
            c.call("PUBLISH", MARK_CHANNEL, "x")
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.events


@pytest.fixture
def clean(ringkv):
    yield
    with ringkv.raw() as c:
        reset_limits(c)
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        c.call("FLUSHALL")


def fill(c, n, shards, prefix="cold"):
    """SETs n keys; the ones written. No write is refused: a shard with no
    key left to evict admits writes while another shard still has some
    (test_eviction_shards.py)."""
    written = []
    for lo in range(0, n, 500):
        keys = [f"{prefix}:{i}" for i in range(lo, min(lo + 500, n))]
        for k, r in zip(keys, c.pipeline([("SET", k, VALUE) for k in keys])):
            assert r[0] != "-", (shards, r)
            written.append(k)
    return written


def alive(c, keys):
    return {k for k, r in zip(keys, c.pipeline([("EXISTS", k) for k in keys])) if r[1] == 1}


@pytest.mark.parametrize("flags,policy", [("Ee", "allkeys-random"), ("KEA", "allkeys-lru")])
def test_evicted_events_name_the_evicted_keys(ringkv, clean, matrix_entry, flags, policy):
    with ringkv.raw() as c:
        c.call("CONFIG", "SET", "notify-keyspace-events", flags)
        col = Reader(ringkv)
        try:
            set_limit(c, 2 * 1024 * 1024, policy)
            before = evicted(c)
            keys = fill(c, 16000, matrix_entry[1])
            # Cron would go on evicting (the subscriber's pending output
            # counts too): stop before counting what went.
            c.call("CONFIG", "SET", "maxmemory", "0")
            n = evicted(c) - before
            gone = set(keys) - alive(c, keys)
            events = col.drain(settle=0.3)
        finally:
            col.close()
    assert n > 1000, n
    assert len(gone) == n
    ev = [m.decode() for ch, m in events if ch == b"__keyevent@0__:evicted"]
    counts = collections.Counter(ev)
    assert len(ev) == n and set(counts) == gone and max(counts.values()) == 1
    ks = [ch.split(b"__:", 1)[1].decode() for ch, m in events
          if ch.startswith(b"__keyspace@0__:") and m == b"evicted"]
    if "K" in flags:
        assert sorted(ks) == sorted(ev)
        # Each key's own events in order: set, then evicted.
        sets = {ch.split(b"__:", 1)[1].decode() for ch, m in events if ch.startswith(b"__keyspace") and m == b"set"}
        assert gone <= sets
    else:
        assert ks == []
        assert all(ch.startswith(b"__keyevent@0__:evicted") for ch, _ in events)


def invalidated(conn, settle=0.3):
    """Keys named by the invalidate pushes `conn` got so far."""
    time.sleep(settle)
    conn.send(harness.encode("PING", b"__mark__"))
    out = []
    while True:
        f = conn.read()
        if f == ("$", b"__mark__"):
            return out
        assert f[0] == ">" and f[1][0] == ("$", b"invalidate"), f
        out += [k[1].decode() for k in f[1][1][1]]


HOT = [f"hot:{i}" for i in range(300)]


def track_hot(ringkv, c):
    assert fill_until(c, 300, VALUE, 0, prefix="hot") == []
    t = ringkv.raw()
    t.call("HELLO", "3")
    assert t.call("CLIENT", "TRACKING", "ON") == ("+", b"OK")
    for r in t.pipeline([("GET", k) for k in HOT]):
        assert r == ("$", VALUE)
    return t


def test_eviction_invalidates_tracked_keys(ringkv, clean, matrix_entry):
    with ringkv.raw() as c:
        set_limit(c, 2 * 1024 * 1024, "allkeys-random")
        t = track_hot(ringkv, c)
        try:
            fill(c, 16000, matrix_entry[1])
            c.call("CONFIG", "SET", "maxmemory", "0")
            gone = set(HOT) - alive(c, HOT)
            got = invalidated(t)
        finally:
            t.close()
    assert gone, "no tracked key was evicted"
    assert sorted(got) == sorted(gone)


def test_cron_eviction_invalidates_and_notifies(ringkv, clean):
    """CONFIG SET lowers maxmemory: the shards evict in their cron, with no
    command to publish what they did."""
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        time.sleep(0.15)
        base = used(c)
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
        c.call("CONFIG", "SET", "notify-keyspace-events", "Ee")
        t = track_hot(ringkv, c)
        fill_until(c, 20000, VALUE, 0)
        col = Reader(ringkv)
        try:
            limit = base + 2 * 1024 * 1024
            before = evicted(c)
            assert c.call("CONFIG", "SET", "maxmemory", str(limit)) == ("+", b"OK")
            deadline = time.time() + harness.scaled(3)
            while used(c) > limit + SLACK and time.time() < deadline:
                time.sleep(0.05)
            # Stop evicting before counting what went.
            c.call("CONFIG", "SET", "maxmemory", "0")
            n = evicted(c) - before
            keys = [f"cold:{i}" for i in range(20000)] + HOT
            gone = set(keys) - alive(c, keys)
            events = col.drain(settle=0.3)
            got = invalidated(t)
        finally:
            col.close()
            t.close()
    assert n > 1000 and len(gone) == n, (n, len(gone))
    ev = [m.decode() for ch, m in events if ch == b"__keyevent@0__:evicted"]
    assert len(ev) == n and set(ev) == gone
    hot_gone = gone & set(HOT)
    assert hot_gone, "no tracked key was evicted"
    assert sorted(got) == sorted(hot_gone)
