# Two entry points for a fresh Debian 12 machine with the Swift toolchain:
#   make run    install what is missing, build release, run configs/ringkv.conf
#   make test   install what is missing, build, unit tests, integration tests, fuzz replay,
#               TSan smoke (make sanitize-smoke)
# Dependencies are installed only when absent, so both are cheap to repeat.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
APT_DEPS := liburing-dev redis-server redis-tools tshark iproute2 liblua5.1-0-dev lua-cjson-dev lua-bitop-dev libmd-dev
PY_DEPS := 'pytest' 'redis>=5'
# Debian's system Python refuses pip installs (PEP 668), hence a project venv
# whenever the python3 on PATH lacks pytest or redis-py.
VENV := .venv
PYTHON = $(shell python3 -c 'import pytest, redis' 2>/dev/null && echo python3 || echo $(VENV)/bin/python)
PYTEST_ARGS ?= -q
CONFIG ?= configs/ringkv.conf

.PHONY: run test build unit integration deps apt-deps py-deps bench rss sanitize sanitize-smoke tsan-build asan-build shrunk stress soak crash

run: apt-deps build
	.build/release/ringkv-server $(CONFIG)

test: deps
	swift build -c release
	swift test
	$(PYTHON) -m pytest Tests/integration $(PYTEST_ARGS)
	$(MAKE) fuzz-replay
	$(MAKE) sanitize-smoke

build: apt-deps
	swift build -c release

# kill -9 the server 20 times under appendfsync always (Tests/stress/aof_crash.py):
# every acknowledged write must survive. The integration suite runs 3 kills.
CRASH_KILLS ?= 20
crash: deps
	swift build -c release
	$(PYTHON) Tests/stress/aof_crash.py --kills $(CRASH_KILLS) --fsync always --matrix uring-1,epoll-4
	$(PYTHON) Tests/stress/aof_crash.py --kills $(CRASH_KILLS) --fsync always --globals --matrix epoll-4
	$(PYTHON) Tests/stress/aof_crash.py --kills 5 --fsync everysec --matrix uring-1,epoll-4

unit: apt-deps
	swift test

integration: deps
	$(PYTHON) -m pytest Tests/integration $(PYTEST_ARGS)

deps: apt-deps py-deps

# Installing redis-server starts a system redis on 6379 where systemd runs;
# it is stopped because `make run` wants that port and the tests start their
# own redis-server on free ports.
apt-deps:
	@missing=""; \
	for p in $(APT_DEPS); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  $(APT_INSTALL) $$missing; \
	  if [[ "$$missing" == *redis-server* ]] && command -v systemctl >/dev/null \
	     && systemctl is-active -q redis-server 2>/dev/null; then \
	    $(SUDO) systemctl disable --now redis-server; \
	  fi; \
	fi

py-deps:
	@if ! python3 -c 'import pytest, redis' 2>/dev/null \
	    && ! $(VENV)/bin/python -c 'import pytest, redis' 2>/dev/null; then \
	  echo "installing pytest and redis-py into $(VENV)"; \
	  if ! python3 -m venv $(VENV) 2>/dev/null; then \
	    rm -rf $(VENV); \
	    $(SUDO) apt-get update -qq; \
	    $(APT_INSTALL) python3-venv; \
	    python3 -m venv $(VENV); \
	  fi; \
	  $(VENV)/bin/python -m pip install -q $(PY_DEPS); \
	fi

bench: build
	perf/bench.sh

rss: build
	perf/rss.sh

# Build the Docker image offline and check four container runs (needs root;
# see Tests/docker/docker-test.sh). Not part of `make test`: it takes minutes.
.PHONY: docker-test
docker-test:
	Tests/docker/docker-test.sh

# ---- Fuzzing (libFuzzer + AddressSanitizer; Fuzz/README.md) ----
# A separate package under Fuzz/, so the main build never sees fuzz flags.
# Each target runs FUZZ_SECONDS on its committed seeds (Fuzz/corpus/<t>),
# growing a work corpus in Fuzz/.build/corpus/<t>; crashes land in
# Fuzz/artifacts/. fuzz-smoke: ~10 s per target, for CI.
FUZZ_TARGETS := resp inline config rdb hll packed exec aof
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -c release -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -enable-testing

.PHONY: fuzz fuzz-smoke fuzz-replay fuzz-build

fuzz-build:
	cd Fuzz && swift build $(FUZZ_FLAGS) 2>&1 | grep -v "Cannot export local symbol" || true
	@for t in $(FUZZ_TARGETS); do test -x Fuzz/.build/release/fuzz-$$t || { echo "fuzz-$$t did not build"; exit 1; }; done

