#!/usr/bin/env python3
"""Where a cross-shard hop's CPU goes: per operation, server CPU (user and
system apart, from /proc), context switches, syscalls and io_uring_enter
calls (perf stat on the server's threads), for ringkv builds and shard
counts side by side, alternating rounds, medians.

    perf/hop_stats.py                                  # this build, shards 1 and 2, GET/SET -P 16 and -P 1
    perf/hop_stats.py --server old=/tmp/old/ringkv-server:2 --server new=.build/release/ringkv-server:2
    perf/hop_stats.py --clients 10 --tests get --pipelines 16

A server is LABEL=BINARY:SHARDS[:BACKEND][@VAR=VALUE,...], the last part
being environment for that server only. Every run is redis-benchmark
-c CLIENTS -r KEYSPACE -d 3 with --n requests (--n-p1 at -P 1). Needs perf
with tracepoint access (root or perf_event_paranoid <= 1).
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_per_op import REPO, bench_args, free_port  # noqa: E402

EVENTS = ["context-switches", "raw_syscalls:sys_enter", "syscalls:sys_enter_io_uring_enter",
          "syscalls:sys_enter_write", "syscalls:sys_enter_epoll_wait"]
SHORT = {"context-switches": "cs", "raw_syscalls:sys_enter": "syscalls",
         "syscalls:sys_enter_io_uring_enter": "uring_enter", "syscalls:sys_enter_write": "write",
         "syscalls:sys_enter_epoll_wait": "epoll_wait"}


def times(pid: int) -> tuple[float, float]:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return int(f[11]) / hz, int(f[12]) / hz


def start(binary: str, shards: str, backend: str, logdir: str, keyspace: int, env: dict):
    port = free_port()
    cmd = [os.path.abspath(binary), "--port", str(port), "--bind", "127.0.0.1", "--shards", shards, "--io-backend", backend]
    p = subprocess.Popen(cmd, cwd=logdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={**os.environ, **env})
    for _ in range(200):
        r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            break
        time.sleep(0.05)
    else:
        p.kill()
        raise SystemExit(f"{binary} did not start")
    subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(keyspace * 2), "-r", str(keyspace),
                    "-P", "16", "-q", "-d", "3"], capture_output=True)
    return p, port


def measure(p, port, test, P, n, clients, keyspace):
    out = tempfile.mktemp(suffix=".perf")
    ps = subprocess.Popen(["perf", "stat", "-x", ",", "-o", out, "-e", ",".join(EVENTS), "-p", str(p.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    u0, s0 = times(p.pid)
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-r", str(keyspace), "-P", str(P),
                    "-c", str(clients), "-q", "-d", "3"] + bench_args(test), capture_output=True)
    u1, s1 = times(p.pid)
    ps.send_signal(signal.SIGINT)
    ps.wait()
    counts = {}
    for line in open(out):
        f = line.strip().split(",")
        if len(f) > 2 and f[2] in SHORT:
            try:
                counts[SHORT[f[2]]] = float(f[0])
            except ValueError:
                counts[SHORT[f[2]]] = float("nan")
    os.unlink(out)
    # The counters also saw the 0.3 s lead-in: idle, a few timer wake-ups.
    row = {"cpu": (u1 - u0 + s1 - s0) / n * 1e6, "user": (u1 - u0) / n * 1e6, "sys": (s1 - s0) / n * 1e6}
    for k, v in counts.items():
        row[k] = v / n
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", action="append", default=[])
    ap.add_argument("--tests", default="get,set")
    ap.add_argument("--pipelines", default="16,1")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--n-p1", type=int, default=60_000)
    ap.add_argument("--keyspace", type=int, default=100_000)
    ns = ap.parse_args()
    binary = os.environ.get("RINGKV_BIN", str(REPO / ".build/release/ringkv-server"))
    specs = ns.server or [f"s1={binary}:1", f"s2={binary}:2"]
    servers = {}
    logdir = tempfile.mkdtemp(prefix="hop-stats-")
    for s in specs:
        label, rest = s.split("=", 1)
        rest, _, envs = rest.partition("@")
        env = dict(e.split("=", 1) for e in envs.split(",") if e)
        parts = rest.split(":")
        servers[label] = start(parts[0], parts[1], parts[2] if len(parts) > 2 else "auto", logdir, ns.keyspace, env)
    res: dict[tuple, list[dict]] = {}
    labels = list(servers)
    try:
        for rnd in range(ns.rounds):
            order = labels[rnd % len(labels):] + labels[:rnd % len(labels)]
            for test in ns.tests.split(","):
                for P in (int(x) for x in ns.pipelines.split(",")):
                    n = ns.n if P > 1 else ns.n_p1
                    for label in order:
                        p, port = servers[label]
                        row = measure(p, port, test, P, n, ns.clients, ns.keyspace)
                        res.setdefault((test, P, label), []).append(row)
                        print(f"round {rnd + 1} {test} -P {P} {label}: "
                              + " ".join(f"{k}={v:.3f}" for k, v in row.items()), file=sys.stderr, flush=True)
    finally:
        for p, _ in servers.values():
            p.terminate()
    cols = ["cpu", "user", "sys", "cs", "syscalls", "uring_enter", "write", "epoll_wait"]
    print(f"Per operation, medians of {ns.rounds} alternating rounds; redis-benchmark -c {ns.clients} "
          f"-r {ns.keyspace} -d 3, -n {ns.n} (-P 1: {ns.n_p1}); load average {os.getloadavg()[0]:.1f} at the end")
    print()
    print("| test | -P | server | " + " | ".join(f"{c}{' µs' if c in ('cpu', 'user', 'sys') else ''}/op" for c in cols)
          + " |")
    print("|---|---|---|" + "---|" * len(cols))
    for (test, P, label), rows in res.items():
        cells = [f"{statistics.median(r.get(c, float('nan')) for r in rows):.3f}" for c in cols]
        print(f"| {test.upper()} | {P} | {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
