"""redis-benchmark runs clean against every matrix entry (small n keeps CI fast)."""
from __future__ import annotations

import re
import subprocess

import harness

N = 20000
TESTS = {"PING_INLINE": "ping", "PING_MBULK": "ping", "SET": "set", "GET": "get", "INCR": "incr",
         "MSET (10 keys)": "mset"}


def test_redis_benchmark_smoke(ringkv, r):
    r.config_resetstat()
    cmd = ["redis-benchmark", "-p", str(ringkv.port), "-t", "ping,set,get,incr,mset",
           "-c", "50", "-n", str(N), "-P", "16", "-r", "1000000", "-q"]
    proc = subprocess.run(cmd, capture_output=True, timeout=240)
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode == 0, out
    assert not re.search(r"error|ERR|refused|reset", out, re.I), out
    # -q prints progress lines with \r; the final figure per test follows the last one.
    for name in TESTS:
        m = re.findall(rf"(?:^|\r|\n)\s*{re.escape(name)}: ([\d.]+) requests per second", out)
        assert m and float(m[-1]) > 0, f"no result for {name}:\n{out}"

    # Every request reached the server exactly once, whichever shard owns it.
    stats = {k[len("cmdstat_"):]: v for k, v in harness.info_dict(_info(ringkv)).items()}
    calls = {cmd: int(re.match(r"calls=(\d+)", v).group(1)) for cmd, v in stats.items()}
    assert calls.get("ping") == 2 * N, calls
    for cmd in ("set", "get", "incr", "mset"):
        assert calls.get(cmd) == N, calls
    assert 0 < r.dbsize() <= 1_000_000 + 1
    assert r.type("key:__rand_int__") == b"none"  # the placeholder was substituted
    sample = r.randomkey()
    assert sample.startswith((b"key:", b"counter:")), sample


def _info(server) -> str:
    with server.raw() as c:
        return c.call("INFO", "commandstats")[1].decode()
