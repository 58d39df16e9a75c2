#!/usr/bin/env python3
"""DUMP, RESTORE, SAVE, start-up load and DEBUG DIGEST: ringkv (shards 1 and 2)
against redis-server 7.0 on the same dataset, in one run.

    .venv/bin/python perf/rdb_bench.py            # KEYS=200000
    KEYS=500000 .venv/bin/python perf/rdb_bench.py
    MIX=streams KEYS=50000 .venv/bin/python perf/rdb_bench.py   # every key a stream

DUMP runs through redis-benchmark (-P 16, random keys). RESTORE cannot go
through redis-benchmark (every payload holds NUL bytes), so it is sent as
one pre-encoded pipelined stream from Python and timed until the last reply:
the client only copies bytes. SAVE and DEBUG DIGEST are timed as single
commands; the load time is what each server logs ("DB loaded from disk").
The table goes to perf/results/rdb-DATE.md.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
import harness  # noqa: E402

KEYS = int(os.environ.get("KEYS", "200000"))
N = int(os.environ.get("N", "200000"))
# "streams": every key a stream of 20 entries (two fields each) with a
# consumer group, so DUMP/RESTORE/SAVE/load measure the stream RDB form.
MIX = os.environ.get("MIX", "mixed")


def fill(server) -> None:
    """KEYS keys key:%012d, a mix: 60% strings, 10% each hash, list, set, zset."""
    c = server.client()
    c.flushall()
    p = c.pipeline(transaction=False)
    for i in range(KEYS):
        k = f"key:{i:012d}"
        m = i % 10
        if MIX == "streams":
            for j in range(20):
                p.execute_command("XADD", k, f"{j + 1}-0", "temp", str(i + j), "name", f"sensor-{i % 100}")
            p.execute_command("XGROUP", "CREATE", k, "g", "0")
        elif m < 6:
            p.set(k, f"value-{i}" * (1 + i % 4))
        elif m == 6:
            p.hset(k, mapping={f"f{j}": f"v{i}-{j}" for j in range(8)})
        elif m == 7:
            p.rpush(k, *[f"e{i}-{j}" for j in range(12)])
        elif m == 8:
            p.sadd(k, *[str(i + j) for j in range(10)])
        else:
            p.zadd(k, {f"m{j}": j * 1.5 for j in range(10)})
        if i % 2000 == 1999:
            p.execute()
    p.execute()
    c.close()


def bench_dump(server) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-n", str(N), "-P", "16", "-c", "50",
                          "-r", str(KEYS), "-q", "DUMP", "key:__rand_int__"],
                         capture_output=True, text=True, check=True).stdout
    m = re.findall(r"([\d.]+) requests per second", out)
    return float(m[-1])


def resp(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def bench_restore(server, payloads: list[bytes]) -> float:
    stream = b"".join(resp(b"RESTORE", b"key:%012d" % (i % KEYS), b"0", p, b"REPLACE")
                      for i, p in enumerate(payloads))
    s = socket.create_connection(("127.0.0.1", server.port))
    t0 = time.perf_counter()
    s.sendall(stream)
    want, got = len(payloads) * 5, 0
    while got < want:
        chunk = s.recv(1 << 20)
        if not chunk:
            raise RuntimeError("connection closed")
        got += len(chunk)
    dt = time.perf_counter() - t0
    s.close()
    return len(payloads) / dt


def timed(server, *cmd) -> float:
    c = server.client(socket_timeout=600)
    t0 = time.perf_counter()
    c.execute_command(*cmd)
    dt = time.perf_counter() - t0
    c.close()
    return dt


def load_seconds(server) -> float:
    m = re.findall(r"DB loaded from disk: ([\d.e-]+) seconds", server.log_tail(20000))
    return float(m[-1]) if m else float("nan")


def run(server) -> dict:
    fill(server)
    c = server.client()
    sample = [c.dump(f"key:{i:012d}") for i in range(0, KEYS, max(1, KEYS // 20000))]
    c.close()
    payloads = (sample * (N // len(sample) + 1))[:N]
    r = {"dump": bench_dump(server), "restore": bench_restore(server, payloads),
         "digest": timed(server, "DEBUG", "DIGEST"), "save": timed(server, "SAVE")}
    size = (server.workdir / "dump.rdb").stat().st_size
    server.stop()
    server.start(timeout=300)
    r["load"] = load_seconds(server)
    r["file"] = size
    return r


def main() -> None:
    servers = [("redis", harness.redis_server(extra=["--enable-debug-command", "yes"]))]
    for shards in (1, 2):
        servers.append((f"ringkv-{shards}", harness.ringkv_server("auto", shards)))
    results = {}
    try:
        for name, s in servers:
            s.start()
            results[name] = run(s)
            print(name, results[name], flush=True)
    finally:
        for _, s in servers:
            s.cleanup()
    ref = results["redis"]
    rows = [("DUMP (ops/s, redis-benchmark -P 16 -c 50)", "dump", True),
            ("RESTORE REPLACE (ops/s, one pipelined stream)", "restore", True),
            ("SAVE (s)", "save", False), ("load at start-up (s, as logged)", "load", False),
            ("DEBUG DIGEST (s)", "digest", False), ("dump.rdb (bytes)", "file", False)]
    lines = [f"# RDB: DUMP, RESTORE, SAVE, load, DEBUG DIGEST ({time.strftime('%Y-%m-%d %H:%M')})", "",
             (f"{KEYS} keys, each a stream of 20 entries with a consumer group, N={N}." if MIX == "streams" else
              f"{KEYS} keys (60% strings, 10% each small hash, list, set, zset), N={N}."),
             "Command: `.venv/bin/python perf/rdb_bench.py`. Ratio: ringkv / redis (ops/s: higher is",
             "better; seconds and bytes: lower is better).", "",
             "| measure | redis | ringkv 1 shard | ratio | ringkv 2 shards | ratio |", "|---|---|---|---|---|---|"]
    for label, key, _ in rows:
        cells = [label, f"{ref[key]:.4g}"]
        for name in ("ringkv-1", "ringkv-2"):
            v = results[name][key]
            cells += [f"{v:.4g}", f"{v / ref[key]:.2f}" if ref[key] else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    out = ROOT / "perf" / "results" / f"rdb{'-streams' if MIX == 'streams' else ''}-{time.strftime('%Y%m%d-%H%M%S')}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"table: {out}")


if __name__ == "__main__":
    main()
