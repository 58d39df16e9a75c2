# Shared by perf/bench.sh and perf/rss.sh: start servers on free ports, wait
# until they answer, stop them on exit. Source it; it defines no policy.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RINGKV_BIN=$(realpath -m "${RINGKV_BIN:-$REPO/.build/release/ringkv-server}")
REDIS_BIN=${REDIS_BIN:-redis-server}
IO_BACKEND=${IO_BACKEND:-auto}

declare -A PORT=() PID=()
SERVERS=()

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME LOGDIR CMD... : CMD gets --port appended unless it is the ceiling.
start_server() {
  local name=$1 logdir=$2; shift 2
  local port; port=$(free_port)
  # Run inside logdir so nothing a server writes lands in the checkout.
  if [[ $name == ceiling ]]; then
    (cd "$logdir" && exec "$@" "$port" 1) >"$logdir/$name.log" 2>&1 &
  else
    (cd "$logdir" && exec "$@" --port "$port") >"$logdir/$name.log" 2>&1 &
  fi
  PID[$name]=$!
  PORT[$name]=$port
  SERVERS+=("$name")
  local i
  for i in $(seq 200); do
    if [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]]; then return 0; fi
    if ! kill -0 "${PID[$name]}" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "error: $name did not start; log $logdir/$name.log:" >&2
  tail -20 "$logdir/$name.log" >&2
  return 1
}

stop_servers() {
  local name
  for name in "${!PID[@]}"; do
    kill -TERM "${PID[$name]}" 2>/dev/null || true
  done
  for name in "${!PID[@]}"; do
    # A server that ignores SIGTERM for 10 s is reported and killed, so a
    # hung server can't hang the script.
    local i
    for i in $(seq 100); do kill -0 "${PID[$name]}" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "${PID[$name]}" 2>/dev/null; then
      echo "warning: $name (pid ${PID[$name]}) still running 10 s after SIGTERM; sending SIGKILL" >&2
      kill -KILL "${PID[$name]}" 2>/dev/null || true
    fi
    wait "${PID[$name]}" 2>/dev/null || true
  done
  PID=()
}

start_redis() {  # start_redis NAME LOGDIR
  start_server "$1" "$2" "$REDIS_BIN" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning
}

start_ringkv() {  # start_ringkv NAME LOGDIR SHARDS
  start_server "$1" "$2" "$RINGKV_BIN" --bind 127.0.0.1 --shards "$3" --io-backend "$IO_BACKEND" \
    --loglevel warning
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

require_ringkv() {
  if [[ ! -x $RINGKV_BIN ]]; then
    echo "error: $RINGKV_BIN not found: run 'swift build -c release' or set RINGKV_BIN" >&2
    exit 1
  fi
}

# perf_python: a Python with matplotlib, from perf/.venv (made on first use,
# from PyPI). Prints the interpreter's path.
perf_python() {
  local venv=$REPO/perf/.venv
  if ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q matplotlib >&2
  fi
  echo "$venv/bin/python"
}

# ringkv_label: which ringkv was measured, for titles: the checkout's commit
# and the binary's build time (they differ when the binary is older).
ringkv_label() {
  local rev
  rev=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)
  echo "$rev, binary of $(date -r "$RINGKV_BIN" '+%F %H:%M' 2>/dev/null || echo '?')"
}
