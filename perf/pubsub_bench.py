#!/usr/bin/env python3
"""PUBLISH throughput with 1, 10 and 100 subscribers (redis-benchmark as the
publisher, -c 50 -P 16, subscribers drained by a reader thread), and
publish->receive latency p50/p99 (one publisher, one subscriber, one
message in flight), redis-server 7.0 beside ringkv at 1 and 2 shards.
Writes a ratio table to perf/results/pubsub-bench-<date>.md.

    perf/pubsub_bench.py [--n 100000] [--samples 2000] [--shards 1,2] [--backend epoll] [--repeat 3]
"""
from __future__ import annotations

import argparse
import re
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_per_op import REPO, start  # noqa: E402


def enc(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def subscribe(port: int, n: int, channel: str) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(enc("SUBSCRIBE", channel))
        want = len(b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(channel), channel.encode()))
        got = b""
        while len(got) < want:
            got += s.recv(4096)
        socks.append(s)
    return socks


def drain(socks, stop):
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    while not stop.is_set():
        for key, _ in sel.select(0.1):
            try:
                if not key.fileobj.recv(1 << 20):
                    sel.unregister(key.fileobj)
            except BlockingIOError:
                pass


def throughput(port: int, subs: int, n: int) -> float:
    socks = subscribe(port, subs, "bench")
    stop = threading.Event()
    t = threading.Thread(target=drain, args=(socks, stop), daemon=True)
    t.start()
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "16", "-n", str(n), "-q",
                          "publish", "bench", "hello-world"], capture_output=True, text=True).stdout
    stop.set()
    t.join()
    for s in socks:
        s.close()
    m = re.findall(r"([\d.]+) requests per second", out)
    return float(m[-1]) if m else 0.0


def latency(port: int, samples: int) -> tuple[float, float]:
    sub = subscribe(port, 1, "lat")[0]
    pub = socket.create_connection(("127.0.0.1", port))
    pub.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"*3\r\n$7\r\nmessage\r\n$3\r\nlat\r\n$1\r\nx\r\n"
    lat = []
    for _ in range(samples):
        t0 = time.perf_counter()
        pub.sendall(enc("PUBLISH", "lat", "x"))
        got = b""
        while len(got) < len(msg):
            got += sub.recv(4096)
        lat.append((time.perf_counter() - t0) * 1e6)
        r = b""
        while not r.endswith(b"\r\n"):
            r += pub.recv(64)
    sub.close()
    pub.close()
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--shards", default="1,2")
    ap.add_argument("--backend", default="epoll")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    servers = [("redis", 1)] + [("ringkv", int(s)) for s in a.shards.split(",")]
    rows = {}
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for kind, shards in servers:
            p, port = start(kind, shards, a.backend, d)
            try:
                name = "redis" if kind == "redis" else f"ringkv-{shards}"
                r = {}
                # Medians of --repeat runs: the VM is shared, single runs swing.
                for subs in (1, 10, 100):
                    r[f"publish rps, {subs} sub"] = statistics.median(
                        throughput(port, subs, a.n if subs < 100 else a.n // 5) for _ in range(a.repeat))
                lats = [latency(port, a.samples) for _ in range(a.repeat)]
                r["latency p50 us"] = statistics.median(x[0] for x in lats)
                r["latency p99 us"] = statistics.median(x[1] for x in lats)
                rows[name] = r
                print(name, r, flush=True)
            finally:
                p.terminate()
                p.wait()
    names = list(rows)
    metrics = list(rows["redis"])
    lines = [f"# Pub/Sub bench ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"`perf/pubsub_bench.py --n {a.n} --samples {a.samples} --shards {a.shards} --backend {a.backend} "
             f"--repeat {a.repeat}` (medians); "
             "publisher: redis-benchmark -c 50 -P 16 PUBLISH (n/5 with 100 subscribers); "
             "latency: one publisher, one subscriber, one message in flight. Ratio: ringkv / redis "
             "(throughput: higher is better; latency: lower is better). Shared 2-core VM: noisy.", "",
             "| metric | " + " | ".join(names) + " | " + " | ".join(f"{n}/redis" for n in names[1:]) + " |",
             "|---" * (1 + len(names) + len(names) - 1) + "|"]
    for m in metrics:
        base = rows["redis"][m]
        lines.append(f"| {m} | " + " | ".join(f"{rows[n][m]:.0f}" for n in names) + " | "
                     + " | ".join(f"{rows[n][m] / base:.2f}" if base else "-" for n in names[1:]) + " |")
    out = REPO / "perf/results" / f"pubsub-bench-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
