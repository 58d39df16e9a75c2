"""The append-only file (Redis 7.0 multi-part AOF) against redis-server 7.0.

* RingKV's appendonlydir, after a mix of every type with expiries, several
  databases, MULTI/EXEC, scripts, FLUSHDB/SWAPDB and a BGREWRITEAOF midway,
  loads into redis-server with the same DEBUG DIGEST, and redis-check-aof
  accepts it; redis-server's appendonlydir loads into RingKV the same way.
* The logged forms are Redis's deterministic ones (PXAT, PEXPIREAT, SREM
  for SPOP, LPOP for BLPOP, MULTI/EXEC around a script's writes, ...).
* A torn tail loads with aof-load-truncated yes (and is cut off) and stops
  the start with no.
* Short form of Tests/stress/aof_crash.py: kill -9 under appendfsync always
  loses no acknowledged write.
"""
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

import harness

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stress"))
import aof_crash  # noqa: E402

AOF = ["--appendonly", "yes", "--appendfsync", "always"]
DEBUG = ["--enable-debug-command", "yes"]


def start(kind, matrix_entry=None, extra=(), workdir=None):
    if kind == "ringkv":
        backend, shards = matrix_entry
        s = harness.ringkv_server(backend, shards, extra=list(extra))
    else:
        s = harness.redis_server(extra=DEBUG + list(extra))
    if workdir is not None:
        shutil.rmtree(s.workdir)
        shutil.copytree(workdir, s.workdir)
    return s.start()


def digest(c):
    return c.execute_command("DEBUG", "DIGEST")


def reloaded_digest(kind, workdir, matrix_entry=None, extra=AOF):
    """DEBUG DIGEST of a server started on a copy of `workdir`, and its log."""
    s = start(kind, matrix_entry, extra, workdir=workdir)
    try:
        return digest(s.client()), s.log_tail()
    finally:
        s.cleanup()


