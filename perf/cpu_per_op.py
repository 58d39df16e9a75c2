#!/usr/bin/env python3
"""Server CPU per operation (utime+stime from /proc/PID/stat over a fixed
redis-benchmark run), ringkv at several shard counts against redis-server
7.0, servers alternating in rotated order, medians. CPU per op is far
steadier than throughput on a shared VM and predicts multi-core capacity
(cores / CPU per op); throughput is reported beside it.

    perf/cpu_per_op.py                                   # GET, SET, MGET of 4 keys at -P 1 and -P 16
    perf/cpu_per_op.py --tests lpush,lpop,sadd,spop,hset,zadd,zpopmin,lrange_100 --pipelines 16 --shards 1,2
    perf/cpu_per_op.py --out perf/results/cpu-per-op   # also writes .csv and .md

Tests are redis-benchmark -t names, plus mget4, mset4 and del4 (MGET, MSET and
DEL of 4 random keys; run mset4 before mget4, and del4 last: it empties the keyspace).
Pops run after their pushes in the given order, on the same server. Every
run is -c 50 -r KEYSPACE -d 3; -n is --n at -P > 1 and --n-p1 at -P 1.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def start(kind: str, shards: int, backend: str, logdir: str):
    port = free_port()
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    else:
        binary = os.environ.get("RINGKV_BIN", str(REPO / ".build/release/ringkv-server"))
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--shards", str(shards), "--io-backend", backend]
    p = subprocess.Popen(cmd, cwd=logdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return p, port
        time.sleep(0.05)
    p.kill()
    raise SystemExit(f"{kind} did not start")


def bench_args(test: str) -> list[str]:
    if test == "mget4":
        return ["MGET"] + ["key:__rand_int__"] * 4
    if test == "mset4":
        return ["MSET"] + ["key:__rand_int__", "abc"] * 4
    if test == "del4":
        return ["DEL"] + ["key:__rand_int__"] * 4
    return ["-t", test]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", default="get,set,mget4")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--shards", default="1,2,4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--n-p1", type=int, default=60_000)
    ap.add_argument("--keyspace", type=int, default=100_000)
    ap.add_argument("--io-backend", default="auto")
    ap.add_argument("--out", default=None, help="path prefix for .csv and .md")
    ns = ap.parse_args()
    tests = ns.tests.split(",")
    pipes = [int(x) for x in ns.pipelines.split(",")]
    shards = [int(x) for x in ns.shards.split(",")]
    servers = ["redis"] + [f"ringkv-s{s}" for s in shards]
    logdir = tempfile.mkdtemp(prefix="cpu-per-op-")
    procs = {}
    for name in servers:
        procs[name] = start("redis" if name == "redis" else "ringkv",
                            0 if name == "redis" else int(name.split("-s")[1]), ns.io_backend, logdir)
        # Every key a GET may draw exists.
        subprocess.run(["redis-benchmark", "-p", str(procs[name][1]), "-t", "set", "-n", str(ns.keyspace * 2),
                        "-r", str(ns.keyspace), "-P", "16", "-q", "-d", "3"], capture_output=True)
    res: dict[tuple, list[tuple[float, float]]] = {}
    try:
        for rnd in range(ns.rounds):
            order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
            for test in tests:
                for P in pipes:
                    n = ns.n if P > 1 else ns.n_p1
                    for name in order:
                        p, port = procs[name]
                        c0, t0 = cpu_seconds(p.pid), time.time()
                        r = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-r", str(ns.keyspace),
                                            "-P", str(P), "-c", "50", "-q", "-d", "3"] + bench_args(test),
                                           capture_output=True, text=True)
                        el = time.time() - t0
                        if r.returncode != 0 or "ERR" in r.stdout:
                            raise SystemExit(f"{name} {test} -P {P} failed: {r.stdout[-300:]}{r.stderr[-300:]}")
                        us = (cpu_seconds(p.pid) - c0) / n * 1e6
                        res.setdefault((test, P, name), []).append((us, n / el))
                        print(f"round {rnd + 1} {test:11s} -P {P:<3d} {name:10s} {us:6.2f} us/op {n / el:10.0f} req/s",
                              flush=True)
    finally:
        for p, _ in procs.values():
            p.terminate()
    head = (f"Server CPU per op (utime+stime over the run) and throughput, medians of {ns.rounds} alternating "
            f"rounds; redis-benchmark -c 50 -r {ns.keyspace} -d 3, -n {ns.n} (-P 1: {ns.n_p1}); "
            f"{os.cpu_count()} CPUs, io-backend={ns.io_backend}; `perf/cpu_per_op.py --tests {ns.tests} "
            f"--pipelines {ns.pipelines} --shards {ns.shards}`")
    cols = ["test", "-P", "redis us/op"] + [f"{s} us/op (x redis)" for s in servers[1:]] + \
           ["redis rps"] + [f"{s} rps (x redis)" for s in servers[1:]]
    lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    csv = ["test,pipeline,server,round,cpu_us_per_op,rps"]
    for (test, P, name), vals in res.items():
        for i, (u, r) in enumerate(vals):
            csv.append(f"{test},{P},{name},{i + 1},{u:.4f},{r:.0f}")
    for test in tests:
        for P in pipes:
            med = {s: (statistics.median(u for u, _ in res[(test, P, s)]),
                       statistics.median(r for _, r in res[(test, P, s)])) for s in servers}
            ru, rr = med["redis"]
            row = [test.upper(), str(P), f"{ru:.2f}"]
            row += [f"{med[s][0]:.2f} ({med[s][0] / ru:.2f}x)" for s in servers[1:]]
            row += [f"{rr:,.0f}"] + [f"{med[s][1]:,.0f} ({med[s][1] / rr:.2f}x)" for s in servers[1:]]
            lines.append("| " + " | ".join(row) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if ns.out:
        Path(ns.out + ".md").write_text(text)
        Path(ns.out + ".csv").write_text("\n".join(csv) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
