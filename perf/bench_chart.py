#!/usr/bin/env python3
"""PNG chart of perf/bench.sh's results.csv: median requests/second per
server, one panel per pipeline depth (their scales differ tenfold), one
group of bars per workload and value size; whiskers span the rounds'
min..max, and each non-redis bar is labelled with its ratio to redis.

    bench_chart.py results.csv out.png [title]

Needs matplotlib (perf/lib.sh's perf_python installs it in perf/.venv).
"""
import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAMES = {"mix": "MIX 1:10"}
COLORS = {"redis": "#d62728", "ceiling": "#7f7f7f"}
RINGKV_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22", "#8c564b",
                 "#e377c2", "#ff7f0e"]


def main(path, png, title=""):
    rps = defaultdict(list)
    servers, groups, pipes = [], [], []
    with open(path) as f:
        for r in csv.DictReader(f):
            try:
                v = float(r["rps"])
            except ValueError:
                continue
            tool = r.get("tool", "redis-benchmark")
            g = (tool, r["workload"], r.get("datasize", "3"))
            for lst, x in ((servers, r["server"]), (groups, g), (pipes, r["pipeline"])):
                if x not in lst:
                    lst.append(x)
            rps[(r["server"], g, r["pipeline"])].append(v)
    servers.sort(key=lambda s: (s != "redis", s == "ceiling", len(s), s))
    colors, k = {}, 0
    for s in servers:
        if s in COLORS:
            colors[s] = COLORS[s]
        else:
            colors[s] = RINGKV_COLORS[k % len(RINGKV_COLORS)]
            k += 1
    multi_tool = len({g[0] for g in groups}) > 1

    fig, axes = plt.subplots(len(pipes), 1, figsize=(max(8, 1.3 * len(groups) * len(servers) / 2 + 3),
                                                   3.6 * len(pipes)), squeeze=False)
    width = 0.8 / len(servers)
    for ax, p in zip(axes[:, 0], pipes):
        for i, s in enumerate(servers):
            xs, ys, lo, hi, labels = [], [], [], [], []
            for j, g in enumerate(groups):
                vals = rps.get((s, g, p))
                if not vals:
                    continue
                m = statistics.median(vals)
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(m / 1000)
                lo.append((m - min(vals)) / 1000)
                hi.append((max(vals) - m) / 1000)
                base = rps.get(("redis", g, p))
                labels.append(f"{m / statistics.median(base):.2f}x" if base and s != "redis" else "")
            bars = ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=s, color=colors[s],
                          error_kw={"elinewidth": 0.8, "ecolor": "#333"})
            for b, lab in zip(bars, labels):
                if lab:
                    ax.annotate(lab, (b.get_x() + b.get_width() / 2, b.get_height()),
                                xytext=(0, 2), textcoords="offset points", ha="center",
                                va="bottom", fontsize=7)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([("memtier " if multi_tool and t == "memtier" else "")
                            + f"{NAMES.get(w, w.upper())}\n{d} B" for t, w, d in groups], fontsize=8)
        ax.set_ylabel("k requests/s (median)")
        ax.set_title(f"pipeline {p}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.08)
    axes[0, 0].legend(fontsize=8, ncol=len(servers), loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=90)


if __name__ == "__main__":
    main(*sys.argv[1:4])
