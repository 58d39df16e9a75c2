"""BGSAVE without fork: a point-in-time cut under concurrent writes, the
file checked by redis-check-rdb and loaded into a real redis-server 7.0,
and BGSAVE's replies, save points, LASTSAVE, INFO persistence, SIGTERM and
SHUTDOWN saving and -MISCONF compared with Redis.
"""
from __future__ import annotations

import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import harness

GEN_STRINGS = 60_000


def info(c: harness.RespConn, section: str = "persistence") -> dict[str, str]:
    return harness.info_dict(harness.plain(c.call("INFO", section)))


def wait_idle(c: harness.RespConn, timeout: float = 60.0) -> dict[str, str]:
    deadline = time.time() + harness.scaled(timeout)
    while time.time() < deadline:
        i = info(c)
        if i["rdb_bgsave_in_progress"] == "0":
            return i
        time.sleep(0.02)
    raise AssertionError("BGSAVE did not finish")


def build_generation(c: harness.RespConn, g: int) -> None:
    """The dataset as it must be at the cut: every type, TTLs, two databases."""
    c.call("FLUSHALL")
    pad = "x" * 40
    batch = []

    def flush():
        for rep in c.pipeline(batch):
            assert rep[0] != "-", rep
        batch.clear()

    for i in range(GEN_STRINGS):
        batch.append(("SET", f"s:{i}", f"g{g}:{i}:{pad}"))
        if len(batch) >= 5000:
            flush()
    for i in range(800):
        batch.append(("RPUSH", f"l:{i}", f"g{g}", "a", "b", str(i)))
        batch.append(("HSET", f"h:{i}", "gen", f"g{g}", "f", str(i)))
        batch.append(("SADD", f"set:{i}", "1", "2", str(i)))
        batch.append(("SADD", f"sset:{i}", "m", f"g{g}"))
        batch.append(("ZADD", f"z:{i}", "1", f"g{g}", "2.5", str(i)))
        batch.append(("SET", f"t:{i}", f"g{g}"))
        batch.append(("PEXPIREAT", f"t:{i}", str(4_000_000_000_000 + i)))
    flush()
    batch.append(("SELECT", "3"))
    for i in range(3000):
        batch.append(("SET", f"d3:{i}", f"g{g}"))
    batch.append(("SELECT", "0"))
    flush()


def writer(port: int, seed: int, stop: threading.Event, errors: list, counts: list) -> None:
    """Writes after the cut: none of this may reach the file."""
    rnd = random.Random(seed)
    try:
        c = harness.RespConn(port, timeout=60)
        n = 0
        while not stop.is_set() and n < 40:
            cmds = []
            for _ in range(1500):
                i = rnd.randrange(GEN_STRINGS)
                j = rnd.randrange(800)
                cmds.append(rnd.choice([
                    ("SET", f"s:{i}", "after"),
                    ("DEL", f"s:{i}"),
                    ("INCR", f"new:{seed}:{i}"),
                    ("APPEND", f"s:{i}", "+"),
                    ("EXPIRE", f"s:{i}", "1000"),
                    ("LPUSH", f"l:{j}", "after"),
                    ("HSET", f"h:{j}", "gen", "after"),
                    ("SADD", f"sset:{j}", "after"),
                    ("ZINCRBY", f"z:{j}", "1", "after"),
                    ("PERSIST", f"t:{j}"),
                    ("MOVE", f"s:{i}", "9"),
                    ("RENAME", f"t:{j}", f"renamed:{seed}:{j}"),
                ]))
            for rep in c.pipeline(cmds):
                if rep[0] == "-" and b"no such key" not in rep[1]:
                    errors.append(rep)
            n += 1
        counts.append(n)
        c.close()
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))


def check_rdb(path: Path) -> None:
    out = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "RDB looks OK" in out.stdout, out.stdout + out.stderr


def load_in_redis(path: Path, server_factory, d: Path) -> harness.Server:
    shutil.copy(path, d / "snap.rdb")
    return server_factory("redis", extra=["--dir", str(d), "--dbfilename", "snap.rdb",
                                          "--enable-debug-command", "yes"])


