#!/usr/bin/env python3
"""Write every key redis-benchmark -r KEYSPACE can draw (key:%012d) once,
with a SIZE-byte value, so GET runs hit.

    prefill.py PORT KEYSPACE SIZE [BATCH=1000]

SETs go in pipelined batches of BATCH, each batch's replies read before the
next is sent (as a real client does; an unbounded `redis-cli --pipe` stream
is a different test). Exits 1 on any reply other than +OK.
"""
import socket
import sys


def main(port, n, size, batch=1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tail = b"\r\n$%d\r\n%s\r\n" % (size, b"x" * size)
    for start in range(0, n, batch):
        count = min(n, start + batch) - start
        s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d" % i + tail
                           for i in range(start, start + count)))
        want, buf = 5 * count, b""
        while len(buf) < want:
            chunk = s.recv(65536)
            if not chunk:
                sys.exit(f"prefill: connection closed after {start} keys")
            buf += chunk
            if not buf.startswith(b"+OK\r\n"[:len(buf)]) or b"-" in buf:
                sys.exit(f"prefill: unexpected reply near key {start}: {buf[:200]!r}")
        if buf != b"+OK\r\n" * count:
            sys.exit(f"prefill: unexpected replies near key {start}: {buf[:200]!r}")
    s.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:5]))
