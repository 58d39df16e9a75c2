#!/usr/bin/env python3
"""Markdown table of medians from perf/bench.sh's results.csv.

    bench_table.py results.csv [--no-latency]

One row per (tool, workload, value size, pipeline). Columns: redis-server,
each ringkv shard count, the ceiling server. Each server gets its median
requests/second and, unless --no-latency, the medians of its runs' p50 and
p99 latencies in ms; each non-redis server is followed by its throughput
ratio to redis (higher is better). Runs with errors are left out of the
medians and named under the table.
"""
import csv
import statistics
import sys
from collections import defaultdict

WORKLOAD_NAMES = {"mix": "MIX 1:10"}


def load(path):
    runs = defaultdict(list)
    failed = set()
    servers, rows = [], []
    with open(path) as f:
        for rec in csv.DictReader(f):
            tool = rec.get("tool", "redis-benchmark")
            row = (tool, rec["workload"], rec.get("datasize", "3"), rec["pipeline"])
            if rec["server"] not in servers:
                servers.append(rec["server"])
            if row not in rows:
                rows.append(row)
            key = (rec["server"],) + row
            try:
                runs[key].append(
                    {f: float(rec[f]) if rec.get(f) not in (None, "") else None
                     for f in ("rps", "p50_ms", "p99_ms")})
            except ValueError:
                failed.add(key)
    # redis first, then ringkv by shard count, then the ceiling.
    order = sorted(servers, key=lambda s: (s != "redis", s == "ceiling", len(s), s))
    return runs, failed, order, rows


def median(runs, field):
    vals = [r[field] for r in runs or [] if r[field] is not None]
    return statistics.median(vals) if vals else None


def table(path, latency=True):
    runs, failed, order, rows = load(path)
    multi_tool = len({r[0] for r in rows}) > 1
    head = (["tool"] if multi_tool else []) + ["workload", "value B", "-P"]
    for s in order:
        head.append(f"{s} rps")
        if latency:
            head.append(f"{s} p50/p99 ms")
        if s != "redis":
            head.append(f"{s}/redis")
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in rows:
        tool, workload, size, pipeline = row
        base = median(runs.get(("redis",) + row), "rps")
        cells = ([tool] if multi_tool else []) + [
            WORKLOAD_NAMES.get(workload, workload.upper()), size, pipeline]
        for s in order:
            key = (s,) + row
            m = median(runs.get(key), "rps")
            mark = " (errors)" if key in failed else ""
            if m is None:
                cells += ["-" + mark if key in failed else ""] + ([""] if latency else []) \
                    + ([""] if s != "redis" else [])
                continue
            cells.append(f"{m:,.0f}{mark}")
            if latency:
                p50, p99 = median(runs[key], "p50_ms"), median(runs[key], "p99_ms")
                cells.append(f"{p50:.2f} / {p99:.2f}" if p50 is not None and p99 is not None else "-")
            if s != "redis":
                cells.append(f"{m / base:.2f}x" if base else "-")
        out.append("| " + " | ".join(cells) + " |")
    if failed:
        out.append("\nruns with errors (excluded from medians): "
                   + ", ".join(f"{s} {t} {w} -d {d} -P {p}" for s, t, w, d, p in sorted(failed)))
    return "\n".join(out)


if __name__ == "__main__":
    print(table(sys.argv[1], latency="--no-latency" not in sys.argv[2:]))
