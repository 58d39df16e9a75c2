"""No silent no-ops: a setting or command RingKV accepts must work, or be
refused with an error that names it.

AOF and the latency monitor are not implemented yet, so start-up and
CONFIG SET refuse them, and LATENCY answers what Redis answers with the
monitor off. SAVE, BGSAVE and save points work (test_dump_restore.py,
test_bgsave.py). maxmemory and every maxmemory-policy are honoured
(test_eviction.py): they are accepted, and OBJECT FREQ answers by the policy
as Redis does. INFO's memory, rate and persistence
figures are measured, not constants.
"""
from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest

import harness

# (directive and value as given, what the error must name)
REFUSED = [
    (["aof-use-rdb-preamble", "no"], "aof-use-rdb-preamble"),
    (["latency-monitor-threshold", "100"], "latency-monitor-threshold"),
    (["latency-tracking", "yes"], "latency-tracking"),
    (["daemonize", "yes"], "daemonize"),
    (["supervised", "systemd"], "supervised"),
    (["syslog-enabled", "yes"], "syslog-enabled"),
    (["always-show-logo", "yes"], "always-show-logo"),
    (["set-proc-title", "yes"], "set-proc-title"),
    (["enable-module-command", "yes"], "enable-module-command"),
    (["list-compress-depth", "1"], "list-compress-depth"),
    (["io-threads", "4"], "io-threads"),
    (["io-threads-do-reads", "yes"], "io-threads-do-reads"),
    (["active-expire-effort", "5"], "active-expire-effort"),
]
IDS = ["-".join(d) for d, _ in REFUSED]


def start_and_expect_refusal(args: list[str], cwd) -> str:
    """Runs the server; it must exit non-zero by itself, quickly."""
    cmd = [harness.ringkv_bin(), *args, "--bind", "127.0.0.1", "--port", str(harness.free_port())]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=cwd)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{args} was accepted: the server started and kept running\n"
                    f"{out.decode(errors='replace')[-2000:]}", pytrace=False)
    text = out.decode(errors="replace")
    assert proc.returncode != 0, f"{args}: exit status 0\n{text}"
    return text


@pytest.mark.parametrize("directive,needle", REFUSED, ids=IDS)
def test_startup_refuses_on_command_line(directive, needle, tmp_path):
    out = start_and_expect_refusal([f"--{directive[0]}", directive[1]], tmp_path)
    assert "FATAL CONFIG FILE ERROR" in out, out
    assert f"{needle} " in out and "not supported yet" in out, out