def test_cut_under_concurrent_writes(ringkv, redis_dbg, server_factory, tmp_path):
    """Generation g is written, BGSAVE, then writers on several connections
    overwrite, delete, expire, move, rename and add keys on every shard,
    and one connection swaps and flushes a database, all while the shards
    walk their tables: the file must hold exactly generation g."""
    with ringkv.raw() as c, redis_dbg.raw() as ref:
        c.call("FUNCTION", "FLUSH")
        build_generation(c, 1)
        build_generation(ref, 1)
        expected = harness.plain(ref.call("DEBUG", "DIGEST"))
        assert harness.plain(c.call("DEBUG", "DIGEST")) == expected
        saves = int(info(c)["rdb_saves"])

        # Everything below comes after the cut. The first writes travel with
        # BGSAVE and the walks are paced (a loaded machine once let idle
        # shards finish before the client's worker forwarded a write, and
        # nothing was copied): the writes must copy on write.
        first = [("SET", f"s:{i}", "after") for i in range(0, GEN_STRINGS, 7)]
        first += [("LPUSH", f"l:{j}", "after") for j in range(0, 800, 3)]
        c.call("CONFIG", "SET", "rdb-key-save-delay", "10")
        got = c.pipeline([("BGSAVE",), ("CONFIG", "SET", "rdb-key-save-delay", "0")] + first)
        assert got[0] == ("+", b"Background saving started")
        assert all(rep[0] != "-" for rep in got), [rep for rep in got if rep[0] == "-"][:3]
        stop = threading.Event()
        errors: list = []
        counts: list = []
        threads = [threading.Thread(target=writer, args=(ringkv.port, s, stop, errors, counts)) for s in range(4)]
        for t in threads:
            t.start()
        with ringkv.raw() as other:
            assert other.pipeline([("SELECT", "3"), ("SWAPDB", "3", "7"), ("SELECT", "7"), ("FLUSHDB",),
                                   ("SET", "d7:new", "x")])[-1] == ("+", b"OK")
        during = info(c)
        i = wait_idle(c)
        stop.set()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
        assert i["rdb_last_bgsave_status"] == "ok"
        assert int(i["rdb_saves"]) == saves + 1
        assert int(i["rdb_last_bgsave_time_sec"]) >= 0
        # The writers reached keys the walk had not: copy-on-write ran. Under
        # configs/shrunk-bounds.conf (one command in flight per client, reads
        # paused on any unsent byte) the writers are too slow to be sure of
        # outrunning the walk; the file is still checked below.
        if not harness.extra_config_args():
            assert int(i["rdb_last_cow_size"]) > 0, (during, i)
        # The live dataset did change.
        assert harness.plain(c.call("DEBUG", "DIGEST")) != expected

    path = ringkv.workdir / "dump.rdb"
    check_rdb(path)
    loaded = load_in_redis(path, server_factory, tmp_path)
    with loaded.raw() as lc:
        assert harness.plain(lc.call("DEBUG", "DIGEST")) == expected
        assert lc.call("DBSIZE") == (":", GEN_STRINGS + 6 * 800)
        assert lc.call("GET", "s:17") == ("$", b"g1:17:" + b"x" * 40)
        assert lc.call("PEXPIRETIME", "t:5") == (":", 4_000_000_000_005)
        assert lc.call("EXISTS", "d7:new") == (":", 0)
        lc.call("SELECT", "3")
        assert lc.call("DBSIZE") == (":", 3000)


def test_replies_match_redis(ringkv, redis_dbg):
    """BGSAVE's replies and errors, one after the other while the first runs."""
    with ringkv.raw() as c, redis_dbg.raw() as ref:
        for conn in (c, ref):
            conn.call("FLUSHALL")
            conn.pipeline([("SET", f"k:{i}", "v" * 20) for i in range(100_000)])
        # Redis's child must still be running when the next commands arrive.
        ref.call("CONFIG", "SET", "rdb-key-save-delay", "20")
        try:
            cmds = [("BGSAVE",), ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("SAVE",), ("BGSAVE", "NOW"),
                    ("BGSAVE", "SCHEDULE", "X")]
            got = c.pipeline(cmds)
            want = ref.pipeline(cmds)
            assert got == want
            assert got[0] == ("+", b"Background saving started")
            assert got[1] == ("-", b"ERR Background save already in progress")
            assert got[4] == ("-", b"ERR syntax error")
        finally:
            ref.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        wait_idle(c)
        wait_idle(ref)
        # SCHEDULE with nothing running starts at once; inside EXEC it is scheduled.
        assert c.call("BGSAVE", "SCHEDULE") == ref.call("BGSAVE", "SCHEDULE") == ("+", b"Background saving started")
        wait_idle(c)
        wait_idle(ref)
        before = int(info(c)["rdb_saves"])
        block = [("MULTI",), ("SET", "a", "1"), ("BGSAVE",), ("EXEC",)]
        got = c.pipeline(block)
        assert got == ref.pipeline(block)
        assert harness.plain(got[-1]) == [b"OK", b"Background saving scheduled"]
        deadline = time.time() + harness.scaled(10)
        while int(info(c)["rdb_saves"]) == before and time.time() < deadline:
            time.sleep(0.05)
        assert int(wait_idle(c)["rdb_saves"]) == before + 1
        wait_idle(ref)


