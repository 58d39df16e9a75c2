#!/usr/bin/env bash
# The load test: ringkv against redis-server 7.0 with redis-benchmark (and
# memtier_benchmark when it is on PATH), servers alternating in >= 3 rounds.
# Workloads GET, SET and a 1:10 SET:GET mix; pipeline 1 and 16; 50
# connections; 1M random keys (all written once first, so GETs hit); values
# of 32 and 1024 bytes. Writes perf/results/loadtest-DATE.md (table of
# medians with p50/p99 latency and ringkv/redis ratios), .csv (every run)
# and .png (chart); raw reports stay in perf/out/loadtest-DATE-TIME/.
#
#   perf/loadtest.sh            # quick: 3 rounds, short runs, ~4 min on 2 cores
#   perf/loadtest.sh --full     # 5 rounds, 5x longer runs
#   perf/loadtest.sh --sweep    # ringkv at every shard count 1..nproc
#   perf/loadtest.sh --shards "4 8" --rounds 7 --ceiling
#
# The mix: redis-benchmark sends one command per run, so MIX 1:10 is a SET
# phase and a GET phase with request counts 1:10, combined (see
# perf/parse_bench.py). memtier_benchmark, when present, runs a true 1:10 mix.
# Other knobs pass through to perf/bench.sh as env (N, N_PIPELINED, CLIENTS,
# KEYSPACE, IO_BACKEND, RINGKV_BIN, REDIS_BIN, MEMTIER_SECONDS).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
mode=quick rounds="" shards="" ceiling=0
cmdline="perf/loadtest.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --sweep) shards=all ;;
    --shards) shards=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --ceiling) ceiling=1 ;;
    -h|--help) usage ;;
    *) echo "unknown option $1" >&2; usage 2 >&2 ;;
  esac
  shift
done

if [[ $mode == full ]]; then
  : "${N:=200000}" "${N_PIPELINED:=1000000}" "${rounds:=5}"
else
  : "${N:=40000}" "${N_PIPELINED:=200000}" "${rounds:=3}"
fi
if [[ -z $shards ]]; then shards=$( (echo 1; nproc) | sort -un | tr '\n' ' '); fi
(( rounds >= 3 )) || { echo "--rounds must be at least 3" >&2; exit 2; }

stamp=$(date +%Y%m%d-%H%M%S)
RESULTS=${RESULTS:-$REPO/perf/results}
out=$REPO/perf/out/loadtest-$stamp
base=$RESULTS/loadtest-${stamp%%-*}
mkdir -p "$RESULTS" "$out"
python=$(perf_python)   # before the run, so a slow first install doesn't skew it
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$SECONDS

N=$N N_PIPELINED=$N_PIPELINED ROUNDS=$rounds SHARDS=$shards WORKLOADS="get set mix" \
  PIPELINES="1 16" DATASIZES="32 1024" CEILING=$ceiling PREFILL=1 OUT=$out \
  "$REPO/perf/bench.sh"

cp "$out/results.csv" "$base.csv"
ringkv_rev=$(ringkv_label)
redis_ver=$("$REDIS_BIN" --version | grep -o 'v=[^ ]*' | cut -c3-)
if command -v memtier_benchmark >/dev/null; then
  memtier_note="memtier_benchmark $(memtier_benchmark --version | head -1 | awk '{print $2}'), true 1:10 mix, ${MEMTIER_SECONDS:-5} s per run"
else
  memtier_note="not on PATH (Debian 12 does not package it), skipped"
fi
title="ringkv ($ringkv_rev) vs redis-server $redis_ver, $(nproc) CPUs, $rounds rounds, $(date +%F)"
"$python" "$REPO/perf/bench_chart.py" "$base.csv" "$base.png" "$title"
{
  echo "# Load test $(date '+%F %H:%M')"
  echo
  echo "Command: \`$cmdline\` ($mode mode, $((SECONDS - t0)) s)."
  echo
  echo "- Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -r);" \
       "load average before the run $load_before (the CPUs are shared: read ratios, not absolutes)."
  echo "- Servers: redis-server $redis_ver (\`--save \"\" --appendonly no\`) and ringkv $ringkv_rev" \
       "at shards $shards(io-backend ${IO_BACKEND}), on loopback; load generator on the same CPUs."
  echo "- redis-benchmark $(redis-benchmark --version | awk '{print $2}'): ${CLIENTS:-50} connections (\`-c ${CLIENTS:-50}\`)," \
       "random keys over ${KEYSPACE:-1000000} (\`-r ${KEYSPACE:-1000000}\`), every key written once per value size before its runs;" \
       "$N requests per run at \`-P 1\`, $N_PIPELINED at \`-P 16\`."
  echo "- MIX 1:10 with redis-benchmark: a SET phase then a GET phase with request counts 1:10," \
       "combined: throughput = all requests / both phases' time; p50/p99 from the merged latency distributions."
  echo "- memtier_benchmark: $memtier_note."
  echo "- Each cell: the median over $rounds alternating rounds (server order rotates each round);" \
       "p50/p99 are the medians of each run's p50 and p99, in ms. ratio = ringkv rps / redis rps (> 1: ringkv faster)."
  echo
  "$python" "$REPO/perf/bench_table.py" "$base.csv"
  echo
  echo "![chart]($(basename "$base.png"))"
  echo
  echo "Every run: [$(basename "$base.csv")]($(basename "$base.csv")); raw reports: perf/out/loadtest-$stamp/ (not committed)."
} > "$base.md"
cat "$base.md"
echo
echo "wrote $base.md $base.csv $base.png"
