#!/usr/bin/env python3
"""What keyspace notifications cost: server CPU per SET (utime+stime over a
redis-benchmark run, as perf/cpu_per_op.py measures it) with
notify-keyspace-events off and KEA, with and without a PSUBSCRIBE
'__key*__:*' subscriber draining the events, for redis-server 7.0 and
RingKV (1 shard), plus RingKV built from another tree (RINGKV_BASE_BIN,
e.g. main before notifications) with them off: the "off" rows show whether
the event sites cost anything when nothing is selected.

    perf/notify_cost.py --out perf/results/notify-cost-$(date +%F)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu_per_op as cpo  # noqa: E402


def start(kind: str, binary: str | None, logdir: str):
    if binary:
        os.environ["RINGKV_BIN"] = binary
    return cpo.start(kind, 1, "auto", logdir)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--out", default=None)
    ns = ap.parse_args()
    base = os.environ.get("RINGKV_BASE_BIN")
    head = str(cpo.REPO / ".build/release/ringkv-server")
    # name -> (kind, binary, flags, subscriber)
    configs = {
        "redis off": ("redis", None, "", False),
        "redis KEA": ("redis", None, "KEA", False),
        "redis KEA+sub": ("redis", None, "KEA", True),
        "ringkv off": ("ringkv", head, "", False),
        "ringkv KEA": ("ringkv", head, "KEA", False),
        "ringkv KEA+sub": ("ringkv", head, "KEA", True),
    }
    if base:
        configs["ringkv-base off"] = ("ringkv", base, "", False)
    logdir = tempfile.mkdtemp(prefix="notify-cost-")
    procs, subs = {}, []
    for name, (kind, binary, flags, sub) in configs.items():
        p, port = start(kind, binary, logdir)
        procs[name] = (p, port)
        if flags:
            subprocess.run(["redis-cli", "-p", str(port), "CONFIG", "SET", "notify-keyspace-events", flags],
                           capture_output=True)
        if sub:
            subs.append(subprocess.Popen(["redis-cli", "-p", str(port), "PSUBSCRIBE", "__key*__:*"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.3)
    res: dict[str, list[tuple[float, float]]] = {}
    names = list(configs)
    try:
        for rnd in range(ns.rounds):
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            for name in order:
                p, port = procs[name]
                c0, t0 = cpo.cpu_seconds(p.pid), time.time()
                r = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(ns.n), "-r", "100000",
                                    "-P", str(ns.pipeline), "-c", "50", "-q", "-d", "3", "-t", "set"],
                                   capture_output=True, text=True)
                el = time.time() - t0
                if r.returncode != 0:
                    raise SystemExit(f"{name}: {r.stdout[-300:]}{r.stderr[-300:]}")
                us = (cpo.cpu_seconds(p.pid) - c0) / ns.n * 1e6
                res.setdefault(name, []).append((us, ns.n / el))
                print(f"round {rnd + 1} {name:16s} {us:6.2f} us/op {ns.n / el:10.0f} req/s", flush=True)
    finally:
        for s in subs:
            s.terminate()
        for p, _ in procs.values():
            p.terminate()
    lines = [f"SET -P {ns.pipeline}, redis-benchmark -c 50 -r 100000 -d 3 -n {ns.n}; server CPU per op "
             f"(utime+stime) and throughput, medians of {ns.rounds} alternating rounds; 1 shard; "
             f"{os.cpu_count()} CPUs; `perf/notify_cost.py`. KEA+sub: one PSUBSCRIBE '__key*__:*' client "
             f"receiving every event (two per SET).", "",
             "| server | notify-keyspace-events | us/op | req/s |", "|---|---|---|---|"]
    for name in names:
        u = statistics.median(x for x, _ in res[name])
        t = statistics.median(y for _, y in res[name])
        server, _, mode = name.partition(" ")
        lines.append(f"| {server} | {mode} | {u:.2f} | {t:,.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if ns.out:
        Path(ns.out + ".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
