#!/usr/bin/env python3
"""Markdown table of medians from perf/bench.sh's results.csv.

Columns: redis-server, each ringkv shard count, the ceiling server; each
non-redis column is followed by its ratio to redis (higher is better).
"""
import csv
import statistics
import sys
from collections import defaultdict


def main(path: str) -> None:
    runs = defaultdict(list)
    failed = set()
    servers, rows = [], []
    with open(path) as f:
        for rec in csv.DictReader(f):
            key = (rec["server"], rec["workload"], rec["pipeline"])
            if rec["server"] not in servers:
                servers.append(rec["server"])
            if (rec["workload"], rec["pipeline"]) not in rows:
                rows.append((rec["workload"], rec["pipeline"]))
            try:
                runs[key].append(float(rec["rps"]))
            except ValueError:
                failed.add(key)

    # redis first, then ringkv by shard count, then the ceiling.
    order = sorted(servers, key=lambda s: (s != "redis", s == "ceiling", s))
    head = ["workload", "-P"]
    for s in order:
        head.append(s)
        if s != "redis":
            head.append(f"{s}/redis")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for workload, pipeline in rows:
        base = median(runs.get(("redis", workload, pipeline)))
        cells = [workload.upper() if not workload.startswith("memtier") else workload, pipeline]
        for s in order:
            key = (s, workload, pipeline)
            m = median(runs.get(key))
            mark = " (errors)" if key in failed else ""
            if m is None and key not in failed:
                cells.append("")
                if s != "redis":
                    cells.append("")
                continue
            cells.append((f"{m:,.0f}" if m is not None else "-") + mark)
            if s != "redis":
                cells.append(f"{m / base:.2f}x" if m and base else "-")
        print("| " + " | ".join(cells) + " |")
    if failed:
        print("\nruns with errors (excluded from medians):",
              ", ".join(f"{s} {w} -P {p}" for s, w, p in sorted(failed)))


def median(values):
    return statistics.median(values) if values else None


if __name__ == "__main__":
    main(sys.argv[1])