fuzz: fuzz-build
	@mkdir -p Fuzz/artifacts; failed=""; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p Fuzz/.build/corpus/$$t; \
	  echo "== fuzz-$$t ($(FUZZ_SECONDS) s)"; \
	  set +e; SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 Fuzz/.build/release/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(CURDIR)/Fuzz/artifacts/$$t- \
	    $(CURDIR)/Fuzz/.build/corpus/$$t $(CURDIR)/Fuzz/corpus/$$t $$(test -d Fuzz/regressions/$$t && echo $(CURDIR)/Fuzz/regressions/$$t) \
	    2>&1 | grep -E "^(stat::number|stat::new|==[0-9]+==ERROR|SUMMARY|fuzz invariant|Done)" ; \
	  rc=$${PIPESTATUS[0]}; set -e; \
	  test $$rc -eq 0 || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz FAILED:$$failed (inputs in Fuzz/artifacts)"; exit 1; fi

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

# CI: every committed seed and regression input, once each, under ASan with
# leak detection (deterministic: no mutation, so a red run is a real finding).
fuzz-replay: fuzz-build
	@failed=""; \
	for t in $(FUZZ_TARGETS); do \
	  set +e; SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 Fuzz/.build/release/fuzz-$$t -runs=0 -timeout=10 \
	    -rss_limit_mb=2048 $(CURDIR)/Fuzz/corpus/$$t $$(test -d Fuzz/regressions/$$t && echo $(CURDIR)/Fuzz/regressions/$$t) \
	    2>&1 | grep -E "^(==[0-9]+==ERROR|SUMMARY|fuzz invariant|Done)" ; \
	  rc=$${PIPESTATUS[0]}; set -e; \
	  echo "fuzz-$$t replay: rc=$$rc"; test $$rc -eq 0 || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz replay FAILED:$$failed"; exit 1; fi

# ---- Sanitizers (make sanitize) ----
# The server built with ThreadSanitizer and with AddressSanitizer (each in a
# build folder of its own, so the release build is untouched) runs the
# integration tests where threads meet: cross-shard messaging, blocking,
# transactions, pub/sub and shutdown, with 4 shards on both backends. The
# harness fails a test whose server logged a sanitizer report; TSan also
# makes the server exit 66, which the session fixtures check.
# CMalloc stops interposing malloc in these builds (the sanitizer owns it).
SAN_TESTS := test_shard_messaging.py test_blocking.py test_transactions.py test_pubsub.py test_lifecycle.py
SAN_SMOKE_TESTS := test_shard_messaging.py test_blocking.py test_lifecycle.py
SAN_MATRIX ?= uring-4,epoll-4
SAN_ENV = SWIFT_BACKTRACE=enable=no RINGKV_MATRIX=$(SAN_MATRIX)
TSAN_ENV = $(SAN_ENV) RINGKV_BIN=$(CURDIR)/.build-tsan/release/ringkv-server \
  TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 suppressions=$(CURDIR)/Tests/sanitizers/tsan.supp"
ASAN_ENV = $(SAN_ENV) RINGKV_BIN=$(CURDIR)/.build-asan/release/ringkv-server \
  ASAN_OPTIONS="detect_leaks=0 halt_on_error=1"

tsan-build: apt-deps
	swift build -c release --build-path .build-tsan --product ringkv-server \
	  -Xswiftc -sanitize=thread -Xcc -fsanitize=thread

asan-build: apt-deps
	swift build -c release --build-path .build-asan --product ringkv-server \
	  -Xswiftc -sanitize=address -Xcc -fsanitize=address

sanitize: deps tsan-build asan-build
	$(TSAN_ENV) $(PYTHON) -m pytest $(addprefix Tests/integration/,$(SAN_TESTS)) $(PYTEST_ARGS)
	$(ASAN_ENV) $(PYTHON) -m pytest $(addprefix Tests/integration/,$(SAN_TESTS)) $(PYTEST_ARGS)

# The whole integration suite under each sanitizer binary, ASan first, then
# TSan (perf/results/sanitize-full-*.md). The sanitizers make the server
# 2-15x slower, so the harness multiplies its waits (start, stop, client
# socket timeouts, and tests' own deadlines via harness.scaled) by
# RINGKV_TIMEOUT_SCALE. RINGKV_SANITIZER makes conftest.py skip, by name,
# the tests that measure the sanitizer's runtime (RSS, CPU per command).
# Both runs go to the end; the target fails if
# either did. SAN_FULL_TESTS narrows it (paths under Tests/integration).
SAN_FULL_TESTS ?= Tests/integration
ASAN_TIMEOUT_SCALE ?= 3
TSAN_TIMEOUT_SCALE ?= 8