def mix(c, seed, n=400):
    """A seeded mix of write commands of every type over 3 databases; keys
    span shards. Errors are part of the mix (same on both servers)."""
    rng = random.Random(seed)
    keys = [f"k{i}" for i in range(24)]

    def k():
        return rng.choice(keys)

    def v():
        return str(rng.randint(0, 50))

    cmds = [
        lambda: ("SET", k(), v()),
        lambda: ("SET", k(), v(), "EX", "1000"),
        lambda: ("SET", k(), v(), "PX", "900000", "NX"),
        lambda: ("SET", k(), v(), "EXAT", str(int(time.time()) + 5000), "GET"),
        lambda: ("SETEX", k(), "2000", v()),
        lambda: ("PSETEX", k(), "2000000", v()),
        lambda: ("INCR", "n" + v()),
        lambda: ("INCRBYFLOAT", "f" + v(), "1.25"),
        lambda: ("APPEND", k(), v()),
        lambda: ("SETRANGE", k(), "3", v()),
        lambda: ("GETEX", k(), "EX", "3000"),
        lambda: ("GETEX", k(), "PERSIST"),
        lambda: ("GETDEL", k()),
        lambda: ("MSET", k(), v(), k(), v(), k(), v()),
        lambda: ("EXPIRE", k(), "4000"),
        lambda: ("PEXPIRE", k(), "4000000"),
        lambda: ("EXPIREAT", k(), str(int(time.time()) + 4000)),
        lambda: ("EXPIRE", k(), "-1"),
        lambda: ("PERSIST", k()),
        lambda: ("DEL", k(), k()),
        lambda: ("UNLINK", k()),
        lambda: ("RENAME", k(), k()),
        lambda: ("COPY", k(), k(), "REPLACE"),
        lambda: ("MOVE", k(), "2"),
        lambda: ("RPUSH", "l" + v()[:1], v(), v(), v()),
        lambda: ("LPUSH", "l" + v()[:1], v()),
        lambda: ("LPOP", "l" + v()[:1]),
        lambda: ("BLPOP", "l" + v()[:1], "l" + v()[:1], "0.01"),
        lambda: ("LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "2"),
        lambda: ("LMOVE", "l" + v()[:1], "l" + v()[:1], "LEFT", "RIGHT"),
        lambda: ("HSET", "h" + v()[:1], v(), v(), v(), v()),
        lambda: ("HINCRBYFLOAT", "h" + v()[:1], v(), "0.5"),
        lambda: ("HDEL", "h" + v()[:1], v()),
        lambda: ("SADD", "s" + v()[:1], v(), v(), v(), v()),
        lambda: ("SPOP", "s" + v()[:1]),
        lambda: ("SPOP", "s" + v()[:1], "2"),
        lambda: ("SREM", "s" + v()[:1], v()),
        lambda: ("SINTERSTORE", "si", "s1", "s2"),
        lambda: ("ZADD", "z" + v()[:1], v(), v(), v(), v()),
        lambda: ("ZINCRBY", "z" + v()[:1], "1.5", v()),
        lambda: ("ZPOPMIN", "z" + v()[:1]),
        lambda: ("BZPOPMAX", "z" + v()[:1], "0.01"),
        lambda: ("ZMPOP", "1", "z" + v()[:1], "MIN", "COUNT", "2"),
        lambda: ("ZUNIONSTORE", "zu", "2", "z1", "z2"),
        lambda: ("XADD", "x" + v()[:1], "*", "f", v()),
        lambda: ("XADD", "x" + v()[:1], "MAXLEN", "5", "*", "f", v()),
        lambda: ("PFADD", "p" + v()[:1], v(), v()),
        lambda: ("SETBIT", "b" + v()[:1], v(), "1"),
        lambda: ("RESTORE", "r" + v(), "500000", DUMP, "REPLACE"),
        lambda: ("GEOADD", "g", "13.36", "38.11", v()),
        lambda: ("SORT", "l1", "ALPHA", "STORE", "sorted"),
    ]
    for i in range(n):
        if i % 97 == 50:
            c.execute_command("SELECT", rng.choice(["0", "1", "2"]))
        if i % 131 == 70:
            c.execute_command("MULTI")
            for _ in range(3):
                try:
                    c.execute_command(*cmds[rng.randrange(len(cmds))]())
                except (ValueError, redis.ResponseError):
                    pass  # redis-py parses QUEUED as the command's reply
            c.execute_command("EXEC")
            continue
        if i % 151 == 80:
            c.execute_command("EVAL", "redis.call('set', KEYS[1], ARGV[1]); redis.call('incr', 'n1'); "
                              "return redis.call('spop', 'scripted')", 1, "k1", v())
            continue
        try:
            c.execute_command(*cmds[rng.randrange(len(cmds))]())
        except redis.ResponseError:
            pass
    c.execute_command("SELECT", "0")


DUMP = None


@pytest.fixture(autouse=True, scope="module")
def dump_payload(redis_ref):
    global DUMP
    c = redis_ref.client()
    c.set("dumped", "payload-value")
    DUMP = c.dump("dumped")
    c.flushall()


def stream_groups(c):
    c.execute_command("XGROUP", "CREATE", "x1", "g", "0", "MKSTREAM")
    c.execute_command("XADD", "x1", "*", "a", "1")
    c.execute_command("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "x1", ">")


def fill(c, seed):
    c.sadd("scripted", "a", "b", "c", "d")
    mix(c, seed)
    stream_groups(c)
    c.execute_command("SELECT", "1")
    c.set("in-db1", "v")
    c.execute_command("SELECT", "0")
    assert c.execute_command("BGREWRITEAOF")
    wait_rewrite(c)
    mix(c, seed + 1)
    c.execute_command("SWAPDB", "1", "2")
    c.execute_command("SELECT", "2")
    c.execute_command("FLUSHDB")
    c.execute_command("SELECT", "0")
    mix(c, seed + 2, n=200)


def wait_rewrite(c):
    for _ in range(200):
        if c.info("persistence")["aof_rewrite_in_progress"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("rewrite did not finish")


def test_ringkv_aof_loads_into_redis(matrix_entry):
    ours = start("ringkv", matrix_entry, AOF)
    try:
        c = ours.client(single_connection_client=True)
        fill(c, 11)
        want = digest(c)
        assert want != b"0" * 40
        assert c.dbsize() > 0
        ours.kill()
        d = ours.workdir / "appendonlydir"
        check = subprocess.run(["redis-check-aof", str(d / "appendonly.aof.manifest")],
                               capture_output=True, text=True)
        assert check.returncode == 0 and "All AOF files and manifest are valid" in check.stdout, check.stdout
        got, log = reloaded_digest("redis", ours.workdir, extra=["--appendonly", "yes"])
        assert got == want, log
        # And RingKV itself reloads it.
        got, log = reloaded_digest("ringkv", ours.workdir, matrix_entry, AOF)
        assert got == want, log
    finally:
        ours.cleanup()


def test_redis_aof_loads_into_ringkv(matrix_entry):
    ref = start("redis", extra=AOF)
    try:
        c = ref.client(single_connection_client=True)
        fill(c, 22)
        want = digest(c)
        ref.kill()
        got, log = reloaded_digest("ringkv", ref.workdir, matrix_entry, AOF)
        assert got == want, log
    finally:
        ref.cleanup()


def man_text(server):
    return (server.workdir / "appendonlydir" / "appendonly.aof.manifest").read_text()


def incr_file(server):
    d = server.workdir / "appendonlydir"
    return sorted(d.glob("*.incr.aof"))[-1]


def test_logged_forms_match_redis(matrix_entry):
    """The incr file's records are Redis 7.0's deterministic forms."""
    ours = start("ringkv", matrix_entry, AOF)
    try:
        c = ours.client()
        c.set("a", "1", ex=100)
        c.execute_command("SETEX", "b", 100, "x")
        c.incrbyfloat("f", 1.5)
        c.sadd("s", "m")
        c.spop("s")
        c.rpush("l", "x", "y")
        c.blpop(["l"], 0)
        c.execute_command("LMPOP", "1", "l", "RIGHT", "COUNT", "5")
        c.expire("a", -1)
        c.delete("missing")
        c.set("a", "2", nx=True)
        c.set("a", "3", nx=True)
        c.eval("redis.call('set', 'q', '1'); redis.call('incr', 'q')", 0)
        data = incr_file(ours).read_bytes()
        text = data.replace(b"\r\n", b" ")
        assert b"$3 SET $1 a $1 1 $4 PXAT $13" in text
        assert b"$3 SET $1 b $1 x $4 PXAT $13" in text
        assert b"*4 $3 SET $1 f $3 1.5 $7 KEEPTTL" in text
        assert b"*3 $4 SREM $1 s $1 m" in text
        assert b"*2 $4 LPOP $1 l" in text
        assert b"*3 $4 RPOP $1 l $1 1" in text
        assert b"*2 $3 DEL $1 a" in text
        assert b"missing" not in text
        # SET NX that did nothing is not logged; the first one is.
        assert text.count(b"$1 a $1 2") == 1 and b"$1 a $1 3" not in text
        assert b"*1 $5 MULTI *3 $3 set $1 q $1 1 *2 $4 incr $1 q *1 $4 EXEC" in text
        assert data.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
        man = (ours.workdir / "appendonlydir" / "appendonly.aof.manifest").read_text()
        assert man == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                       "file appendonly.aof.1.incr.aof seq 1 type i\n")
        info = c.info("persistence")
        assert info["aof_enabled"] == 1 and info["aof_last_write_status"] == "ok"
        assert info["aof_current_size"] == len(data) + info["aof_base_size"] and info["aof_base_size"] > 0
        with ours.raw() as rc:
            assert rc.call("BGREWRITEAOF") == ("+", b"Background append only file rewriting started")
        # The base comes from the forkless snapshot: the rewrite ends later.
        wait_rewrite(c)
        info = c.info("persistence")
        assert info["aof_rewrites"] == 2 and info["aof_current_size"] == info["aof_base_size"]
        assert man_text(ours) == ("file appendonly.aof.2.base.rdb seq 2 type b\n"
                                  "file appendonly.aof.2.incr.aof seq 2 type i\n")
        assert sorted(f.name for f in (ours.workdir / "appendonlydir").iterdir()) == [
            "appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    finally:
        ours.cleanup()


def test_config_set_appendonly_live(matrix_entry):
    backend, shards = matrix_entry
    ours = start("ringkv", matrix_entry)
    try:
        c = ours.client()
        c.set("before", "1")
        assert c.info("persistence")["aof_enabled"] == 0
        assert c.config_set("appendonly", "yes")
        assert c.info("persistence")["aof_enabled"] == 1
        c.set("after", "2")
        c.config_set("appendonly", "no")
        c.set("not-logged", "3")
        ours.kill()
        again = start("ringkv", matrix_entry, AOF, workdir=ours.workdir)
        try:
            c2 = again.client()
            assert c2.get("before") == b"1" and c2.get("after") == b"2" and c2.get("not-logged") is None
        finally:
            again.cleanup()
    finally:
        ours.cleanup()


def test_truncated_tail(matrix_entry):
    ours = start("ringkv", matrix_entry, AOF)
    try:
        c = ours.client()
        for i in range(50):
            c.set(f"key{i}", i)
        ours.kill()
        f = incr_file(ours)
        whole = f.stat().st_size
        with open(f, "ab") as fh:
            fh.write(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval")
        # aof-load-truncated no: refused, with Redis's message.
        refused = harness.ringkv_server(*matrix_entry, extra=AOF + ["--aof-load-truncated", "no"])
        shutil.rmtree(refused.workdir)
        shutil.copytree(ours.workdir, refused.workdir)
        with pytest.raises(harness.ServerError):
            refused.start(timeout=10)
        assert "Unexpected end of file reading the append only file" in refused.log_tail()
        refused.cleanup()
        # yes: loads what is whole, cuts the tail off, says so.
        again = start("ringkv", matrix_entry, AOF + ["--aof-load-truncated", "yes"], workdir=ours.workdir)
        try:
            c2 = again.client()
            assert c2.dbsize() == 50 and c2.get("torn") is None
            assert "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled" in again.log_tail()
            assert incr_file(again).stat().st_size >= whole
            c2.set("new", "1")
        finally:
            again.cleanup()
    finally:
        ours.cleanup()


def test_truncated_multi_is_dropped(matrix_entry):
    ours = start("ringkv", matrix_entry, AOF)
    try:
        c = ours.client()
        c.set("kept", "1")
        ours.kill()
        with open(incr_file(ours), "ab") as fh:
            fh.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\n1\r\n")
        again = start("ringkv", matrix_entry, AOF, workdir=ours.workdir)
        try:
            c2 = again.client()
            assert c2.get("kept") == b"1" and c2.get("half") is None
        finally:
            again.cleanup()
    finally:
        ours.cleanup()


def test_global_commands_logged_once_in_order(matrix_entry):
    """FLUSHALL and SWAPDB run on every shard but are logged once, between
    the writes that came before and after them on any connection."""
    ours = start("ringkv", matrix_entry, AOF)
    try:
        conns = [ours.client() for _ in range(3)]
        for round_no in range(5):
            for i, c in enumerate(conns):
                c.mset({f"r{round_no}c{i}k{j}": j for j in range(10)})
            conns[round_no % 3].flushall()
            for i, c in enumerate(conns):
                c.set(f"after{round_no}c{i}", 1)
            conns[0].swapdb(0, 1)
        want = digest(conns[0])
        text = incr_file(ours).read_bytes()
        assert text.count(b"FLUSHALL") == 5 and text.count(b"SWAPDB") == 5
        ours.kill()
        got, log = reloaded_digest("ringkv", ours.workdir, matrix_entry, AOF)
        assert got == want, log
    finally:
        ours.cleanup()


def test_timestamps(matrix_entry):
    ours = start("ringkv", matrix_entry, AOF + ["--aof-timestamp-enabled", "yes"])
    try:
        ours.client().set("a", "1")
        ours.kill()
        assert incr_file(ours).read_bytes().startswith(b"#TS:")
        again = start("ringkv", matrix_entry, AOF, workdir=ours.workdir)
        try:
            assert again.client().get("a") == b"1"
        finally:
            again.cleanup()
    finally:
        ours.cleanup()


def test_crash_always_loses_nothing(matrix_entry):
    backend, shards = matrix_entry
    r = aof_crash.run(backend, shards, kills=3, fsync="always", min_s=0.2, max_s=0.6, seed=7, log=lambda *_: None,
                      globals_=True)
    # Enough acknowledged writes for the kills to land mid-stream: 3,500 to
    # 6,500 on a 2-core machine running two fuzzers, 1,100 to 3,300 under
    # configs/shrunk-bounds.conf (one command in flight per client), and
    # under 1,000 there once on a busier machine.
    assert r["acked"] > 300
    assert r["lost"] == 0, r["log"]


def test_crash_checker_sees_loss_without_aof():
    """The checker can fail: without the AOF a restart loses everything."""
    r = aof_crash.run("auto", 1, kills=1, fsync="always", min_s=0.2, max_s=0.3, seed=1,
                      log=lambda *_: None, appendonly="no")
    assert r["lost"] > 0


def test_blocked_pop_served_later_logged_as_pop(matrix_entry):
    import threading
    ours = start("ringkv", matrix_entry, AOF)
    try:
        waiter = ours.client()
        got = {}
        t = threading.Thread(target=lambda: got.setdefault("r", waiter.blpop(["wl"], 5)))
        t2 = threading.Thread(target=lambda: got.setdefault("m", ours.client().blmove("src", "dst", 5, "LEFT", "RIGHT")))
        t.start()
        t2.start()
        time.sleep(0.3)
        c = ours.client()
        c.rpush("wl", "a", "b")
        c.rpush("src", "x")
        t.join(5)
        t2.join(5)
        assert got["r"] == (b"wl", b"a") and got["m"] == b"x"
        want = digest(c)
        text = incr_file(ours).read_bytes().replace(b"\r\n", b" ")
        assert b"*2 $4 LPOP $2 wl" in text and b"BLPOP" not in text.upper()
        assert b"*5 $5 LMOVE $3 src $3 dst $4 LEFT $5 RIGHT" in text
        ours.kill()
        got, log = reloaded_digest("redis", ours.workdir, extra=["--appendonly", "yes"])
        assert got == want, log
    finally:
        ours.cleanup()


def test_auto_rewrite(matrix_entry):
    ours = start("ringkv", matrix_entry, AOF + ["--auto-aof-rewrite-min-size", "4096",
                                                "--auto-aof-rewrite-percentage", "100"])
    try:
        c = ours.client()
        for i in range(200):
            c.set(f"key{i}", "x" * 40)
        for _ in range(100):
            if c.info("persistence")["aof_rewrites"] >= 2:
                break
            time.sleep(0.05)
        info = c.info("persistence")
        assert info["aof_rewrites"] >= 2, info
        want = digest(c)
        ours.kill()
        got, log = reloaded_digest("ringkv", ours.workdir, matrix_entry, AOF)
        assert got == want, log
    finally:
        ours.cleanup()


def test_bgrewriteaof_command_meta(matrix_entry, redis_ref):
    ours = start("ringkv", matrix_entry)
    try:
        with ours.raw() as a, redis_ref.raw() as b:
            for sub in ("INFO", "DOCS"):
                assert a.call("COMMAND", sub, "bgrewriteaof") == b.call("COMMAND", sub, "bgrewriteaof")
            # With appendonly no, Redis writes a base and a manifest (no incr file).
            assert a.call("BGREWRITEAOF") == ("+", b"Background append only file rewriting started")
        d = ours.workdir / "appendonlydir"
        assert (d / "appendonly.aof.manifest").read_text() == "file appendonly.aof.1.base.rdb seq 1 type b\n"
        assert ours.client().info("persistence")["aof_enabled"] == 0
    finally:
        ours.cleanup()


def test_old_style_aof_is_refused_not_dropped(matrix_entry):
    s = harness.ringkv_server(*matrix_entry, extra=AOF)
    (s.workdir / "appendonly.aof").write_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n")
    try:
        with pytest.raises(harness.ServerError):
            s.start(timeout=10)
        assert "old-style append only file" in s.log_tail()
    finally:
        s.cleanup()


def test_relative_times_in_a_loaded_file(matrix_entry):
    """Files written by older Redis versions carry EXPIRE/SETEX as sent:
    they are replayed against the time of loading."""
    ours = start("ringkv", matrix_entry, AOF)
    try:
        ours.kill()
        with open(incr_file(ours), "ab") as fh:
            fh.write(harness.encode("SET", "k", "v") + harness.encode("EXPIRE", "k", "1000")
                     + harness.encode("SETEX", "s", "2000", "v"))
        again = start("ringkv", matrix_entry, AOF, workdir=ours.workdir)
        try:
            c = again.client()
            assert 990 <= c.ttl("k") <= 1000 and 1990 <= c.ttl("s") <= 2000
        finally:
            again.cleanup()
    finally:
        ours.cleanup()


def test_functions_survive_restart(matrix_entry):
    ours = start("ringkv", matrix_entry, AOF)
    try:
        c = ours.client()
        lib = "#!lua name=mylib\nredis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)"
        c.execute_command("FUNCTION", "LOAD", lib)
        c.execute_command("FCALL", "myset", 1, "fk", "fv")
        ours.kill()
        text = incr_file(ours).read_bytes()
        assert b"FUNCTION" in text and b"FCALL" not in text.upper()
        for kind, extra in (("ringkv", AOF), ("redis", ["--appendonly", "yes"])):
            s = start(kind, matrix_entry, extra, workdir=ours.workdir)
            try:
                c2 = s.client()
                assert c2.get("fk") == b"fv"
                assert c2.execute_command("FCALL", "myset", 1, "fk", "again") == b"OK"
            finally:
                s.cleanup()
    finally:
        ours.cleanup()


def test_rewrite_under_concurrent_writes(matrix_entry):
    """BGREWRITEAOF while connections write on every shard: the base (a
    forkless snapshot at the cut) plus the new incr file is the dataset."""
    import threading
    ours = start("ringkv", matrix_entry, AOF)
    try:
        stop = threading.Event()

        def writer(n):
            c = ours.client()
            i = 0
            while not stop.is_set():
                c.set(f"w{n}:{i % 300}", i)
                c.incr(f"cnt{n}")
                c.rpush(f"list{n}", i)
                i += 1

        c = ours.client()
        for i in range(2000):
            c.set(f"pre{i}", "x" * 20)
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        assert c.execute_command("BGREWRITEAOF")
        wait_rewrite(c)
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        assert c.info("persistence")["aof_rewrites"] == 2
        want = digest(c)
        ours.kill()
        for kind, extra in (("ringkv", AOF), ("redis", ["--appendonly", "yes"])):
            got, log = reloaded_digest(kind, ours.workdir, matrix_entry, extra)
            assert got == want, log
    finally:
        ours.cleanup()


def test_xclaim_logged_with_the_ids_it_claimed(matrix_entry):
    """XCLAIM/XAUTOCLAIM depend on idle times: the log names the IDs they
    claimed with min-idle-time 0, so a later replay claims the same ones."""
    ours = start("ringkv", matrix_entry, AOF)
    try:
        c = ours.client()
        ids = [c.xadd("st", {"f": i}) for i in range(6)]
        c.xgroup_create("st", "g", "0")
        c.xreadgroup("g", "alice", {"st": ">"}, count=6)
        time.sleep(0.05)
        c.execute_command("XCLAIM", "st", "g", "bob", "20", ids[0], ids[1])
        c.execute_command("XCLAIM", "st", "g", "bob", "3600000", ids[2])       # too recent: nothing
        c.xdel("st", ids[5])
        c.execute_command("XAUTOCLAIM", "st", "g", "carol", "0", ids[3], "COUNT", "5")
        def pending(server):
            with server.raw() as rc:
                return [harness.plain(rc.call("XPENDING", "st", "g", "-", "+", "10", name))
                        for name in ("alice", "bob", "carol")]

        want = pending(ours)
        text = incr_file(ours).read_bytes().replace(b"\r\n", b" ")
        assert b"$6 XCLAIM $2 st $1 g $3 bob $1 0 $15" in text and b"3600000" not in text
        ours.kill()
        for kind, extra in (("ringkv", AOF), ("redis", ["--appendonly", "yes"])):
            s = start(kind, matrix_entry, extra, workdir=ours.workdir)
            try:
                got = pending(s)
                # Same IDs per consumer and delivery counts (idle times differ).
                assert [[(e[0], e[3]) for e in g] for g in got] == [[(e[0], e[3]) for e in g] for g in want], kind
            finally:
                s.cleanup()
    finally:
        ours.cleanup()


def test_migrate_logged_as_del_of_moved_keys(matrix_entry):
    """MIGRATE is logged as Redis logs it: DEL of the keys it moved (a key
    it could not move stays and is not named), never MIGRATE itself, so a
    reload does not migrate again and has the moved keys gone."""
    ours = start("ringkv", matrix_entry, AOF)
    target = harness.redis_server(extra=["--save", ""]).start()
    try:
        c = ours.client()
        t = target.client()
        for k in ("m1", "m2", "m3", "stay"):
            c.set(k, k)
        t.set("stay", "busy")  # BUSYKEY on the target: not moved
        assert c.execute_command("MIGRATE", "127.0.0.1", target.port, "m1", 0, 2000) == b"OK"
        with pytest.raises(redis.ResponseError, match="BUSYKEY"):
            c.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 2000, "KEYS", "m2", "m3", "stay")
        c.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 2000, "COPY", "KEYS", "stay2")
        text = incr_file(ours).read_bytes().replace(b"\r\n", b" ")
        assert b"MIGRATE" not in text.upper()
        assert b"*2 $3 DEL $2 m1" in text
        # The keys moved before the error are deleted and logged; "stay" is not.
        assert b"*3 $3 DEL $2 m2 $2 m3 " in text
        assert text.count(b"$4 stay") == 2  # its SET (key and value) only
        want = sorted(c.keys("*"))
        assert want == [b"stay"]
        ours.kill()
        s = start("ringkv", matrix_entry, AOF, workdir=ours.workdir)
        try:
            assert sorted(s.client().keys("*")) == want
        finally:
            s.cleanup()
    finally:
        target.cleanup()
        ours.cleanup()
