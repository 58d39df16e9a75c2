#!/usr/bin/env python3
"""Soak: a mixed workload over every command family for a set time.

Against one ringkv (and a redis-server that replays a verification stream):
  * mixed pipelines over strings, lists, hashes, sets, sorted sets, streams,
    HyperLogLog, bitmaps, geo and keys, with expiring keys, on a bounded
    keyspace with bounded collections (so memory should plateau);
  * blocking pops fed by a producer; pub/sub with a counting subscriber;
    MULTI/EXEC transactions over keys of different shards (invariant: the
    two counters stay equal);
  * a seeded, deterministic verification stream run in lockstep against
    ringkv and redis-server, replies compared at the wire level.
Every 10 s it samples RSS, used_memory, connected clients, error replies and
ops to a CSV. At the end: no error replies, no client exceptions, no
divergence, every published message received, every pushed element popped
or still listed, and no upward RSS trend after warm-up. Writes
<out>/soak-<date>.csv, .png (if matplotlib is installed) and .md.

  Tests/stress/soak.py --minutes 30 --rate 1500 [--backend uring] [--shards 2]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE_S = 10


class Soak:
    def __init__(self, a):
        self.a = a
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ops = 0
        self.client_errors: list[str] = []
        self.error_replies: list[str] = []
        self.divergences: list[str] = []
        self.pushed = self.popped = 0
        self.published = self.received = 0
        self.tx_runs = 0
        self.rows: list[dict] = []

    # ---- helpers
    def count(self, n: int) -> None:
        with self.lock:
            self.ops += n

    def fail(self, where: str, e: BaseException) -> None:
        with self.lock:
            self.client_errors.append(f"{where}: {e!r}")

    def paced(self, share: float):
        """Yields forever at share * rate iterations per second until stop."""
        period = 1.0 / max(self.a.rate * share, 0.1)
        nxt = time.monotonic()
        while not self.stop.is_set():
            yield
            nxt += period
            d = nxt - time.monotonic()
            if d > 0:
                time.sleep(d)
            elif d < -1:
                nxt = time.monotonic()

    # ---- workloads
    def mixed(self, seed: int) -> None:
        rng = random.Random(seed)
        K = 2000

        def cmd():
            i = rng.randrange(K)
            f = rng.randrange(11)
            v = str(rng.randrange(1 << 30))
            if f == 0:
                return rng.choice([("SET", f"s:{i}", v, "PX", str(rng.randrange(200, 20000))),
                                   ("GET", f"s:{i}"), ("INCR", f"c:{i % 100}"),
                                   ("MSET", f"s:{i}", v, f"s:{(i * 7) % K}", v), ("MGET", f"s:{i}", f"s:{i + 1}"),
                                   ("SET", f"s:{i}", v * rng.randrange(1, 40))])
            if f == 1:
                return rng.choice([("RPUSH", f"l:{i % 300}", v), ("LTRIM", f"l:{i % 300}", "-40", "-1"),
                                   ("LRANGE", f"l:{i % 300}", "0", "9"), ("LPOP", f"l:{i % 300}")])
            if f == 2:
                return rng.choice([("HSET", f"h:{i % 300}", f"f{rng.randrange(60)}", v),
                                   ("HGET", f"h:{i % 300}", f"f{rng.randrange(60)}"),
                                   ("HINCRBY", f"h:{i % 300}", "n", "1"), ("HDEL", f"h:{i % 300}", f"f{rng.randrange(60)}"),
                                   ("HLEN", f"h:{i % 300}")])
            if f == 3:
                return rng.choice([("SADD", f"t:{i % 300}", f"m{rng.randrange(150)}"),
                                   ("SREM", f"t:{i % 300}", f"m{rng.randrange(150)}"),
                                   ("SCARD", f"t:{i % 300}"), ("SISMEMBER", f"t:{i % 300}", "m1"),
                                   ("SUNION", "{u}a", "{u}b"), ("SADD", rng.choice(["{u}a", "{u}b"]), f"m{rng.randrange(100)}")])
            if f == 4:
                return rng.choice([("ZADD", f"z:{i % 300}", str(rng.randrange(1000)), f"m{rng.randrange(150)}"),
                                   ("ZRANGE", f"z:{i % 300}", "0", "9", "WITHSCORES"),
                                   ("ZINCRBY", f"z:{i % 300}", "1", "m1"), ("ZREM", f"z:{i % 300}", f"m{rng.randrange(150)}"),
                                   ("ZRANGEBYSCORE", f"z:{i % 300}", "100", "200", "LIMIT", "0", "5")])
            if f == 5:
                return rng.choice([("XADD", f"x:{i % 50}", "MAXLEN", "~", "100", "*", "f", v),
                                   ("XRANGE", f"x:{i % 50}", "-", "+", "COUNT", "5"), ("XLEN", f"x:{i % 50}")])
            if f == 6:
                return rng.choice([("PFADD", f"p:{i % 50}", v), ("PFCOUNT", f"p:{i % 50}")])
            if f == 7:
                return rng.choice([("SETBIT", f"b:{i % 50}", str(rng.randrange(8192)), "1"),
                                   ("BITCOUNT", f"b:{i % 50}"), ("GETBIT", f"b:{i % 50}", "7")])
            if f == 8:
                return rng.choice([("GEOADD", f"g:{i % 20}", f"{rng.uniform(-170, 170):.5f}",
                                    f"{rng.uniform(-80, 80):.5f}", f"m{rng.randrange(200)}"),
                                   ("GEOSEARCH", f"g:{i % 20}", "FROMLONLAT", "0", "0", "BYRADIUS", "3000", "km",
                                    "COUNT", "5", "ASC")])
            if f == 9:
                k = rng.choice(["s", "l", "h", "t", "z"]) + f":{i % 300}"
                return rng.choice([("EXPIRE", k, str(rng.randrange(1, 30))), ("TTL", k), ("EXISTS", k),
                                   ("DEL", k), ("TYPE", k), ("PERSIST", k)])
            return rng.choice([("SCAN", str(rng.randrange(1 << 12)), "COUNT", "20"), ("DBSIZE",), ("PING",),
                               ("INFO", "stats")])

        try:
            with self.ringkv.raw(timeout=30) as c:
                for _ in self.paced(self.a.mixed_share / self.a.mixed_threads / 10):
                    cmds = [cmd() for _ in range(10)]
                    for cmd_, r in zip(cmds, c.pipeline(cmds)):
                        if r[0] == "-":
                            with self.lock:
                                self.error_replies.append(f"{cmd_} -> {r}")
                    self.count(len(cmds))
        except Exception as e:  # noqa: BLE001
            self.fail("mixed", e)

    def blocking_consumer(self) -> None:
        try:
            with self.ringkv.raw(timeout=30) as c:
                while not self.stop.is_set():
                    r = c.call("BLPOP", "q:{a}", "q:{b}", "q:c", "0.5")
                    self.count(1)
                    if r[0] == "*" and r[1] is not None:
                        with self.lock:
                            self.popped += 1
        except Exception as e:  # noqa: BLE001
            self.fail("blpop", e)

    def blocking_producer(self) -> None:
        rng = random.Random(3)
        try:
            with self.ringkv.raw(timeout=30) as c:
                for _ in self.paced(0.03):
                    c.call("LPUSH", rng.choice(["q:{a}", "q:{b}", "q:c"]), "e")
                    with self.lock:
                        self.pushed += 1
                    self.count(1)
        except Exception as e:  # noqa: BLE001
            self.fail("lpush", e)

    def subscriber(self, ready: threading.Event) -> None:
        try:
            with self.ringkv.raw(timeout=1) as c:
                c.call("SUBSCRIBE", "news")
                c.call("PSUBSCRIBE", "ev.*")
                ready.set()
                while not (self.stop.is_set() and self.received >= self.published):
                    try:
                        m = c.read()
                    except OSError:
                        if self.stop.is_set() and time.monotonic() > self.drain_until:
                            break
                        continue
                    if harness.plain(m)[0] in (b"message", b"pmessage"):
                        with self.lock:
                            self.received += 1
        except Exception as e:  # noqa: BLE001
            self.fail("subscriber", e)
            ready.set()

    def publisher(self) -> None:
        rng = random.Random(4)
        try:
            with self.ringkv.raw(timeout=30) as c:
                for _ in self.paced(0.05):
                    ch = rng.choice(["news", "ev.a", "ev.b"])
                    n = harness.plain(c.call("PUBLISH", ch, "payload" * rng.randrange(1, 20)))
                    with self.lock:
                        self.published += 1
                        if n != 1:
                            self.client_errors.append(f"PUBLISH {ch} reached {n} subscribers")
                    self.count(1)
        except Exception as e:  # noqa: BLE001
            self.fail("publisher", e)

    def transactions(self) -> None:
        try:
            with self.ringkv.raw(timeout=30) as c:
                for _ in self.paced(0.03):
                    r = c.pipeline([("MULTI",), ("INCR", "tx:a"), ("INCR", "tx:b"), ("EXEC",)])
                    got = harness.plain(r[3])
                    if not isinstance(got, list) or len(got) != 2 or got[0] != got[1]:
                        with self.lock:
                            self.client_errors.append(f"EXEC {got!r}: counters diverged")
                    self.count(4)
                    with self.lock:
                        self.tx_runs += 1
        except Exception as e:  # noqa: BLE001
            self.fail("tx", e)

    def verification(self) -> None:
        rng = random.Random(self.a.seed)

        def cmd():
            k = f"v:{rng.randrange(200)}"
            v = str(rng.randrange(1000))
            return rng.choice([
                ("SET", "vs" + k, v), ("GET", "vs" + k), ("INCRBY", "vc" + k, v), ("APPEND", "vs" + k, v),
                ("STRLEN", "vs" + k), ("DEL", "vs" + k, "vl" + k), ("RPUSH", "vl" + k, v), ("LPOP", "vl" + k),
                ("LRANGE", "vl" + k, "0", "-1"), ("LTRIM", "vl" + k, "0", "20"), ("HSET", "vh" + k, "f" + v[:1], v),
                ("HGET", "vh" + k, "f1"), ("HLEN", "vh" + k), ("SADD", "vt" + k, v), ("SCARD", "vt" + k),
                ("SISMEMBER", "vt" + k, "5"), ("SREM", "vt" + k, v), ("ZADD", "vz" + k, v, "m" + v[:1]),
                ("ZRANGE", "vz" + k, "0", "-1", "WITHSCORES"), ("ZSCORE", "vz" + k, "m1"),
                ("PFADD", "vp" + k, v), ("PFCOUNT", "vp" + k), ("SETBIT", "vb" + k, v, "1"), ("BITCOUNT", "vb" + k),
                ("EXISTS", "vs" + k, "vl" + k, "vh" + k), ("MSET", "vs" + k, v, "vs" + k + "x", v),
                ("MGET", "vs" + k, "vs" + k + "x"), ("TYPE", "vs" + k), ("XLEN", "vx" + k),
                ("EXPIRE", "vs" + k, "1000"), ("TTL", "vs" + k), ("PERSIST", "vs" + k),
            ])

        try:
            with self.ringkv.raw(timeout=30) as ours, self.redis.raw(timeout=30) as ref:
                for _ in self.paced(0.1 / 10):
                    cmds = [cmd() for _ in range(10)]
                    for c_, a, b in zip(cmds, ours.pipeline(cmds), ref.pipeline(cmds)):
                        if c_[0] == "TTL" and a[0] == b[0] == ":" and abs(a[1] - b[1]) <= 2:
                            continue
                        if a != b:
                            with self.lock:
                                self.divergences.append(f"{c_}: ringkv {a!r} redis {b!r}")
                    self.count(len(cmds))
        except Exception as e:  # noqa: BLE001
            self.fail("verify", e)

    # ---- sampling
    def sample(self, t0: float) -> None:
        with self.ringkv.raw(timeout=30) as c:
            i = harness.info_dict(c.call("INFO")[1])
        with self.lock:
            row = dict(t_s=round(time.monotonic() - t0), rss_kb=self.ringkv.rss_kb(),
                       used_memory=int(i["used_memory"]), connected_clients=int(i["connected_clients"]),
                       blocked_clients=int(i["blocked_clients"]), keys=sum(
                           int(v.split(",")[0].split("=")[1]) for k, v in i.items() if k.startswith("db")),
                       error_replies=int(i.get("total_error_replies", 0)), client_errors=len(self.client_errors),
                       divergences=len(self.divergences), ops=self.ops, redis_rss_kb=self.redis.rss_kb())
        self.rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)

    def run(self) -> bool:
        a = self.a
        self.ringkv = harness.ringkv_server(a.backend, a.shards).start()
        self.redis = harness.redis_server().start()
        self.drain_until = 0.0
        try:
            ready = threading.Event()
            threads = [threading.Thread(target=self.subscriber, args=(ready,))]
            threads[0].start()
            ready.wait(10)
            threads += [threading.Thread(target=self.mixed, args=(s,)) for s in range(a.mixed_threads)]
            threads += [threading.Thread(target=f) for f in (self.blocking_consumer, self.blocking_producer,
                                                             self.publisher, self.transactions, self.verification)]
            for t in threads[1:]:
                t.start()
            t0 = time.monotonic()
            end = t0 + a.minutes * 60
            nxt = t0
            while time.monotonic() < end and self.ringkv.alive():
                self.sample(t0)
                nxt += SAMPLE_S
                time.sleep(max(0.0, min(nxt, end) - time.monotonic()))
            self.sample(t0)
            self.drain_until = time.monotonic() + 5
            self.stop.set()
            for t in threads:
                t.join(30)
            with self.ringkv.raw() as c:
                left = sum(harness.plain(c.call("LLEN", k)) for k in ("q:{a}", "q:{b}", "q:c"))
                tx = harness.plain(c.call("MGET", "tx:a", "tx:b"))
            return self.report(left, tx)
        finally:
            alive = self.ringkv.alive()
            rc = self.ringkv.stop()
            self.ringkv.cleanup()
            self.redis.cleanup()
            if not alive or rc != 0:
                print(f"ringkv died or exited {rc}")

    def report(self, left: int, tx) -> bool:
        a = self.a
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"soak-{date}"
        with open(f"{stem}.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(self.rows[0]))
            w.writeheader()
            w.writerows(self.rows)
        # RSS trend after warm-up: least-squares slope, projected over the window.
        warm = [r for r in self.rows if r["t_s"] >= a.warmup * 60] or self.rows[-2:]
        xs = [r["t_s"] for r in warm]
        ys = [r["rss_kb"] for r in warm]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        var = sum((x - mx) ** 2 for x in xs) or 1
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var  # KiB per s
        growth = slope * (xs[-1] - xs[0])
        allowed = max(0.05 * my, 4096)
        checks = {
            "no error replies": (not self.error_replies, f"{len(self.error_replies)} {self.error_replies[:3]}"),
            "no client-side errors": (not self.client_errors, f"{len(self.client_errors)} {self.client_errors[:3]}"),
            "no divergence vs redis-server": (not self.divergences, f"{len(self.divergences)} {self.divergences[:3]}"),
            "every published message received": (self.received == self.published,
                                                 f"{self.received}/{self.published}"),
            "every pushed element popped or listed": (self.popped + left == self.pushed,
                                                      f"{self.popped} popped + {left} left of {self.pushed}"),
            "transaction counters equal": (tx[0] == tx[1], f"{tx!r} after {self.tx_runs} EXECs"),
            "no upward RSS trend after warm-up": (growth <= allowed,
                                                  f"{growth:+.0f} KiB fitted over the last {xs[-1] - xs[0]} s "
                                                  f"(allowed {allowed:.0f} KiB; mean {my:.0f} KiB)"),
            "server error replies (INFO)": (self.rows[-1]["error_replies"] == 0, str(self.rows[-1]["error_replies"])),
        }
        ok = all(v[0] for v in checks.values())
        png = ""
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            t = [r["t_s"] / 60 for r in self.rows]
            fig, ax = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
            ax[0].plot(t, [r["rss_kb"] / 1024 for r in self.rows], label="ringkv RSS")
            ax[0].plot(t, [r["used_memory"] / 2**20 for r in self.rows], label="ringkv used_memory")
            ax[0].plot(t, [r["redis_rss_kb"] / 1024 for r in self.rows], label="redis-server RSS (verify stream only)")
            ax[0].axvline(a.warmup, color="grey", ls=":")
            ax[0].set_ylabel("MiB")
            ax[0].legend()
            ops = [0] + [(b["ops"] - a_["ops"]) / max(b["t_s"] - a_["t_s"], 1) for a_, b in zip(self.rows, self.rows[1:])]
            ax[1].plot(t, ops, label="ops/s (client side)")
            ax[1].plot(t, [r["keys"] for r in self.rows], label="keys")
            ax[1].legend()
            ax[2].plot(t, [r["connected_clients"] for r in self.rows], label="connected_clients")
            ax[2].plot(t, [r["error_replies"] + r["client_errors"] + r["divergences"] for r in self.rows],
                       label="errors + divergences")
            ax[2].set_xlabel("minutes")
            ax[2].legend()
            fig.suptitle(f"RingKV soak {a.backend}-{a.shards}, {a.minutes} min, ~{a.rate} ops/s ({date})")
            fig.tight_layout()
            fig.savefig(f"{stem}.png", dpi=80)
            png = f"![soak]({stem.name}.png)"
        except ImportError:
            png = "(matplotlib not installed: no plot)"
        last = self.rows[-1]
        md = [f"# Soak {date} UTC: {'PASS' if ok else 'FAIL'}", "",
              f"`Tests/stress/soak.py --minutes {a.minutes} --rate {a.rate} --backend {a.backend} "
              f"--shards {a.shards} --seed {a.seed}`; samples every {SAMPLE_S} s in `{stem.name}.csv`; "
              f"warm-up {a.warmup} min.", "",
              f"{last['ops']} commands in {last['t_s']} s; {self.tx_runs} transactions, {self.published} messages "
              f"published, {self.pushed} elements pushed for blocking pops; final RSS {last['rss_kb']} KiB, "
              f"used_memory {last['used_memory']} B, {last['keys']} keys.", "",
              "| check | result | detail |", "|---|---|---|"]
        md += [f"| {k} | {'ok' if v[0] else 'FAIL'} | {v[1]} |" for k, v in checks.items()]
        md += ["", png, ""]
        Path(f"{stem}.md").write_text("\n".join(md))
        print("\n".join(md))
        return ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5, help="minutes left out of the RSS trend")
    ap.add_argument("--rate", type=float, default=1500, help="commands per second, all workloads together")
    ap.add_argument("--backend", default="uring")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--mixed-threads", type=int, default=3)
    ap.add_argument("--mixed-share", type=float, default=0.7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "perf" / "results"))
    a = ap.parse_args()
    sys.exit(0 if Soak(a).run() else 1)


if __name__ == "__main__":
    main()