@pytest.mark.parametrize("directive,needle", REFUSED, ids=IDS)
def test_startup_refuses_in_config_file(directive, needle, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(f"# a comment\nport 6390\n{directive[0]} {directive[1]}\n")
    out = start_and_expect_refusal([str(conf)], tmp_path)
    # Reported like every other bad directive: file, line, the line itself, the reason.
    assert f"Reading the configuration file '{conf}', at line 3" in out, out
    assert f">>> '{directive[0]} {directive[1]}'" in out, out
    assert f"{needle} " in out and "not supported yet" in out, out


def test_startup_accepts_honoured_values(tmp_path):
    """The values RingKV honours stay valid, in a file and on the command line."""
    conf = tmp_path / "ok.conf"
    conf.write_text('save ""\nappendonly no\nmaxmemory 0\nmaxmemory-policy noeviction\n'
                    "latency-monitor-threshold 0\nlatency-tracking no\nio-threads 1\n")
    server = harness.ringkv_server(conf=str(conf), extra=["--save", "", "--appendonly", "no"])
    try:
        server.start()
        with server.raw() as c:
            assert harness.plain(c.call("CONFIG", "GET", "save")) == [b"save", b""]
            assert harness.plain(c.call("CONFIG", "GET", "appendonly")) == [b"appendonly", b"no"]
    finally:
        rc = server.stop()
        server.cleanup()
    assert rc == 0


def test_defaults_are_honoured(ringkv):
    """No default promises what is not done: Redis's default save points and
    latency-tracking yes would be silent no-ops here."""
    with ringkv.raw() as c:
        got = dict(zip(*[iter(harness.plain(c.call("CONFIG", "GET", "save", "latency-tracking",
                                                       "set-proc-title", "maxmemory")))] * 2))
    assert got == {b"save": b"", b"latency-tracking": b"no", b"set-proc-title": b"no", b"maxmemory": b"0"}


@pytest.mark.parametrize("name,value", [
    ("aof-use-rdb-preamble", "no"),
    ("latency-monitor-threshold", "1"), ("latency-tracking", "yes"),
    ("active-expire-effort", "10"),
])
def test_config_set_refuses(ringkv, name, value):
    with ringkv.raw() as c:
        before = harness.plain(c.call("CONFIG", "GET", name))
        t, msg = c.call("CONFIG", "SET", name, value)
        assert t == "-", (name, value, msg)
        assert msg.startswith(f"ERR CONFIG SET failed (possibly related to argument '{name}') - ".encode()), msg
        assert f"{name} ".encode() in msg and b"not supported yet" in msg, msg
        # Atomic, as every CONFIG SET error: nothing changed.
        assert harness.plain(c.call("CONFIG", "GET", name)) == before


def test_config_set_accepts_honoured_values(ringkv):
    with ringkv.raw() as c:
        for name, value in [("save", ""), ("appendonly", "no"), ("maxmemory", "0"),
                            ("maxmemory-policy", "noeviction"), ("latency-monitor-threshold", "0"),
                            ("latency-tracking", "no")]:
            assert c.call("CONFIG", "SET", name, value) == ("+", b"OK"), name


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                    "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"])
def test_eviction_settings_accepted(ringkv, policy):
    """maxmemory and the policies are enforced now (test_eviction.py), so
    they are accepted at start-up and by CONFIG SET."""
    with ringkv.raw() as c:
        try:
            for name, value in [("maxmemory", "100mb"), ("maxmemory-policy", policy),
                                ("maxmemory-samples", "10"), ("maxmemory-eviction-tenacity", "20"),
                                ("lfu-log-factor", "5"), ("lfu-decay-time", "2")]:
                assert c.call("CONFIG", "SET", name, value) == ("+", b"OK"), name
            assert harness.plain(c.call("CONFIG", "GET", "maxmemory-policy")) == [b"maxmemory-policy", policy.encode()]
        finally:
            for name, value in [("maxmemory", "0"), ("maxmemory-policy", "noeviction"), ("maxmemory-samples", "5"),
                                ("maxmemory-eviction-tenacity", "10"), ("lfu-log-factor", "10"),
                                ("lfu-decay-time", "1")]:
                c.call("CONFIG", "SET", name, value)


def test_eviction_settings_accepted_at_startup(server_factory):
    server = server_factory(extra=["--maxmemory", "200mb", "--maxmemory-policy", "allkeys-lfu"])
    with server.raw() as c:
        info = harness.info_dict(harness.plain(c.call("INFO", "memory")))
    assert info["maxmemory"] == str(200 * 1024 * 1024) and info["maxmemory_policy"] == "allkeys-lfu"


def test_save_command_syntax(ringkv, r):
    r.set("k", "v")
    with ringkv.raw() as c:
        assert c.call("SHUTDOWN", "SAVE", "NOSAVE") == ("-", b"ERR syntax error")
        assert c.call("BGSAVE", "NOW") == ("-", b"ERR syntax error")
        assert c.call("SHUTDOWN", "ABORT") == ("-", b"ERR No shutdown in progress.")
        # Still serving, data still there.
        assert c.call("GET", "k") == ("$", b"v")


def test_lastsave_is_start_time(server_factory, matrix_entry):
    # A server of its own: the session's may have run SAVE for another test.
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards)
    with server.raw() as c:
        last = harness.plain(c.call("LASTSAVE"))
        info = harness.info_dict(harness.plain(c.call("INFO", "persistence")))
        server = harness.info_dict(harness.plain(c.call("INFO", "server")))
    now = int(time.time())
    assert int(info["rdb_last_save_time"]) == last
    # Nothing was ever saved: Redis then reports the start time.
    assert abs(last - (now - int(server["uptime_in_seconds"]))) <= 2, (last, now, server["uptime_in_seconds"])


@pytest.mark.parametrize("mode", ["NOSAVE", None])
def test_shutdown_without_save_still_works(server_factory, matrix_entry, mode):
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards)
    with server.raw() as c:
        c.send(harness.encode("SHUTDOWN", *([mode] if mode else [])))
        c.read_until_close()
    assert server.wait(15) == 0


def test_object_freq_follows_policy(ringkv, r, redis_ref, rref):
    """OBJECT FREQ answers Redis's non-LFU error unless an LFU policy is
    selected, and then the key's counter, as Redis."""
    r.set("k", "v")
    rref.set("k", "v")
    got, want = [], []
    for server, out in ((ringkv, got), (redis_ref, want)):
        with server.raw() as c:
            out.append(c.call("OBJECT", "FREQ", "k"))
            out.append(c.call("OBJECT", "FREQ", "nosuchkey"))
            try:
                assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") == ("+", b"OK")
                out.append(c.call("OBJECT", "FREQ", "k"))
                out.append(c.call("OBJECT", "IDLETIME", "k"))
            finally:
                c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    assert got[0][0] == "-" and got == want, (got, want)


