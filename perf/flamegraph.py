#!/usr/bin/env python3
"""Folded stacks, Swift demangling, an interactive SVG flamegraph and a
self-time table, from `perf script` output. No dependencies but Python 3;
perf/flamegraph.sh drives it.

    flamegraph.py collapse [--merge-threads] [--demangler CMD] < perf-script.txt > stacks.folded
    flamegraph.py svg --title T [--subtitle S] [--minwidth PCT] < stacks.folded > out.svg
    flamegraph.py top [-n 20] < stacks.folded > top20.txt

Folded format (Brendan Gregg's): one line per distinct stack, frames from
the root (the thread's name) to the leaf, joined by ';', then a space and
the sample count. Kernel frames end in "_[k]", as in stackcollapse-perf.pl.
Frames with no symbol show the library they are in, as "[libc.so.6]".

Swift symbols ($s...) are demangled with `swift-demangle --simplified`
(module names and generic arguments left out, so frames stay readable),
one process for all distinct names.
"""
import argparse
import collections
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys

STACK_LINE = re.compile(r"^\s*([0-9a-fA-F]+)\s+(.*?)\s+\((.*)\)\s*$")
OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


# ---------------------------------------------------------------- collapse

def find_demangler():
    for cand in ("swift-demangle", "/opt/swift/usr/bin/swift-demangle"):
        path = shutil.which(cand)
        if path:
            return [path, "--simplified"]
    if shutil.which("swift"):
        return ["swift", "demangle", "--simplified"]
    return None


def demangle_all(names, cmd):
    """{mangled: demangled} for the Swift names among names."""
    swift = sorted(n for n in names if n.startswith(("$s", "_$s", "$S", "_T0")))
    if not swift or not cmd:
        return {}
    out = subprocess.run(cmd, input="\n".join(swift) + "\n", capture_output=True,
                         text=True, check=True).stdout.splitlines()
    if len(out) != len(swift):  # never guess which line is whose
        print(f"warning: demangler gave {len(out)} lines for {len(swift)} names; "
              "keeping mangled names", file=sys.stderr)
        return {}
    return {m: d.strip().replace(";", ",") for m, d in zip(swift, out)}


def frame_name(sym, dso):
    sym = OFFSET.sub("", sym.strip())
    kernel = dso.startswith("[kernel") or dso.endswith(".ko") or dso == "[kernel.kallsyms]"
    if not sym or sym == "[unknown]":
        sym = f"[{os.path.basename(dso)}]" if dso and dso != "[unknown]" else "[unknown]"
    return sym.replace(";", ","), kernel


def collapse(inp, out, demangler, merge_threads=False):
    stacks = collections.Counter()
    comm, frames = None, []

    def flush():
        if comm is not None and frames:
            stacks[(comm,) + tuple(reversed(frames))] += 1

    for line in inp:
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line[0].isspace():
            flush()
            # "comm  tid [cpu] time: period event:" -- comm may hold spaces.
            m = re.match(r"^(.*?)\s+\d+(?:/\d+)?\s", line)
            comm = (m.group(1) if m else line.split()[0]).replace(";", ",").replace(" ", "_")
            if merge_threads:  # ringkv-w0, ringkv-w1 -> ringkv-w*
                comm = re.sub(r"\d+$", "*", comm)
            frames = []
            continue
        m = STACK_LINE.match(line)
        if m and comm is not None:
            frames.append(frame_name(m.group(2), m.group(3)))
    flush()

    names = {f[0] for st in stacks for f in st[1:]}
    table = demangle_all(names, demangler)
    for st, n in sorted(stacks.items()):
        parts = [st[0]] + [table.get(name, name) + ("_[k]" if kern else "") for name, kern in st[1:]]
        out.write(";".join(parts) + f" {n}\n")


# ---------------------------------------------------------------- folded input

def read_folded(inp):
    for line in inp:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, n = line.rpartition(" ")
        try:
            yield stack.split(";"), int(n)
        except ValueError:
            continue


# ---------------------------------------------------------------- top

def top(stacks, out, n):
    self_t, incl = collections.Counter(), collections.Counter()
    total = 0
    for frames, count in stacks:
        total += count
        self_t[frames[-1]] += count
        for f in set(frames[1:]):  # inclusive: count each function once per stack
            incl[f] += count
    if not total:
        out.write("no samples\n")
        return
    out.write(f"Top {n} functions by self time, of {total} samples "
              "(self: the sample's leaf frame; total: anywhere on the stack).\n")
    out.write("_[k] marks kernel functions.\n\n")
    out.write(f"{'rank':>4} {'self%':>6} {'total%':>6} {'samples':>8}  function\n")
    for i, (f, c) in enumerate(self_t.most_common(n), 1):
        out.write(f"{i:>4} {100 * c / total:>6.2f} {100 * incl[f] / total:>6.2f} {c:>8}  {f}\n")
    user = sum(c for f, c in self_t.items() if not f.endswith("_[k]"))
    out.write(f"\nuser-space self time {100 * user / total:.1f}%, "
              f"kernel {100 * (total - user) / total:.1f}%\n")
    threads = collections.Counter()
    for frames, count in stacks:
        threads[frames[0]] += count
    out.write("by thread: " + ", ".join(f"{t} {100 * c / total:.1f}%"
                                          for t, c in threads.most_common()) + "\n")


