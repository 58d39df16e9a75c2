#!/usr/bin/env bash
# Profile ringkv under load: perf record (cpu-clock, call graphs) of the
# server while redis-benchmark drives it, then Swift-demangled folded stacks,
# an interactive SVG flamegraph and the top self-time functions.
#
#   perf/flamegraph.sh                               # GET -P 16, 32-byte values
#   perf/flamegraph.sh --name set-p1 -- -t set -P 1 -c 50 -r 1000000 -d 32
#   perf/flamegraph.sh --shards 1 --seconds 20 --call-graph dwarf
#
# Options: --name NAME (get-p16), --shards N (nproc), --seconds S recorded
# (20), --freq HZ (499), --call-graph dwarf|fp (dwarf; see perf/README.md for
# why), --prefill BYTES (32: write all 1M keys once with values of this
# size, so GETs hit; 0 = none), --out DIR (perf/results), --minwidth PCT
# (0.05: frames narrower than this are left out of the SVG), --per-thread
# (one tower per worker thread; by default workers share one, ringkv-w*),
# --subscribers N:CHANNEL (N `redis-cli subscribe CHANNEL` readers connected
# before the load starts, e.g. for PUBLISH fan-out), --load CMD (a shell
# command run as the load instead of redis-benchmark, with PORT set, e.g.
# `--load 'python3 perf/tx_bench.py --load exec3-tag --port $PORT'`).
# After "--": redis-benchmark's workload arguments; -p, -l and -q are added.
# Writes DIR/flamegraph-NAME.svg and DIR/flamegraph-NAME.top20.txt; perf.data,
# perf script output and the folded stacks stay in perf/out/flame-NAME-TIME/.
# Needs perf (apt-get install linux-perf) and root or perf_event_paranoid <= 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

name=get-p16 shards=$(nproc) seconds=20 freq=499 callgraph=dwarf prefill=32
dir=$REPO/perf/results minwidth=0.05 merge=(--merge-threads) subscribers="" load=""
bench=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --name) name=$2; shift ;;
    --shards) shards=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --freq) freq=$2; shift ;;
    --call-graph) callgraph=$2; shift ;;
    --prefill) prefill=$2; shift ;;
    --out) dir=$2; shift ;;
    --minwidth) minwidth=$2; shift ;;
    --per-thread) merge=() ;;
    --subscribers) subscribers=$2; shift ;;
    --load) load=$2; shift ;;
    --) shift; bench=("$@"); break ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (redis-benchmark arguments go after --)" >&2; exit 2 ;;
  esac
  shift
done
(( ${#bench[@]} )) || bench=(-t get -P 16 -c 50 -r 1000000 -d 32)
case $callgraph in
  fp) cg=(--call-graph fp) ;;
  dwarf) cg=(--call-graph dwarf,16384) ;;
  *) echo "--call-graph must be fp or dwarf" >&2; exit 2 ;;
esac

require_ringkv
if ! command -v perf >/dev/null || ! perf version >/dev/null 2>&1; then
  echo "error: perf not found: apt-get install linux-perf" >&2
  exit 1
fi
work=$REPO/perf/out/flame-$name-$(date +%Y%m%d-%H%M%S)
mkdir -p "$work" "$dir"
bpid="" spids=()
trap '[[ -n $bpid ]] && kill "$bpid" 2>/dev/null; (( ${#spids[@]} )) && kill "${spids[@]}" 2>/dev/null; stop_servers' EXIT

start_ringkv ringkv "$work" "$shards"
port=${PORT[ringkv]} pid=${PID[ringkv]}
backend=$(redis-cli -p "$port" INFO server | tr -d '\r' | awk -F: '/^io_backend:/ {print $2}')
if (( prefill > 0 )); then
  timeout 600 python3 "$REPO/perf/prefill.py" "$port" 1000000 "$prefill"
fi

if [[ -n $subscribers ]]; then
  for _ in $(seq "${subscribers%%:*}"); do
    redis-cli -p "$port" subscribe "${subscribers#*:}" >/dev/null 2>&1 &
    spids+=($!)
  done
  sleep 0.5
fi
if [[ -n $load ]]; then
  echo "ringkv pid $pid, shards $shards, io_backend=$backend; load: $load"
  # Its own session: the whole load (a pipeline, its children) is stopped with it.
  PORT=$port setsid bash -c "$load" >"$work/bench.log" 2>&1 &
  bench=("$load")
else
  echo "ringkv pid $pid, shards $shards, io_backend=$backend; load: redis-benchmark ${bench[*]}"
  redis-benchmark -p "$port" -l -q "${bench[@]}" >"$work/bench.log" 2>&1 &
fi
bpid=$!
sleep 2  # warm up: connections open, caches hot
perf record -e cpu-clock -F "$freq" "${cg[@]}" -p "$pid" -o "$work/perf.data" \
  -- sleep "$seconds" 2>"$work/record.log"
kill -- "-$bpid" 2>/dev/null || kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null || true; bpid=""
if (( ${#spids[@]} )); then kill "${spids[@]}" 2>/dev/null; wait "${spids[@]}" 2>/dev/null || true; spids=(); fi
stop_servers
# Throughput while recording: the per-loop lines redis-benchmark -l printed
# (none when a loop outlasts the recording: then no figure, not a failure).
rps=$(tr '\r' '\n' <"$work/bench.log" | grep -E 'requests per second' | tail -n +2 \
      | grep -oE '[0-9.]+ requests per second' | awk '{s+=$1; n++} END {if (n) printf "%.0f", s/n}' || true)

perf script -i "$work/perf.data" -F comm,tid,ip,sym,dso --no-inline 2>"$work/script.log" \
  >"$work/perf.script"
python3 "$REPO/perf/flamegraph.py" collapse "${merge[@]}" <"$work/perf.script" >"$work/stacks.folded"
samples=$(awk '{s+=$NF} END {print s+0}' "$work/stacks.folded")
rev=$(ringkv_label)
title="ringkv ($rev) under ${load:-redis-benchmark ${bench[*]}}"
sub="shards $shards, io_backend=$backend, perf record -e cpu-clock -F $freq --call-graph $callgraph, ${seconds}s, $samples samples, $(nproc) CPUs${rps:+, ~$rps req/s while profiled}"
python3 "$REPO/perf/flamegraph.py" svg --title "$title" --subtitle "$sub" --minwidth "$minwidth" \
  <"$work/stacks.folded" >"$dir/flamegraph-$name.svg"
{
  echo "$title"
  echo "$sub"
  echo
  python3 "$REPO/perf/flamegraph.py" top -n 20 <"$work/stacks.folded"
} >"$dir/flamegraph-$name.top20.txt"
cat "$dir/flamegraph-$name.top20.txt"
echo
echo "wrote $dir/flamegraph-$name.svg ($(du -h "$dir/flamegraph-$name.svg" | cut -f1))," \
     "$dir/flamegraph-$name.top20.txt; perf data in $work"
