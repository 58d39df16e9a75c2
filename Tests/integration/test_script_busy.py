"""A script past busy-reply-threshold (lua-time-limit): every other
connection, on any worker and on the script's own one, gets -BUSY at once,
and the commands Redis allows while busy run (SCRIPT KILL, FUNCTION KILL,
SHUTDOWN NOSAVE, MULTI/DISCARD, ...). The same steps run against a real
redis-server 7.0 and the replies are compared.

With 1 shard every connection shares the script's worker: before the worker
served events from the Lua hook, they got nothing until the script ended.
"""
from __future__ import annotations

import socket
import time

import pytest
import redis

import harness
from harness import RespConn, encode

SPIN = "local i = 0 while true do i = i + 1 end"
WRITE_SPIN = "redis.call('set', 'w', '1') while true do end"
LIB = ("#!lua name=busylib\n"
       "redis.register_function{function_name='spin', callback=function(keys, args) while true do end end,"
       " flags={'no-writes'}}\n"
       "redis.register_function('wspin', function(keys, args) redis.call('set', 'w', '1') while true do end end)\n")
MATRIX = [("uring", 1), ("epoll", 1), ("uring", 4), ("epoll", 4)]
IDS = [f"{b}-{s}" for b, s in MATRIX]
BUSY_EVAL = ("-", b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
BUSY_FCALL = ("-", b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")


def ringkv(server_factory, backend, shards, limit_flag="--busy-reply-threshold"):
    return server_factory(shards=shards, backend=backend, extra=[limit_flag, "100"])


def reference(server_factory):
    return server_factory("redis", extra=["--busy-reply-threshold", "100"])


def wait_busy(port: int, want=BUSY_EVAL) -> None:
    """A fresh connection's PING is refused with -BUSY within about a second
    of the script going busy (100 ms): it is never left waiting for the script."""
    t0 = time.monotonic()
    while True:
        with RespConn(port, timeout=2) as c:
            try:
                got = c.call("PING")
            except socket.timeout:
                pytest.fail("PING got no reply while a script was busy")
        if got == want:
            break
        assert got == ("+", b"PONG"), got
        assert time.monotonic() - t0 < 3, "the script never became busy"
        time.sleep(0.02)
    assert time.monotonic() - t0 < 1.5


def start_busy(port: int, *cmd, want=BUSY_EVAL) -> RespConn:
    """Sends a spinning script on a new connection and waits until it is busy."""
    runner = RespConn(port, timeout=20)
    runner.send(encode(*cmd))
    wait_busy(port, want)
    return runner


def kill_from_probe(port):
    """SCRIPT KILL from a new connection."""
    with RespConn(port, timeout=2) as k:
        return k.call("SCRIPT", "KILL")


def probes(port: int, n: int = 8) -> list[RespConn]:
    # Several connections, so with 4 shards some share the script's worker.
    return [RespConn(port, timeout=2) for _ in range(n)]


def kill_case(port: int, start, kill, busy_reply) -> list:
    """Starts a read-only spinning script, probes other connections, kills
    the script from one of them, then checks the server serves again."""
    early = RespConn(port, timeout=5)
    assert early.call("MULTI") == ("+", b"OK")
    runner = start_busy(port, *start, want=busy_reply)
    out = []
    conns = probes(port)
    for c in conns:
        out.append(c.call("GET", "x"))
    # Pipelined in one write: each command answered in order.
    conns[0].send(encode("PING") + encode("ECHO", "a") + encode("MULTI") + encode("SET", "k", "v")
                  + encode("EXEC") + encode("PING"))
    out += [conns[0].read() for _ in range(6)]
    # A MULTI opened before the script: flagged by the refusal, EXEC aborts it.
    out.append(early.call("SET", "k", "v"))
    out.append(early.call("EXEC"))
    out.append(conns[1].call("SHUTDOWN"))
    out.append(conns[1].call("SHUTDOWN", "SAVE"))
    out.append(conns[1].call("FUNCTION", "STATS") if start[0] == "EVAL" else ("skip",))
    out.append(conns[2].call("SCRIPT" if kill[0] == "FUNCTION" else "FUNCTION", "KILL"))
    # The script's own connection, while it waits: answered after the script.
    runner.send(encode("PING"))
    out.append(conns[3].call(*kill))
    out.append(runner.read())
    out.append(runner.read())
    for c in [early, *conns]:
        out.append(c.call("PING"))
    out.append(conns[4].call("SCRIPT", "KILL"))
    for c in [early, runner, *conns]:
        c.close()
    return out


@pytest.mark.parametrize("backend,shards", MATRIX, ids=IDS)
def test_script_kill_from_any_connection(server_factory, backend, shards):
    s = ringkv(server_factory, backend, shards, "--lua-time-limit")
    ref = reference(server_factory)
    start = ("EVAL", SPIN, "0")
    got = kill_case(s.port, start, ("SCRIPT", "KILL"), BUSY_EVAL)
    want = kill_case(ref.port, start, ("SCRIPT", "KILL"), BUSY_EVAL)
    assert got == want
    assert got[0] == BUSY_EVAL
    assert ("+", b"OK") in got
    with RespConn(s.port) as c:
        info = harness.info_dict(c.call("INFO", "errorstats")[1])
    assert int(info["errorstat_BUSY"].split("=")[1]) >= 8


@pytest.mark.parametrize("backend,shards", [("uring", 1), ("epoll", 4)], ids=["uring-1", "epoll-4"])
def test_function_kill_from_any_connection(server_factory, backend, shards):
    s = ringkv(server_factory, backend, shards)
    ref = reference(server_factory)
    outs = []
    for srv in (s, ref):
        with RespConn(srv.port) as c:
            assert c.call("FUNCTION", "LOAD", LIB) == ("$", b"busylib")
        outs.append(kill_case(srv.port, ("FCALL", "spin", "0"), ("FUNCTION", "KILL"), BUSY_FCALL))
    assert outs[0] == outs[1]
    assert outs[0][0] == BUSY_FCALL


def unkillable_case(srv, start) -> list:
    runner = start_busy(srv.port, *start, want=BUSY_EVAL if start[0] == "EVAL" else BUSY_FCALL)
    conns = probes(srv.port, 4)
    out = [c.call("PING") for c in conns]
    kill = ("SCRIPT", "KILL") if start[0] == "EVAL" else ("FUNCTION", "KILL")
    out.append(conns[0].call(*kill))
    out.append(conns[1].call("SHUTDOWN"))
    conns[2].send(encode("SHUTDOWN", "NOSAVE"))
    srv.proc.wait(timeout=10)
    for c in [runner, *conns]:
        c.close()
    return out


@pytest.mark.parametrize("backend,shards", MATRIX, ids=IDS)
def test_writer_is_unkillable_until_shutdown_nosave(server_factory, backend, shards):
    s = ringkv(server_factory, backend, shards)
    ref = reference(server_factory)
    start = ("EVAL", WRITE_SPIN, "0")
    got = unkillable_case(s, start)
    assert got == unkillable_case(ref, start)
    assert got[4][1].startswith(b"UNKILLABLE Sorry the script already executed write commands")
    assert s.proc.returncode == 0


def test_function_writer_unkillable(server_factory):
    s = ringkv(server_factory, "uring", 1)
    ref = reference(server_factory)
    outs = []
    for srv in (s, ref):
        with RespConn(srv.port) as c:
            assert c.call("FUNCTION", "LOAD", LIB) == ("$", b"busylib")
        outs.append(unkillable_case(srv, ("FCALL", "wspin", "0")))
    assert outs[0] == outs[1]


def test_redis_py_on_the_script_worker(server_factory):
    """redis-py on the same (only) worker: errors at once, then works again."""
    s = ringkv(server_factory, "uring", 1)
    runner = start_busy(s.port, "EVAL", SPIN, "0")
    c = redis.Redis(port=s.port, socket_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(redis.ResponseError, match="^BUSY Redis is busy running a script"):
        c.get("x")
    with pytest.raises(redis.ResponseError, match="^BUSY"):
        c.set("x", "1")
    pipe = c.pipeline(transaction=False)
    pipe.ping().get("x").ping()
    res = pipe.execute(raise_on_error=False)
    assert all(isinstance(r, redis.ResponseError) and str(r).startswith("BUSY") for r in res), res
    assert time.monotonic() - t0 < 1.5
    assert c.script_kill()
    assert runner.read()[0] == "-"
    assert c.set("x", "1") and c.get("x") == b"1"
    runner.close()
    c.close()
    assert s.alive()


def test_new_connection_and_disconnect_while_busy(server_factory):
    """Connections accepted while busy are served; clients that leave while
    busy (the script's own one too) are closed cleanly afterwards."""
    s = ringkv(server_factory, "epoll", 1)
    runner = start_busy(s.port, "EVAL", SPIN, "0")
    gone = [RespConn(s.port, timeout=2) for _ in range(3)]
    for g in gone:
        assert g.call("PING") == BUSY_EVAL
        g.close()
    runner.close()
    with RespConn(s.port, timeout=2) as k:
        assert k.call("SCRIPT", "KILL") == ("+", b"OK")
    deadline = time.monotonic() + harness.scaled(3)
    with RespConn(s.port, timeout=2) as k:
        while True:
            n = sum(1 for l in k.call("CLIENT", "LIST")[1].split(b"\n") if l)
            if n == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert n == 1
        assert k.call("PING") == ("+", b"PONG")


PCALL_SPIN = "while true do pcall(function() local i = 0 while true do i = i + 1 end end) end"


@pytest.mark.parametrize("backend,shards", [("uring", 1), ("epoll", 4)], ids=["uring-1", "epoll-4"])
def test_kill_reaches_through_pcall(server_factory, backend, shards):
    """A killed script raises at every line from then on (Redis switches its
    hook to LUA_MASKLINE), so a pcall around the loop cannot keep it alive;
    the next script runs with the ordinary hook again."""
    s = ringkv(server_factory, backend, shards)
    ref = reference(server_factory)
    outs = []
    for srv in (s, ref):
        runner = start_busy(srv.port, "EVAL", PCALL_SPIN, "0")
        killed = kill_from_probe(srv.port)
        outs.append((killed, runner.read(), runner.call("EVAL", "local n = 0 for i = 1, 100000 do n = n + 1 end return n", "0")))
        runner.close()
    assert outs[0] == outs[1]
    assert outs[0][0] == ("+", b"OK")


@pytest.mark.parametrize("backend", ["uring", "epoll"])
@pytest.mark.parametrize("pause", ["default", "1"])
def test_script_caller_half_closes_while_busy(server_factory, backend, pause):
    """The script's own connection sends a command and closes its side while
    the script is busy: after the script, the command still runs and its
    reply goes out before the close, as Redis reads it then. With
    client-output-pause-bytes 1 the script's unsent reply pauses the
    connection's reads first, and the close used to drop the PING still in
    its input (found by `make shrunk`)."""
    extra = ["--busy-reply-threshold", "100"]
    if pause != "default":
        extra += ["--client-output-pause-bytes", pause]
    s = server_factory(shards=1, backend=backend, extra=extra)
    ref = reference(server_factory)
    outs = []
    for srv in (s, ref):
        runner = start_busy(srv.port, "EVAL", SPIN, "0")
        runner.send(encode("PING"))
        runner.sock.shutdown(socket.SHUT_WR)
        time.sleep(0.1)
        assert kill_from_probe(srv.port) == ("+", b"OK")
        outs.append(runner.read_until_close())
        runner.close()
    assert outs[0] == outs[1]
    assert outs[0].endswith(b"+PONG\r\n")


KEYED_SPIN = "local v = redis.call('get', KEYS[1]) if ARGV[1] == '1' then while true do end end return v"


@pytest.mark.parametrize("backend", ["uring", "epoll"])
def test_script_on_its_keys_shard(server_factory, backend):
    """A known script whose key lives on another shard runs on that shard's
    worker (one hop): that worker serves its own connections -BUSY too."""
    s = ringkv(server_factory, backend, 4)
    ref = reference(server_factory)
    keys = harness.keys_on_distinct_shards("busykey", 4, 4)
    outs = []
    for srv in (s, ref):
        out = []
        with RespConn(srv.port) as c:
            for k in keys:
                out.append(c.call("EVAL", KEYED_SPIN, "1", k, "0"))
        for k in keys:
            runner = start_busy(srv.port, "EVAL", KEYED_SPIN, "1", k, "1")
            out += [p.call("GET", k) for p in probes(srv.port, 6)]
            out.append(kill_from_probe(srv.port))
            out.append(runner.read())
            out.append(runner.call("PING"))
            runner.close()
        outs.append(out)
    assert outs[0] == outs[1]


@pytest.mark.parametrize("backend,shards", [("uring", 4), ("epoll", 1)], ids=["uring-4", "epoll-1"])
def test_busy_script_inside_exec(server_factory, backend, shards):
    """EVAL inside MULTI/EXEC goes busy like any script; SCRIPT KILL ends it
    and EXEC's array carries the script's error."""
    s = ringkv(server_factory, backend, shards)
    ref = reference(server_factory)
    keys = harness.keys_on_distinct_shards("exk", 2, 4)
    outs = []
    for srv in (s, ref):
        runner = RespConn(srv.port, timeout=20)
        out = [runner.call("MULTI"), runner.call("SET", keys[0], "1"), runner.call("EVAL", SPIN, "0"),
               runner.call("SET", keys[1], "2")]
        runner.send(encode("EXEC"))
        wait_busy(srv.port)
        out += [p.call("GET", keys[0]) for p in probes(srv.port, 6)]
        out.append(kill_from_probe(srv.port))
        out.append(runner.read())
        out.append(runner.call("MGET", *keys))
        runner.close()
        outs.append(out)
    assert outs[0] == outs[1]


@pytest.mark.parametrize("backend,shards", [("uring", 1), ("epoll", 4)], ids=["uring-1", "epoll-4"])
def test_function_stats_shows_the_busy_function(server_factory, backend, shards):
    """FUNCTION STATS while a function is busy: running_script names it and
    the command as sent (duration_ms varies and is checked apart)."""
    s = ringkv(server_factory, backend, shards)
    ref = reference(server_factory)
    outs = []
    for srv in (s, ref):
        with RespConn(srv.port) as c:
            assert c.call("FUNCTION", "LOAD", LIB) == ("$", b"busylib")
        runner = start_busy(srv.port, "fcall", "spin", "1", "{t}k", "arg", want=BUSY_FCALL)
        out = []
        for proto in (2, 3):
            with RespConn(srv.port, timeout=2) as p:
                if proto == 3:
                    p.call("HELLO", "3")
                tag, items = p.call("FUNCTION", "STATS")
                running = items[0][1] if proto == 3 else items[1]
                if proto == 3:
                    fields = running[1]
                    assert fields[2][0] == ("$", b"duration_ms") and fields[2][1][1] >= 100
                    running = (running[0], fields[:2])
                else:
                    assert running[1][4] == ("$", b"duration_ms") and running[1][5][1] >= 100
                    running = (running[0], running[1][:4])
                out.append((tag, running, items[1:] if proto == 3 else items[2:]))
        with RespConn(srv.port, timeout=2) as k:
            out.append(k.call("FUNCTION", "KILL"))
        out.append(runner.read())
        runner.close()
        outs.append(out)
    assert outs[0] == outs[1]


def test_busy_script_with_one_receive_buffer(server_factory):
    """io_uring with recv-buffer-count 1: the running EVAL still holds the
    ring's only buffer, so a new connection's PING got no reply (not even
    -BUSY) until the script ended. The worker now reads such sockets itself
    while it serves from inside the script (found by `make shrunk`)."""
    s = server_factory(shards=1, backend="uring", extra=["--busy-reply-threshold", "100",
                                                         "--recv-buffer-count", "1", "--recv-buffer-size", "1024"])
    runner = start_busy(s.port, "EVAL", SPIN, "0")
    big = "v" * 5000  # spans several 1 KiB recvs
    with RespConn(s.port, timeout=2) as c:
        assert c.call("ECHO", big) == BUSY_EVAL
        assert c.call("SCRIPT", "KILL") == ("+", b"OK")
    got = runner.read()
    assert got[0] == "-" and got[1].startswith(b"ERR Script killed by user"), got
    with RespConn(s.port, timeout=2) as c:
        assert c.call("ECHO", big) == ("$", big.encode())
    runner.close()
