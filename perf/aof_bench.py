#!/usr/bin/env python3
"""SET -P 16 with the append-only file: throughput and server CPU per op
for appendonly no and appendfsync no / everysec / always, redis-server 7.0
beside RingKV (1 and 2 shards), on the same disk (the server's cwd).

    perf/aof_bench.py                       # writes perf/results/aof-<date>.md
    perf/aof_bench.py --n 200000 --rounds 2

CPU per op is utime+stime of the whole server process (every thread,
including RingKV's AOF writer and Redis's bio fsync thread) over the run.
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "perf"))
from cpu_per_op import cpu_seconds, free_port  # noqa: E402
MODES = ["off", "no", "everysec", "always"]


def start(kind: str, shards: int, mode: str, workdir: str):
    port = free_port()
    aof = ["--appendonly", "no"] if mode == "off" else ["--appendonly", "yes", "--appendfsync", mode]
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", *aof]
    else:
        binary = os.environ.get("RINGKV_BIN", str(REPO / ".build/release/ringkv-server"))
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--shards", str(shards), *aof]
    p = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return p, port
        time.sleep(0.05)
    p.kill()
    raise SystemExit(f"{kind} did not start")


def run_one(kind: str, shards: int, mode: str, n: int) -> tuple[float, float]:
    d = tempfile.mkdtemp(prefix="aofbench-", dir=str(REPO / ".build"))
    p, port = start(kind, shards, mode, d)
    try:
        c0 = cpu_seconds(p.pid)
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-P", "16", "-c", "50",
                              "-n", str(n), "-r", "100000", "-d", "3", "-q", "--csv"],
                             capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(p.pid) - c0
        rps = float(out.strip().splitlines()[-1].split(",")[1].strip('"'))
        return rps, cpu / n * 1e6
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    servers = [("redis", 1), ("ringkv", 1), ("ringkv", 2)]
    res: dict[tuple, list[tuple[float, float]]] = {}
    for r in range(a.rounds):
        for mode in MODES:
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for kind, shards in order:
                res.setdefault((kind, shards, mode), []).append(run_one(kind, shards, mode, a.n))
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in res.items()}
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M")
    lines = [f"# AOF: SET -P 16, -c 50, -n {a.n}, -d 3 ({date} UTC, median of {a.rounds})", "",
             "redis-benchmark -t set -P 16 against redis-server 7.0.15 and RingKV (uring) on the same ext4 disk.",
             "CPU us/op: the whole server process (all threads) per SET.", "",
             "| appendonly / appendfsync | redis ops/s | redis CPU us/op | ringkv-1 ops/s | ringkv-1 CPU us/op "
             "| ringkv-2 ops/s | ringkv-2 CPU us/op | ringkv-1 / redis ops | ringkv-1 / redis CPU |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mode in MODES:
        r, k1, k2 = med[("redis", 1, mode)], med[("ringkv", 1, mode)], med[("ringkv", 2, mode)]
        label = "no" if mode == "off" else f"yes / {mode}"
        lines.append(f"| {label} | {r[0]:.0f} | {r[1]:.2f} | {k1[0]:.0f} | {k1[1]:.2f} | {k2[0]:.0f} | {k2[1]:.2f} "
                     f"| {k1[0] / r[0]:.2f} | {k1[1] / r[1]:.2f} |")
    text = "\n".join(lines) + "\n"
    out = a.out or str(REPO / "perf" / "results" / f"aof-{date}.md")
    Path(out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
