#!/usr/bin/env python3
"""BGSAVE under write load: redis-server 7.0 (fork) against RingKV's
forkless snapshot (shards 1 and 2), side by side.

    .venv/bin/python perf/bgsave_bench.py                  # KEYS=1000000 SIZE=100
    KEYS=2000000 SIZE=200 .venv/bin/python perf/bgsave_bench.py

Per server: prefill KEYS keys (key:%012d, SIZE-byte values, perf/prefill.py),
then redis-benchmark -t set -P 16 -c 50 -r KEYS -d SIZE runs (SETs of random
existing keys: every one overwrites a value the snapshot may still owe).
While it runs: a window of WINDOW seconds, then BGSAVE, polled until done
(INFO every 20 ms in both, so both pay the same for being watched). Reported:
  * ops/s before: SETs per second over the window before BGSAVE
    (total_commands_processed deltas);
  * ops/s during: over the save itself, and its ratio to before;
  * save time (BGSAVE sent until rdb_bgsave_in_progress is 0);
  * RSS: the process tree's (redis: server plus the fork child) VmRSS
    sampled every 10 ms; peak during the save over the RSS just before it.
The table goes to perf/results/bgsave-DATE.md.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
import harness  # noqa: E402

KEYS = int(os.environ.get("KEYS", "1000000"))
SIZE = int(os.environ.get("SIZE", "100"))
WINDOW = float(os.environ.get("WINDOW", "2"))
SHARDS = [int(s) for s in os.environ.get("SHARDS", "1,2").split(",")]
POLL = 0.02


def tree_rss_kb(pid: int) -> int:
    """VmRSS of `pid` and its children (redis's BGSAVE child)."""
    total = 0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def info(c: harness.RespConn, section: str) -> dict[str, str]:
    return harness.info_dict(harness.plain(c.call("INFO", section)))


def processed(c: harness.RespConn) -> int:
    return int(info(c, "stats")["total_commands_processed"])


def run(server: harness.Server, label: str) -> dict:
    server.start()
    try:
        subprocess.run([sys.executable, str(ROOT / "perf" / "prefill.py"), str(server.port), str(KEYS), str(SIZE)],
                       check=True)
        c = server.raw(timeout=120)
        bench = subprocess.Popen(["redis-benchmark", "-p", str(server.port), "-t", "set", "-P", "16", "-c", "50",
                                  "-r", str(KEYS), "-d", str(SIZE), "-n", "200000000", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # connections up, steady state
        samples: list[tuple[float, int]] = []
        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                samples.append((time.time(), tree_rss_kb(server.pid)))
                time.sleep(0.01)

        t = threading.Thread(target=sampler)
        t.start()
        # The window before polls INFO at the same rate as the save does
        # (with several shards INFO is a fan-out: it costs the load a little).
        n0, t0 = processed(c), time.time()
        while time.time() - t0 < WINDOW:
            info(c, "persistence")
            time.sleep(POLL)
        n1, t1 = processed(c), time.time()
        rss_before = tree_rss_kb(server.pid)
        assert c.call("BGSAVE") == ("+", b"Background saving started")
        ts = time.time()
        n_start = processed(c)
        while info(c, "persistence")["rdb_bgsave_in_progress"] != "0":
            time.sleep(POLL)
        te = time.time()
        n_end = processed(c)
        stop.set()
        t.join()
        bench.terminate()
        bench.wait()
        p = info(c, "persistence")
        c.close()
        peak = max(r for (when, r) in samples if ts <= when <= te + 0.02) if samples else rss_before
        before = (n1 - n0) / (t1 - t0)
        during = (n_end - n_start) / (te - ts) if te > ts else 0
        return {
            "label": label, "before": before, "during": during, "save": te - ts,
            "rss0": rss_before, "peak": max(peak, rss_before), "status": p["rdb_last_bgsave_status"],
            "cow": int(p.get("rdb_last_cow_size", "0")),
        }
    finally:
        server.stop()
        server.cleanup()


def main() -> None:
    rows = [run(harness.redis_server(), "redis-server 7.0 (fork)")] if os.environ.get("REDIS", "1") == "1" else []
    for n in SHARDS:
        rows.append(run(harness.ringkv_server("auto", n), f"RingKV shards={n}"))
    date = time.strftime("%Y-%m-%d")
    lines = [
        f"# BGSAVE under write load ({date})",
        "",
        f"{KEYS} keys of {SIZE} bytes prefilled; redis-benchmark -t set -P 16 -c 50 -r {KEYS} -d {SIZE}"
        f" runs throughout; BGSAVE after a {WINDOW:g} s window. `perf/bgsave_bench.py`,"
        f" {os.cpu_count()} CPUs shared with the load generator.",
        "",
        "| server | SET ops/s before | ops/s during save | during/before | save time s | RSS before MiB |"
        " peak RSS MiB | peak/before | COW bytes | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['before']:,.0f} | {r['during']:,.0f} | {r['during'] / r['before']:.2f} |"
            f" {r['save']:.2f} | {r['rss0'] / 1024:.0f} | {r['peak'] / 1024:.0f} | {r['peak'] / r['rss0']:.2f} |"
            f" {r['cow']:,} | {r['status']} |")
    lines += [
        "",
        "Redis's peak counts the fork child's RSS (the process tree): its copy-on-write",
        "pages plus the pages the child shares with the parent, which VmRSS counts in both",
        "processes, as a container's memory limit does. RingKV saves from its own process:",
        "the only extra memory is the records of entries written before the walk reached",
        "them (COW bytes) and the writer's buffers.",
    ]
    out = ROOT / "perf" / "results" / f"bgsave-{date}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
