#!/usr/bin/env python3
"""Turn one load-generator run into one CSV fragment for perf/bench.sh.

    parse_bench.py rb FILE            redis-benchmark output (not --csv, not -q)
    parse_bench.py rb SETFILE GETFILE two phases of one mixed run, merged
    parse_bench.py memtier FILE       memtier_benchmark output

Prints "rps,avg_ms,p50_ms,p95_ms,p99_ms" (p95 is empty for memtier), or
exits 1 with a reason on stderr when the output holds no usable summary.

Why the non-CSV output: redis-benchmark 7's `--csv` gives the same summary,
but only the full report also has the latency distribution, which the mixed
run needs. redis-benchmark sends one command per run, so a 1:10 SET:GET mix
is approximated by a SET phase and a GET phase with request counts 1:10:
  - throughput = all requests / the sum of both phases' durations
    (each duration is requests / that phase's requests per second);
  - avg = the request-weighted mean of both phases' averages;
  - percentiles come from merging both phases' cumulative distributions
    (the "Latency by percentile" and "Cumulative distribution" sections,
    in counts), so p99 is the latency under which 99% of all requests
    finished, interpolated linearly between the distributions' printed
    points (redis-benchmark prints them finely enough for 2 digits).
"""
import bisect
import re
import sys

SUMMARY_RE = re.compile(
    r"throughput summary:\s*([\d.]+) requests per second.*?"
    r"avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.\s]+)",
    re.S)
POINT_RE = re.compile(r"<= ([\d.]+) milliseconds \(cumulative count (\d+)\)")
COMPLETED_RE = re.compile(r"(\d+) requests completed in")


class Run:
    def __init__(self, text: str, path: str):
        text = text.replace("\r", "\n")
        # LRANGE_* runs an "LPUSH (needed to benchmark LRANGE)" phase first:
        # the test's own report is the last one.
        sections = text.split("\n====== ")
        if len(sections) > 1:
            text = sections[-1]
        m = SUMMARY_RE.search(text)
        if not m:
            raise ValueError(f"{path}: no redis-benchmark summary")
        self.rps = float(m.group(1))
        avg, _min, p50, p95, p99, _max = (float(x) for x in m.group(2).split()[:6])
        self.avg, self.p50, self.p95, self.p99 = avg, p50, p95, p99
        c = COMPLETED_RE.search(text)
        if not c:
            raise ValueError(f"{path}: no request count")
        self.requests = int(c.group(1))
        # (latency ms, requests finished at or under it), both sections merged.
        pts = {}
        for lat, count in POINT_RE.findall(text):
            lat, count = float(lat), int(count)
            pts[lat] = max(count, pts.get(lat, 0))
        self.lats = sorted(pts)
        # Counts must not fall as latency rises; the two sections round
        # latencies differently, so keep the running maximum.
        self.counts, best = [], 0
        for lat in self.lats:
            best = max(best, pts[lat])
            self.counts.append(best)

    def finished_by(self, lat: float) -> float:
        """Requests finished within lat ms, linear between printed points."""
        i = bisect.bisect_right(self.lats, lat)
        if i == 0:
            return 0.0
        if i == len(self.lats):
            return float(self.counts[-1])
        l0, l1 = self.lats[i - 1], self.lats[i]
        c0, c1 = self.counts[i - 1], self.counts[i]
        return c0 + (c1 - c0) * (lat - l0) / (l1 - l0)


def merge(runs):
    total = sum(r.requests for r in runs)
    seconds = sum(r.requests / r.rps for r in runs)
    avg = sum(r.avg * r.requests for r in runs) / total
    grid = sorted({lat for r in runs for lat in r.lats})

    def done(lat):
        return sum(r.finished_by(lat) for r in runs)

    def percentile(q):
        need = q / 100 * total
        prev_lat, prev = 0.0, 0.0
        for lat in grid:
            now = done(lat)
            if now >= need:  # merged CDF is linear between grid points
                return prev_lat + (lat - prev_lat) * (need - prev) / max(now - prev, 1e-9)
            prev_lat, prev = lat, now
        return grid[-1]

    return total / seconds, avg, percentile(50), percentile(95), percentile(99)


def memtier(text: str, path: str):
    head = None
    for line in text.replace("\r", "\n").splitlines():
        cols = re.split(r"\s{2,}", line.strip())
        if cols and cols[0] == "Type":
            head = [c.lower() for c in cols]
        elif head and cols and cols[0] == "Totals":
            row = dict(zip(head, cols))
            get = lambda *names: next((row[n] for n in names if n in row), "")
            return (float(get("ops/sec")), float(get("avg. latency", "latency")),
                    get("p50 latency"), "", get("p99 latency"))
    raise ValueError(f"{path}: no memtier Totals line")


def main(argv):
    kind, paths = argv[1], argv[2:]
    texts = [open(p, errors="replace").read() for p in paths]
    try:
        if kind == "memtier":
            vals = memtier(texts[0], paths[0])
        else:
            runs = [Run(t, p) for t, p in zip(texts, paths)]
            if len(runs) == 1:
                r = runs[0]
                vals = (r.rps, r.avg, r.p50, r.p95, r.p99)
            else:
                vals = merge(runs)
    except (ValueError, IndexError) as e:
        print(e, file=sys.stderr)
        return 1
    print(",".join(v if isinstance(v, str) else f"{v:.3f}" for v in vals))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
