#!/usr/bin/env bash
# Proves the RingKV Docker image end to end, offline (make docker-test).
#
#  1. Starts dockerd if none answers (--iptables=false --bridge=none: host
#     networking only) and stops it again on exit.
#  2. Builds local stand-ins for the Dockerfile's two base images, under the
#     names the Dockerfile uses, and caches them (skipped when the tag exists):
#       debian:bookworm-slim   debootstrap --variant=minbase bookworm + docker import
#       swift:6.3-bookworm     that image + the official image's build packages
#                              + the host toolchain (/opt/swift/usr -> /usr)
#                              + the local package mirror (/opt/swift-packages)
#                              + git url.<mirror>.insteadOf, so SwiftPM resolves
#                              offline as on the host.
#  3. docker build --network host of the real Dockerfile, unchanged.
#  4. Five container runs, all --network host:
#       default     PING/SET/GET, io_backend:uring, health check healthy,
#                   non-root user, docker stop (SIGTERM) -> exit 0
#       seccomp     a profile denying io_uring (Docker 25+'s default): epoll,
#                   and one log line saying why
#       capdrop     --cap-drop ALL, capture-interface lo: serves, capture off,
#                   one warning line
#       netraw      --cap-drop ALL --cap-add NET_RAW, capture-interface lo:
#                   INFO capture counts frames; ringkv-capture works as
#                   the non-root user
#       options     the documented options together: configs/seccomp-io_uring.json
#                   (io_uring allowed), --ulimit memlock=-1, --cap-add NET_RAW,
#                   --requirepass (NOAUTH without it, healthy with it)
#
# Environment:
#   DOCKER_TEST_OUT   log folder (default perf/out/docker-test-<timestamp>)
#   DOCKER_CACHE      debootstrap rootfs cache (default /var/tmp/ringkv-docker)
#   IMAGE             tag for the built image (default ringkv:docker-test)
#   REBUILD_BASE=1    rebuild the stand-in base images even if tagged
#   SKIP_BUILD=1      reuse $IMAGE as it is (iterate on the checks only)
#   DEBIAN_MIRROR     debootstrap mirror (default: the one apt uses here)
#   SWIFT_TOOLCHAIN   host toolchain root holding usr/ (default /opt/swift)
#   SWIFT_MIRROR      host package mirror (default /opt/swift-packages)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${DOCKER_TEST_OUT:-$REPO/perf/out/docker-test-$STAMP}
mkdir -p "$OUT"
exec > >(tee "$OUT/docker-test.log") 2>&1

CACHE=${DOCKER_CACHE:-/var/tmp/ringkv-docker}
IMAGE=${IMAGE:-ringkv:docker-test}
SWIFT_TOOLCHAIN=${SWIFT_TOOLCHAIN:-/opt/swift}
SWIFT_MIRROR=${SWIFT_MIRROR:-/opt/swift-packages}
# The base image names come from the Dockerfile itself, so the stand-ins
# always match what it asks for.
SWIFT_IMAGE=$(sed -n 's/^ARG SWIFT_IMAGE=//p' Dockerfile)
RUNTIME_IMAGE=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' Dockerfile)
DENY_PROFILE=$REPO/Tests/docker/seccomp-deny-io_uring.json
ALLOW_PROFILE=$REPO/configs/seccomp-io_uring.json
# The image's HEALTHCHECK probes 127.0.0.1:6379; with host networking the
# container's port is the host's, so the default run wants 6379 free.
PORT=${PORT:-6379}

export DOCKER_BUILDKIT=0   # no buildx plugin here; the legacy builder works offline

