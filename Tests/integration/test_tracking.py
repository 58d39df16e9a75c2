"""Client-side caching (CLIENT TRACKING, default mode) against redis-server 7.0.

Each scenario runs the same steps on ringkv (every matrix entry) and on a
real redis-server: a RESP3 client `t` that tracks keys and plain clients
that write. After every step each tracking connection is read up to a PING
marker, so the frames it got (replies and `invalidate` pushes, in order) are
compared step by step. Invalidations of keys owned by another worker travel
by a hop: a short pause before the marker lets them land.

With several shards, the invalidations of one step that come from
different shards (a multi-key write, a BCAST batch per owner) arrive in an
order that may differ from Redis's: they are compared as a set there.
"""
from __future__ import annotations

import time

import pytest
import redis

import harness

MARK = b"__trk_mark__"


def drain(conn):
    conn.send(harness.encode("PING", MARK))
    out = []
    while True:
        f = conn.read()
        if f == ("$", MARK) or f == ("*", [("$", b"pong"), ("$", MARK)]):
            return out
        out.append(f)


def resolve(cmd, ids):
    """`@name` in a command is that connection's CLIENT ID on this server."""
    return [str(ids[a[1:]]) if isinstance(a, str) and a.startswith("@") else a for a in cmd]


def hide_ids(frames, ids):
    """Client ids differ between the servers: show them by name."""
    names = {v: k for k, v in ids.items()}
    def walk(f):
        if isinstance(f, tuple) and f[0] == ":" and f[1] in names:
            return (":", "@" + names[f[1]])
        if isinstance(f, tuple) and isinstance(f[1], list):
            return (f[0], [walk(x) for x in f[1]])
        if isinstance(f, tuple) and len(f) == 2 and isinstance(f[0], tuple):
            return (walk(f[0]), walk(f[1]))
        return f
    return [walk(f) for f in frames]


def run(server, steps, trackers=("t",), hello3=("t", "t2")):
    conns = {}
    ids = {}
    out = []
    with server.raw() as c:
        c.call("FLUSHALL")
    try:
        for who, cmd in steps:
            if who == "sleep":
                time.sleep(cmd)
                continue
            if who == "open":
                for name in cmd:
                    conns[name] = server.raw()
                    if name in hello3:
                        conns[name].call("HELLO", "3")
                    ids[name] = conns[name].call("CLIENT", "ID")[1]
                continue
            if who == "close":
                conns.pop(cmd).close()
                time.sleep(0.05)
                continue
            if who not in conns:
                conns[who] = server.raw()
                if who in hello3:
                    conns[who].call("HELLO", "3")
                ids[who] = conns[who].call("CLIENT", "ID")[1]
            c = conns[who]
            # A list of commands goes out as one pipeline (a MULTI block:
            # the marker PING must not be queued inside it).
            cmds = cmd if isinstance(cmd[0], list) else [cmd]
            c.send(b"".join(harness.encode(*resolve(x, ids)) for x in cmds))
            if who not in trackers:
                out.append((who, hide_ids([c.read() for _ in cmds], ids)))
            time.sleep(0.01)
            for t in trackers:
                if t in conns:
                    out.append((t, hide_ids(drain(conns[t]), ids)))
    finally:
        for c in conns.values():
            c.close()
    return out


def spread(out):
    """With several shards, a write of keys on different shards (MSET,
    DEL, EXEC) invalidates them from each owner: the pushes of one step
    arrive in an order that may differ from Redis's, so they are compared
    as a set; replies keep their place."""
    norm = []
    for who, frames in out:
        if isinstance(frames, list):
            pushes = sorted((f for f in frames if f[0] == ">"), key=repr)
            frames = [f for f in frames if f[0] != ">"] + pushes
        norm.append((who, frames))
    return norm


def same(ringkv, redis_ref, steps, shards=1, **kw):
    a = run(ringkv, steps, **kw)
    b = run(redis_ref, steps, **kw)
    if shards > 1:
        a, b = spread(a), spread(b)
    assert a == b


KEYS = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]


