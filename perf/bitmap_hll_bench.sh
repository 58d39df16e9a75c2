#!/usr/bin/env bash
# Bitmaps and HyperLogLog throughput, ringkv (shards 1 and 2) against
# redis-server 7.0 in one run: redis-benchmark with arbitrary commands
# (__rand_int__ drawn from -r KEYSPACE), -P 16, alternating rounds whose
# server order rotates, medians and ratios to redis.
#
#   perf/bitmap_hll_bench.sh                  # ROUNDS=3, N=200000
#   ROUNDS=5 N=500000 SHARDS="1 2 4" perf/bitmap_hll_bench.sh
#
# Workloads:
#   setbit    SETBIT bk:<rand> 100 1    over 1000 bitmaps (one redis-benchmark)
#   getbit    GETBIT bk:<rand> 100
#   bitcount  BITCOUNT bk:<rand>        each bitmap 4 KiB (prepared)
#   pfadd     PFADD hk:{t} <rand>       16 dense HLLs, one benchmark process
#   pfcount   PFCOUNT hk:{t}            per HLL ({t} = 0..15), rates summed
# (__rand_int__ is zero-padded, which a bit offset refuses, so the random
# part is in the key for bitmaps and in the element for HLLs.)
# The table also goes to perf/results/bitmap-hll-bench-DATE.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-16}
SHARDS=${SHARDS:-"1 2"}
WORKLOADS=${WORKLOADS:-"setbit getbit bitcount pfadd pfcount"}
stamp=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$REPO/perf/out/bitmap-hll-bench-$stamp}

require_ringkv
mkdir -p "$OUT/runs"
trap stop_servers EXIT
start_redis redis "$OUT"
for s in $SHARDS; do start_ringkv "ringkv-s$s" "$OUT" "$s"; done

cmd_for() {
  case $1 in
    setbit) echo "SETBIT bk:__rand_int__ 100 1" ;;
    getbit) echo "GETBIT bk:__rand_int__ 100" ;;
    bitcount) echo "BITCOUNT bk:__rand_int__" ;;
    pfadd) echo "PFADD hk:{x} __rand_int__" ;;
    pfcount) echo "PFCOUNT hk:{x}" ;;
  esac
}

# prepare PORT: 1000 bitmaps of 4 KiB, 16 dense HLLs.
prepare() {
  local port=$1 t
  redis-benchmark -p "$port" -c 4 -n 30000 -r 1000 -P 64 SETBIT bk:__rand_int__ 32767 1 >/dev/null 2>&1
  for t in $(seq 0 15); do
    redis-benchmark -p "$port" -c 1 -n 20000 -r 1048576 -P 64 PFADD "hk:{$t}" __rand_int__ >/dev/null 2>&1
  done
}

rate() { awk -F'"' 'NR==2 {print $4}' "$1"; }

# bench PORT WORKLOAD LOG: prints requests per second. HLL workloads run 16
# redis-benchmark processes, one per HLL key, so with 2 shards the load
# reaches both; their rates add up.
bench() {
  local port=$1 w=$2 log=$3 t pids=() total=0
  local cmd; cmd=$(cmd_for "$w")
  if [[ $w != pf* ]]; then
    # shellcheck disable=SC2086
    timeout 120 redis-benchmark -p "$port" -c "$CLIENTS" -n "$N" -r 1000 -P "$PIPELINE" --csv $cmd >"$log" 2>&1
    rate "$log"
    return
  fi
  for t in $(seq 0 15); do
    # shellcheck disable=SC2086
    timeout 120 redis-benchmark -p "$port" -c $((CLIENTS / 16 + 1)) -n $((N / 16)) -r 1048576 -P "$PIPELINE" --csv \
      ${cmd//\{x\}/\{$t\}} >"$log.$t" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for t in $(seq 0 15); do
    total=$(python3 -c "print(${total} + $(rate "$log.$t" || echo 0))")
  done
  echo "$total"
}

for name in "${SERVERS[@]}"; do prepare "${PORT[$name]}"; done
results=$OUT/results.csv
echo "server,workload,round,rps" >"$results"
nserv=${#SERVERS[@]}
for round in $(seq "$ROUNDS"); do
  order=()
  for i in $(seq 0 $((nserv - 1))); do order+=("${SERVERS[$(((i + round) % nserv))]}"); done
  for w in $WORKLOADS; do
    for name in "${order[@]}"; do
      rps=$(bench "${PORT[$name]}" "$w" "$OUT/runs/$name-$w-r$round")
      echo "$name,$w,$round,$rps" >>"$results"
      printf 'round %s  %-9s %-10s %s\n' "$round" "$w" "$name" "$rps"
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
print(f"redis-benchmark -P {pipeline}, {n} requests per run (bitmaps: -c {clients} over 1000 keys; HLLs: 16 processes x {int(clients)//16+1} clients, one HLL each), "
      f"{rounds} alternating rounds, medians; {os.cpu_count()} CPUs, {platform.release()}")
print()
others = [s for s in servers if s != "redis"]
print("| workload | redis rps | " + " | ".join(f"{s} rps | {s}/redis" for s in others) + " |")
print("|---|---:|" + "---:|---:|" * len(others))
for w in work:
    r = med[("redis", w)]
    cells = " | ".join(f"{med[(s, w)]:,.0f} | {med[(s, w)] / r:.2f}x" for s in others)
    print(f"| {w} | {r:,.0f} | {cells} |")
EOF
mkdir -p perf/results
cp "$OUT/table.md" "perf/results/bitmap-hll-bench-$stamp.md"
echo "table: perf/results/bitmap-hll-bench-$stamp.md"