def test_latency_answers_as_redis_with_monitor_off(ringkv, redis_ref):
    with ringkv.raw() as c:
        assert c.call("CONFIG", "SET", "latency-monitor-threshold", "1")[0] == "-"
        got = [c.call("LATENCY", "LATEST"), c.call("LATENCY", "HISTORY", "command"),
               c.call("LATENCY", "RESET"), c.call("LATENCY", "RESET", "command"),
               c.call("LATENCY", "GRAPH", "command"), c.call("LATENCY", "DOCTOR")]
        hist = c.call("LATENCY", "HISTOGRAM")
        help_lines = harness.plain(c.call("LATENCY", "HELP"))
    with redis_ref.raw() as c:
        want = [c.call("LATENCY", "LATEST"), c.call("LATENCY", "HISTORY", "command"),
                c.call("LATENCY", "RESET"), c.call("LATENCY", "RESET", "command"),
                c.call("LATENCY", "GRAPH", "command"), c.call("LATENCY", "DOCTOR")]
        want_help = harness.plain(c.call("LATENCY", "HELP"))
    assert got == want
    # latency-tracking is refused too, so no command has a histogram.
    assert harness.plain(hist) in ([], {}), hist
    assert help_lines == want_help


def info(c, section: str) -> dict[str, str]:
    return harness.info_dict(harness.plain(c.call("INFO", section)))


def test_used_memory_is_allocation_not_rss(ringkv, r):
    with ringkv.raw() as c:
        before = info(c, "memory")
        value = b"x" * 1024
        for start in range(0, 50000, 1000):
            replies = c.pipeline([("SET", f"mem:{i}", value) for i in range(start, start + 1000)])
            assert all(rep == ("+", b"OK") for rep in replies)
        after = info(c, "memory")
        assert c.call("FLUSHALL") == ("+", b"OK")
        flushed = info(c, "memory")
    used0, used1, used2 = (int(m["used_memory"]) for m in (before, after, flushed))
    # 50k values of 1 KiB are at least ~50 MB of allocations, and freeing them shows.
    assert used1 - used0 >= 45_000_000, (used0, used1)
    assert used1 - used2 >= 40_000_000, (used1, used2)
    # It is malloc's figure, not the RSS (the old INFO printed the RSS for both).
    assert after["used_memory"] != after["used_memory_rss"], after
    rss, used = int(after["used_memory_rss"]), int(after["used_memory"])
    assert after["mem_fragmentation_ratio"] == f"{rss / used:.2f}" or \
        abs(float(after["mem_fragmentation_ratio"]) - rss / used) <= 0.011, after
    assert int(after["used_memory_peak"]) >= used
    assert int(flushed["used_memory_peak"]) >= used


def test_instantaneous_ops_per_sec_is_sampled(ringkv, r):
    stop = threading.Event()
    sent = [0]

    def load():
        with ringkv.raw() as c:
            batch = [("SET", f"ops:{i}", "v") for i in range(100)]
            while not stop.is_set():
                c.pipeline(batch)
                sent[0] += len(batch)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    try:
        time.sleep(2.0)  # more than Redis's 16 samples x 100 ms
        with ringkv.raw() as c:
            busy = info(c, "stats")
    finally:
        stop.set()
        t.join(10)
    ops = int(busy["instantaneous_ops_per_sec"])
    assert ops > 100, busy
    assert float(busy["instantaneous_input_kbps"]) > 0, busy
    assert float(busy["instantaneous_output_kbps"]) > 0, busy
    # A rate, not a total: it falls back once the load stops.
    deadline = time.monotonic() + harness.scaled(8)
    with ringkv.raw() as c:
        while True:
            idle = int(info(c, "stats")["instantaneous_ops_per_sec"])
            if idle < ops / 10:
                break
            assert time.monotonic() < deadline, f"still {idle} ops/sec after the load stopped (busy: {ops})"
            time.sleep(0.5)


