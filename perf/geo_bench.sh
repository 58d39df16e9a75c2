#!/usr/bin/env bash
# GEOADD and GEOSEARCH throughput, ringkv (shards 1 and 2) against
# redis-server 7.0: redis-benchmark with arbitrary commands at -P 16,
# alternating rounds, medians, ratio tables of throughput and of server CPU
# per op (utime+stime from /proc, far steadier than throughput on a shared
# machine).
#
#   perf/geo_bench.sh                       # ROUNDS=3, N=200000
#   ROUNDS=5 N=500000 perf/geo_bench.sh
#
# One geo key ("geo"): GEOADD adds random points (lon 0..180, lat 0..18,
# up to 1.8M members, so the set ends as a skiplist of ~N members), then
# GEOSEARCH reads ~40 points within 50 km of a random centre, sorted, and
# GEOSEARCH COUNT 10 the 10 nearest. With 2 shards the key lives on one
# of them: half the connections' commands are forwarded.
# The table goes to perf/results/geo-bench-DATE.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-16}
BIN=${BIN:-.build/release/ringkv-server}
PORTS=${PORTS:-"16402 16412 16422"}
stamp=$(date +%Y%m%d-%H%M%S)
out=perf/out/geo-bench-$stamp
mkdir -p "$out" perf/results
read -r p_redis p_rk1 p_rk2 <<<"$PORTS"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
redis-server --port "$p_redis" --save '' --appendonly no >"$out/redis.log" 2>&1 &
pids+=($!)
"$BIN" --port "$p_rk1" --bind 127.0.0.1 --shards 1 >"$out/rk1.log" 2>&1 &
pids+=($!)
"$BIN" --port "$p_rk2" --bind 127.0.0.1 --shards 2 >"$out/rk2.log" 2>&1 &
pids+=($!)
for p in $p_redis $p_rk1 $p_rk2; do
  for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# cpu PID: the process's utime+stime in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# rb PID PORT REQUESTS CMD...: "rps,cpu_us_per_op" of one redis-benchmark run.
rb() {
  local pid=$1 port=$2 n=$3
  shift 3
  local c0 c1 rps
  c0=$(cpu "$pid")
  rps=$(redis-benchmark -p "$port" -c "$CLIENTS" -P "$PIPELINE" -n "$n" -r 1800000 -q "$@" 2>/dev/null |
    tr '\r' '\n' | awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($(i+1) == "requests") v = $i } END { print v }')
  c1=$(cpu "$pid")
  echo "$rps,$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')"
}

csv=$out/results.csv
echo "server,workload,round,rps,cpu_us" >"$csv"
for round in $(seq "$ROUNDS"); do
  for s in redis:$p_redis:${pids[0]} ringkv-1:$p_rk1:${pids[1]} ringkv-2:$p_rk2:${pids[2]}; do
    IFS=: read -r name port pid <<<"$s"
    redis-cli -p "$port" flushall >/dev/null
    echo "$name,geoadd,$round,$(rb "$pid" "$port" "$N" geoadd geo __rand_int__e-4 __rand_int__e-5 m:__rand_int__)" >>"$csv"
    echo "$name,geosearch_50km,$round,$(rb "$pid" "$port" $((N / 4)) geosearch geo fromlonlat __rand_int__e-4 \
      __rand_int__e-5 byradius 50 km asc)" >>"$csv"
    echo "$name,geosearch_count10,$round,$(rb "$pid" "$port" $((N / 4)) geosearch geo fromlonlat __rand_int__e-4 \
      __rand_int__e-5 byradius 100 km count 10)" >>"$csv"
    echo "$name,geoadd_members,$round,$(redis-cli -p "$port" zcard geo),0" >>"$csv"
  done
done

python3 - "$csv" "$N" "$CLIENTS" "$PIPELINE" >"$out/table.md" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med, cpu = {}, {}
for w in {r["workload"] for r in rows}:
    for s in ("redis", "ringkv-1", "ringkv-2"):
        v = [float(r["rps"]) for r in rows if r["workload"] == w and r["server"] == s and r["rps"]]
        med[(w, s)] = statistics.median(v) if v else float("nan")
        c = [float(r["cpu_us"]) for r in rows if r["workload"] == w and r["server"] == s and r["cpu_us"]]
        cpu[(w, s)] = statistics.median(c) if c else float("nan")
print(f"# GEO throughput, redis-benchmark -c {sys.argv[3]} -P {sys.argv[4]}, GEOADD -n {sys.argv[2]}, "
      f"GEOSEARCH -n {int(sys.argv[2]) // 4}, median of rounds\n")
print("| workload | redis rps | ringkv 1 shard rps | ratio | ringkv 2 shards rps | ratio |")
print("|---|---|---|---|---|---|")
for w in ("geoadd", "geosearch_50km", "geosearch_count10"):
    r, a, b = med[(w, "redis")], med[(w, "ringkv-1")], med[(w, "ringkv-2")]
    print(f"| {w} | {r:,.0f} | {a:,.0f} | {a / r:.2f} | {b:,.0f} | {b / r:.2f} |")
print("\nServer CPU per op in microseconds (utime+stime over the run; ratio = ringkv / redis, lower is better;"
      " with 2 shards both workers count):\n")
print("| workload | redis | ringkv 1 shard | ratio | ringkv 2 shards | ratio |")
print("|---|---|---|---|---|---|")
for w in ("geoadd", "geosearch_50km", "geosearch_count10"):
    r, a, b = cpu[(w, "redis")], cpu[(w, "ringkv-1")], cpu[(w, "ringkv-2")]
    print(f"| {w} | {r:.2f} | {a:.2f} | {a / r:.2f} | {b:.2f} | {b / r:.2f} |")
counts = ", ".join("%s %d" % (s, med[("geoadd_members", s)]) for s in ("redis", "ringkv-1", "ringkv-2"))
print("\nMembers after GEOADD (ZCARD): " + counts)
EOF
cp "$out/table.md" "perf/results/geo-bench-$stamp.md"
cat "$out/table.md"
echo "table: perf/results/geo-bench-$stamp.md"
