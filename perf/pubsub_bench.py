#!/usr/bin/env python3
"""PUBLISH throughput with 1, 10 and 100 subscribers (redis-benchmark as the
publisher, -c 50 -P 16, subscribers drained by a reader thread), and
publish->receive latency p50/p99 (one publisher, one subscriber, one
message in flight), redis-server 7.0 beside ringkv at 1 and 2 shards.
Also the server's CPU per published message: utime+stime of the server
process (/proc/PID/stat) over each throughput run, divided by the messages
published (steadier than throughput on a shared VM). All servers run at
once and each repeat visits them in rotated order, so noise from other load
falls on all of them alike; figures are medians over the repeats.
Writes a ratio table to perf/results/pubsub-bench-<date>.md.

    perf/pubsub_bench.py [--n 100000] [--samples 2000] [--shards 1,2] [--backend epoll] [--repeat 3] [--subs 1,10,100]
"""
from __future__ import annotations

import argparse
import os
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
from cpu_per_op import REPO, cpu_seconds, start  # noqa: E402


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


def throughput(pid: int, port: int, subs: int, n: int) -> tuple[float, float]:
    """(publishes per second, server CPU microseconds per publish)."""
    socks = subscribe(port, subs, "bench")
    stop = threading.Event()
    t = threading.Thread(target=drain, args=(socks, stop), daemon=True)
    t.start()
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "16", "-n", str(n), "-q",
                          "publish", "bench", "hello-world"], capture_output=True, text=True).stdout
    # Deliveries still queued for the readers count too: wait until they are in.
    time.sleep(0.2)
    cpu = cpu_seconds(pid) - cpu0
    stop.set()
    t.join()
    for s in socks:
        s.close()
    m = re.findall(r"([\d.]+) requests per second", out)
    return (float(m[-1]) if m else 0.0), cpu * 1e6 / n


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
    ap.add_argument("--subs", default="1,10,100", help="subscriber counts of the throughput runs (none: latency only)")
    ap.add_argument("--baseline", help="another ringkv-server binary, run beside at the same shard counts (base-N)")
    a = ap.parse_args()
    servers = [("redis", 1)] + [("ringkv", int(s)) for s in a.shards.split(",")]
    if a.baseline:
        servers += [("base", int(s)) for s in a.shards.split(",")]
    names = ["redis" if kind == "redis" else f"{kind if kind == 'base' else 'ringkv'}-{shards}" for kind, shards in servers]
    runs: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        procs = []
        own = os.environ.get("RINGKV_BIN")
        for kind, shards in servers:
            if kind == "base":
                os.environ["RINGKV_BIN"] = a.baseline
            procs.append(start("redis" if kind == "redis" else "ringkv", shards, a.backend, d))
            if kind == "base":
                if own is None:
                    del os.environ["RINGKV_BIN"]
                else:
                    os.environ["RINGKV_BIN"] = own
        try:
            for rep in range(a.repeat):
                # Rotated order per repeat: no server always runs first or last.
                order = [(rep + i) % len(procs) for i in range(len(procs))]
                for subs in (int(x) for x in a.subs.split(",") if x != "none"):
                    n = a.n if subs < 100 else a.n // 5
                    for i in order:
                        p, port = procs[i]
                        rps, cpu = throughput(p.pid, port, subs, n)
                        runs[names[i]].setdefault(f"publish rps, {subs} sub", []).append(rps)
                        runs[names[i]].setdefault(f"server cpu us/publish, {subs} sub", []).append(cpu)
                for i in order:
                    p50, p99 = latency(procs[i][1], a.samples)
                    runs[names[i]].setdefault("latency p50 us", []).append(p50)
                    runs[names[i]].setdefault("latency p99 us", []).append(p99)
                print("repeat", rep + 1, "done", flush=True)
        finally:
            for p, _ in procs:
                p.terminate()
                p.wait()
    rows = {n: {m: statistics.median(v) for m, v in r.items()} for n, r in runs.items()}
    for n in names:
        print(n, rows[n], flush=True)
    names = list(rows)
    metrics = list(rows["redis"])
    lines = [f"# Pub/Sub bench ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"`perf/pubsub_bench.py --n {a.n} --samples {a.samples} --shards {a.shards} --backend {a.backend} "
             f"--repeat {a.repeat} --subs {a.subs}{' --baseline ' + a.baseline if a.baseline else ''}` (medians); "
             f"(backend {a.backend}); publisher: redis-benchmark -c 50 -P 16 PUBLISH (n/5 with 100 subscribers); "
             "latency: one publisher, one subscriber, one message in flight. Ratio: ringkv / redis "
             "(throughput: higher is better; latency and CPU per publish: lower is better). "
             "Servers alternate in rotated order per repeat. Shared 2-core VM: noisy.", "",
             "| metric | " + " | ".join(names) + " | " + " | ".join(f"{n}/redis" for n in names[1:]) + " |",
             "|---" * (1 + len(names) + len(names) - 1) + "|"]
    for m in metrics:
        base = rows["redis"][m]
        lines.append(f"| {m} | " + " | ".join((f"{rows[n][m]:.2f}" if "cpu" in m else f"{rows[n][m]:.0f}") for n in names) + " | "
                     + " | ".join(f"{rows[n][m] / base:.2f}" if base else "-" for n in names[1:]) + " |")
    out = REPO / "perf/results" / f"pubsub-bench-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
