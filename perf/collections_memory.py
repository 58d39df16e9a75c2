#!/usr/bin/env python3
"""RSS per element of the collection types, ringkv against redis-server 7.0,
side by side in one run (issue 9's memory table).

    perf/collections_memory.py [--shards 1] [--scale 1.0] [--out perf/results/collections-memory.md]

Each dataset gets a fresh pair of servers: RSS is read from /proc/PID/status
after start-up and again after loading (and a short settle), and the
difference is divided by the number of elements. Datasets (at --scale 1):
  hash-small   100k hashes of 10 fields (f0..f9 -> 8-byte values): compact encoding
  hash-big     one hash of 1M fields
  zset-big     one sorted set of 1M members
  list-big     one list of 1M elements
  set-intsmall 100k sets of 10 small integers: compact encoding
Loading uses pipelined batches of 1000 commands, replies read per batch.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BACKEND = "auto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def enc(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_replies(s: socket.socket, n: int, buf: bytearray) -> None:
    """Reads n replies (integers, +OK, bulks); raises on an error reply."""
    got = 0
    while got < n:
        while b"\r\n" not in buf:
            chunk = s.recv(1 << 16)
            if not chunk:
                raise RuntimeError("connection closed")
            buf.extend(chunk)
        i = buf.index(b"\r\n")
        line = bytes(buf[:i])
        del buf[:i + 2]
        if line.startswith(b"-"):
            raise RuntimeError(line.decode(errors="replace"))
        if line.startswith(b"$") and int(line[1:]) >= 0:
            need = int(line[1:]) + 2
            while len(buf) < need:
                chunk = s.recv(1 << 16)
                if not chunk:
                    raise RuntimeError("connection closed")
                buf.extend(chunk)
            del buf[:need]
        got += 1


def load(port: int, commands, batch: int = 1000) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    buf = bytearray()
    pending: list[bytes] = []
    for c in commands:
        pending.append(c)
        if len(pending) == batch:
            s.sendall(b"".join(pending))
            read_replies(s, len(pending), buf)
            pending = []
    if pending:
        s.sendall(b"".join(pending))
        read_replies(s, len(pending), buf)
    s.close()


def datasets(scale: float):
    n100k = int(100_000 * scale)
    n1m = int(1_000_000 * scale)
    yield ("hash-small", "100k hashes x 10 small fields", n100k * 10,
           lambda: (enc("HSET", b"h:%d" % i, *sum(([b"f%d" % j, b"v%07d" % i] for j in range(10)), []))
                    for i in range(n100k)))
    yield ("hash-big", "1 hash x 1M fields", n1m,
           lambda: (enc("HSET", "bighash", *sum(([b"field:%d" % (i + j), b"val:%d" % (i + j)] for j in range(100)), []))
                    for i in range(0, n1m, 100)))
    yield ("zset-big", "1 sorted set x 1M members", n1m,
           lambda: (enc("ZADD", "bigzset", *sum(([str((i + j) * 1.5).encode(), b"member:%d" % (i + j)] for j in range(100)), []))
                    for i in range(0, n1m, 100)))
    yield ("list-big", "1 list x 1M elements", n1m,
           lambda: (enc("RPUSH", "biglist", *[b"element:%d" % (i + j) for j in range(100)])
                    for i in range(0, n1m, 100)))
    yield ("set-intsmall", "100k sets x 10 small integers", n100k * 10,
           lambda: (enc("SADD", b"s:%d" % i, *[str(i % 1000 + j).encode() for j in range(10)])
                    for i in range(n100k)))


def start(kind: str, shards: int, logdir: str):
    port = free_port()
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    else:
        binary = os.environ.get("RINGKV_BIN", str(REPO / ".build/release/ringkv-server"))
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--shards", str(shards),
               "--io-backend", BACKEND]
    p = subprocess.Popen(cmd, cwd=logdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError(f"{kind} did not start")


def measure(kind: str, shards: int, make) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as d:
        p, port = start(kind, shards, d)
        try:
            # Warm-up: the first traffic touches the I/O buffers (io_uring's
            # recv ring in particular), which is not storage: pay it first.
            # Each recv takes a whole 16 KiB buffer of the 1024 in io_uring's
            # ring: send 1,300 batches of ~17 KiB of PINGs so every buffer has
            # been filled once, with nothing kept on the heap.
            load(port, (enc("PING") for _ in range(1_300_000)), batch=1200)
            time.sleep(0.3)
            before = rss_kb(p.pid)
            load(port, make())
            time.sleep(1.0)
            after = rss_kb(p.pid)
            return (after - before) * 1024, ""
        finally:
            p.terminate()
            p.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--io-backend", default="auto", help="ringkv's backend: auto, uring or epoll")
    ns = ap.parse_args()
    global BACKEND
    BACKEND = ns.io_backend
    rows = []
    for name, what, elements, make in datasets(ns.scale):
        r = measure("redis", 1, make)[0]
        k = measure("ringkv", ns.shards, make)[0]
        rows.append((name, what, elements, r / elements, k / elements, k / r if r else float("nan")))
        print(f"{name:13s} redis {r / elements:7.1f} B/elem  ringkv {k / elements:7.1f} B/elem  ratio {k / r:5.2f}",
              flush=True)
    lines = [
        f"RSS growth per element after loading, ringkv --shards {ns.shards} --io-backend {ns.io_backend} "
        f"vs redis-server 7.0, one run, "
        f"scale {ns.scale} (`perf/collections_memory.py`); {os.cpu_count()} CPUs.",
        "",
        "| dataset | what | elements | redis B/elem | ringkv B/elem | ringkv/redis |",
        "|---|---|---|---|---|---|",
    ]
    for name, what, n, r, k, ratio in rows:
        lines.append(f"| {name} | {what} | {n} | {r:.1f} | {k:.1f} | {ratio:.2f} |")
    text = "\n".join(lines) + "\n"
    if ns.out:
        Path(ns.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