def test_persistence_section_reports_unsaved_writes(server_factory, matrix_entry):
    # A server of its own: the session's may have run SAVE for another test.
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards)
    with server.raw() as c:
        p0 = info(c, "persistence")
        for i in range(10):
            c.call("SET", f"dirty:{i}", "v")
        p1 = info(c, "persistence")
        assert c.call("SAVE") == ("+", b"OK")
        p2 = info(c, "persistence")
    assert p1["aof_enabled"] == "0" and p1["rdb_bgsave_in_progress"] == "0" and p1["loading"] == "0"
    # Nothing was saved yet: every change since start is unsaved.
    assert p0["rdb_changes_since_last_save"] == "0", p0
    assert p1["rdb_changes_since_last_save"] == "10", p1
    assert p1["rdb_saves"] == "0"
    assert p2["rdb_changes_since_last_save"] == "0" and p2["rdb_saves"] == "1", p2


def test_pidfile_written_and_removed(tmp_path):
    pidfile = tmp_path / "ringkv.pid"
    server = harness.ringkv_server(extra=["--pidfile", str(pidfile)])
    try:
        server.start()
        assert pidfile.exists(), "pidfile not written"
        assert int(pidfile.read_text().strip()) == server.pid
        server.signal(signal.SIGTERM)
        assert server.wait(15) == 0
        assert not pidfile.exists(), "pidfile not removed at exit"
    finally:
        server.cleanup()


@pytest.mark.parametrize("mode", ["no", "local"])
def test_enable_debug_command_is_honoured(redis_ref, mode):
    """Redis 7.0 refuses DEBUG unless enable-debug-command allows it; it used
    to be accepted here and ignored."""
    ours = harness.ringkv_server("auto", 1, conf=str(harness.REPO / "configs" / "ringkv.conf"),
                                 extra=["--enable-debug-command", mode]).start()
    try:
        with ours.raw() as c:
            got = c.call("DEBUG", "ERROR", "boom")
        with redis_ref.raw() as c:   # redis_ref runs with the default, no
            want = c.call("DEBUG", "ERROR", "boom")
        if mode == "no":
            assert got == want and got[0] == "-" and b"not allowed" in got[1], (got, want)
        else:
            assert got == ("-", b"boom")   # loopback counts as local, as in Redis
    finally:
        ours.stop()
        ours.cleanup()


@pytest.mark.parametrize("mode", ["no", "local", "yes"])
def test_enable_protected_configs_is_honoured(redis_ref, mode, tmp_path):
    """CONFIG SET dir is refused unless enable-protected-configs allows it;
    `local` used to act as `no` because the client's locality was never
    passed."""
    ours = harness.ringkv_server("auto", 1, extra=["--enable-protected-configs", mode]).start()
    try:
        with ours.raw() as c:
            got = c.call("CONFIG", "SET", "dir", str(tmp_path))
        if mode == "no":
            with redis_ref.raw() as c:   # redis_ref runs with the default, no
                want = c.call("CONFIG", "SET", "dir", str(tmp_path))
            assert got == want and b"protected config" in got[1], (got, want)
        else:
            assert got == ("+", b"OK")   # loopback counts as local, as in Redis
            with ours.raw() as c:
                assert harness.plain(c.call("CONFIG", "GET", "dir"))[1] == str(tmp_path).encode()
    finally:
        ours.stop()
        ours.cleanup()


def test_keyspace_events_and_tracking_table_bound_are_honoured(ringkv, matrix_entry):
    """notify-keyspace-events is honoured (events reach a subscriber: more in
    test_notifications.py), and tracking-table-max-keys bounds the tracked
    keys: past it, keys are forgotten with an invalidation, as in Redis (per
    shard here: each shard keeps max / shards keys, at least one)."""
    with ringkv.raw() as c, ringkv.raw() as sub:
        sub.send(harness.encode("SUBSCRIBE", "__keyevent@0__:set"))
        sub.read()
        assert c.call("CONFIG", "SET", "notify-keyspace-events", "E$") == ("+", b"OK")
        try:
            c.call("SET", "honoured", "1")
            assert sub.read() == ("*", [("$", b"message"), ("$", b"__keyevent@0__:set"), ("$", b"honoured")])
        finally:
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
    shards = matrix_entry[1]
    keys = [f"bound{i}" for i in range(10)]
    with ringkv.raw() as c, ringkv.raw() as t:
        assert c.call("CONFIG", "SET", "tracking-table-max-keys", "1") == ("+", b"OK")
        try:
            t.call("HELLO", "3")
            t.call("CLIENT", "TRACKING", "ON")
            for k in keys:
                t.send(harness.encode("GET", k))
            time.sleep(0.2)
            t.send(harness.encode("PING", "end"))
            frames = []
            while (f := t.read()) != ("$", b"end"):
                frames.append(f)
            pushes = [f for f in frames if f[0] == ">"]
            kept = len({harness.shard_of(k, shards) for k in keys})
            assert len(pushes) == len(keys) - kept
        finally:
            c.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
