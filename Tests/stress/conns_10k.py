#!/usr/bin/env python3
"""10,000 concurrent connections while redis-benchmark loads 50 more.

For ringkv (each backend) and redis-server: open N idle connections (each
sends a PING and must get its PONG, so each was accepted and served), note
the RSS they cost, run redis-benchmark on 50 connections meanwhile, then
PING every idle connection again. Writes perf/results/conns-10k-<date>.md.

  Tests/stress/conns_10k.py [--conns 10000] [--shards 2] [--out DIR]
"""
from __future__ import annotations

import argparse
import datetime
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def raise_nofile(n: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < n:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {n} needed")


def ping_all(socks: list[socket.socket]) -> int:
    """PINGs every connection (pipelined across them) and counts PONGs."""
    ok = 0
    for i in range(0, len(socks), 500):
        batch = socks[i:i + 500]
        for s in batch:
            s.sendall(b"PING\r\n")
        for s in batch:
            buf = b""
            while not buf.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    break
                buf += chunk
            ok += buf == b"+PONG\r\n"
    return ok


def measure(name: str, server: harness.Server, conns: int) -> dict:
    server.start()
    try:
        time.sleep(0.5)
        rss0 = server.rss_kb()
        socks = []
        t0 = time.monotonic()
        for _ in range(conns):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            socks.append(s)
        opened = time.monotonic() - t0
        served = ping_all(socks)
        time.sleep(1.0)
        rss1 = server.rss_kb()
        with server.raw() as c:
            info = harness.info_dict(c.call("INFO", "clients")[1])
        bench = subprocess.run(
            ["redis-benchmark", "-p", str(server.port), "-c", "50", "-n", "200000", "-P", "8",
             "-t", "set,get,lpush,lpop,incr", "-q", "--csv"],
            capture_output=True, text=True, timeout=300)
        rps = {}
        for line in bench.stdout.splitlines()[1:]:
            f = [x.strip('"') for x in line.split(",")]
            if len(f) > 1:
                rps[f[0]] = float(f[1])
        served_after = ping_all(socks)
        for s in socks:
            s.close()
        return dict(name=name, conns=conns, opened_s=opened, served=served, served_after=served_after,
                    connected=int(info["connected_clients"]), rss0=rss0, rss1=rss1,
                    per_conn=(rss1 - rss0) * 1024 / conns, bench_rc=bench.returncode, rps=rps,
                    alive=server.alive())
    finally:
        server.stop()
        server.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--out", default=str(REPO / "perf" / "results"))
    a = ap.parse_args()
    raise_nofile(a.conns + 1000)
    maxclients = ["--maxclients", str(a.conns + 100)]
    runs = [
        measure(f"ringkv uring-{a.shards}", harness.ringkv_server("uring", a.shards, extra=maxclients), a.conns),
        measure(f"ringkv epoll-{a.shards}", harness.ringkv_server("epoll", a.shards, extra=maxclients), a.conns),
        measure("redis-server", harness.redis_server(extra=maxclients), a.conns),
    ]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    ops = sorted({k for r in runs for k in r["rps"]})
    lines = [f"# {a.conns} concurrent connections ({date} UTC)", "",
             f"`Tests/stress/conns_10k.py --conns {a.conns} --shards {a.shards}`: {a.conns} idle connections "
             "opened and PINGed, then redis-benchmark `-c 50 -n 200000 -P 8` while they stay open, "
             "then every idle connection PINGed again. RSS from /proc/<pid>/status.", "",
             "| server | opened in s | PONGs before | PONGs after load | connected_clients | RSS before KiB "
             "| RSS with conns KiB | bytes per idle conn | " + " | ".join(f"{o} rps" for o in ops) + " |",
             "|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(ops)]
    for r in runs:
        lines.append(f"| {r['name']} | {r['opened_s']:.1f} | {r['served']} | {r['served_after']} | {r['connected']} "
                     f"| {r['rss0']} | {r['rss1']} | {r['per_conn']:.0f} | "
                     + " | ".join(f"{r['rps'].get(o, 0):.0f}" for o in ops) + " |")
    ok = all(r["served"] == a.conns and r["served_after"] == a.conns and r["alive"] and r["bench_rc"] == 0
             for r in runs)
    lines += ["", f"All served: {'yes' if ok else 'NO'}."]
    Path(a.out).mkdir(parents=True, exist_ok=True)
    path = Path(a.out) / f"conns-10k-{date}.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {path}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
