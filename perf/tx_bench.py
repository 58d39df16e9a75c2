"""Transactions side by side: redis-server and ringkv (shards 1 and 2), in one
run, servers alternating in rotated order over ROUNDS rounds; medians of
throughput and of server CPU per operation (utime+stime from /proc).

Workloads (an "op" is one transaction or one MSET):
  exec3-tag   MULTI, 3 SETs of keys sharing a {tag} (one shard), EXEC;
              16 transactions pipelined per connection, 8 connections
  exec3-any   the same with untagged keys (on 2 shards: most blocks span both)
  mset2-cross MSET of 2 keys that live on different shards (redis-benchmark,
              -P 16, -c 50)
  evalsha     EVALSHA of `return redis.call('INCR', KEYS[1])` on a random key
              (redis-benchmark, -P 16, -c 50)

    .venv/bin/python perf/tx_bench.py [seconds-per-run]
    python3 perf/tx_bench.py --load exec3-tag|exec3-any|evalsha --port P [--seconds S]

A/B of builds: RINGKV_BINS="base=/tmp/old,new=.build/release/ringkv-server"
SHARDS=1 LOADS=exec3-tag,evalsha runs each build (1 shard) beside redis-server
and adds CPU-per-op and throughput ratios against redis for every build.

The second form drives one load against a running server until S seconds
(default 3600) have passed, for a profile (perf/flamegraph.sh --load).

The MULTI/EXEC client sends pre-encoded pipelines and counts reply bytes, so
the client does little per transaction; its threads share the 2 cores with
the server, which is why CPU per op is the steadier figure.
"""
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, "Tests/integration")
import harness  # noqa: E402

RINGKV = os.environ.get("RINGKV_BIN", ".build/release/ringkv-server")
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else 4.0
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CONNS, DEPTH = 8, 16


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def hash_bytes(b: bytes) -> int:
    """Storage/Hash.swift's hashBytes, to pick keys on chosen shards."""
    m, k = (1 << 64) - 1, 0x9E3779B97F4A7C15
    h = 0xCBF29CE484222325 ^ ((len(b) * k) & m)
    rot = lambda x: ((x << 31) | (x >> 33)) & m  # noqa: E731
    i = 0
    while i + 8 <= len(b):
        h = rot(((h ^ int.from_bytes(b[i:i + 8], "little")) * k) & m)
        i += 8
    if i < len(b):
        h = rot(((h ^ int.from_bytes(b[i:], "little")) * k) & m)
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & m
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & m
    return h ^ (h >> 33)


def shard_of(tag: str, shards: int) -> int:
    return (hash_bytes(tag.encode()) >> 32) % shards


BINS = dict(x.split("=", 1) for x in os.environ["RINGKV_BINS"].split(",")) if os.environ.get("RINGKV_BINS") \
    else {"ringkv": RINGKV}


def start(kind):
    port = harness.free_port()
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    else:
        name, shards = kind.rsplit("-s", 1)
        cmd = [BINS[name], "--port", str(port), "--shards", shards, "--bind", "127.0.0.1"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.7)
    return p, port


def exec_pipeline(tagged: bool, seed: int) -> tuple[bytes, int]:
    rnd = random.Random(seed)
    out = []
    for _ in range(DEPTH):
        u = rnd.randrange(1_000_000)
        keys = [f"{{u{u}}}:{x}" if tagged else f"u{u}:{x}" for x in "abc"]
        out.append(harness.encode("MULTI"))
        for key in keys:
            out.append(harness.encode("SET", key, "xyz"))
        out.append(harness.encode("EXEC"))
    reply = b"+OK\r\n" + b"+QUEUED\r\n" * 3 + b"*3\r\n" + b"+OK\r\n" * 3
    return b"".join(out), len(reply) * DEPTH


def run_exec(port, tagged):
    stop = time.monotonic() + SECONDS
    done = [0] * CONNS

    def conn(i):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pipes = [exec_pipeline(tagged, i * 100 + j) for j in range(8)]
        j = 0
        while time.monotonic() < stop:
            req, want = pipes[j % len(pipes)]
            j += 1
            s.sendall(req)
            got = 0
            while got < want:
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed")
                got += len(chunk)
            done[i] += DEPTH
        s.close()

    ts = [threading.Thread(target=conn, args=(i,)) for i in range(CONNS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done)


def run_mset(port, tags):
    n = 300_000
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-r", "1000000", "-P", "16", "-c", "50",
                    "-q", "MSET", f"{{{tags[0]}}}:__rand_int__", "v", f"{{{tags[1]}}}:__rand_int__", "v"],
                   capture_output=True, check=True)
    return n