# ---------------------------------------------------------------- svg

class Node:
    __slots__ = ("name", "count", "kids")

    def __init__(self, name):
        self.name, self.count, self.kids = name, 0, {}


LEGEND = [("ringkv", "rgb(230,85,60)"), ("Swift runtime", "rgb(100,185,220)"),
          ("C libraries", "rgb(185,210,65)"), ("kernel", "rgb(250,175,70)")]


def kind(name):
    if name.endswith("_[k]"):
        return "kernel"
    if name.startswith("[") or re.match(r"^(__|_dl_|_int_|mem|str|pthread|epoll|io_uring|syscall|"
                                          r"malloc|free|cfree|start_thread|clone)", name):
        return "C libraries"
    if re.match(r"^(swift_|_swift|swift::|Swift\.|\$s|outlined |objectdestroy|value witness|"
                r"initializeWithCopy|initializeBufferWithCopy|destroy for|assignWith)", name):
        return "Swift runtime"
    return "ringkv"


def color(name, depth):
    if depth == 0:
        return "rgb(200,200,200)"
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    a, b = (h & 0xFF) / 255, ((h >> 8) & 0xFF) / 255
    k = kind(name)
    if k == "kernel":
        return f"rgb({int(240 + 15 * a)},{int(160 + 40 * b)},{int(50 + 40 * a)})"
    if k == "C libraries":
        return f"rgb({int(165 + 45 * a)},{int(195 + 35 * b)},{int(50 + 30 * a)})"
    if k == "Swift runtime":
        return f"rgb({int(80 + 40 * a)},{int(165 + 45 * b)},{int(205 + 35 * a)})"
    return f"rgb({int(205 + 50 * a)},{int(55 + 60 * b)},{int(40 + 35 * b)})"


SCRIPT = r"""
<script type="text/ecmascript"><![CDATA[
var W = @WIDTH@, PAD = 10, FH = @FH@, details, frames, zoomed = null, matchtext;
function init() {
  details = document.getElementById("details").firstChild;
  matchtext = document.getElementById("matched");
  frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
}
function attr(g, k) { return parseFloat(g.getAttribute(k)); }
function label(g, w) {
  var t = g.querySelector("text"), name = g.getAttribute("data-n");
  var fit = Math.floor((w - 6) / 7);
  t.textContent = fit < 3 ? "" : (name.length <= fit ? name : name.substring(0, fit - 2) + "..");
}
function place(g, x, w) {
  var r = g.querySelector("rect"), t = g.querySelector("text");
  r.setAttribute("x", x); r.setAttribute("width", Math.max(w, 0));
  t.setAttribute("x", x + 3); label(g, w);
}
function zoom(node) {
  var x0 = attr(node, "data-x"), w0 = attr(node, "data-w"), d0 = attr(node, "data-d");
  var scale = (W - 2 * PAD) / w0;
  frames.forEach(function (g) {
    var x = attr(g, "data-x"), w = attr(g, "data-w"), d = attr(g, "data-d");
    var inside = x >= x0 - 1e-9 && x + w <= x0 + w0 + 1e-9;
    var above = d < d0 && x <= x0 + 1e-9 && x + w >= x0 + w0 - 1e-9;
    if (inside && d >= d0) { g.style.display = ""; g.style.opacity = 1; place(g, PAD + (x - x0) * scale, w * scale); }
    else if (above) { g.style.display = ""; g.style.opacity = 0.5; place(g, PAD, W - 2 * PAD); }
    else g.style.display = "none";
  });
  zoomed = node;
  document.getElementById("unzoom").style.opacity = 1;
}
function unzoom() {
  frames.forEach(function (g) {
    g.style.display = ""; g.style.opacity = 1;
    place(g, PAD + attr(g, "data-x") * (W - 2 * PAD), attr(g, "data-w") * (W - 2 * PAD));
  });
  zoomed = null;
  document.getElementById("unzoom").style.opacity = 0;
}
function search() {
  var term = prompt("Search frames (regular expression):", "");
  var rects = document.querySelectorAll("g.f rect");
  rects.forEach(function (r) { r.setAttribute("fill", r.getAttribute("data-c")); });
  if (!term) { matchtext.textContent = ""; return; }
  var re = new RegExp(term), spans = [];
  frames.forEach(function (g) {
    if (!re.test(g.getAttribute("data-n"))) return;
    g.querySelector("rect").setAttribute("fill", "rgb(230,0,230)");
    spans.push([attr(g, "data-x"), attr(g, "data-x") + attr(g, "data-w")]);
  });
  spans.sort(function (a, b) { return a[0] - b[0]; });
  var total = 0, end = -1;   // union of matched spans: nested matches count once
  spans.forEach(function (s) { if (s[1] > end) { total += s[1] - Math.max(s[0], end); end = s[1]; } });
  matchtext.textContent = "matched " + (100 * total).toFixed(1) + "% of samples";
}
function show(g) { details.nodeValue = g.querySelector("title").textContent; }
function clear() { details.nodeValue = " "; }
]]></script>
"""