def test_default_mode(ringkv, redis_ref, matrix_entry):
    steps = [("t", ["CLIENT", "TRACKING", "ON"]), ("t", ["CLIENT", "TRACKINGINFO"]), ("t", ["CLIENT", "GETREDIR"])]
    steps += [("t", ["GET", k]) for k in KEYS]
    steps += [
        ("w", ["SET", "alpha", "1"]),          # tracked: one push
        ("w", ["SET", "alpha", "2"]),          # forgotten after the push: none
        ("t", ["MGET", "alpha", "beta"]),
        ("w", ["MSET", "alpha", "3", "beta", "3", "gamma", "3"]),
        ("w", ["DEL", "delta", "nope"]),
        ("w", ["RPUSH", "eps", "x"]),
        ("t", ["SET", "zeta", "self"]),        # its own write: pushed after the reply
        ("t", ["GET", "alpha"]),
        ("w", ["SET", "alpha", "x", "NX"]),    # no change: no push
        ("w", ["APPEND", "alpha", "y"]),
        ("t", ["HGET", "h", "f"]), ("w", ["HSET", "h", "f", "v"]),
        ("t", ["SMEMBERS", "s"]), ("w", ["SADD", "s", "m"]),
        ("t", ["ZRANGE", "z", "0", "-1"]), ("w", ["ZADD", "z", "1", "m"]),
        ("t", ["GET", "r1"]), ("w", ["SET", "r0", "v"]), ("w", ["RENAME", "r0", "r1"]),
        ("t", ["CLIENT", "TRACKING", "OFF"]), ("w", ["SET", "beta", "after-off"]),
        ("t", ["CLIENT", "TRACKINGINFO"]), ("t", ["CLIENT", "GETREDIR"]),
    ]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


def test_optin_optout_caching(ringkv, redis_ref, matrix_entry):
    steps = [
        ("t", ["CLIENT", "CACHING", "YES"]),
        ("t", ["CLIENT", "TRACKING", "ON", "OPTIN"]),
        ("t", ["CLIENT", "CACHING", "NO"]),
        ("t", ["CLIENT", "TRACKINGINFO"]),
        ("t", ["GET", "a"]),                    # not tracked: OPTIN without CACHING YES
        ("t", ["CLIENT", "CACHING", "YES"]), ("t", ["CLIENT", "TRACKINGINFO"]),
        ("t", ["GET", "b"]),                    # tracked
        ("t", ["GET", "c"]),                    # the flag lasted one command
        ("w", ["MSET", "a", "1", "b", "1", "c", "1"]),
        ("t", ["CLIENT", "TRACKING", "ON", "OPTOUT"]),
        ("t", ["CLIENT", "TRACKING", "OFF"]),
        ("t", ["CLIENT", "TRACKING", "ON", "OPTOUT"]),
        ("t", ["GET", "a"]),                    # tracked
        ("t", ["CLIENT", "CACHING", "NO"]),
        ("t", ["GET", "b"]),                    # not tracked
        ("t", ["CLIENT", "TRACKINGINFO"]),
        ("w", ["MSET", "a", "2", "b", "2"]),
        ("t", ["CLIENT", "CACHING", "YES"]),
        ("t", ["CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"]),
        ("t", ["CLIENT", "TRACKING", "MAYBE"]),
        ("t", ["CLIENT", "TRACKING", "ON", "BOGUS"]),
        ("t", ["CLIENT", "CACHING", "MAYBE"]),
    ]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


def test_noloop_and_two_trackers(ringkv, redis_ref, matrix_entry):
    steps = [
        ("t", ["CLIENT", "TRACKING", "ON", "NOLOOP"]), ("t2", ["CLIENT", "TRACKING", "ON"]),
        ("t", ["CLIENT", "TRACKINGINFO"]),
    ]
    for k in KEYS[:4]:
        steps += [("t", ["GET", k]), ("t2", ["GET", k])]
    steps += [
        ("t", ["SET", "alpha", "1"]),     # t's own write: only t2 hears
        ("t2", ["SET", "beta", "1"]),     # t2's own write: both hear
        ("w", ["DEL", "gamma", "delta"]),
    ]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1], trackers=("t", "t2"))


def test_flush_sends_null(ringkv, redis_ref, matrix_entry):
    steps = [("t", ["CLIENT", "TRACKING", "ON"]), ("t", ["GET", "alpha"]), ("t", ["GET", "beta"]),
             ("w", ["SET", "x", "1"]), ("w", ["FLUSHALL"]), ("w", ["SET", "alpha", "1"]),
             ("t", ["GET", "alpha"]), ("w", ["FLUSHDB"]), ("w", ["SELECT", "1"]), ("w", ["FLUSHDB"]),
             ("t", ["FLUSHALL"])]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


