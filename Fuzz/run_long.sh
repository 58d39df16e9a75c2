#!/bin/bash
# Runs each fuzz target for its own time, one at a time, and prints the
# libFuzzer final stats: ./Fuzz/run_long.sh resp:180 inline:140 ...
# RUNS=N stops each target after N inputs (whichever of time and N comes
# first). LEAKS=0 turns leak detection off (a known leak would stop the run
# early). The logs stay in Fuzz/.build/fuzz-<t>.log.
cd "$(dirname "$0")"
for spec in "$@"; do
  t=${spec%%:*}; s=${spec##*:}
  mkdir -p .build/corpus/$t artifacts
  start=$(date +%s)
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=${LEAKS:-1} .build/release/fuzz-$t -max_total_time=$s \
    ${RUNS:+-runs=$RUNS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$PWD/artifacts/$t- \
    .build/corpus/$t corpus/$t $(test -d regressions/$t && echo regressions/$t) > .build/fuzz-$t.log 2>&1
  rc=$?
  echo "$t rc=$rc wall=$(( $(date +%s) - start ))s corpus=$(ls .build/corpus/$t | wc -l)" \
    "$(du -sk .build/corpus/$t | cut -f1)KB" \
    "$(grep -E 'number_of_executed_units|average_exec_per_sec|new_units|peak_rss' .build/fuzz-$t.log | tr -s ' ' | tr '\n' ' ')"
done
