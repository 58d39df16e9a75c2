#!/usr/bin/env bash
# The measurement behind configs/high-throughput.conf: ringkv with one knob
# changed at a time against the defaults of configs/ringkv.conf, under
# redis-benchmark. Variants alternate within each round (order rotating by
# round) so drift on a shared VM spreads evenly; the table shows medians.
#
#   perf/tuning.sh                       # defaults below
#   ROUNDS=5 N=500000 perf/tuning.sh
#   VARIANTS="base:|big:--recv-buffer-size 65536" perf/tuning.sh
#
# Env: ROUNDS (3), N requests per run (200000), CLIENTS (50), KEYSPACE
# (1000000), LOADS (see below), VARIANTS ("name:flags|..."), OUT
# (perf/out/tuning-DATE). Writes results.csv and table.md under OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-1000000}
# name:test:pipeline:datasize
LOADS=${LOADS:-"set-P16-1k:set:16:1024 get-P16-1k:get:16:1024 set-P1-32:set:1:32 get-P1-32:get:1:32"}
NCPU=$(nproc)
VARIANTS=${VARIANTS:-"base:|shards1:--shards 1|entries256:--uring-entries 256|entries16k:--uring-entries 16384|buf4k:--recv-buffer-size 4096 --recv-buffer-count 4096|buf64k:--recv-buffer-size 65536 --recv-buffer-count 256|buf64kx1k:--recv-buffer-size 65536 --recv-buffer-count 1024"}
OUT=${OUT:-$REPO/perf/out/tuning-$(date +%Y%m%d-%H%M%S)}

require_ringkv
mkdir -p "$OUT/runs"
trap stop_servers EXIT

# start every variant up front: same binary, configs/ringkv.conf + the knob
IFS='|' read -r -a VLIST <<<"$VARIANTS"
NAMES=()
for v in "${VLIST[@]}"; do
  name=${v%%:*}; flags=${v#*:}
  # shellcheck disable=SC2086
  start_server "$name" "$OUT" "$RINGKV_BIN" "$REPO/configs/ringkv.conf" --dir "$OUT" --loglevel warning $flags
  NAMES+=("$name")
  rss=$(rss_kb "${PID[$name]}")
  echo "$name: port ${PORT[$name]} flags '${flags}' io_backend=$(redis-cli -p "${PORT[$name]}" INFO server | tr -d '\r' | sed -n 's/^io_backend://p') rss_idle_kb=$rss"
  echo "$name,$rss" >>"$OUT/rss_idle.csv"
done

echo "variant,load,round,rps,p50_ms,p99_ms" >"$OUT/results.csv"
for round in $(seq "$ROUNDS"); do
  k=${#NAMES[@]}
  for ((i = 0; i < k; i++)); do
    name=${NAMES[$(((i + round) % k))]}
    for load in $LOADS; do
      IFS=: read -r lname test pipe size <<<"$load"
      log=$OUT/runs/$name-$lname-r$round.txt
      redis-benchmark -p "${PORT[$name]}" -t "$test" -n "$N" -c "$CLIENTS" -r "$KEYSPACE" \
        -P "$pipe" -d "$size" --csv >"$log" 2>&1 || true
      # "test","rps","avg","min","p50","p95","p99","max"
      line=$(grep -E '^"(SET|GET)"' "$log" | tail -1 | tr -d '"')
      IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$line"
      echo "$name,$lname,$round,${rps:-err},${p50:-},${p99:-}" >>"$OUT/results.csv"
    done
  done
  echo "round $round done"
done

for name in "${NAMES[@]}"; do echo "$name,$(rss_kb "${PID[$name]}")" >>"$OUT/rss_after.csv"; done

python3 - "$OUT" "$N" "$CLIENTS" "$KEYSPACE" "$NCPU" <<'PY'
import csv, statistics, sys, collections
out, n, c, ks, ncpu = sys.argv[1:]
rows = list(csv.DictReader(open(f"{out}/results.csv")))
by = collections.defaultdict(list)
variants, loads = [], []
for r in rows:
    if r["variant"] not in variants: variants.append(r["variant"])
    if r["load"] not in loads: loads.append(r["load"])
    if r["rps"] != "err": by[(r["variant"], r["load"])].append(r)
rss = dict(l.strip().split(",") for l in open(f"{out}/rss_after.csv"))
variants = list(rss)  # start order: the first is the baseline
lines = [f"redis-benchmark -n {n} -c {c} -r {ks}, {ncpu} CPUs, median of rounds; "
         "cells: requests/s (p99 ms), and the ratio to base", "",
         "| variant | " + " | ".join(loads) + " | RSS after (MB) |",
         "|---|" + "---|" * len(loads) + "---|"]
base = {}
for v in variants:
    cells = []
    for l in loads:
        rs = by.get((v, l), [])
        if not rs: cells.append("err"); continue
        rps = statistics.median(float(r["rps"]) for r in rs)
        p99 = statistics.median(float(r["p99_ms"]) for r in rs)
        if v == variants[0]: base[l] = rps
        ratio = rps / base[l] if base.get(l) else 0
        cells.append(f"{rps:,.0f} ({p99:.2f}) x{ratio:.2f}")
    lines.append(f"| {v} | " + " | ".join(cells) + f" | {int(rss.get(v, 0))/1024:.0f} |")
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "results: $OUT"
