"""Shared helpers of the fault tests: INFO bookkeeping and raw sockets."""
from __future__ import annotations

import socket
import struct
import time

import harness


def info(conn, section: str = "") -> dict[str, str]:
    reply = conn.call("INFO", section) if section else conn.call("INFO")
    return harness.info_dict(reply[1])


def client_count(conn) -> int:
    return int(info(conn, "clients")["connected_clients"])


def settle(server, baseline: int, timeout: float = 10.0) -> dict[str, str]:
    """Waits until the server is back to `baseline` connected clients (the
    admin connection included) and nothing is blocked; returns INFO then.
    INFO's counts must add up: CLIENT LIST lists exactly connected_clients."""
    end = time.monotonic() + timeout
    with server.raw() as admin:
        while True:
            i = info(admin)
            n, blocked = int(i["connected_clients"]), int(i["blocked_clients"])
            if (n == baseline and blocked == 0) or time.monotonic() > end:
                break
            time.sleep(0.05)
        assert admin.call("PING") == ("+", b"PONG")
        assert n == baseline, f"connected_clients {n}, want {baseline}"
        assert blocked == 0, f"blocked_clients {blocked} left behind"
        listed = harness.plain(admin.call("CLIENT", "LIST")).decode().strip().splitlines()
        assert len(listed) == n, f"CLIENT LIST has {len(listed)} lines, INFO says {n}"
        return i


def reset_socket(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0): the peer sees ECONNRESET, not EOF."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def raw_socket(port: int, rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s


def check_reply_prefix(data: bytes) -> int:
    """Parses `data` as a run of RESP replies; a torn last reply is allowed
    (the connection closed), garbage is not. Returns whole replies seen."""
    n, pos = 0, 0
    while pos < len(data):
        end = _skip(data, pos)
        if end is None:
            break
        pos, n = end, n + 1
    return n


def _skip(d: bytes, pos: int) -> int | None:
    i = d.find(b"\r\n", pos)
    if i < 0:
        return None
    t, rest = d[pos:pos + 1], d[pos + 1:i]
    if t in (b"+", b"-"):
        return i + 2
    if t == b":":
        int(rest)
        return i + 2
    if t == b"$":
        ln = int(rest)
        if ln < 0:
            return i + 2
        if len(d) < i + 2 + ln + 2:
            return None
        assert d[i + 2 + ln:i + 4 + ln] == b"\r\n", "bulk not terminated"
        return i + 4 + ln
    if t == b"*":
        k = int(rest)
        p = i + 2
        for _ in range(max(k, 0)):
            p = _skip(d, p)
            if p is None:
                return None
        return p
    raise AssertionError(f"not RESP at {pos}: {d[pos:pos + 40]!r}")