def test_multi_exec_and_script(ringkv, redis_ref, matrix_entry):
    steps = [("t", ["CLIENT", "TRACKING", "ON"])]
    steps += [("t", ["GET", k]) for k in KEYS]
    steps += [("w", ["MULTI"]), ("w", ["SET", "alpha", "1"]), ("w", ["DEL", "beta"]), ("w", ["INCR", "gamma"]),
              ("w", ["EXEC"]),
              ("w", ["EVAL", "redis.call('set', KEYS[1], 'v'); return redis.call('lpush', KEYS[2], 'x')",
                     "2", "delta", "eps"])]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "active"])
def test_expiry_invalidates(ringkv, redis_dbg, lazy):
    steps = [("w", ["DEBUG", "SET-ACTIVE-EXPIRE", "0" if lazy else "1"]),
             ("w", ["SET", "e1", "v", "PX", "400"]), ("w", ["SET", "e2", "v", "PX", "400"]),
             ("t", ["CLIENT", "TRACKING", "ON"]), ("t", ["GET", "e1"]), ("t", ["GET", "e2"]),
             ("sleep", 1.5)]
    if lazy:
        steps += [("w", ["GET", "e1"]), ("w", ["EXISTS", "e2"])]
    steps += [("w", ["DEBUG", "SET-ACTIVE-EXPIRE", "1"])]
    a = run(ringkv, steps)
    b = run(redis_dbg, steps)
    if lazy:
        assert a == b
    else:
        # The active cycle finds the two keys in its own order.
        norm = lambda o: [(w, sorted(map(repr, f)) if isinstance(f, list) else f) for w, f in o]
        assert norm(a) == norm(b)


def test_redirect(ringkv, redis_ref, matrix_entry):
    """Invalidations to another connection: a RESP2 one subscribed to
    __redis__:invalidate gets messages there, a RESP3 one pushes; the
    tracking connection itself can be RESP2. A closed target is a broken
    redirect, told to a RESP3 tracker."""
    steps = [
        ("open", ["sub2", "sub3", "t", "t2", "x"]),
        ("sub2", ["SUBSCRIBE", "__redis__:invalidate"]),
        ("t", ["CLIENT", "TRACKING", "ON", "REDIRECT", "@sub2"]),
        ("t", ["CLIENT", "TRACKING", "ON", "REDIRECT", "@sub2", "REDIRECT", "@sub3"]),
        ("t", ["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"]),
        ("t", ["CLIENT", "TRACKING", "ON", "REDIRECT", "notanumber"]),
        ("t", ["CLIENT", "GETREDIR"]), ("t", ["CLIENT", "TRACKINGINFO"]),
        ("t2", ["CLIENT", "TRACKING", "ON", "REDIRECT", "@sub3"]),
    ]
    for k in KEYS[:4]:
        steps += [("t", ["GET", k]), ("t2", ["GET", k])]
    steps += [("w", ["SET", "alpha", "1"]), ("w", ["DEL", "beta", "gamma"]), ("w", ["FLUSHALL"]),
              ("t2", ["GET", "delta"]), ("close", "sub3"), ("w", ["SET", "delta", "1"]),
              ("t2", ["CLIENT", "TRACKINGINFO"])]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1], trackers=("t", "t2", "sub2"),
         hello3=("t2", "sub3"))


def test_bcast_and_prefixes(ringkv, redis_ref, matrix_entry):
    """BCAST: every change of a key under a prefix, batched per prefix; with
    several shards each owner sends its own batch, compared as a set."""
    steps = [
        ("t", ["CLIENT", "TRACKING", "ON", "PREFIX", "a"]),
        ("t", ["CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"]),
        ("t", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "abc"]),
        ("t", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"]),
        ("t", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:x"]),
        ("t", ["CLIENT", "TRACKING", "ON"]),
        ("t", ["CLIENT", "TRACKINGINFO"]),
        ("t2", ["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"]),
        ("w", ["SET", "user:1", "a"]),
        ("w", ["SET", "other", "a"]),
        ("w", ["DEL", "user:1", "obj:2"]),
        ("w", ["SET", "obj:2", "v"]),
        ("t2", ["SET", "user:9", "own"]),
        ("w", ["FLUSHALL"]),
        ("t", ["CLIENT", "TRACKING", "OFF"]), ("w", ["SET", "user:2", "x"]),
        ("t", ["CLIENT", "TRACKINGINFO"]),
    ]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1], trackers=("t", "t2"))


