#!/bin/bash
# Runs each fuzz target for its own time, one at a time, and prints the
# libFuzzer final stats: ./Fuzz/run_long.sh resp:180 inline:140 ...
# LEAKS=0 turns leak detection off (a known leak would stop the run early).
cd "$(dirname "$0")"
for spec in "$@"; do
  t=${spec%%:*}; s=${spec##*:}
  mkdir -p .build/corpus/$t artifacts
  start=$(date +%s)
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=${LEAKS:-1} .build/release/fuzz-$t -max_total_time=$s \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$PWD/artifacts/$t- \
    .build/corpus/$t corpus/$t > .build/fuzz-$t.log 2>&1
  rc=$?
  echo "$t rc=$rc wall=$(( $(date +%s) - start ))s corpus=$(ls .build/corpus/$t | wc -l) $(grep -E 'number_of_executed_units|new_units' .build/fuzz-$t.log | tr -s ' ' | tr '\n' ' ')"
done
