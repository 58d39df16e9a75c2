"""The sanitizer runs' machinery and what they found (make sanitize-full,
perf/results/sanitize-full-*.md).

* The harness fails a server whose log holds a sanitizer report, in each
  sanitizer's wording; under the ASan build a real report (a SEGV) does.
* Regression for a race ThreadSanitizer found: a cross-shard colocated
  command (SMOVE over two shards) read, drained and published the state of
  shards it did not hold (dirty counters, AOF deletions, key events) while
  their owners expired keys. Functionally the test checks the replies and
  that the AOF reloads to the same dataset; under TSan it is the race's
  trigger (the harness fails it on a report).
"""
import os
import random
import shutil
import signal
import time

import pytest

import harness


@pytest.mark.parametrize("text", [
    "==12==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020",
    "==12==ERROR: LeakSanitizer: detected memory leaks",
    "WARNING: ThreadSanitizer: data race (pid=12)",
    "ThreadSanitizer:DEADLYSIGNAL\n==12==ERROR: ThreadSanitizer: SEGV on unknown address",
    "SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior",
])
def test_report_in_log_fails_the_server(text):
    s = harness.Server("fake", "true", [])
    s.logpath.write_text(f"1:M * Ready to accept connections\n{text}\n")
    assert s.sanitizer_report() is not None
    with pytest.raises(harness.ServerError, match="sanitizer report") as e:
        s.cleanup()
    _drop_kept_log(e.value)


def _drop_kept_log(err):
    # cleanup() keeps a reported log in the temp folder for a human to read.
    kept = str(err).split("(full log: ", 1)[1].split(")", 1)[0]
    os.unlink(kept)


def test_clean_log_passes():
    s = harness.Server("fake", "true", [])
    s.logpath.write_text("1:M * Ready to accept connections\n1:M # Redis is now ready to exit, bye bye...\n")
    assert s.sanitizer_report() is None
    s.cleanup()


@pytest.mark.skipif(harness.SANITIZER != "asan", reason="needs the ASan build (make sanitize-full)")
def test_asan_report_reaches_the_harness():
    s = harness.ringkv_server("epoll", 1).start()
    s.signal(signal.SIGSEGV)
    s.wait(10)
    with pytest.raises(harness.ServerError, match="AddressSanitizer") as e:
        s.cleanup()
    _drop_kept_log(e.value)


def test_colocated_beside_expiring_shards_with_aof(matrix_entry):
    backend, shards = matrix_entry
    if shards < 3:
        pytest.skip("needs a shard outside the command's two")
    a, b = harness.keys_on_distinct_shards("src", 2, shards)
    held = {harness.shard_of(a, shards), harness.shard_of(b, shards)}
    s = harness.ringkv_server(backend, shards, extra=["--appendonly", "yes", "--hz", "100"]).start()
    try:
        c = s.client()
        rng = random.Random(13)
        # Volatile keys on the other shards, expired by their owners' cron
        # (and logged as DELs) while the SMOVEs run.
        others = [f"v{i}" for i in range(4000) if harness.shard_of(f"v{i}", shards) not in held][:1500]
        p = c.pipeline(transaction=False)
        for k in others:
            p.set(k, "x", px=rng.randint(20, 400))
        p.sadd(a, *range(200))
        p.execute()
        moved = 0
        deadline = time.monotonic() + harness.scaled(1.5)
        while time.monotonic() < deadline:
            m = rng.randrange(200)
            src, dst = (a, b) if c.sismember(a, m) else (b, a)
            assert c.smove(src, dst, m) is True
            moved += 1
        assert c.scard(a) + c.scard(b) == 200
        end = time.monotonic() + harness.scaled(10)
        while c.dbsize() > 2 and time.monotonic() < end:
            time.sleep(0.05)
        assert c.dbsize() == 2, "active expiry did not remove the volatile keys"
        live = c.execute_command("DEBUG", "DIGEST")
        c.close()
        assert s.stop() == 0
        again = harness.ringkv_server(backend, shards, extra=["--appendonly", "yes"])
        shutil.rmtree(again.workdir)
        shutil.copytree(s.workdir, again.workdir)
        try:
            again.start()
            assert again.client().execute_command("DEBUG", "DIGEST") == live
        finally:
            again.cleanup()
        assert moved > 0
    finally:
        s.cleanup()