def svg(inp, out, title, subtitle, minwidth_pct, width=1200, fh=16):
    root = Node("all")
    for frames, count in read_folded(inp):
        root.count += count
        node = root
        for f in frames:
            node = node.kids.setdefault(f, Node(f))
            node.count += count
    total = root.count or 1
    min_frac = minwidth_pct / 100

    # Lay out: x as a fraction of all samples, depth 0 = "all".
    rects, maxdepth, stack = [], 0, [(root, 0.0, 0)]
    while stack:
        node, x, d = stack.pop()
        w = node.count / total
        if w < min_frac:
            continue
        rects.append((node.name, x, w, d, node.count))
        maxdepth = max(maxdepth, d)
        cx = x
        for kid in sorted(node.kids.values(), key=lambda k: k.name):
            stack.append((kid, cx, d + 1))
            cx += kid.count / total

    top_pad, bottom_pad, pad = 70, 30, 10
    height = top_pad + (maxdepth + 1) * fh + bottom_pad
    span = width - 2 * pad
    w = out.write
    w('<?xml version="1.0" standalone="no"?>\n')
    w(f'<svg version="1.1" width="{width}" height="{height}" onload="init()" '
      f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">\n')
    w(SCRIPT.replace("@WIDTH@", str(width)).replace("@FH@", str(fh)))
    w('<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}'
      'g.f:hover rect{stroke:#000;stroke-width:0.5} g.f{cursor:pointer}'
      ' .ui{cursor:pointer;fill:#246}</style>\n')
    w(f'<rect width="{width}" height="{height}" fill="#f8f8f0" onclick="unzoom()"/>\n')
    w(f'<text x="{width / 2}" y="20" text-anchor="middle" style="font-size:15px">'
      f'{html.escape(title)}</text>\n')
    if subtitle:
        w(f'<text x="{width / 2}" y="38" text-anchor="middle" style="fill:#555;font-size:11px">'
          f'{html.escape(subtitle)}</text>\n')
    w(f'<text id="unzoom" class="ui" x="{pad}" y="20" style="opacity:0" onclick="unzoom()">'
      'Reset zoom</text>\n')
    w(f'<text class="ui" x="{width - pad}" y="20" text-anchor="end" onclick="search()">Search</text>\n')
    lx = pad
    for label, col in LEGEND:
        w(f'<rect x="{lx}" y="48" width="10" height="10" fill="{col}"/>'
          f'<text x="{lx + 14}" y="57" style="font-size:11px">{label}</text>\n')
        lx += 24 + 7 * len(label)
    w(f'<text id="matched" x="{width - pad}" y="{height - 10}" text-anchor="end"> </text>\n')
    w(f'<text id="details" x="{pad}" y="{height - 10}"> </text>\n')
    for name, x, fw, d, count in rects:
        px, pw = pad + x * span, fw * span
        y = height - bottom_pad - (d + 1) * fh
        c = color(name, d)
        fit = int((pw - 6) / 7)
        text = "" if fit < 3 else (name if len(name) <= fit else name[:fit - 2] + "..")
        tip = f"{name} ({count:,} samples, {100 * count / total:.2f}%)"
        w(f'<g class="f" data-n="{html.escape(name)}" data-x="{x:.6f}" data-w="{fw:.6f}" data-d="{d}" '
          'onmouseover="show(this)" onmouseout="clear()" onclick="zoom(this)">'
          f'<title>{html.escape(tip)}</title>'
          f'<rect x="{px:.1f}" y="{y}" width="{pw:.1f}" height="{fh - 1}" fill="{c}" data-c="{c}" rx="2"/>'
          f'<text x="{px + 3:.1f}" y="{y + fh - 4}">{html.escape(text)}</text></g>\n')
    w("</svg>\n")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collapse")
    c.add_argument("--demangler", help="command reading mangled names, one a line "
                   "(default: swift-demangle --simplified)")
    c.add_argument("--merge-threads", action="store_true",
                   help="one root per thread name with its trailing number dropped "
                        "(all workers in one tower) instead of one per thread")
    s = sub.add_parser("svg")
    s.add_argument("--title", default="Flame graph")
    s.add_argument("--subtitle", default="")
    s.add_argument("--minwidth", type=float, default=0.05,
                   help="leave out frames under this %% of samples (keeps the SVG small)")
    t = sub.add_parser("top")
    t.add_argument("-n", type=int, default=20)
    a = ap.parse_args()
    if a.cmd == "collapse":
        cmd = a.demangler.split() if a.demangler else find_demangler()
        if cmd is None:
            print("warning: no swift-demangle; Swift names stay mangled", file=sys.stderr)
        collapse(sys.stdin, sys.stdout, cmd, a.merge_threads)
    elif a.cmd == "svg":
        svg(sys.stdin, sys.stdout, a.title, a.subtitle, a.minwidth)
    else:
        top(list(read_folded(sys.stdin)), sys.stdout, a.n)


if __name__ == "__main__":
    main()
