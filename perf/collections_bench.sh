#!/usr/bin/env bash
# Collections throughput, ringkv (shards 1 and 2) against redis-server 7.0 in
# one run: redis-benchmark's own collection tests at -P 16, alternating
# rounds, medians (perf/bench.sh does the running and the table).
#
#   perf/collections_bench.sh                 # ROUNDS=3, N=200000
#   ROUNDS=5 N=500000 perf/collections_bench.sh
#
# Pushes come before pops in the workload order, so LPOP/RPOP/SPOP/ZPOPMIN
# pop what the earlier tests of the same round pushed, on the same server.
# The table also goes to perf/results/collections-bench-DATE.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stamp=$(date +%Y%m%d-%H%M%S)
export WORKLOADS=${WORKLOADS:-"lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100 lrange_600"}
export PIPELINES=${PIPELINES:-16}
export SHARDS=${SHARDS:-"1 2"}
export KEYSPACE=${KEYSPACE:-100000}
export PREFILL=0 CEILING=0
export ROUNDS=${ROUNDS:-3}
export N=${N:-200000}
export OUT=${OUT:-perf/out/collections-bench-$stamp}
perf/bench.sh
mkdir -p perf/results
cp "$OUT/table.md" "perf/results/collections-bench-$stamp.md"
echo "table: perf/results/collections-bench-$stamp.md"
