"""MIGRATE side by side: the same MIGRATE ... COPY REPLACE from redis-server
and from ringkv (shards 1 and 2) to one redis-server target, with
redis-benchmark, servers alternating over ROUNDS rounds; medians.

Workloads (one op = one MIGRATE call, which waits for the target's reply):
  one-string   MIGRATE host port str 0 5000 COPY REPLACE   (a 100-byte string)
  one-hash     the same for a 100-field hash
  keys-16      MIGRATE host port "" 0 5000 COPY REPLACE KEYS k0..k15 (16 strings;
               on 2 shards they span both, so the shards are held for it)

    .venv/bin/python perf/migrate_bench.py [requests-per-run]

Each source uses one cached link, so what is measured is DUMP, one write,
the target's RESTOREs and one read per call; -c 4 clients (Redis blocks on
each call, as ringkv's worker does). The table goes to
perf/results/migrate-bench-DATE.md.
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, "Tests/integration")
import harness  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
ROUNDS = int(os.environ.get("ROUNDS", "3"))
KEYS16 = [f"k{i}" for i in range(16)]


def bench(port, args):
    p = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(N), "-c", "4", "--csv", *args],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"redis-benchmark on {port} {args}: {p.stdout[-500:]} {p.stderr[-500:]}")
    out = p.stdout
    last = [l for l in out.splitlines() if l.startswith('"')][-1]
    return float(last.split(",")[1].strip('"'))


def main():
    target = harness.redis_server().start()
    sources = {"redis": harness.redis_server().start(),
               "ringkv-1": harness.ringkv_server("auto", 1).start(),
               "ringkv-2": harness.ringkv_server("auto", 2).start()}
    tp = str(target.port)
    work = {
        "one-string": ["MIGRATE", "127.0.0.1", tp, "str", "0", "5000", "COPY", "REPLACE"],
        "one-hash": ["MIGRATE", "127.0.0.1", tp, "hash", "0", "5000", "COPY", "REPLACE"],
        "keys-16": ["MIGRATE", "127.0.0.1", tp, "", "0", "5000", "COPY", "REPLACE", "KEYS", *KEYS16],
    }
    try:
        for s in sources.values():
            c = s.client()
            c.set("str", "v" * 100)
            c.hset("hash", mapping={f"f{i}": f"value{i}" for i in range(100)})
            for k in KEYS16:
                c.set(k, "x" * 100)
        res = {(w, n): [] for w in work for n in sources}
        names = list(sources)
        for r in range(ROUNDS):
            order = names[r % len(names):] + names[:r % len(names)]
            for w, args in work.items():
                for n in order:
                    res[(w, n)].append(bench(sources[n].port, args))
        lines = [f"# MIGRATE to a redis-server target, {N} calls per run, -c 4, median of {ROUNDS}",
                 "", "| workload | redis ops/s | ringkv-1 ops/s | ringkv-2 ops/s | ringkv-1 / redis | ringkv-2 / redis |",
                 "|---|---|---|---|---|---|"]
        for w in work:
            m = {n: statistics.median(res[(w, n)]) for n in names}
            lines.append(f"| {w} | {m['redis']:.0f} | {m['ringkv-1']:.0f} | {m['ringkv-2']:.0f} | "
                         f"{m['ringkv-1'] / m['redis']:.2f} | {m['ringkv-2'] / m['redis']:.2f} |")
        table = "\n".join(lines) + "\n"
        print(table)
        os.makedirs("perf/results", exist_ok=True)
        path = f"perf/results/migrate-bench-{time.strftime('%Y%m%d-%H%M%S')}.md"
        open(path, "w").write(table)
        print("table:", path)
    finally:
        for s in [target, *sources.values()]:
            s.stop()
            s.cleanup()


if __name__ == "__main__":
    main()
