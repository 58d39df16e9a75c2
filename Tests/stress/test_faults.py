"""Faults injected into a live 4-shard server on both backends: clients
killed mid-pipeline and mid-blocking-call, half-closed sockets, clients that
never read, a stopped subscriber, CLIENT KILL storms during cross-shard
commands, SIGTERM under load. After each the server answers and INFO's
client counts are back where they started (faults.settle).
"""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import faults
import harness

SHARDS = 4


@pytest.fixture(scope="module", params=["uring", "epoll"])
def srv(request):
    s = harness.ringkv_server(request.param, SHARDS)
    s.start()
    yield s
    alive = s.alive()
    rc = s.stop()
    log = s.log_tail()
    s.cleanup()
    assert alive, f"ringkv died\n{log}"
    assert rc == 0, f"exit {rc}\n{log}"


@pytest.fixture
def base(srv):
    with srv.raw() as admin:
        admin.call("FLUSHALL")
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60")
    # The settle() admin connection is the one client left.
    return faults.settle(srv, 1)


def cross_shard_keys(prefix: str, n: int) -> list[str]:
    return harness.keys_on_distinct_shards(prefix, n, SHARDS)


def test_killed_mid_pipeline(srv, base):
    keys = cross_shard_keys("pipe", 8)
    rng = random.Random(1)
    for round_ in range(40):
        s = faults.raw_socket(srv.port)
        cmds = []
        for i in range(300):
            ks = rng.sample(keys, 4)
            cmds.append(rng.choice([
                harness.encode("MSET", *[x for k in ks for x in (k, f"{round_}:{i}")]),
                harness.encode("MGET", *ks),
                harness.encode("DEL", *ks[:2]),
                harness.encode("INCR", ks[0] + "n"),
                harness.encode("RPUSH", ks[1] + "l", "x" * 100),
            ]))
        blob = b"".join(cmds)
        # Cut anywhere: inside a command, between commands, after all of them.
        s.sendall(blob[: rng.randrange(len(blob) + 1)])
        if round_ % 2:
            faults.reset_socket(s)
        else:
            s.close()
    faults.settle(srv, 1)
    with srv.raw() as c:
        # Every MSET is atomic: each key holds a value some MSET wrote whole.
        for v in harness.plain(c.call("MGET", *keys)):
            assert v is None or v.count(b":") == 1


def test_killed_mid_blocking_call(srv, base):
    keys = cross_shard_keys("blk", 4)
    waiters = []
    for i in range(24):
        s = faults.raw_socket(srv.port)
        ks = [keys[i % 4], keys[(i + 1) % 4]]
        cmd = [harness.encode("BLPOP", *ks, "0"), harness.encode("BLMOVE", ks[0], ks[1], "LEFT", "RIGHT", "0"),
               harness.encode("BZPOPMIN", *ks, "0"), harness.encode("BRPOPLPUSH", ks[1], ks[0], "0")][i % 4]
        s.sendall(cmd)
        waiters.append(s)
    with srv.raw() as admin:
        end = time.monotonic() + 5
        while int(faults.info(admin, "clients")["blocked_clients"]) < len(waiters):
            assert time.monotonic() < end, "waiters never blocked"
            time.sleep(0.02)
    for i, s in enumerate(waiters):
        faults.reset_socket(s) if i % 2 else s.close()
    faults.settle(srv, 1)
    # Nobody is left waiting: a push stays in its list.
    with srv.raw() as c:
        for k in keys:
            assert harness.plain(c.call("RPUSH", k, "v")) == 1
            assert harness.plain(c.call("LRANGE", k, "0", "-1")) == [b"v"]


def test_half_closed_sockets(srv, base):
    keys = cross_shard_keys("half", 4)
    for i in range(30):
        s = faults.raw_socket(srv.port)
        s.sendall(b"".join(harness.encode("SET", k, str(i)) for k in keys)
                  + harness.encode("MGET", *keys) + harness.encode("PING"))
        s.shutdown(socket.SHUT_WR)
        s.settimeout(5)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        # Whatever came back is the replies in order, possibly cut by the close.
        v = str(i).encode()
        want = (b"+OK\r\n" * 4 + b"*4\r\n" + (b"$%d\r\n%s\r\n" % (len(v), v)) * 4 + b"+PONG\r\n")
        assert data == want[:len(data)], (data, want)
    faults.settle(srv, 1)


