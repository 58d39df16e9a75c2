#!/usr/bin/env bash
# ringkv vs redis-server (and optionally the ceiling server): redis-benchmark,
# and memtier_benchmark when it is on PATH. Servers alternate run by run, in
# ROUNDS rounds whose server order rotates, so drift on a shared VM spreads
# evenly; medians go in the table. perf/loadtest.sh drives this with the
# load-test matrix (value sizes, the 1:10 mix, chart); this file's defaults
# are the server-core matrix (GET SET INCR MSET).
#
#   perf/bench.sh                      # defaults below
#   SHARDS="1 2" ROUNDS=5 N=500000 perf/bench.sh
#   SHARDS=all perf/bench.sh           # every shard count 1..nproc
#   RINGKV_BIN=perf/redis-as-ringkv.sh perf/bench.sh   # dry run without ringkv
#
# Env: ROUNDS (3); N requests per run at -P 1 (200000) and N_PIPELINED at
# -P > 1 (N); CLIENTS (50); KEYSPACE (1000000); SHARDS ringkv shard counts
# ("1 2", or "all"); WORKLOADS ("get set incr mset"; "mix" = 1:10 SET:GET);
# PIPELINES ("1 16"); DATASIZES value bytes ("3", redis-benchmark's default);
# IO_BACKEND (auto); CEILING (1 = include ../shared ceiling); PREFILL (1 =
# write every key of KEYSPACE once per value size, so GETs hit);
# MEMTIER (auto|0), MEMTIER_SECONDS (5); OUT (perf/out/bench-DATE).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
N_PIPELINED=${N_PIPELINED:-$N}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-1000000}
SHARDS=${SHARDS:-"1 2"}
[[ $SHARDS == all ]] && SHARDS=$(seq -s ' ' 1 "$(nproc)")
WORKLOADS=${WORKLOADS:-"get set incr mset"}
PIPELINES=${PIPELINES:-"1 16"}
DATASIZES=${DATASIZES:-3}
CEILING=${CEILING:-1}
CEILING_SRC=${CEILING_SRC:-$REPO/../shared/bench/ceiling.c}
PREFILL=${PREFILL:-1}
MEMTIER=${MEMTIER:-auto}
MEMTIER_SECONDS=${MEMTIER_SECONDS:-5}
OUT=${OUT:-$REPO/perf/out/bench-$(date +%Y%m%d-%H%M%S)}

require_ringkv
mkdir -p "$OUT/runs"
trap stop_servers EXIT
if [[ $MEMTIER == auto ]]; then
  if command -v memtier_benchmark >/dev/null; then MEMTIER=1; else MEMTIER=0; fi
fi

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

results=$OUT/results.csv
echo "tool,server,workload,pipeline,datasize,round,rps,avg_ms,p50_ms,p95_ms,p99_ms" > "$results"

# rb_phase PORT TEST PIPELINE SIZE REQUESTS LOG: one redis-benchmark run, full
# report to LOG; fails when the run failed or any reply was an error.
rb_phase() {
  if ! timeout "${RUN_TIMEOUT:-120}" redis-benchmark -p "$1" -t "$2" -c "$CLIENTS" -n "$5" -r "$KEYSPACE" -P "$3" -d "$4" \
        >"$6" 2>&1 || tr '\r' '\n' <"$6" | grep -v 'rps=' | grep -qiE 'error|refused'; then
    echo "bench $2 -P $3 -d $4 on port $1 failed: $(tr '\r' '\n' <"$6" | grep -v 'rps=' | head -c 300)" >&2
    return 1
  fi
}

# bench_once PORT WORKLOAD PIPELINE SIZE TAG: prints "rps,avg,p50,p95,p99",
# or "err,,,," when it failed. "mix" runs SET then GET phases, requests 1:10.
bench_once() {
  local n=$N log=$OUT/runs/$5
  (( $3 > 1 )) && n=$N_PIPELINED
  if [[ $2 == mix ]]; then
    local nset=$(( n / 11 ))
    rb_phase "$1" set "$3" "$4" "$nset" "$log.set.txt" \
      && rb_phase "$1" get "$3" "$4" $(( n - nset )) "$log.get.txt" \
      && python3 "$REPO/perf/parse_bench.py" rb "$log.set.txt" "$log.get.txt" && return
  else
    rb_phase "$1" "$2" "$3" "$4" "$n" "$log.txt" \
      && python3 "$REPO/perf/parse_bench.py" rb "$log.txt" && return
  fi
  echo "err,,,,"
}

