"""Start-up, configuration files, and graceful shutdown."""
from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import harness

CONFIGS = sorted((harness.REPO / "configs").glob("*.conf"))


def run_bin(*args, timeout=20) -> subprocess.CompletedProcess:
    return subprocess.run([harness.ringkv_bin(), *args], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_version():
    proc = run_bin("--version")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert re.search(rb"\d+\.\d+\.\d+", out), out


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag):
    proc = run_bin(flag)
    out = (proc.stdout + proc.stderr).lower()
    assert proc.returncode == 0, out
    assert b"usage" in out and b"--port" in out, out


def test_term_after_pipeline_exits_zero(server_factory, matrix_entry):
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards)
    n = 20000
    with server.raw(timeout=30) as c:
        replies = c.pipeline([("SET", f"t:{i}", i) for i in range(n)])
        assert replies == [("+", b"OK")] * n
        assert c.call("DBSIZE") == (":", n)
    server.signal(signal.SIGTERM)
    assert server.wait(15) == 0, server.log_tail()


def test_term_flushes_replies_already_produced(server_factory, matrix_entry):
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards)
    value = b"z" * 32768
    n = 32  # 1 MiB of replies: under any sane stop-reading limit, over the socket buffers
    with server.raw(timeout=20, rcvbuf=4096) as c:
        assert c.call("SET", "big", value) == ("+", b"OK")
        c.send(harness.encode("GET", "big") * n)
        time.sleep(1.0)  # the server has executed all of it; most replies wait in its buffers
        server.signal(signal.SIGTERM)
        for i in range(n):
            assert c.read() == ("$", value), f"reply {i} of {n} lost on shutdown"
        assert c.read_until_close(timeout=15) == b""
    assert server.wait(15) == 0, server.log_tail()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_with_idle_client_connected(server_factory, matrix_entry, sig):
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards)
    idle = server.raw()
    half = server.raw()
    half.send(b"*2\r\n$3\r\nGET")  # a partial command must not hold up shutdown
    assert idle.call("PING") == ("+", b"PONG")
    t0 = time.monotonic()
    server.signal(sig)
    assert server.wait(15) == 0, server.log_tail()
    assert time.monotonic() - t0 < 10
    assert idle.read_until_close(timeout=5) == b""
    idle.close()
    half.close()


def start_with_conf(tmp_path: Path, text: str, *extra: str, name="bad.conf") -> subprocess.CompletedProcess:
    conf = tmp_path / name
    conf.write_text(text)
    try:
        return run_bin(str(conf), "--port", str(harness.free_port()), *extra, timeout=8)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"server kept running with a bad config: {text!r}\n{e.stdout!r}\n{e.stderr!r}")


@pytest.mark.parametrize("text,line,needle", [
    ("port 6390\n# comment\nno-such-directive 1\n", 3, "no-such-directive"),
    ("\n\nbind 127.0.0.1\n\nport notanumber\n", 5, "port"),
    ("shards -3\n", 1, "shards"),
    ("io-backend kqueue\n", 1, "io-backend"),
    ('maxclients 10\nrequirepass "unterminated\n', 2, "requirepass"),
], ids=["unknown", "bad-int", "bad-shards", "bad-backend", "bad-quotes"])
def test_bad_config_fails_naming_file_line_reason(tmp_path, text, line, needle):
    proc = start_with_conf(tmp_path, text)
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode != 0, out
    assert str(tmp_path / "bad.conf") in out, f"file not named:\n{out}"
    assert re.search(rf"(line\s*{line}\b|:{line}\b)", out, re.I), f"line {line} not named:\n{out}"
    assert needle in out, f"offending directive not named:\n{out}"
    assert re.search(r"unknown|invalid|bad|must|expected|unbalanced|not|out of range", out, re.I), \
        f"no reason given:\n{out}"


def test_config_syntax_quotes_multiargs_include(tmp_path):
    (tmp_path / "extra.conf").write_text("timeout 77\n")
    conf = tmp_path / "main.conf"
    conf.write_text(
        "# comment line\n"
        f'include "{tmp_path / "extra.conf"}"\n'
        "maxclients 123\n"
        "client-output-buffer-limit normal 1mb 2k 3\n"
        'requirepass "pa ss"\n'
        "port 1\n"  # overridden below: command-line flags win over the file
    )
    server = harness.ringkv_server(conf=str(conf), password="pa ss")
    try:
        server.start()
        r = server.client()
        got = {}
        for name in ("maxclients", "timeout", "client-output-buffer-limit", "requirepass"):
            got.update({k if isinstance(k, str) else k.decode(): v if isinstance(v, str) else v.decode()
                        for k, v in r.config_get(name).items()})
        assert got == {"maxclients": "123", "timeout": "77", "requirepass": "pa ss",
                       "client-output-buffer-limit": "normal 1048576 2000 3 slave 268435456 67108864 60 "
                                                     "pubsub 33554432 8388608 60"}
        assert r.info("server")["tcp_port"] == server.port
    finally:
        rc = server.stop()
        server.cleanup()
    assert rc == 0


@pytest.mark.parametrize("conf", CONFIGS, ids=[c.name for c in CONFIGS])
def test_shipped_config_starts(conf, tmp_path):
    # Shipped configs may bind 0.0.0.0:6379 or log to files (docker.conf):
    # keep what they say about the server, override where it listens and logs.
    server = harness.ringkv_server(conf=str(conf), extra=["--logfile", "", "--dir", str(tmp_path),
                                                          "--daemonize", "no", "--capture-interface", "none"])
    server.args[server.args.index("--io-backend") + 1] = "auto"
    try:
        server.start()
        r = server.client()
        assert r.ping()
        assert r.set("k", "v") and r.get("k") == b"v"
    finally:
        rc = server.stop()
        log = server.log_tail()
        server.cleanup()
    assert rc == 0, log


DIRECTIVES = """bind port protected-mode requirepass maxclients timeout tcp-keepalive tcp-backlog databases
loglevel logfile daemonize dir save appendonly proto-max-bulk-len client-query-buffer-limit
client-output-buffer-limit maxmemory hz slowlog-log-slower-than slowlog-max-len
latency-monitor-threshold shards io-backend uring-entries recv-buffer-size recv-buffer-count
capture-interface capture-port""".split()


def documented(conf: Path) -> dict[str, str]:
    out = {}
    for line in conf.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            out[name] = value.strip()
    return out


def test_default_config_documents_every_directive():
    conf = harness.REPO / "configs" / "ringkv.conf"
    names = documented(conf)
    missing = [d for d in DIRECTIVES if d not in names]
    assert not missing, f"configs/ringkv.conf lacks {missing}"


def test_config_get_every_directive(ringkv, r):
    for name in DIRECTIVES:
        with ringkv.raw() as c:
            reply = harness.plain(c.call("CONFIG", "GET", name))
        assert reply[0::2] == [name.encode()], f"CONFIG GET {name} -> {reply}"
    with ringkv.raw() as c:
        pattern = harness.plain(c.call("CONFIG", "GET", "slowlog-*"))
    assert sorted(pattern[0::2]) == [b"slowlog-log-slower-than", b"slowlog-max-len"]