INCR_SCRIPT = "return redis.call('INCR', KEYS[1])"


def run_evalsha(port):
    sha = subprocess.run(["redis-cli", "-p", str(port), "SCRIPT", "LOAD", INCR_SCRIPT], capture_output=True,
                         text=True, check=True).stdout.strip()
    n = 300_000
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-r", "1000000", "-P", "16", "-c", "50",
                    "-q", "EVALSHA", sha, "1", "key:__rand_int__"], capture_output=True, check=True)
    return n


def main():
    # Two tags that live on different shards of a 2-shard server.
    tags = ["t0"]
    i = 1
    while shard_of(f"t{i}", 2) == shard_of("t0", 2):
        i += 1
    tags.append(f"t{i}")
    shard_counts = os.environ.get("SHARDS", "1,2").split(",")
    kinds = ["redis"] + [f"{b}-s{n}" for b in BINS for n in shard_counts]
    loads = {
        "exec3-tag": lambda port: run_exec(port, True),
        "exec3-any": lambda port: run_exec(port, False),
        "mset2-cross": lambda port: run_mset(port, tags),
        "evalsha": run_evalsha,
    }
    if os.environ.get("LOADS"):
        loads = {k: loads[k] for k in os.environ["LOADS"].split(",")}
    procs = {k: start(k) for k in kinds}
    res = {}
    try:
        for rnd in range(ROUNDS):
            order = kinds[rnd % len(kinds):] + kinds[:rnd % len(kinds)]
            for name, fn in loads.items():
                for k in order:
                    p, port = procs[k]
                    c0, t0 = cpu(p.pid), time.time()
                    ops = fn(port)
                    el = time.time() - t0
                    res.setdefault((name, k), []).append(((cpu(p.pid) - c0) / ops * 1e6, ops / el))
    finally:
        for p, _ in procs.values():
            p.terminate()
    if "RINGKV_BINS" in os.environ:
        # Per build: medians, and redis's CPU per op / the build's (higher is better) and ops/s ratio.
        print("| workload | " + " | ".join(kinds) + " |")
        print("|---|" + "---|" * len(kinds))
        for name in loads:
            med = {k: (statistics.median(x[0] for x in res[(name, k)]), statistics.median(x[1] for x in res[(name, k)]))
                   for k in kinds}
            rc, rr = med["redis"]
            cells = [f"{rc:.2f} µs/op, {rr / 1000:.0f}k op/s"]
            for k in kinds[1:]:
                c, r = med[k]
                cells.append(f"{c:.2f} µs/op ({rc / c:.2f}×), {r / 1000:.0f}k op/s ({r / rr:.2f}×)")
            print(f"| {name} | " + " | ".join(cells) + " |")
        print("\nruns (µs/op, k op/s) per round:")
        for name in loads:
            for k in kinds:
                print(f"  {name} {k}: " + ", ".join(f"{c:.2f}/{r / 1000:.0f}k" for c, r in res[(name, k)]))
        return
    print("| workload | " + " | ".join(kinds) + " | best ringkv / redis (ops/s) |")
    print("|---|" + "---|" * (len(kinds) + 1))
    for name in loads:
        cells, rates = [], {}
        for k in kinds:
            v = res[(name, k)]
            c, r = statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)
            rates[k] = r
            cells.append(f"{c:.2f} µs/op, {r / 1000:.0f}k op/s")
        best = max(rates[k] for k in kinds[1:]) / rates["redis"]
        print(f"| {name} | " + " | ".join(cells) + f" | {best:.2f}× |")


def drive_one():
    """--load NAME --port P [--seconds S]: one load against a running server."""
    global SECONDS
    opts = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    name, port = opts["--load"], int(opts["--port"])
    end = time.monotonic() + float(opts.get("--seconds", "3600"))
    while time.monotonic() < end:
        SECONDS = min(5.0, end - time.monotonic())
        if name == "evalsha":
            run_evalsha(port)
        else:
            run_exec(port, name == "exec3-tag")


if __name__ == "__main__":
    if "--load" in sys.argv:
        drive_one()
    else:
        main()