log() { printf '\n=== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
declare -a RESULTS=()
FAILS=0
pass() { RESULTS+=("PASS  $1"); echo "PASS: $1"; }
skip() { RESULTS+=("SKIP  $1"); echo "SKIP: $1"; }
fail() { RESULTS+=("FAIL  $1${2:+  ($2)}"); echo "FAIL: $1${2:+ ($2)}"; FAILS=$((FAILS + 1)); }
check() {  # check NAME COMMAND...: PASS when the command succeeds
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

STARTED_DOCKERD=
CONTAINERS=()
cleanup() {
    local rc=$?
    for c in "${CONTAINERS[@]}"; do
        docker rm -f "$c" >/dev/null 2>&1 || true
    done
    if [ -n "$STARTED_DOCKERD" ]; then
        log "stopping the dockerd this script started (pid $STARTED_DOCKERD)"
        kill "$STARTED_DOCKERD" 2>/dev/null || true
        for _ in $(seq 60); do kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 0.5; done
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "docker-test: aborted at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

need() { command -v "$1" >/dev/null 2>&1; }

################################ prerequisites ###############################
log "prerequisites"
missing=()
need dockerd || missing+=(docker.io)
need debootstrap || missing+=(debootstrap)
need redis-cli || missing+=(redis-tools)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
[ -x "$SWIFT_TOOLCHAIN/usr/bin/swift" ] || { echo "no Swift toolchain at $SWIFT_TOOLCHAIN"; exit 2; }
[ -n "$SWIFT_IMAGE" ] && [ -n "$RUNTIME_IMAGE" ] || { echo "Dockerfile lacks ARG SWIFT_IMAGE/RUNTIME_IMAGE"; exit 2; }
echo "build base: $SWIFT_IMAGE   runtime base: $RUNTIME_IMAGE   image: $IMAGE   out: $OUT"

################################ dockerd #####################################
if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (--iptables=false --bridge=none)"
    dockerd --iptables=false --bridge=none >"$OUT/dockerd.log" 2>&1 &
    STARTED_DOCKERD=$!
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not come up"; tail -20 "$OUT/dockerd.log"; exit 2; }
else
    echo "dockerd already running; leaving it as it is"
fi
docker version --format 'docker client {{.Client.Version}}, daemon {{.Server.Version}}'

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

################################ stand-in: debian ############################
if [ -z "${REBUILD_BASE:-}" ] && have_image "$RUNTIME_IMAGE"; then
    echo "cached: $RUNTIME_IMAGE ($(docker image inspect -f '{{.Created}}' "$RUNTIME_IMAGE"))"
else
    log "building stand-in $RUNTIME_IMAGE with debootstrap --variant=minbase bookworm"
    mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
    mirror=${mirror:-http://deb.debian.org/debian}
    mkdir -p "$CACHE"
    if [ ! -f "$CACHE/rootfs/.debootstrap-done" ] || [ -n "${REBUILD_BASE:-}" ]; then
        rm -rf "$CACHE/rootfs" "$CACHE/rootfs.tmp"
        debootstrap --variant=minbase bookworm "$CACHE/rootfs.tmp" "$mirror"
        mv "$CACHE/rootfs.tmp" "$CACHE/rootfs"
    fi
    # Like the official image: deb822 sources with updates and security,
    # no apt lists or caches in the image.
    rm -f "$CACHE/rootfs/etc/apt/sources.list"
    cat > "$CACHE/rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$CACHE/rootfs/var/lib/apt/lists/"* "$CACHE/rootfs/var/cache/apt/"*.bin \
           "$CACHE/rootfs/var/cache/apt/archives/"*.deb
    touch "$CACHE/rootfs/.debootstrap-done"
    tar --numeric-owner --xattrs -C "$CACHE/rootfs" --exclude=./.debootstrap-done -c . \
        | docker import -c 'CMD ["bash"]' -m "stand-in: debootstrap --variant=minbase bookworm" - "$RUNTIME_IMAGE"
fi

################################ stand-in: swift #############################
if [ -z "${REBUILD_BASE:-}" ] && have_image "$SWIFT_IMAGE"; then
    echo "cached: $SWIFT_IMAGE ($(docker image inspect -f '{{.Created}}' "$SWIFT_IMAGE"))"
else
    log "building stand-in $SWIFT_IMAGE from $RUNTIME_IMAGE + $SWIFT_TOOLCHAIN + $SWIFT_MIRROR"
    # The git insteadOf lines that point GitHub at the local mirror, as on the host.
    insteadof=$(git config --system --get-regexp '^url\..*\.insteadof$' || true)
    [ -n "$insteadof" ] || echo "warning: no url.*.insteadOf in the host's system git config"
    builder=ringkv-swift-standin-$$
    CONTAINERS+=("$builder")
    # Packages: those the official swift:bookworm image installs.
    docker run --name "$builder" --network host \
        -v "$SWIFT_TOOLCHAIN/usr:/toolchain:ro" -v "$SWIFT_MIRROR:/mirror:ro" \
        -e INSTEADOF="$insteadof" -e MIRROR_DIR="$SWIFT_MIRROR" \
        "$RUNTIME_IMAGE" bash -euxc '
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -q
            apt-get install -y -q --no-install-recommends \
                binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 \
                libgcc-12-dev libpython3-dev libsqlite3-0 libstdc++-12-dev \
                libxml2-dev libncurses-dev libz3-dev pkg-config tzdata unzip \
                zlib1g-dev ca-certificates
            rm -rf /var/lib/apt/lists/*
            cp -a /toolchain/. /usr/
            mkdir -p "$(dirname "$MIRROR_DIR")"
            cp -a /mirror "$MIRROR_DIR"
            printf "%s\n" "$INSTEADOF" | while read -r key value; do
                [ -n "$key" ] && git config --system --add "$key" "$value"
            done
            git config --system --list
            swift --version'
    docker commit -c 'CMD ["bash"]' \
        -m "stand-in: $RUNTIME_IMAGE + host Swift toolchain + $SWIFT_MIRROR" \
        "$builder" "$SWIFT_IMAGE" >/dev/null
    docker rm "$builder" >/dev/null
fi

################################ build the image #############################
if [ -n "${SKIP_BUILD:-}" ] && have_image "$IMAGE"; then
    echo "SKIP_BUILD: reusing $IMAGE"
else
    log "docker build --network host -t $IMAGE . (the real Dockerfile)"
    t0=$(date +%s)
    if docker build --network host -t "$IMAGE" . ; then
        pass "docker build ($(( $(date +%s) - t0 ))s)"
    else
        fail "docker build"
        exit 1
    fi
fi
docker image ls "$IMAGE"
docker image inspect -f 'user={{.Config.User}} workdir={{.Config.WorkingDir}} volumes={{json .Config.Volumes}} ports={{json .Config.ExposedPorts}} stopsignal={{.Config.StopSignal}} healthcheck={{json .Config.Healthcheck.Test}}' "$IMAGE"

############################## helpers for the runs ##########################
CLI_PORT=$PORT
cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$CLI_PORT" "$@"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ping() {  # wait until PONG or the container exits
    local c=$1
    for _ in $(seq 100); do
        [ "$(cli PING 2>/dev/null)" = PONG ] && return 0
        [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] || return 1
        sleep 0.2
    done
    return 1
}

start() {  # start NAME [docker run options...] -- [server args...]
    local name=$1; shift
    local opts=() args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    args=("$@")
    docker rm -f "$name" >/dev/null 2>&1 || true
    CONTAINERS+=("$name")
    echo "+ docker run -d --name $name --network host ${opts[*]} $IMAGE ${args[*]}"
    if ! docker run -d --name "$name" --network host "${opts[@]}" "$IMAGE" "${args[@]}" \
            >/dev/null 2>"$OUT/$name.run-error"; then
        cat "$OUT/$name.run-error"
        return 1
    fi
}

basic_io() {  # PING/SET/GET through redis-cli
    local tag=$1
    check "$tag: PING -> PONG" test "$(cli PING)" = PONG
    check "$tag: SET -> OK" test "$(cli SET docker:test "value-$tag")" = OK
    check "$tag: GET -> value" test "$(cli GET docker:test)" = "value-$tag"
}

info_field() {  # info_field SECTION FIELD
    { cli INFO "$1" | tr -d '\r' | sed -n "s/^$2://p" | head -1; } || true
}

stop_and_check() {  # docker stop (SIGTERM) and expect exit code 0
    local tag=$1 c=$2
    local t0; t0=$(date +%s)
    docker stop -t 30 "$c" >/dev/null
    local code; code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
    local oom; oom=$(docker inspect -f '{{.State.OOMKilled}}' "$c")
    check "$tag: docker stop (SIGTERM) -> exit 0 (got $code in $(( $(date +%s) - t0 ))s, oom=$oom)" test "$code" = 0
}

save_logs() {
    docker logs "$2" >"$OUT/$1.log" 2>&1 || true
    echo "--- $1 container log ($OUT/$1.log):"
    sed 's/^/    /' "$OUT/$1.log" | tail -40
}

count_lines() {  # count_lines FILE ERE
    grep -E -c -- "$2" "$1" || true
}

capture_frames() {  # the first INFO capture field that counts frames
    { cli INFO capture | tr -d '\r' | grep -E '^capture[a-z_]*frames[a-z_]*:[0-9]+' | head -1 | cut -d: -f2; } || true
}

wait_health() {  # prints the health status once it leaves "starting" (60 s at most)
    local status=
    for _ in $(seq 60); do
        status=$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null || true)
        case "$status" in healthy|unhealthy) break ;; esac
        sleep 1
    done
    echo "$status"
}

cap_eff() {  # CapEff of the container's pid 1 (the server)
    docker exec "$1" sed -n 's/^CapEff:[[:space:]]*//p' /proc/1/status 2>/dev/null || true
}
has_net_raw() { local e; e=$(cap_eff "$1"); [ -n "$e" ] && [ $(( (0x$e >> 13) & 1 )) -eq 1 ]; }
not_net_raw() { local e; e=$(cap_eff "$1"); [ -n "$e" ] && [ $(( (0x$e >> 13) & 1 )) -eq 0 ]; }

if ! port_free "$PORT"; then
    echo "port $PORT is in use on this host; set PORT=... (the image health check probes 6379)"
    exit 2
fi

############################## run 1: default ################################
log "run 1/5: default (plain docker run, host network)"
C=ringkv-dt-default
start "$C" || true
if wait_ping "$C"; then
    basic_io default
    backend=$(info_field server io_backend)
    check "default: INFO server io_backend:uring (got '$backend')" test "$backend" = uring
    check "default: runs as non-root user ringkv (uid $(docker exec "$C" id -u))" \
        test "$(docker exec "$C" id -un)" = ringkv
    check "default: protected-mode off as in the redis image" \
        test "$(cli CONFIG GET protected-mode | tail -1)" = no
    check "default: bind * -::* from docker.conf" test "$(cli CONFIG GET bind | tail -1)" = "* -::*"
    check "default: working directory /data" test "$(cli CONFIG GET dir | tail -1)" = /data
    check "default: ringkv-capture is in the image" \
        docker exec "$C" ringkv-capture --help
    status=$(wait_health "$C")
    check "default: health check turns healthy (got '$status')" test "$status" = healthy
    docker inspect -f '{{range .State.Health.Log}}health probe exit={{.ExitCode}} out={{.Output}}{{end}}' "$C" | tail -3
    stop_and_check default "$C"
else
    fail "default: server answers PING"
fi
save_logs default "$C"
if [ -f "$OUT/default.log" ]; then
    check "default: no io_uring fallback line" test "$(count_lines "$OUT/default.log" 'falling back to epoll')" = 0
fi

############################## run 2: seccomp deny ###########################
log "run 2/5: seccomp profile that denies io_uring (Docker 25+'s default)"
C=ringkv-dt-seccomp
start "$C" --security-opt "seccomp=$DENY_PROFILE" || true
if wait_ping "$C"; then
    basic_io seccomp
    backend=$(info_field server io_backend)
    check "seccomp: INFO server io_backend:epoll (got '$backend')" test "$backend" = epoll
    stop_and_check seccomp "$C"
else
    fail "seccomp: server answers PING"
fi
save_logs seccomp "$C"
n=$(count_lines "$OUT/seccomp.log" 'io_uring unavailable, falling back to epoll')
check "seccomp: exactly one fallback log line (got $n)" test "$n" = 1
check "seccomp: the fallback line names EPERM" grep -q 'falling back to epoll.*EPERM' "$OUT/seccomp.log"

############################## run 3: --cap-drop ALL #########################
log "run 3/5: --cap-drop ALL with capture-interface lo"
C=ringkv-dt-capdrop
start "$C" --cap-drop ALL -- ringkv-server /etc/ringkv/ringkv.conf --capture-interface lo || true
if wait_ping "$C"; then
    basic_io capdrop
    backend=$(info_field server io_backend)
    check "capdrop: INFO server io_backend:uring (got '$backend')" test "$backend" = uring
    check "capdrop: server process has no CAP_NET_RAW ($(cap_eff "$C"))" not_net_raw "$C"
    capinfo=$(cli INFO capture | tr -d '\r' || true)
    echo "INFO capture:"; printf '%s\n' "$capinfo" | sed 's/^/    /'
    en=$(info_field capture capture_enabled)
    check "capdrop: INFO capture capture_enabled:0 (got '$en')" test "$en" = 0
    check "capdrop: INFO capture section exists" test -n "$(printf '%s\n' "$capinfo" | grep -v '^#' | grep .)"
    frames=$(capture_frames)
    check "capdrop: capture counts no frames (got '${frames:-none}')" test "${frames:-0}" = 0
    stop_and_check capdrop "$C"
else
    fail "capdrop: server answers PING"
fi
save_logs capdrop "$C"
n=$(count_lines "$OUT/capdrop.log" '[Cc]apture')
check "capdrop: exactly one capture log line (got $n)" test "$n" = 1
check "capdrop: it is a warning naming CAP_NET_RAW" \
    grep -E -q '( # |warn).*[Cc]apture.*(CAP_NET_RAW|NET_RAW)' "$OUT/capdrop.log"

############################## run 4: NET_RAW capture #########################
log "run 4/5: --cap-drop ALL --cap-add NET_RAW with capture-interface lo"
C=ringkv-dt-netraw
start "$C" --cap-drop ALL --cap-add NET_RAW -- ringkv-server /etc/ringkv/ringkv.conf --capture-interface lo || true
if wait_ping "$C"; then
    basic_io netraw
    check "netraw: server process has CAP_NET_RAW effective ($(cap_eff "$C"))" has_net_raw "$C"
    # The non-root user can open AF_PACKET: ringkv-capture (file capability)
    # sees this server's traffic on lo, independent of the server's capture.
    docker exec "$C" ringkv-capture -i lo --port "$PORT" -c 4 -d 10 >"$OUT/netraw-ringkv-capture.txt" 2>&1 &
    capture_pid=$!
    sleep 1
    # some traffic for both captures to see
    timeout 60 redis-benchmark -h 127.0.0.1 -p "$PORT" -n 2000 -c 4 -t set,get -q 2>&1 \
        | tr '\r' '\n' | grep -v 'rps=' | grep . || true
    wait "$capture_pid" || true
    sed 's/^/    /' "$OUT/netraw-ringkv-capture.txt" | head -6
    nframes=$(sed -n 's/^\([0-9][0-9]*\) frames captured.*/\1/p' "$OUT/netraw-ringkv-capture.txt" | head -1)
    nframes=${nframes:-0}
    check "netraw: ringkv-capture as user ringkv sees frames on lo (got $nframes)" test "$nframes" -ge 1
    sleep 1
    capinfo=$(cli INFO capture | tr -d '\r' || true)
    echo "INFO capture:"; printf '%s\n' "$capinfo" | sed 's/^/    /'
    frames=$(capture_frames)
    en=$(info_field capture capture_enabled)
    check "netraw: INFO capture capture_enabled:1 (got '$en')" test "$en" = 1
    check "netraw: INFO capture counts frames (got '${frames:-none}')" test "${frames:-0}" -gt 0
    stop_and_check netraw "$C"
else
    fail "netraw: server answers PING"
fi
save_logs netraw "$C"
n=$(count_lines "$OUT/netraw.log" '[Cc]apture.*(CAP_NET_RAW|not permitted|EPERM|disabled)')
check "netraw: no capture warning (got $n)" test "$n" = 0

############################## run 5: documented options #######################
log "run 5/5: the documented options together: allow-io_uring seccomp profile, memlock, NET_RAW, password"
C=ringkv-dt-options
PASSWORD=docker-test-secret
MEMLOCK=-1
if ! start "$C" --security-opt "seccomp=$ALLOW_PROFILE" --ulimit memlock=-1 --cap-add NET_RAW -- --requirepass "$PASSWORD"; then
    if grep -q 'setting rlimit' "$OUT/$C.run-error"; then
        # Raising a hard limit needs CAP_SYS_RESOURCE, which some sandboxes
        # (this one included) withhold even from root: use the host's limit.
        MEMLOCK=$(( $(ulimit -H -l) * 1024 ))
        skip "options: --ulimit memlock=-1 (dockerd lacks CAP_SYS_RESOURCE here; using memlock=$MEMLOCK, the host's hard limit)"
        start "$C" --security-opt "seccomp=$ALLOW_PROFILE" --ulimit "memlock=$MEMLOCK" --cap-add NET_RAW -- --requirepass "$PASSWORD" || true
    fi
fi
for _ in $(seq 100); do
    case "$(cli PING 2>&1)" in NOAUTH*|PONG) break ;; esac
    sleep 0.2
done
reply=$(cli PING 2>&1 || true)
check "options: PING without the password is refused (got '$reply')" \
    grep -q NOAUTH <<<"$reply"
CLI_PORT=$PORT
cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$CLI_PORT" --no-auth-warning -a "$PASSWORD" "$@"; }
basic_io options
backend=$(info_field server io_backend)
check "options: seccomp-io_uring.json allows io_uring (io_backend '$backend')" test "$backend" = uring
want=unlimited; [ "$MEMLOCK" = -1 ] || want=$(( MEMLOCK / 1024 ))
got=$(docker exec "$C" sh -c 'ulimit -l' 2>&1 || true)
check "options: memlock limit in the container is $want (got '$got')" test "$got" = "$want"
check "options: --requirepass flag added to the image config (bind '$(cli CONFIG GET bind | tail -1)')" \
    test "$(cli CONFIG GET bind | tail -1)" = "* -::*"
status=$(wait_health "$C")
check "options: health check healthy with a password set (got '$status')" test "$status" = healthy
stop_and_check options "$C"
save_logs options "$C"
cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$CLI_PORT" "$@"; }

############################## summary ########################################
log "summary ($IMAGE, $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
printf '%s\n' "${RESULTS[@]}" | tee "$OUT/summary.txt"
echo "logs: $OUT"
if [ "$FAILS" -gt 0 ]; then
    echo "docker-test: $FAILS check(s) failed"
    exit 1
fi
echo "docker-test: all checks passed"
