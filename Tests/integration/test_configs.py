"""Every shipped config file starts the real server.

For each configs/*.conf (the .json seccomp profiles are not server configs),
ringkv-server is started with that file plus overrides that keep the test
private: a free --port, a temporary --dir and --logfile, and --bind 127.0.0.1
(docker.conf binds every interface, which a shared test machine should not
see). The server must answer PING, report its config back, log that it is
ready, and exit 0 on SIGTERM.
"""
from __future__ import annotations

import signal
from pathlib import Path

import pytest

import harness

CONFIGS = sorted((harness.REPO / "configs").glob("*.conf"))


def test_configs_present():
    names = {p.name for p in CONFIGS}
    assert {"ringkv.conf", "docker.conf", "high-throughput.conf"} <= names, names


@pytest.mark.parametrize("conf", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_starts(conf: Path):
    server = harness.Server(f"conf-{conf.stem}", harness.ringkv_bin(), [])
    logfile = server.workdir / "ringkv.log"
    server.args = [str(conf), "--bind", "127.0.0.1", "--dir", str(server.workdir),
                   "--logfile", str(logfile)]
    try:
        try:
            server.start()
        except harness.ServerError as e:
            log = logfile.read_text(errors="replace") if logfile.exists() else ""
            pytest.fail(f"{conf.name} did not start: {e}\n--- logfile ---\n{log[-4000:]}",
                        pytrace=False)
        with server.raw() as c:
            assert c.call("PING") == ("+", b"PONG")
            assert c.call("SET", "config-test", conf.name) == ("+", b"OK")
            assert c.call("GET", "config-test") == ("$", conf.name.encode())
            port = harness.plain(c.call("CONFIG", "GET", "port"))
            assert port == [b"port", str(server.port).encode()], port
        # --logfile took effect: the start-up lines went to the file.
        assert "Ready to accept connections" in logfile.read_text(errors="replace")
        server.signal(signal.SIGTERM)
        rc = server.wait(15)
        assert rc == 0, f"{conf.name}: exit status {rc} on SIGTERM\n{logfile.read_text()[-2000:]}"
    finally:
        server.cleanup()
