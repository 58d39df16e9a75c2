#!/usr/bin/env python3
"""kill -9 crash test for the append-only file.

Writers pipeline INCR / SET / RPUSH with unique values and record every
write whose reply they received (acknowledged). The server is killed with
SIGKILL at a random moment, restarted from its appendonlydir, and every
acknowledged write must be there. Under `appendfsync always` nothing
acknowledged may be lost; under `everysec` the loss (writes and the time
span they cover) is reported.

    python Tests/stress/aof_crash.py --kills 20 --fsync always --matrix uring-1,epoll-4
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

PIPELINE = 16
WRITERS = 4


class Writer(threading.Thread):
    """One connection; pipelines of PIPELINE commands until the server dies."""

    def __init__(self, port: int, wid: int, round_no: int):
        super().__init__(daemon=True)
        self.port, self.wid, self.round = port, wid, round_no
        self.acked_sets: dict[bytes, bytes] = {}
        self.acked_incr: dict[bytes, int] = {}
        self.acked_push: dict[bytes, list[bytes]] = {}
        self.ack_times: list[tuple[float, int]] = []   # (time, kind) per acknowledged write
        self.seq = 0

    def run(self) -> None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            return
        f = s.makefile("rb")
        try:
            while True:
                batch = []
                out = []
                for _ in range(PIPELINE):
                    self.seq += 1
                    v = b"%d:%d:%d" % (self.round, self.wid, self.seq)
                    kind = self.seq % 3
                    if kind == 0:
                        k = b"cnt:%d:%d" % (self.wid, self.seq % 7)
                        out.append(harness.encode("INCR", k))
                    elif kind == 1:
                        k = b"str:%s" % v
                        out.append(harness.encode("SET", k, v))
                    else:
                        k = b"list:%d:%d" % (self.wid, self.seq % 5)
                        out.append(harness.encode("RPUSH", k, v))
                    batch.append((kind, k, v))
                s.sendall(b"".join(out))
                for kind, k, v in batch:
                    line = f.readline()
                    if not line.endswith(b"\r\n"):
                        return
                    if line[:1] == b"-":
                        raise RuntimeError(f"error reply {line!r}")
                    now = time.monotonic()
                    if kind == 0:
                        self.acked_incr[k] = max(self.acked_incr.get(k, 0), int(line[1:-2]))
                    elif kind == 1:
                        self.acked_sets[k] = v
                    else:
                        self.acked_push.setdefault(k, []).append(v)
                    self.ack_times.append((now, kind))
        except (OSError, ValueError):
            return
        finally:
            s.close()


def verify(client, writers: list[Writer]) -> tuple[int, int]:
    """(acknowledged writes, lost ones)."""
    acked = lost = 0
    for w in writers:
        keys = list(w.acked_sets)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            vals = client.mget(chunk)
            for k, got in zip(chunk, vals):
                acked += 1
                if got != w.acked_sets[k]:
                    lost += 1
        for k, v in w.acked_incr.items():
            acked += 1
            got = int(client.get(k) or 0)
            # Later rounds add to the same counters: only a lower value is a loss.
            if got < v:
                lost += 1
        for k, vs in w.acked_push.items():
            have = set(client.lrange(k, 0, -1))
            for v in vs:
                acked += 1
                if v not in have:
                    lost += 1
    return acked, lost


def run(backend: str = "auto", shards: int = 1, kills: int = 3, fsync: str = "always",
        min_s: float = 0.2, max_s: float = 1.0, seed: int | None = None, log=print,
        appendonly: str = "yes") -> dict:
    rng = random.Random(seed)
    server = harness.ringkv_server(backend, shards, extra=["--appendonly", appendonly, "--appendfsync", fsync])
    total_acked = total_lost = 0
    window_ms = 0.0
    try:
        server.start()
        for n in range(kills):
            writers = [Writer(server.port, w, n) for w in range(WRITERS)]
            for w in writers:
                w.start()
            time.sleep(rng.uniform(min_s, max_s))
            server.kill()
            killed_at = time.monotonic()
            for w in writers:
                w.join(10)
            server.start(port=None)
            c = server.client()
            acked, lost = verify(c, writers)
            c.close()
            total_acked += acked
            total_lost += lost
            if lost:
                # The lost writes are the newest ones: how far back they reach.
                times = sorted(t for w in writers for t, _ in w.ack_times)
                if len(times) >= lost:
                    window_ms = max(window_ms, (killed_at - times[-lost]) * 1000)
            log(f"{backend}-{shards} {fsync} kill {n + 1}/{kills}: acknowledged {acked}, lost {lost}")
    finally:
        log_tail = server.log_tail()
        server.cleanup()
    return {"acked": total_acked, "lost": total_lost, "window_ms": window_ms, "log": log_tail}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--fsync", default="always", choices=["always", "everysec", "no"])
    ap.add_argument("--matrix", default=os.environ.get("RINGKV_MATRIX", "uring-1,epoll-4"))
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    bad = 0
    for item in a.matrix.split(","):
        backend, shards = item.split("-")
        r = run(backend, int(shards), a.kills, a.fsync, seed=a.seed)
        print(f"== {item} appendfsync {a.fsync}: {a.kills} kills, {r['acked']} acknowledged writes checked, "
              f"{r['lost']} lost" + (f", loss window {r['window_ms']:.0f} ms" if r["lost"] else ""))
        if a.fsync == "always" and r["lost"]:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