.PHONY: sanitize-full sanitize-full-asan sanitize-full-tsan
sanitize-full: deps asan-build tsan-build
	rc=0; \
	$(ASAN_ENV) RINGKV_SANITIZER=asan RINGKV_TIMEOUT_SCALE=$(ASAN_TIMEOUT_SCALE) $(PYTHON) -m pytest $(SAN_FULL_TESTS) $(PYTEST_ARGS) || rc=1; \
	$(TSAN_ENV) RINGKV_SANITIZER=tsan RINGKV_TIMEOUT_SCALE=$(TSAN_TIMEOUT_SCALE) $(PYTHON) -m pytest $(SAN_FULL_TESTS) $(PYTEST_ARGS) || rc=1; \
	exit $$rc

sanitize-full-asan: deps asan-build
	$(ASAN_ENV) RINGKV_SANITIZER=asan RINGKV_TIMEOUT_SCALE=$(ASAN_TIMEOUT_SCALE) $(PYTHON) -m pytest $(SAN_FULL_TESTS) $(PYTEST_ARGS)

sanitize-full-tsan: deps tsan-build
	$(TSAN_ENV) RINGKV_SANITIZER=tsan RINGKV_TIMEOUT_SCALE=$(TSAN_TIMEOUT_SCALE) $(PYTHON) -m pytest $(SAN_FULL_TESTS) $(PYTEST_ARGS)

# CI's short form (part of make test): TSan on the cross-shard, blocking
# and shutdown tests. The tests take ~25 s; the TSan build ~9 min from
# scratch on 2 busy cores, ~1-2 min incrementally.
sanitize-smoke: deps tsan-build
	$(TSAN_ENV) $(PYTHON) -m pytest $(addprefix Tests/integration/,$(SAN_SMOKE_TESTS)) $(PYTEST_ARGS)

# ---- Every internal bound at its minimum (configs/shrunk-bounds.conf) ----
# The whole integration suite (the differential test included) with the
# config's directives added to every ringkv the harness starts.
SHRUNK_MATRIX ?= uring-4,epoll-4
shrunk: deps build
	RINGKV_EXTRA_CONFIG=$(CURDIR)/configs/shrunk-bounds.conf RINGKV_MATRIX=$(SHRUNK_MATRIX) \
	  $(PYTHON) -m pytest Tests/integration $(PYTEST_ARGS)

# ---- Load and fault tests (Tests/stress; loopback only, bounded) ----
# Faults on both backends, 10,000 connections against redis-server, and a
# short soak (make soak SOAK_MINUTES=30 for the long one). Results of the
# last two land in perf/results. Then the 1M-command differential campaign on
# every backend and shard count (diff-campaign-full, ~10 min).
SOAK_MINUTES ?= 30
SOAK_RATE ?= 1500
stress: deps build
	$(PYTHON) -m pytest Tests/stress/test_faults.py $(PYTEST_ARGS)
	$(PYTHON) Tests/stress/conns_10k.py --out perf/out
	$(PYTHON) Tests/stress/soak.py --minutes 2 --warmup 0.5 --rate $(SOAK_RATE) --out perf/out
	$(MAKE) diff-campaign-full

soak: deps build
	$(PYTHON) Tests/stress/soak.py --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE)

# ---- Differential campaign (Tests/stress/diff_campaign.py) ----
# N commands per (backend, seed) against a fresh redis-server 7.0 each,
# every reply compared; SEED is a comma list. Niced: it keeps a core busy.
# diff-campaign-full: 1M commands on every backend and shard count.
N ?= 500000
SEED ?= 1,2
DIFF_MATRIX ?= uring-4,epoll-4
.PHONY: diff-campaign diff-campaign-full
diff-campaign: deps build
	nice -n 10 $(PYTHON) Tests/stress/diff_campaign.py --ops $(N) --seed $(SEED) --matrix $(DIFF_MATRIX)

diff-campaign-full: deps build
	nice -n 10 $(PYTHON) Tests/stress/diff_campaign.py --ops 1000000 --seed $(SEED) \
	  --matrix uring-1,uring-2,uring-4,epoll-1,epoll-2,epoll-4
