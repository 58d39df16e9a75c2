#!/usr/bin/env bash
# Server GET/SET throughput with packet capture on loopback against capture
# off, side by side in one run, plus the kernel drops capture saw.
#
#   perf/capture_overhead.sh [SERVER_BIN] [extra server args...]
#
# SERVER_BIN defaults to $RINGKV_BIN, then .build/release/ringkv-server.
# Rounds alternate off/on so machine drift hits both modes alike; the table
# reports the median of each. Environment knobs:
#   PORT (16390)  REQUESTS (200000)  CLIENTS (50)  PIPELINE (1)
#   DATA_SIZE (3) ROUNDS (3)         KEYSPACE (100000)
# Dry run without ringkv: perf/capture_overhead.sh perf/redis-as-ringkv.sh
# (that stand-in drops --capture-interface, so both modes measure no capture).
set -euo pipefail

BIN=${1:-${RINGKV_BIN:-.build/release/ringkv-server}}
[[ $# -gt 0 ]] && shift
EXTRA=("$@")
PORT=${PORT:-16390}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-1}
DATA_SIZE=${DATA_SIZE:-3}
ROUNDS=${ROUNDS:-3}
KEYSPACE=${KEYSPACE:-100000}

for tool in redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "capture_overhead: $tool not found (apt-get install redis-tools)" >&2; exit 2; }
done
[[ -x $BIN ]] || { echo "capture_overhead: server binary '$BIN' not found or not executable" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || echo "capture_overhead: not root; capture needs CAP_NET_RAW and will be off in both modes" >&2

OUT=$(mktemp -d /tmp/capture-overhead.XXXXXX)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

start_server() { # $1 = capture interface (lo | none)
  "$BIN" --port "$PORT" --bind 127.0.0.1 --capture-interface "$1" "${EXTRA[@]}" >"$OUT/server-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "capture_overhead: server did not start with --capture-interface $1:" >&2
  tail -20 "$OUT/server-$1.log" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# One benchmark round: prints "SET_RPS GET_RPS DROPS".
round() { # $1 = lo | none
  start_server "$1"
  redis-benchmark -p "$PORT" -t set,get -n "$REQUESTS" -c "$CLIENTS" -P "$PIPELINE" -d "$DATA_SIZE" \
    -r "$KEYSPACE" --csv >"$OUT/bench-$1.csv" 2>/dev/null
  local info drops
  info=$(redis-cli -p "$PORT" info capture 2>/dev/null | tr -d '\r')
  echo "$info" >"$OUT/info-$1.txt"
  drops=$(awk -F: '$1 == "capture_kernel_drops" { print $2 }' <<<"$info")
  if [[ $1 == lo ]] && ! grep -qx 'capture_enabled:1' <<<"$info"; then
    echo "capture_overhead: capture was not running in the 'on' round; see $OUT/server-lo.log" >&2
  fi
  stop_server
  awk -F, -v drops="${drops:--}" '
    { gsub(/"/, "") }
    $1 == "SET" { set = $2 } $1 == "GET" { get = $2 }
    END { printf "%s %s %s\n", set, get, drops }' "$OUT/bench-$1.csv"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "server: $BIN ${EXTRA[*]}"
echo "load: $REQUESTS requests, $CLIENTS clients, pipeline $PIPELINE, $DATA_SIZE-byte values, $ROUNDS rounds per mode"
: >"$OUT/off"; : >"$OUT/on"
for r in $(seq "$ROUNDS"); do
  round none >>"$OUT/off"
  round lo >>"$OUT/on"
  echo "round $r: off $(tail -1 "$OUT/off" | cut -d' ' -f1-2)  on $(tail -1 "$OUT/on")"
done

set_off=$(cut -d' ' -f1 "$OUT/off" | median); get_off=$(cut -d' ' -f2 "$OUT/off" | median)
set_on=$(cut -d' ' -f1 "$OUT/on" | median);   get_on=$(cut -d' ' -f2 "$OUT/on" | median)
drops=$(cut -d' ' -f3 "$OUT/on" | tr '\n' ' ')

echo
echo "| op  | capture off (rps) | capture on, lo (rps) | cost   |"
echo "|-----|-------------------|----------------------|--------|"
awk -v so="$set_off" -v sn="$set_on" -v go="$get_off" -v gn="$get_on" 'BEGIN {
  printf "| SET | %17.0f | %20.0f | %5.1f%% |\n", so, sn, (so - sn) * 100 / so
  printf "| GET | %17.0f | %20.0f | %5.1f%% |\n", go, gn, (go - gn) * 100 / go
}'
echo
echo "kernel drops per capture-on round (INFO capture, capture_kernel_drops): $drops"
echo "raw results and INFO capture dumps: $OUT"
