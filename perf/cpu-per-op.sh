#!/usr/bin/env bash
# Issue 14's measurement: server CPU per op (utime+stime from /proc over a
# fixed redis-benchmark run) for redis-server and ringkv with shards 1, 2
# and 4; GET, SET and MGET of 4 keys at -P 1 and -P 16; -c 50 -r 1000000
# -d 3, 1M requests pipelined (100k at -P 1); alternating rounds, medians.
# Writes perf/results/cpu-per-op-DATE.{csv,md}. Extra arguments go to
# perf/cpu_per_op.py (e.g. --rounds 5, --io-backend epoll).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 perf/cpu_per_op.py --tests get,set,mget4 --pipelines 1,16 --shards 1,2,4 \
  --keyspace 1000000 --n 1000000 --n-p1 100000 \
  --out "perf/results/cpu-per-op-$(date +%Y%m%d-%H%M%S)" "$@"