def test_bcast_batches_one_command(ringkv, redis_ref):
    """One MSET under BCAST on one shard: one message, keys in byte order."""
    steps = [("t", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "{k}"]),
             ("w", ["MSET", "{k}c", "1", "{k}a", "1", "{k}b", "1", "x", "1"])]
    same(ringkv, redis_ref, steps)


def test_info_counts_tracking_clients(ringkv):
    with ringkv.raw() as t:
        t.call("HELLO", "3")
        t.call("CLIENT", "TRACKING", "ON")
        with ringkv.raw() as c:
            assert harness.info_dict(c.call("INFO", "clients")[1])["tracking_clients"] == "1"
        t.call("CLIENT", "TRACKING", "OFF")
        with ringkv.raw() as c:
            assert harness.info_dict(c.call("INFO", "clients")[1])["tracking_clients"] == "0"


def test_redis_py_tracking_handshake(ringkv):
    """redis-py 8 enables its client-side cache (cache_config) only against
    servers reporting 7.4 or later, and RingKV reports 7.0: what it sends
    underneath (HELLO 3, CLIENT TRACKING ON, reads, pushes) is checked with
    a raw RESP3 connection above; here redis-py's RESP3 push handler sees
    the invalidation."""
    port = int(ringkv.client().connection_pool.connection_kwargs["port"])
    got = []
    r3 = redis.Redis(host="127.0.0.1", port=port, protocol=3, single_connection_client=True)
    r3.connection._parser.set_invalidation_push_handler(lambda m: got.append(m))
    r3.execute_command("CLIENT", "TRACKING", "ON")
    r3.get("py-key")
    ringkv.client().set("py-key", "1")
    time.sleep(0.05)
    r3.ping()
    assert got == [[b"invalidate", [b"py-key"]]]
    r3.close()


def test_stream_writes_invalidate(ringkv, redis_ref, matrix_entry):
    """Stream writes invalidate as Redis's signalModifiedKey does: XADD,
    XDEL, XTRIM and XGROUP CREATE MKSTREAM do; a consumer group's
    bookkeeping (XGROUP, XREADGROUP, XCLAIM) and XSETID do not."""
    steps = [("t", ["CLIENT", "TRACKING", "ON"])]
    for write in (["XADD", "st", "1-1", "f", "v"], ["XGROUP", "CREATE", "st", "g", "0"],
                  ["XGROUP", "CREATECONSUMER", "st", "g", "c0"], ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "st", ">"],
                  ["XCLAIM", "st", "g", "c2", "0", "1-1"], ["XGROUP", "SETID", "st", "g", "0"],
                  ["XGROUP", "DELCONSUMER", "st", "g", "c0"], ["XGROUP", "DESTROY", "st", "g"],
                  ["XSETID", "st", "5-0"], ["XADD", "st", "MAXLEN", "1", "6-1", "f", "v"], ["XDEL", "st", "6-1"],
                  ["XADD", "st", "7-1", "f", "v"], ["XTRIM", "st", "MAXLEN", "0"],
                  ["XGROUP", "CREATE", "st2", "g", "$", "MKSTREAM"]):
        key = "st2" if "st2" in write else "st"
        steps += [("t", ["XLEN", key]), ("w", write)]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


