"""A/B of server CPU per op (utime+stime from /proc over a fixed
redis-benchmark run) for two ringkv builds and redis-server, shards 1 and 2,
servers alternating in rotated order over 3 rounds; medians.

    OLD_BIN=<old build> RINGKV_BIN=<new build> .venv/bin/python perf/cpu_per_op_ab.py

Env knobs: KEYSPACE (100000; perf/cpu-per-op.sh uses 1000000), N (300000,
requests per -P 16 run), N_P1 (60000), ROUNDS (3), REDIS=0 to leave
redis-server out. The /proc tick is 10 ms: keep N large enough that a run
spends well over a second of server CPU.
"""
import os, subprocess, sys, time, statistics
sys.path.insert(0, "Tests/integration")
import harness
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def start(kind):
    port = harness.free_port()
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    else:
        b, sh = kind.split(":")
        cmd = [b, "--port", str(port), "--shards", sh, "--bind", "127.0.0.1"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.7)
    subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", "200000", "-r", "100000", "-P", "16", "-q", "-d", "3"], capture_output=True)
    return p, port
OLD = os.environ.get("OLD_BIN", "/work/old-main/.build/release/ringkv-server")
NEW = os.environ.get("RINGKV_BIN", ".build/release/ringkv-server")
KEYSPACE = os.environ.get("KEYSPACE", "100000")
N = int(os.environ.get("N", "300000")); N_P1 = int(os.environ.get("N_P1", "60000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
kinds = {"redis": "redis", "old-s1": OLD + ":1", "new-s1": NEW + ":1",
         "old-s2": OLD + ":2", "new-s2": NEW + ":2"}
if os.environ.get("REDIS") == "0": del kinds["redis"]
loads = [("get", 16, N), ("set", 16, N), ("get", 1, N_P1)]
res = {}
procs = {k: start(v) for k, v in kinds.items()}
for rnd in range(ROUNDS):
    order = list(kinds)[rnd:] + list(kinds)[:rnd]
    for t, P, n in loads:
        for k in order:
            p, port = procs[k]
            c0 = cpu(p.pid); t0 = time.time()
            subprocess.run(["redis-benchmark", "-p", str(port), "-t", t, "-n", str(n), "-r", KEYSPACE, "-P", str(P), "-c", "50", "-q", "-d", "3"], capture_output=True)
            el = time.time() - t0
            res.setdefault((t, P, k), []).append(((cpu(p.pid) - c0) / n * 1e6, n / el))
for p, _ in procs.values(): p.terminate()
print("| workload | " + " | ".join(kinds) + " |")
print("|---|" + "---|" * len(kinds))
for t, P, n in loads:
    cells = []
    for k in kinds:
        v = res[(t, P, k)]
        cells.append(f"{statistics.median(x[0] for x in v):.2f} µs, {statistics.median(x[1] for x in v)/1000:.0f}k/s")
    print(f"| {t.upper()} -P {P} | " + " | ".join(cells) + " |")
