#!/usr/bin/env python3
"""Cache hit ratio under maxmemory: redis-server 7.0 against RingKV (1 and 2
shards), allkeys-lru and allkeys-lfu, on the same Zipfian key sequence.

The load is cache-aside: GET a key drawn from a Zipf(s) distribution over
--keys keys; on a miss, SET it (--value bytes). Each server gets the same
data budget above its own idle used_memory (maxmemory = idle + --budget),
so the servers differ only in what a key costs them and in which keys their
eviction keeps. The first --warmup draws fill the cache and are not counted.

    perf/eviction_hit_ratio.py                         # writes perf/results/eviction-hit-ratio-DATE.md
    perf/eviction_hit_ratio.py --ops 200000 --budget-mb 8 --shards 1,2,4

Reported per run: hit ratio of the counted draws, the ratio RingKV/Redis,
keys held at the end, evicted_keys, and the highest used_memory seen
(sampled after every pipeline) against maxmemory.
"""
from __future__ import annotations

import argparse
import bisect
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "integration"))
import harness  # noqa: E402  (raw RESP client: no redis-py needed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, shards: int, logdir: str):
    port = free_port()
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    else:
        binary = os.environ.get("RINGKV_BIN", str(REPO / ".build/release/ringkv-server"))
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--shards", str(shards)]
    p = subprocess.Popen(cmd, cwd=logdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit(f"{kind} did not start")


def zipf_sampler(n: int, s: float, rng: random.Random):
    cdf = []
    total = 0.0
    for k in range(1, n + 1):
        total += 1.0 / k ** s
        cdf.append(total)
    # Ranks map to scattered key names, so hot keys spread over every shard.
    names = list(range(n))
    rng.shuffle(names)

    def draw() -> int:
        return names[bisect.bisect_left(cdf, rng.random() * total)]

    return draw


def connect(port: int) -> harness.RespConn:
    return harness.RespConn(port, timeout=60)


def info(c, section: str) -> dict[str, str]:
    return harness.info_dict(harness.plain(c.call("INFO", section)))


def run_one(kind: str, shards: int, policy: str, a, budget: int) -> dict:
    with tempfile.TemporaryDirectory() as logdir:
        proc, port = start(kind, shards, logdir)
        try:
            c = connect(port)
            time.sleep(0.3)
            base = int(info(c, "memory")["used_memory"])
            limit = base + budget
            c.call("CONFIG", "SET", "maxmemory-policy", policy)
            c.call("CONFIG", "SET", "maxmemory-samples", str(a.samples))
            c.call("CONFIG", "SET", "maxmemory", str(limit))
            rng = random.Random(a.seed)
            draw = zipf_sampler(a.keys, a.s, rng)
            value = b"x" * a.value
            hits = reads = 0
            peak = 0
            errors = 0
            done = 0
            t0 = time.time()
            while done < a.ops:
                n = min(a.pipeline, a.ops - done)
                keys = [b"key:%d" % draw() for _ in range(n)]
                replies = c.pipeline([("GET", k) for k in keys])
                misses = [k for k, r in zip(keys, replies) if r[1] is None]
                if done >= a.warmup:
                    reads += n
                    hits += n - len(misses)
                if misses:
                    for r in c.pipeline([("SET", k, value) for k in misses]):
                        if r[0] == "-":
                            errors += 1
                done += n
                if (done // a.pipeline) % 20 == 0:
                    peak = max(peak, int(info(c, "memory")["used_memory"]))
            elapsed = time.time() - t0
            mem = info(c, "memory")
            stats = info(c, "stats")
            peak = max(peak, int(mem["used_memory"]))
            dbsize = c.call("DBSIZE")[1]
            return {
                "server": "redis" if kind == "redis" else f"ringkv-{shards}",
                "policy": policy, "hit": hits / max(1, reads), "keys": dbsize,
                "evicted": int(stats["evicted_keys"]), "used": int(mem["used_memory"]), "peak": peak,
                "limit": limit, "base": base, "errors": errors, "secs": elapsed, "budget": budget,
            }
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=200_000)
    ap.add_argument("--ops", type=int, default=400_000)
    ap.add_argument("--warmup", type=int, default=100_000)
    ap.add_argument("--s", type=float, default=0.99, help="Zipf exponent")
    ap.add_argument("--value", type=int, default=100)
    ap.add_argument("--budget-mb", type=int, default=8, help="maxmemory above the idle used_memory")
    ap.add_argument("--samples", type=int, default=5, help="maxmemory-samples")
    ap.add_argument("--pipeline", type=int, default=200)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--shards", default="1,2")
    ap.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    ap.add_argument("--out", default=str(REPO / "perf" / "results"))
    a = ap.parse_args()

    rows = []
    budget = a.budget_mb * 1024 * 1024

    def show(r, tag=""):
        print(f"{r['server'] + tag:16} {r['policy']:12} hit {r['hit']:.4f} keys {r['keys']:7} evicted {r['evicted']:8} "
              f"peak-limit {r['peak'] - r['limit']:+9} errors {r['errors']} ({r['secs']:.1f}s)", flush=True)

    for policy in a.policies.split(","):
        ref = run_one("redis", 1, policy, a, budget)
        rows.append(ref)
        show(ref)
        for shards in [int(x) for x in a.shards.split(",")]:
            r = run_one("ringkv", shards, policy, a, budget)
            rows.append(r)
            show(r)
            # The same run with a budget that holds as many keys as Redis held:
            # what is left is the quality of the eviction choices.
            per_key = (r["used"] - r["base"]) / max(1, r["keys"])
            eq = run_one("ringkv", shards, policy, a, int(ref["keys"] * per_key))
            eq["server"] += " (equal keys)"
            rows.append(eq)
            show(eq)

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    lines = [
        f"# Eviction hit ratio ({stamp} UTC)",
        "",
        f"Command: `perf/eviction_hit_ratio.py --keys {a.keys} --ops {a.ops} --warmup {a.warmup} --s {a.s} "
        f"--value {a.value} --budget-mb {a.budget_mb} --samples {a.samples} --pipeline {a.pipeline} "
        f"--seed {a.seed} --shards {a.shards}`",
        "",
        "Cache-aside load (GET; SET on a miss), Zipfian keys, same sequence for every server; "
        "maxmemory = idle used_memory + budget. Hit ratio over the draws after the warm-up. "
        "RingKV stores a key in fewer bytes than Redis, so with the same budget it holds more keys; "
        "the \"equal keys\" rows give it the budget that holds as many keys as Redis held "
        "(its own bytes per key × Redis's key count), which compares the eviction choices alone.",
        "",
        "| server | policy | budget | hit ratio | vs redis | keys held | evicted_keys | peak used − maxmemory | final used − maxmemory | OOM errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ref = next(x for x in rows if x["server"] == "redis" and x["policy"] == r["policy"])
        lines.append(f"| {r['server']} | {r['policy']} | {r['budget']} B | {r['hit']:.4f} | {r['hit'] / ref['hit']:.3f} | {r['keys']} | "
                     f"{r['evicted']} | {r['peak'] - r['limit']:+d} B | {r['used'] - r['limit']:+d} B | {r['errors']} |")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"eviction-hit-ratio-{stamp}.md"
    path.write_text("\n".join(lines) + "\n")
    print(path)


if __name__ == "__main__":
    main()
