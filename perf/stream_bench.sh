#!/usr/bin/env bash
# Streams: XADD, XRANGE and XREADGROUP throughput of ringkv (1 and 2
# shards) against redis-server 7.0, redis-benchmark -P 16, alternating
# rounds, medians; then the memory of one stream of 1M small entries
# (RSS growth and used_memory) on each server, measured after a SET run
# of the same shape has warmed the I/O buffers.
#
#   perf/stream_bench.sh                  # ROUNDS=3 N=200000 ENTRIES=1000000
#
# XADD appends to KEYS streams (`s:__rand_int__`, so they spread over the
# shards); XRANGE reads 10 entries from a prefilled one; XREADGROUP reads
# 10 new entries per call with one consumer group per stream (the streams
# are prefilled with enough entries for the run).
# The table goes to perf/results/stream-bench-DATE.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${ROUNDS:-3}
N=${N:-200000}
KEYS=${KEYS:-1000}
ENTRIES=${ENTRIES:-1000000}
CLIENTS=${CLIENTS:-50}
BIN=${RINGKV_BIN:-.build/release/ringkv-server}
stamp=$(date +%Y%m%d-%H%M%S)
out=perf/results/stream-bench-$stamp.md
port_redis=${PORT_REDIS:-7611}
port_rk=${PORT_RK:-7612}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # name -> pid in $pid, port in $port
  case $1 in
    redis) port=$port_redis; redis-server --port $port --save '' --appendonly no --daemonize no >/dev/null 2>&1 & pid=$! ;;
    rk1) port=$port_rk; $BIN --port $port --bind 127.0.0.1 --shards 1 >/dev/null 2>&1 & pid=$! ;;
    rk2) port=$port_rk; $BIN --port $port --bind 127.0.0.1 --shards 2 >/dev/null 2>&1 & pid=$! ;;
  esac
  pids+=("$pid")
  for _ in $(seq 100); do redis-cli -p $port ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "server $1 did not start" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

rps() { # port, command... -> requests per second
  local p=$1; shift
  redis-benchmark -p "$p" -c "$CLIENTS" -n "$N" -r "$KEYS" -P 16 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | awk '/requests per second/ {v=$(NF-5)} END {print v+0}'
}

prefill() { # port: KEYS streams with enough entries, one group each
  local p=$1
  redis-cli -p "$p" flushall >/dev/null
  redis-benchmark -p "$p" -c "$CLIENTS" -n $((N * 12)) -r "$KEYS" -P 16 -q XADD 'r:__rand_int__' '*' f v >/dev/null 2>&1
  for i in $(seq -f %012g 0 $((KEYS - 1))); do echo "XGROUP CREATE r:$i g 0"; done | redis-cli -p "$p" >/dev/null
}

declare -A res
for name in redis rk1 rk2; do
  for r in $(seq "$ROUNDS"); do
    start $name
    res[$name,xadd,$r]=$(rps $port XADD 's:__rand_int__' '*' field value)
    prefill $port
    res[$name,xrange,$r]=$(rps $port XRANGE 'r:__rand_int__' - + COUNT 10)
    res[$name,xreadgroup,$r]=$(rps $port XREADGROUP GROUP g c COUNT 10 STREAMS 'r:__rand_int__' '>')
    stop
  done
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mem() { # name -> "rss_growth_bytes used_memory_growth"
  start $1
  local rss0 um0 rss1 um1
  # Touch the I/O buffers first (a fresh ringkv has them allocated but not
  # yet in its RSS), so the growth below is the stream's.
  redis-benchmark -p $port -c 1 -n "$ENTRIES" -P 64 -q SET warm v >/dev/null 2>&1
  sleep 0.3
  rss0=$(awk '/VmRSS/ {print $2 * 1024}' /proc/$pid/status)
  um0=$(redis-cli -p $port info memory | awk -F: '/^used_memory:/ {print $2+0}')
  redis-benchmark -p $port -c 1 -n "$ENTRIES" -P 64 -q XADD big '*' f v >/dev/null 2>&1
  local len; len=$(redis-cli -p $port xlen big)
  rss1=$(awk '/VmRSS/ {print $2 * 1024}' /proc/$pid/status)
  um1=$(redis-cli -p $port info memory | awk -F: '/^used_memory:/ {print $2+0}')
  stop
  echo "$((rss1 - rss0)) $((um1 - um0)) $len"
}

{
  echo "# Streams: ringkv vs redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') ($stamp)"
  echo
  echo "redis-benchmark -c $CLIENTS -n $N -r $KEYS -P 16, median of $ROUNDS rounds; $(nproc) CPUs."
  echo
  echo "| command | redis rps | ringkv 1 shard | ratio | ringkv 2 shards | ratio |"
  echo "|---|---:|---:|---:|---:|---:|"
  for w in xadd xrange xreadgroup; do
    a=(); b=(); c=()
    for r in $(seq "$ROUNDS"); do a+=("${res[redis,$w,$r]}"); b+=("${res[rk1,$w,$r]}"); c+=("${res[rk2,$w,$r]}"); done
    ma=$(median "${a[@]}"); mb=$(median "${b[@]}"); mc=$(median "${c[@]}")
    printf '| %s | %.0f | %.0f | %.2f | %.0f | %.2f |\n' "$w" "$ma" "$mb" "$(echo "$mb / $ma" | bc -l)" \
      "$mc" "$(echo "$mc / $ma" | bc -l)"
  done
  echo
  read -r rr ru rl < <(mem redis)
  read -r kr ku kl < <(mem rk1)
  echo "One stream of $ENTRIES entries \`XADD big * f v\` (IDs from the clock):"
  echo
  echo "| server | entries | RSS growth | used_memory growth | bytes/entry (RSS) |"
  echo "|---|---:|---:|---:|---:|"
  echo "| redis | $rl | $rr | $ru | $(echo "$rr / $rl" | bc) |"
  echo "| ringkv | $kl | $kr | $ku | $(echo "$kr / $kl" | bc) |"
  echo
  printf 'RSS ratio ringkv/redis: %.2f\n' "$(echo "$kr / $rr" | bc -l)"
} | tee "$out"
echo "table: $out"