def test_script_reads_track_declared_keys(ringkv, redis_ref, matrix_entry):
    """Redis 7.0 (server.c call()): when a script's command reads, the
    caller tracks the script's declared keys (KEYS), not the keys that
    command read; a script that only writes tracks nothing. OPTIN takes
    the CACHING YES given before the EVAL."""
    get1 = "return redis.call('get', KEYS[1])"
    steps = [
        ("w", ["FUNCTION", "LOAD", "REPLACE",
               "#!lua name=trk\nredis.register_function('rd', function(keys, args) return redis.call('get', keys[1]) end)"]),
        ("t", ["CLIENT", "TRACKING", "ON"]),
        ("t", ["EVAL", get1, "1", "alpha"]),
        ("w", ["SET", "alpha", "1"]),
        ("t", ["EVAL", "return redis.call('get', 'beta')", "1", "gamma"]),
        ("w", ["SET", "beta", "1"]), ("w", ["SET", "gamma", "1"]),
        ("t", ["EVAL", "redis.call('set', KEYS[1], 'x') return 1", "1", "delta"]),
        ("w", ["SET", "delta", "2"]),
        ("t", ["EVAL_RO", get1, "1", "eps"]), ("w", ["SET", "eps", "1"]),
        ("t", ["EVAL", "return redis.call('mget', KEYS[1], KEYS[2])", "2", "k1", "k2"]),
        ("w", ["DEL", "k1", "k2"]),
        ("t", ["EVAL", "redis.call('get', KEYS[1]); redis.call('set', KEYS[1], 'y'); "
                       "return redis.call('get', KEYS[1])", "1", "zeta"]),
        ("w", ["SET", "zeta", "1"]),
        ("t", ["EVAL", "return redis.call('get', 'alpha')", "0"]), ("w", ["SET", "alpha", "2"]),
        ("t", ["FCALL", "rd", "1", "fk"]), ("w", ["SET", "fk", "1"]),
        ("t", ["FCALL_RO", "rd", "1", "fk2"]), ("w", ["SET", "fk2", "1"]),
        ("t", ["CLIENT", "TRACKING", "OFF"]),
        ("t", ["CLIENT", "TRACKING", "ON", "OPTIN"]),
        ("t", ["EVAL", get1, "1", "o1"]),
        ("t", ["CLIENT", "CACHING", "YES"]), ("t", ["EVAL", get1, "1", "o2"]),
        ("w", ["MSET", "o1", "1", "o2", "1"]),
        ("w", ["FUNCTION", "DELETE", "trk"]),
    ]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


def test_script_writes_and_noloop(ringkv, redis_ref, matrix_entry):
    """A script's write is its caller's: NOLOOP leaves out the caller's
    own invalidation, as for a plain write."""
    steps = [("t", ["CLIENT", "TRACKING", "ON", "NOLOOP"]), ("t2", ["CLIENT", "TRACKING", "ON"]),
             ("t", ["GET", "alpha"]), ("t2", ["GET", "alpha"]), ("t", ["GET", "beta"]), ("t2", ["GET", "beta"]),
             ("t", ["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "alpha"]),
             ("t2", ["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "beta"])]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1], trackers=("t", "t2"))


def test_own_writes_in_exec_and_script_push_after_reply(ringkv, redis_ref, matrix_entry):
    """Redis queues invalidations of the running client's own writes
    (tracking_pending_keys) and sends them after its reply: after EXEC's
    array, after EVAL's reply; a FLUSHALL inside EXEC likewise."""
    steps = [("t", ["CLIENT", "TRACKING", "ON"]), ("t", ["GET", "alpha"]), ("t", ["GET", "beta"]),
             ("t", [["MULTI"], ["SET", "alpha", "1"], ["GET", "beta"], ["EXEC"]]),
             ("t", ["GET", "alpha"]),
             ("t", ["EVAL", "redis.call('set', KEYS[1], 'v'); return redis.call('set', KEYS[2], 'v')",
                    "2", "alpha", "beta"]),
             ("t", ["GET", "alpha"]), ("t", [["MULTI"], ["FLUSHALL"], ["EXEC"]])]
    same(ringkv, redis_ref, steps, shards=matrix_entry[1])


def test_bcast_multi_shard_write_is_one_message(ringkv, redis_ref, matrix_entry):
    """Redis sends a BCAST client one invalidation per prefix for all the
    keys one command changed (MSET, DEL, EXEC, a script): with several
    shards the owners' keys are gathered into that one message too, keys
    in byte order."""
    keys = [f"user:{i}" for i in range(8)]
    mset = ["MSET"] + [x for k in keys for x in (k, "1")]
    steps = [("t", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:"]),
             ("t2", ["CLIENT", "TRACKING", "ON", "BCAST"]),
             ("w", mset), ("w", ["DEL"] + keys[:5] + ["nope"]), ("w", ["UNLINK", keys[5], keys[6]]),
             ("w", [["MULTI"], ["SET", keys[0], "2"], ["SET", keys[3], "2"], ["EXEC"]]),
             ("w", ["EVAL", "for i, k in ipairs(KEYS) do redis.call('set', k, 'v') end", "3", keys[1], keys[4], keys[7]]),
             ("t2", mset)]
    same(ringkv, redis_ref, steps, trackers=("t", "t2"))
