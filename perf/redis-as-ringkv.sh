#!/usr/bin/env bash
# Stand-in for ringkv-server that runs redis-server instead, so the perf
# scripts and the integration harness can be dry-run before ringkv builds:
#   RINGKV_BIN=perf/redis-as-ringkv.sh perf/bench.sh
# It drops ringkv-only directives (flags and config-file lines) that
# redis-server would reject. Tests of ringkv-only behaviour fail under it.
set -euo pipefail
ours='shards|io-backend|uring-entries|recv-buffer-size|recv-buffer-count|capture-interface|capture-port'
# ringkv has no persistence yet; without this redis would write dump.rdb
# into the caller's directory and reload it on the next start.
args=()
persist=(--save "" --appendonly no)
if [[ $# -gt 0 && $1 != -* ]]; then
  filtered=$(mktemp /tmp/redis-as-ringkv.XXXXXX.conf)
  grep -Ev "^[[:space:]]*($ours)([[:space:]]|\$)" "$1" > "$filtered" || true
  args+=("$filtered")
  shift
fi
while [[ $# -gt 0 ]]; do
  if [[ $1 =~ ^--($ours)$ ]]; then
    shift 2 || shift
    continue
  fi
  args+=("$1")
  shift
done
case " ${args[*]:-} " in
  *" --version "*|*" -v "*|*" --help "*|*" -h "*) exec redis-server "${args[@]}" ;;
esac
exec redis-server "${args[@]}" "${persist[@]}"
