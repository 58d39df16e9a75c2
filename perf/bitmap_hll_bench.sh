#!/usr/bin/env bash
# Bitmaps and HyperLogLog throughput, ringkv (shards 1 and 2) against
# redis-server 7.0 in one run: redis-benchmark with arbitrary commands
# (__rand_int__ drawn from -r KEYSPACE), -P 16, alternating rounds whose
# server order rotates, medians and ratios to redis.
#
#   perf/bitmap_hll_bench.sh                  # ROUNDS=3, N=200000
#   ROUNDS=5 N=500000 SHARDS="1 2 4" perf/bitmap_hll_bench.sh
#
# Workloads (one redis-benchmark, -c CLIENTS):
#   setbit       SETBIT bk:<rand> 100 1       over 1000 bitmaps
#   getbit       GETBIT bk:<rand> 100
#   bitcount     BITCOUNT bk:<rand>           each bitmap 4 KiB (prepared)
#   pfadd        PFADD hll <rand>             one dense HLL (prepared)
#   pfadd_sparse PFADD hk:<rand> <rand>       100000 keys: small sparse HLLs
#   pfcount      PFCOUNT hll                  the cached estimate
# (__rand_int__ is zero-padded, which a bit offset refuses, so the random
# part is in the key for bitmaps. One HLL lives on one shard: with 2 shards
# pfadd and pfcount measure forwarding from the other worker too.)
# The table also goes to perf/results/bitmap-hll-bench-DATE.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-16}
SHARDS=${SHARDS:-"1 2"}
WORKLOADS=${WORKLOADS:-"setbit getbit bitcount pfadd pfadd_sparse pfcount"}
stamp=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$REPO/perf/out/bitmap-hll-bench-$stamp}

require_ringkv
mkdir -p "$OUT/runs"
trap stop_servers EXIT
start_redis redis "$OUT"
for s in $SHARDS; do start_ringkv "ringkv-s$s" "$OUT" "$s"; done

# cmd_for WORKLOAD: "KEYSPACE COMMAND..." for redis-benchmark -r and its command.
cmd_for() {
  case $1 in
    setbit) echo "1000 SETBIT bk:__rand_int__ 100 1" ;;
    getbit) echo "1000 GETBIT bk:__rand_int__ 100" ;;
    bitcount) echo "1000 BITCOUNT bk:__rand_int__" ;;
    pfadd) echo "1048576 PFADD hll __rand_int__" ;;
    pfadd_sparse) echo "100000 PFADD hk:__rand_int__ __rand_int__" ;;
    pfcount) echo "1 PFCOUNT hll" ;;
  esac
}

# prepare PORT: 1000 bitmaps of 4 KiB, one dense HLL.
prepare() {
  redis-benchmark -p "$1" -c 4 -n 30000 -r 1000 -P 64 SETBIT bk:__rand_int__ 32767 1 >/dev/null 2>&1
  redis-benchmark -p "$1" -c 1 -n 20000 -r 1048576 -P 64 PFADD hll __rand_int__ >/dev/null 2>&1
  [[ $(redis-cli -p "$1" PFDEBUG ENCODING hll) == dense ]] || { echo "hll is not dense on port $1" >&2; exit 1; }
}

# cpu_s PID: the server's user+system CPU seconds so far. CPU per op is far
# steadier than throughput on a shared VM (see perf/cpu_per_op.py).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }

# bench PORT WORKLOAD LOG: prints requests per second.
bench() {
  local spec; spec=$(cmd_for "$2")
  # shellcheck disable=SC2086
  timeout 120 redis-benchmark -p "$1" -c "$CLIENTS" -n "$N" -r ${spec%% *} -P "$PIPELINE" --csv ${spec#* } >"$3" 2>&1
  awk -F'"' 'NR==2 {print $4}' "$3"
}

for name in "${SERVERS[@]}"; do prepare "${PORT[$name]}"; done
results=$OUT/results.csv
echo "server,workload,round,rps,cpu_us_per_op" >"$results"
nserv=${#SERVERS[@]}
for round in $(seq "$ROUNDS"); do
  order=()
  for i in $(seq 0 $((nserv - 1))); do order+=("${SERVERS[$(((i + round) % nserv))]}"); done
  for w in $WORKLOADS; do
    for name in "${order[@]}"; do
      c0=$(cpu_s "${PID[$name]}")
      rps=$(bench "${PORT[$name]}" "$w" "$OUT/runs/$name-$w-r$round")
      c1=$(cpu_s "${PID[$name]}")
      us=$(python3 -c "print(round(($c1 - $c0) * 1e6 / $N, 3))")
      echo "$name,$w,$round,$rps,$us" >>"$results"
      printf 'round %s  %-12s %-10s %12s rps %8s us/op\n' "$round" "$w" "$name" "$rps" "$us"
    done
  done
done
stop_servers

python3 - "$results" "$N" "$CLIENTS" "$PIPELINE" "$ROUNDS" <<'EOF' | tee "$OUT/table.md"
import csv, statistics, sys, os, platform
path, n, clients, pipeline, rounds = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
servers = list(dict.fromkeys(r["server"] for r in rows))
work = list(dict.fromkeys(r["workload"] for r in rows))
med = {(s, w): statistics.median(float(r["rps"]) for r in rows if r["server"] == s and r["workload"] == w)
       for s in servers for w in work}
cpu = {(s, w): statistics.median(float(r["cpu_us_per_op"]) for r in rows if r["server"] == s and r["workload"] == w)
       for s in servers for w in work}
print(f"redis-benchmark -c {clients} -P {pipeline}, {n} requests per run, "
      f"{rounds} alternating rounds, medians; {os.cpu_count()} CPUs, {platform.release()}")
print()
print("Throughput (rps; ratio > 1: ringkv faster):")
print()
others = [s for s in servers if s != "redis"]
print("| workload | redis rps | " + " | ".join(f"{s} rps | {s}/redis" for s in others) + " |")
print("|---|---:|" + "---:|---:|" * len(others))
for w in work:
    r = med[("redis", w)]
    cells = " | ".join(f"{med[(s, w)]:,.0f} | {med[(s, w)] / r:.2f}x" for s in others)
    print(f"| {w} | {r:,.0f} | {cells} |")
print()
print("Server CPU per op (us, user+system; ratio < 1: ringkv cheaper):")
print()
print("| workload | redis | " + " | ".join(f"{s} | {s}/redis" for s in others) + " |")
print("|---|---:|" + "---:|---:|" * len(others))
for w in work:
    r = cpu[("redis", w)]
    cells = " | ".join(f"{cpu[(s, w)]:.3f} | {cpu[(s, w)] / r:.2f}x" if r else f"{cpu[(s, w)]:.3f} | -" for s in others)
    print(f"| {w} | {r:.3f} | {cells} |")
EOF
mkdir -p perf/results
cp "$OUT/table.md" "perf/results/bitmap-hll-bench-$stamp.md"
echo "table: perf/results/bitmap-hll-bench-$stamp.md"
