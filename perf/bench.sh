#!/usr/bin/env bash
# ringkv vs redis-server (and the ceiling server) with redis-benchmark.
# Servers alternate run by run, in ROUNDS rounds whose server order rotates,
# so drift on a shared 2-core VM spreads evenly; medians go in the table.
#
#   perf/bench.sh                      # defaults below
#   SHARDS="1 2" ROUNDS=5 N=500000 perf/bench.sh
#   RINGKV_BIN=perf/redis-as-ringkv.sh perf/bench.sh   # dry run without ringkv
#
# Env: ROUNDS (3), N requests per run (200000), CLIENTS (50), KEYSPACE (1000000),
# SHARDS ringkv shard counts ("1 2"), WORKLOADS ("get set incr mset"),
# PIPELINES ("1 16"), IO_BACKEND (auto), CEILING (1 = include ../shared ceiling),
# PREFILL SETs before measuring so GETs hit (KEYSPACE), OUT (perf/out/bench-DATE).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-1000000}
SHARDS=${SHARDS:-"1 2"}
WORKLOADS=${WORKLOADS:-"get set incr mset"}
PIPELINES=${PIPELINES:-"1 16"}
CEILING=${CEILING:-1}
CEILING_SRC=${CEILING_SRC:-$REPO/../shared/bench/ceiling.c}
PREFILL=${PREFILL:-$KEYSPACE}
OUT=${OUT:-$REPO/perf/out/bench-$(date +%Y%m%d-%H%M%S)}

require_ringkv
mkdir -p "$OUT"
trap stop_servers EXIT

start_redis redis "$OUT"
for s in $SHARDS; do start_ringkv "ringkv-s$s" "$OUT" "$s"; done
if [[ $CEILING == 1 && -f $CEILING_SRC ]]; then
  # Rebuilt only when the source changes; it is a measuring stick, not ours.
  if [[ ! -x /tmp/ceiling || $CEILING_SRC -nt /tmp/ceiling ]]; then
    gcc -O2 -o /tmp/ceiling "$CEILING_SRC" -luring -lpthread
  fi
  start_server ceiling "$OUT" /tmp/ceiling
fi

for name in "${SERVERS[@]}"; do
  backend=$(redis-cli -p "${PORT[$name]}" INFO server 2>/dev/null | tr -d '\r' | awk -F: '/^io_backend:/ {print $2}')
  echo "$name: port ${PORT[$name]} pid ${PID[$name]}${backend:+ io_backend=$backend}"
done

if (( PREFILL > 0 )); then
  for name in "${SERVERS[@]}"; do
    [[ $name == ceiling ]] && continue
    redis-benchmark -p "${PORT[$name]}" -t set -n "$PREFILL" -r "$KEYSPACE" -c "$CLIENTS" -P 64 -q \
      >/dev/null 2>&1
  done
fi

results=$OUT/results.csv
echo "server,workload,pipeline,round,rps" > "$results"

# One redis-benchmark run; prints requests/second, or "err" when any reply
# was an error or the run failed.
bench_once() {  # PORT TEST PIPELINE
  local out
  if ! out=$(redis-benchmark -p "$1" -t "$2" -c "$CLIENTS" -n "$N" -r "$KEYSPACE" -P "$3" --csv 2>&1) \
      || grep -qiE 'error|refused' <<<"$out"; then
    echo "bench $2 -P $3 on port $1 failed: $(head -c 300 <<<"$out")" >&2
    echo err
    return
  fi
  tail -n 1 <<<"$out" | awk -F'","' '{print $2}'
}

memtier_once() {  # PORT
  local out
  out=$(memtier_benchmark -s 127.0.0.1 -p "$1" --protocol=redis -c "$CLIENTS" -t 1 --pipeline=16 \
        --ratio=1:10 --key-maximum="$KEYSPACE" --test-time=5 --hide-histogram 2>&1) || { echo err; return; }
  awk '/^Totals/ {print $2}' <<<"$out"
}

nserv=${#SERVERS[@]}
for round in $(seq "$ROUNDS"); do
  # Rotate who goes first each round.
  order=()
  for i in $(seq 0 $((nserv - 1))); do order+=("${SERVERS[$(( (i + round) % nserv ))]}"); done
  for w in $WORKLOADS; do
    for p in $PIPELINES; do
      for name in "${order[@]}"; do
        # The ceiling stores nothing: only GET and SET mean something there.
        [[ $name == ceiling && $w != get && $w != set ]] && continue
        rps=$(bench_once "${PORT[$name]}" "$w" "$p")
        echo "$name,$w,$p,$round,$rps" >> "$results"
        printf 'round %s  %-6s -P %-3s %-10s %s\n' "$round" "$w" "$p" "$name" "$rps"
      done
    done
  done
  if command -v memtier_benchmark >/dev/null; then
    for name in "${order[@]}"; do
      rps=$(memtier_once "${PORT[$name]}")
      echo "$name,memtier-1:10,16,$round,$rps" >> "$results"
      printf 'round %s  memtier 1:10 -P 16 %-10s %s\n' "$round" "$name" "$rps"
    done
  fi
done

stop_servers
echo
echo "redis-benchmark -c $CLIENTS -n $N -r $KEYSPACE, $ROUNDS alternating rounds, medians;" \
     "$(nproc) CPUs, $(uname -r), io-backend=$IO_BACKEND"
echo
python3 "$REPO/perf/bench_table.py" "$results" | tee "$OUT/table.md"
echo
echo "raw results: $results"
