"""io-backend auto falls back to epoll, with one log line naming the reason,
when the kernel refuses io_uring (here: the kernel.io_uring_disabled sysctl)."""
import os
import pathlib

import pytest

import harness

SYSCTL = pathlib.Path("/proc/sys/kernel/io_uring_disabled")


@pytest.mark.skipif(os.geteuid() != 0 or not SYSCTL.exists(),
                    reason="needs root and the kernel.io_uring_disabled sysctl")
def test_auto_falls_back_to_epoll_when_io_uring_is_disabled(server_factory):
    old = SYSCTL.read_text().strip()
    SYSCTL.write_text("2")
    try:
        server = server_factory(backend="auto", shards=2)
    finally:
        SYSCTL.write_text(old)
    with server.raw() as c:
        kind, info = c.call("INFO", "server")
    assert b"io_backend:epoll" in info
    with server.raw() as c:
        assert c.call("SET", "k", "v") == ("+", b"OK")
        assert c.call("GET", "k") == ("$", b"v")
    lines = [l for l in server.log_tail().splitlines() if "falling back to epoll" in l]
    assert len(lines) == 1, server.log_tail()
    assert "EPERM" in lines[0]


@pytest.mark.skipif(os.geteuid() != 0 or not SYSCTL.exists(),
                    reason="needs root and the kernel.io_uring_disabled sysctl")
def test_explicit_uring_refuses_to_start_when_io_uring_is_disabled(tmp_path):
    import subprocess
    old = SYSCTL.read_text().strip()
    SYSCTL.write_text("2")
    try:
        proc = subprocess.run([harness.ringkv_bin(), "--port", "0", "--io-backend", "uring", "--dir", str(tmp_path)],
                              capture_output=True, timeout=20)
    finally:
        SYSCTL.write_text(old)
    assert proc.returncode != 0
    assert b"EPERM" in proc.stdout + proc.stderr