# memtier_once PORT WORKLOAD PIPELINE SIZE TAG: memtier's own mix, 50
# connections (1 thread x CLIENTS), random keys over KEYSPACE.
memtier_once() {
  local ratio log=$OUT/runs/$5.memtier.txt
  case $2 in get) ratio=0:1 ;; set) ratio=1:0 ;; mix) ratio=1:10 ;; *) return 1 ;; esac
  if timeout $((MEMTIER_SECONDS + 60)) memtier_benchmark -s 127.0.0.1 -p "$1" --protocol=redis -t 1 -c "$CLIENTS" --pipeline="$3" \
       --ratio="$ratio" --data-size="$4" --key-pattern=R:R --key-minimum=0 \
       --key-maximum=$((KEYSPACE - 1)) --key-prefix=key: --test-time="$MEMTIER_SECONDS" \
       --hide-histogram >"$log" 2>&1 \
     && python3 "$REPO/perf/parse_bench.py" memtier "$log"; then
    return
  fi
  echo "err,,,,"
}

# prefill NAME SIZE: every key redis-benchmark -r KEYSPACE can draw
# (key:%012d), once, with a SIZE-byte value (perf/prefill.py).
prefill() {
  timeout 600 python3 "$REPO/perf/prefill.py" "${PORT[$1]}" "$KEYSPACE" "$2" || {
    echo "prefill of $1 failed" >&2; exit 1; }
}

nserv=${#SERVERS[@]}
for size in $DATASIZES; do
  if [[ $PREFILL == 1 ]]; then
    for name in "${SERVERS[@]}"; do
      [[ $name == ceiling ]] && continue
      t0=$SECONDS; prefill "$name" "$size"
      echo "prefilled $name: $KEYSPACE keys x $size bytes ($((SECONDS - t0)) s)"
    done
  fi
  for round in $(seq "$ROUNDS"); do
    # Rotate who goes first each round.
    order=()
    for i in $(seq 0 $((nserv - 1))); do order+=("${SERVERS[$(( (i + round) % nserv ))]}"); done
    for w in $WORKLOADS; do
      for p in $PIPELINES; do
        for name in "${order[@]}"; do
          # The ceiling stores nothing: only GET and SET mean something there.
          [[ $name == ceiling && $w != get && $w != set ]] && continue
          row=$(bench_once "${PORT[$name]}" "$w" "$p" "$size" "$name-$w-P$p-d$size-r$round")
          echo "redis-benchmark,$name,$w,$p,$size,$round,$row" >> "$results"
          printf 'd=%-5s round %s  %-5s -P %-3s %-10s %s\n' "$size" "$round" "$w" "$p" "$name" "$row"
        done
      done
    done
    if [[ $MEMTIER == 1 ]]; then
      for w in $WORKLOADS; do
        [[ $w == get || $w == set || $w == mix ]] || continue
        for p in $PIPELINES; do
          for name in "${order[@]}"; do
            [[ $name == ceiling && $w != get && $w != set ]] && continue
            row=$(memtier_once "${PORT[$name]}" "$w" "$p" "$size" "$name-$w-P$p-d$size-r$round")
            echo "memtier,$name,$w,$p,$size,$round,$row" >> "$results"
            printf 'd=%-5s round %s  memtier %-5s -P %-3s %-10s %s\n' "$size" "$round" "$w" "$p" "$name" "$row"
          done
        done
      done
    fi
  done
done

stop_servers
{
  echo "redis-benchmark -c $CLIENTS -r $KEYSPACE, -n $N at -P 1 and $N_PIPELINED when pipelined;" \
       "$ROUNDS alternating rounds, medians; $(nproc) CPUs, $(uname -r), io-backend=$IO_BACKEND;" \
       "memtier: $([[ $MEMTIER == 1 ]] && echo "${MEMTIER_SECONDS}s runs" || echo 'not on PATH, skipped')"
  echo
  python3 "$REPO/perf/bench_table.py" "$results"
} | tee "$OUT/table.md"
echo
echo "raw results: $results"
