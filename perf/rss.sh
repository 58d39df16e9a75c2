#!/usr/bin/env bash
# Resident memory after N distinct SETs of 16-byte keys and 32-byte values,
# ringkv (each SHARDS count) against redis-server, read from /proc/PID/status.
#
#   perf/rss.sh                       # N=1000000, SHARDS="1 2"
#   RINGKV_BIN=perf/redis-as-ringkv.sh perf/rss.sh   # dry run without ringkv
#
# Keys are key:%012d (exactly 16 bytes, all distinct, unlike redis-benchmark -r
# whose random keys collide), loaded with redis-cli --pipe.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

N=${N:-1000000}
SHARDS=${SHARDS:-"1 2"}
OUT=${OUT:-$REPO/perf/out/rss-$(date +%Y%m%d-%H%M%S)}

require_ringkv
mkdir -p "$OUT"
load=$(mktemp /tmp/ringkv-rss.XXXXXX)
trap 'stop_servers; rm -f "$load"' EXIT

python3 - "$N" > "$load" <<'PY'
import sys
n = int(sys.argv[1])
value = b"x" * 32
out = sys.stdout.buffer
chunk = []
for i in range(n):
    key = b"key:%012d" % i
    chunk.append(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$32\r\n%s\r\n" % (key, value))
    if len(chunk) == 10000:
        out.write(b"".join(chunk))
        chunk.clear()
out.write(b"".join(chunk))
PY

measure() {  # NAME: prints "name before_kb after_kb keys"
  local name=$1 port=${PORT[$1]} pid=${PID[$1]} before after keys out
  sleep 0.5
  before=$(rss_kb "$pid")
  out=$(redis-cli -p "$port" --pipe < "$load")
  if ! grep -q "errors: 0, replies: $N" <<<"$out"; then
    echo "load into $name failed: $out" >&2
    exit 1
  fi
  sleep 1  # let lazily freed buffers settle before reading RSS
  after=$(rss_kb "$pid")
  keys=$(redis-cli -p "$port" DBSIZE)
  echo "$name $before $after $keys"
}

rows=()
start_redis redis "$OUT"
rows+=("$(measure redis)")
stop_servers
for s in $SHARDS; do
  start_ringkv "ringkv-s$s" "$OUT" "$s"
  rows+=("$(measure "ringkv-s$s")")
  stop_servers
done

echo "RSS after $N SETs (16-byte keys, 32-byte values), $(nproc) CPUs, io-backend=$IO_BACKEND"
echo
echo "| server | keys | RSS before (MiB) | RSS after (MiB) | bytes/key (growth) | RSS after / redis |"
echo "|---|---|---|---|---|---|"
base=""
for row in "${rows[@]}"; do
  read -r name before after keys <<<"$row"
  [[ -z $base ]] && base=$after
  awk -v n="$name" -v b="$before" -v a="$after" -v k="$keys" -v base="$base" 'BEGIN {
    printf "| %s | %d | %.1f | %.1f | %.1f | %.2fx |\n", n, k, b/1024, a/1024, (a-b)*1024/k, a/base }'
done | tee "$OUT/table.md"