def test_key_save_delay_keeps_the_save_running(ringkv, redis_dbg):
    """rdb-key-save-delay (µs per key) stretches a save as Redis's does, so
    tests can act while one runs; it is hidden from CONFIG GET patterns and
    checked like Redis's. RingKV paces the walk instead of sleeping, so the
    server keeps answering meanwhile."""
    seen = []
    for server in (ringkv, redis_dbg):
        with server.raw() as c:
            c.call("FLUSHALL")
            c.pipeline([("SET", f"d:{i}", "v") for i in range(8000)])
            checks = [c.call("CONFIG", "GET", "rdb-key-*"), c.call("CONFIG", "GET", "rdb-key-save-delay"),
                      c.call("CONFIG", "SET", "rdb-key-save-delay", "x"),
                      c.call("CONFIG", "SET", "rdb-key-save-delay", "-3"),
                      c.call("CONFIG", "GET", "rdb-key-save-delay"),
                      c.call("CONFIG", "SET", "rdb-key-save-delay", "400")]
            try:
                t0 = time.time()
                assert c.call("BGSAVE") == ("+", b"Background saving started")
                time.sleep(0.3)
                t = time.time()
                assert c.call("SET", "during", "1") == ("+", b"OK")
                answered = time.time() - t
                running = info(c)["rdb_bgsave_in_progress"]
            finally:
                c.call("CONFIG", "SET", "rdb-key-save-delay", "0")
            i = wait_idle(c)
            seen.append((checks, running, i["rdb_last_bgsave_status"]))
            if server is ringkv:
                assert answered < 0.25, answered
                # 8000 keys over the shards at 400 µs each: at least 0.3 s of walk.
                assert time.time() - t0 >= 0.3
    assert seen[0] == seen[1]
    assert seen[0][1] == "1"
    assert seen[0][0][0] == ("*", [])


def test_lastsave_and_info_fields(ringkv):
    with ringkv.raw() as c:
        c.call("FLUSHALL")
        c.pipeline([("SET", f"k:{i}", "v") for i in range(1000)])
        wait_idle(c)
        i = info(c)
        assert int(i["rdb_changes_since_last_save"]) >= 1000
        before = harness.plain(c.call("LASTSAVE"))
        time.sleep(1.05)
        assert c.call("BGSAVE") == ("+", b"Background saving started")
        i = wait_idle(c)
        assert harness.plain(c.call("LASTSAVE")) > before
        assert int(i["rdb_last_save_time"]) == harness.plain(c.call("LASTSAVE"))
        assert i["rdb_changes_since_last_save"] == "0"
        assert i["rdb_current_bgsave_time_sec"] == "-1"
        assert i["current_save_keys_total"] == "0"
        for k in ("rdb_last_cow_size", "rdb_last_bgsave_time_sec", "current_fork_perc"):
            assert k in i


def wait_for(pred, timeout: float = 10.0) -> None:
    deadline = time.time() + harness.scaled(timeout)
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.mark.parametrize("shards", [1, 4])
def test_save_point_triggers(server_factory, shards):
    s = server_factory(shards=shards, extra=["--save", "1 3"])
    with s.raw() as c:
        assert harness.plain(c.call("CONFIG", "GET", "save")) == [b"save", b"1 3"]
        c.pipeline([("SET", f"p:{i}", str(i)) for i in range(2)])
        time.sleep(2.2)
        assert not (s.workdir / "dump.rdb").exists(), "2 changes < 3: no save"
        c.call("SET", "p:2", "2")
        wait_for(lambda: (s.workdir / "dump.rdb").exists())
        i = wait_idle(c)
        assert i["rdb_last_bgsave_status"] == "ok" and i["rdb_changes_since_last_save"] == "0"
        assert c.call("CONFIG", "SET", "save", "") == ("+", b"OK")
        assert c.call("CONFIG", "SET", "save", "100 1 50 2") == ("+", b"OK")
    check_rdb(s.workdir / "dump.rdb")
    assert "changes in 1 seconds. Saving..." in s.log_tail()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SHUTDOWN"])