def test_client_that_never_reads(srv, base):
    with srv.raw() as admin:
        admin.call("SET", "big", "x" * 100_000)
        # The hard limit disconnects it; the other clients go on.
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0")
        s = faults.raw_socket(srv.port, rcvbuf=4096)
        s.setblocking(False)
        sent = 0
        req = harness.encode("GET", "big") * 200
        end = time.monotonic() + 10
        try:
            while time.monotonic() < end and sent < 400 * len(req):
                try:
                    sent += s.send(req)
                except BlockingIOError:
                    time.sleep(0.01)
                assert admin.call("PING") == ("+", b"PONG")
        except (BrokenPipeError, ConnectionResetError):
            pass
        end = time.monotonic() + 10
        while faults.client_count(admin) > 1 and time.monotonic() < end:
            time.sleep(0.05)
        assert faults.client_count(admin) == 1, "a client over the hard limit was not closed"
        s.close()
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
    faults.settle(srv, 1)


SUBSCRIBER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*2\\r\\n$9\\r\\nSUBSCRIBE\\r\\n$2\\r\\nch\\r\\n")
s.recv(100); print("ready", flush=True)
while True: s.recv(65536)
"""


def test_stopped_subscriber(srv, base):
    with srv.raw() as admin:
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 2mb 0 0")
        sub = subprocess.Popen([sys.executable, "-c", SUBSCRIBER, str(srv.port)], stdout=subprocess.PIPE)
        try:
            assert sub.stdout.readline().strip() == b"ready"
            os.kill(sub.pid, signal.SIGSTOP)
            msg = "m" * 10_000
            receivers = []
            for _ in range(2000):
                receivers.append(harness.plain(admin.call("PUBLISH", "ch", msg)))
                if receivers[-1] == 0:
                    break
            # Past the pubsub hard limit the subscriber is dropped, not buffered forever.
            assert receivers[-1] == 0, "a stopped subscriber was never disconnected"
            assert harness.plain(admin.call("PUBSUB", "NUMSUB", "ch")) == [b"ch", 0]
            assert faults.info(admin, "stats")["pubsub_channels"] == "0"
        finally:
            os.kill(sub.pid, signal.SIGCONT)
            sub.kill()
            sub.wait()
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")
    faults.settle(srv, 1)


def test_client_kill_storm_during_cross_shard_commands(srv, base):
    groups = [cross_shard_keys(f"storm{g}", 4) for g in range(4)]
    stop = threading.Event()
    errors: list[str] = []

    def writer(n: int):
        rng = random.Random(n)
        while not stop.is_set():
            try:
                with srv.raw(timeout=5) as c:
                    c.call("CLIENT", "SETNAME", "storm")
                    while not stop.is_set():
                        ks = groups[rng.randrange(4)]
                        v = f"{n}-{rng.random()}"
                        c.send(harness.encode("MSET", *[x for k in ks for x in (k, v)]) + harness.encode("MGET", *ks))
                        assert c.read() == ("+", b"OK")
                        got = set(harness.plain(c.read()))
                        # MSET and MGET are atomic across shards: one writer's value everywhere.
                        if len(got) != 1:
                            errors.append(f"torn MGET {got}")
            except (harness.Closed, ConnectionError, OSError):
                continue
            except AssertionError as e:
                errors.append(str(e))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    killed = 0
    with srv.raw() as admin:
        end = time.monotonic() + 4
        while time.monotonic() < end:
            killed += harness.plain(admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
            time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, errors[:5]
    assert killed > 50, f"only {killed} kills"
    faults.settle(srv, 1)
    with srv.raw() as c:
        for ks in groups:
            assert len(set(harness.plain(c.call("MGET", *ks)))) == 1


@pytest.mark.parametrize("backend", ["uring", "epoll"])
def test_sigterm_under_load(backend):
    s = harness.ringkv_server(backend, SHARDS)
    s.start()
    try:
        keys = cross_shard_keys("term", 8)
        socks = []
        for i in range(20):
            c = faults.raw_socket(s.port)
            c.settimeout(10)
            socks.append(c)
        pipeline = b"".join(harness.encode("MSET", *[x for k in keys for x in (k, "v" * 64)])
                            + harness.encode("MGET", *keys) + harness.encode("INCR", "ctr") for _ in range(200))
        received = [b""] * len(socks)

        def drive(i):
            c = socks[i]
            try:
                for _ in range(50):
                    c.sendall(pipeline)
                    received[i] += c.recv(1 << 20)
                while chunk := c.recv(1 << 20):
                    received[i] += chunk
            except OSError:
                pass

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(socks))]
        for t in threads:
            t.start()
        time.sleep(0.5)
        s.signal(signal.SIGTERM)
        rc = s.wait(20)
        for t in threads:
            t.join(20)
        assert rc == 0, f"exit {rc}\n{s.log_tail()}"
        # Each connection got whole replies, in order, then the close: never garbage.
        total = sum(faults.check_reply_prefix(r) for r in received)
        assert total > 0
    finally:
        for c in socks:
            c.close()
        s.cleanup()
