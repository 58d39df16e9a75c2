"""What serving other connections from a busy script's hook costs, side by
side with redis-server (which does the same from its hook):

* script time: a Lua loop of ITERS iterations, with busy-reply-threshold
  100 (busy after 100 ms, then a serving step at most every 2 ms) and with
  0 (never busy, no step), median of ROUNDS;
* time to -BUSY: a fresh connection's PING while the script is busy, on the
  script's worker (1 shard), median of PROBES.

    .venv/bin/python perf/busy_script_bench.py      # writes perf/results/busy-script-<date>.md

Env: RINGKV_BIN, ITERS (100000000), ROUNDS (3), PROBES (20).
"""
import os, statistics, subprocess, sys, time
sys.path.insert(0, "Tests/integration")
import harness
from harness import RespConn, encode

ITERS = int(os.environ.get("ITERS", "100000000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PROBES = int(os.environ.get("PROBES", "20"))
LOOP = f"local i = 0 while i < {ITERS} do i = i + 1 end return i"
SPIN = "while true do end"


def script_seconds(port, threshold):
    with RespConn(port, timeout=120) as c:
        c.call("CONFIG", "SET", "busy-reply-threshold", str(threshold))
        times = []
        for _ in range(ROUNDS):
            t0 = time.monotonic()
            assert c.call("EVAL", LOOP, "0") == (":", ITERS)
            times.append(time.monotonic() - t0)
        return statistics.median(times)


def busy_latency_ms(port):
    with RespConn(port) as c:
        c.call("CONFIG", "SET", "busy-reply-threshold", "100")
    runner = RespConn(port, timeout=60)
    runner.send(encode("EVAL", SPIN, "0"))
    time.sleep(0.3)
    lat = []
    for _ in range(PROBES):
        with RespConn(port, timeout=5) as p:
            t0 = time.monotonic()
            got = p.call("PING")
            lat.append((time.monotonic() - t0) * 1000)
            assert got[0] == "-" and got[1].startswith(b"BUSY"), got
    with RespConn(port) as k:
        k.call("SCRIPT", "KILL")
    runner.read()
    runner.close()
    return statistics.median(lat), max(lat)


def main():
    servers = {"redis": harness.redis_server(), "ringkv-uring-s1": harness.ringkv_server("uring", 1),
               "ringkv-epoll-s1": harness.ringkv_server("epoll", 1)}
    rows = []
    try:
        for name, s in servers.items():
            s.start()
            on, off = script_seconds(s.port, 100), script_seconds(s.port, 0)
            med, worst = busy_latency_ms(s.port)
            rows.append((name, on, off, med, worst))
    finally:
        for s in servers.values():
            s.cleanup()
    date = time.strftime("%Y%m%d-%H%M%S")
    out = [f"# Busy-script serving cost ({date})", "",
           f"`.venv/bin/python perf/busy_script_bench.py` (ITERS={ITERS}, ROUNDS={ROUNDS}, PROBES={PROBES}),"
           " shared 2-core VM.", "",
           "| server | script s (threshold 100) | script s (threshold 0) | serving overhead | PING -BUSY median ms | worst ms |",
           "|---|---|---|---|---|---|"]
    for name, on, off, med, worst in rows:
        out.append(f"| {name} | {on:.3f} | {off:.3f} | {(on / off - 1) * 100:+.1f}% | {med:.2f} | {worst:.2f} |")
    text = "\n".join(out) + "\n"
    print(text)
    os.makedirs("perf/results", exist_ok=True)
    with open(f"perf/results/busy-script-{date}.md", "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