def test_shutdown_saves_with_save_points(server_factory, how):
    s = server_factory(shards=4, extra=["--save", "3600 1"])
    with s.raw() as c:
        c.pipeline([("SET", f"q:{i}", str(i)) for i in range(500)])
        if how == "SHUTDOWN":
            c.send(harness.encode("SHUTDOWN"))
    if how != "SHUTDOWN":
        s.signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGINT)
    assert s.wait(15) == 0
    path = s.workdir / "dump.rdb"
    check_rdb(path)
    again = server_factory(shards=2, extra=["--dir", str(s.workdir)])
    with again.raw() as c:
        assert c.call("DBSIZE") == (":", 500)
        assert c.call("GET", "q:499") == ("$", b"499")


def test_no_save_on_sigterm_without_save_points(server_factory):
    s = server_factory(shards=2)
    with s.raw() as c:
        c.call("SET", "a", "1")
    s.signal(signal.SIGTERM)
    assert s.wait(15) == 0
    assert not (s.workdir / "dump.rdb").exists()


def test_misconf_after_failed_bgsave(server_factory, tmp_path):
    """A BGSAVE that cannot write its file with save points set: writes and
    PING get -MISCONF (reads go on) until a save succeeds, as in Redis."""
    replies = []
    for kind in ("ringkv", "redis"):
        data = tmp_path / kind
        data.mkdir()
        extra = ["--save", "3600 1000", "--dir", str(data), "--enable-protected-configs", "yes"]
        s = server_factory(kind, shards=4, extra=extra) if kind == "ringkv" else server_factory(kind, extra=extra)
        with s.raw() as c:
            c.call("SET", "k", "v")
            shutil.rmtree(data)
            assert c.call("BGSAVE") == ("+", b"Background saving started")
            wait_for(lambda: info(c)["rdb_last_bgsave_status"] == "err")
            wait_idle(c)
            time.sleep(0.3)  # RingKV refreshes the write ban at its cron tick
            seq = [("SET", "k", "w"), ("GET", "k"), ("PING",), ("MULTI",), ("SET", "k", "x"), ("EXEC",),
                   ("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"), ("SET", "k", "y")]
            got = c.pipeline(seq[:6])
            c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
            time.sleep(0.3)
            got.append(c.call("SET", "k", "y"))
            c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
            data.mkdir()
            # The old working directory is gone for good: CONFIG SET dir enters the new one.
            assert c.call("CONFIG", "SET", "dir", str(data)) == ("+", b"OK")
            assert c.call("BGSAVE") == ("+", b"Background saving started")
            wait_for(lambda: info(c)["rdb_last_bgsave_status"] == "ok")
            time.sleep(0.3)
            got.append(c.call("SET", "k", "z"))
            replies.append(got)
    assert replies[0] == replies[1]
    assert replies[0][0][0] == "-" and replies[0][0][1].startswith(b"MISCONF ")
    assert replies[0][1] == ("$", b"v")
    assert replies[0][-1] == ("+", b"OK")


@pytest.mark.parametrize("name", ["save", "bgsave", "lastsave"])
def test_command_info_and_docs(ringkv, redis_ref, name):
    with ringkv.raw() as c, redis_ref.raw() as ref:
        for sub in ("INFO", "DOCS"):
            assert c.call("COMMAND", sub, name) == ref.call("COMMAND", sub, name), (sub, name)


def test_flushall_with_save_points_saves_empty_dataset(server_factory):
    """FLUSHALL with save points stops a running BGSAVE and writes the empty
    dataset at once (not counted in rdb_saves), as Redis's does."""
    seen = []
    for kind in ("ringkv", "redis"):
        s = server_factory(kind, shards=4, extra=["--save", "3600 1"]) if kind == "ringkv" \
            else server_factory(kind, extra=["--save", "3600 1"])
        with s.raw() as c:
            c.pipeline([("SET", f"f:{i}", "v" * 50) for i in range(50_000)])
            if kind == "redis":
                c.call("CONFIG", "SET", "rdb-key-save-delay", "50")
            got = c.pipeline([("BGSAVE",), ("FLUSHALL",), ("SET", "after", "1")])
            wait_idle(c)
            i = info(c)
            seen.append((got, i["rdb_changes_since_last_save"], i["rdb_saves"], i["rdb_last_bgsave_status"]))
        again = server_factory("ringkv", extra=["--dir", str(s.workdir)])
        with again.raw() as c:
            assert c.call("DBSIZE") == (":", 0), kind
    assert seen[0] == seen[1]
    assert seen[0][0] == [("+", b"Background saving started"), ("+", b"OK"), ("+", b"OK")]
