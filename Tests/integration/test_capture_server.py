"""The server's own view of the wire: with capture-interface lo, the traffic
redis-benchmark sends to the server shows up in INFO capture."""
import os
import re
import subprocess

import pytest

import harness


def capture_fields(server):
    with server.raw() as c:
        kind, text = c.call("INFO", "capture")
    return harness.info_dict(text.decode() if isinstance(text, bytes) else text)


@pytest.mark.skipif(os.geteuid() != 0, reason="AF_PACKET capture needs CAP_NET_RAW (run as root)")
def test_info_capture_counts_benchmark_traffic(server_factory):
    server = server_factory(backend="uring", shards=2, extra=["--capture-interface", "lo"])
    before = capture_fields(server)
    assert before["capture_enabled"] == "1", before
    n = 20000
    proc = subprocess.run(["redis-benchmark", "-p", str(server.port), "-t", "set", "-n", str(n), "-c", "10",
                           "-d", "32", "-q"], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    after = capture_fields(server)
    port_in = dict(kv.split("=") for kv in after["capture_port_in"].split(","))
    # Each SET from redis-benchmark is a RESP request of about 60 bytes of payload
    # ("*3 $3 SET $16 key:... $32 xxx..."); the wire must have seen at least that.
    min_payload = n * 50
    assert int(port_in["payload_bytes"]) >= min_payload, after
    # ...and not wildly more than what was sent (other loopback users share lo,
    # but only traffic to this server's port is counted here).
    assert int(port_in["payload_bytes"]) < n * 200, after
    assert int(after["capture_frames"]) > int(before.get("capture_frames", "0"))
    assert re.match(r"ipv4=\d+", after["capture_ethertypes"]), after


def test_capture_without_interface_is_off(ringkv):
    with ringkv.raw() as c:
        kind, text = c.call("INFO", "capture")
    assert b"capture_enabled:0" in text
