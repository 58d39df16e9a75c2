"""Exact per-operation counts under callgrind: instructions, and calls to
swift_retain/swift_release/malloc/swift_allocObject by caller, for MULTI + 3
SETs on one tag + EXEC ("exec") or EVALSHA of an INCR script ("evalsha"), on
one shard. Timing on a shared 2-core machine is noisy; these counts are not.

    python3 perf/tx_callgrind.py [BIN] [exec|evalsha] [--top N]

The server runs twice under valgrind (320 and 6720 operations, one
connection, 16 pipelined); the difference divided by 6400 is one operation's
cost, start-up excluded. The binary is copied without its DWARF (valgrind
3.19 cannot read Swift 6's), so functions are named by their symbols.
"""
import collections
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "integration"))
import harness  # noqa: E402

SCRIPT = "return redis.call('INCR', KEYS[1])"


def drive(port, kind, n):
    s = socket.create_connection(("127.0.0.1", port))
    rnd = random.Random(1)
    if kind == "evalsha":
        s.sendall(harness.encode("SCRIPT", "LOAD", SCRIPT))
        sha = s.recv(100).split(b"\r\n")[1].decode()
    for _ in range(n // 16):
        if kind == "exec":
            out = []
            for _ in range(16):
                u = rnd.randrange(1_000_000)
                out.append(harness.encode("MULTI"))
                out += [harness.encode("SET", f"{{u{u}}}:{x}", "xyz") for x in "abc"]
                out.append(harness.encode("EXEC"))
            want = len(b"+OK\r\n" + b"+QUEUED\r\n" * 3 + b"*3\r\n" + b"+OK\r\n" * 3) * 16
            s.sendall(b"".join(out))
            got = 0
            while got < want:
                got += len(s.recv(65536))
        else:
            s.sendall(b"".join(harness.encode("EVALSHA", sha, "1", f"key:{rnd.randrange(1_000_000):012d}")
                               for _ in range(16)))
            got = b""
            while got.count(b"\r\n") < 16:
                got += s.recv(65536)
    s.close()


def profile(binary, kind, n, out):
    port = harness.free_port()
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "--port", str(port),
                          "--shards", "1", "--io-backend", "epoll", "--bind", "127.0.0.1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.1)
    drive(port, kind, n)
    p.terminate()
    p.wait()


def load(path):
    """Self instructions per function, and (calls, inclusive Ir) per caller->callee."""
    self_ir, calls, incl, names = collections.Counter(), collections.Counter(), collections.Counter(), {}
    fn = cfn = None
    pending = None

    def name(s):
        m = re.match(r"\((\d+)\)(?: (.*))?", s)
        if not m:
            return s
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), m.group(1))
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("fn="):
            fn = name(line[3:])
        elif line.startswith("cfn="):
            cfn = name(line[4:])
        elif line.startswith("calls="):
            pending = int(line[6:].split()[0])
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            parts = line.split()
            if len(parts) >= 2:
                if pending is not None:
                    calls[(fn, cfn)] += pending
                    incl[(fn, cfn)] += int(parts[1])
                    pending = None
                else:
                    self_ir[fn] += int(parts[1])
    return self_ir, calls, incl


def demangle(s):
    r = subprocess.run(["swift", "demangle", "--compact", "--simplified", s], capture_output=True, text=True)
    return r.stdout.strip() or s


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 15
    if "--top" in sys.argv:
        args.remove(str(top))
    binary = args[0] if args else ".build/release/ringkv-server"
    kind = args[1] if len(args) > 1 else "exec"
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "server")
        subprocess.run(["objcopy", "--strip-debug", binary, plain], check=True)
        profile(plain, kind, 320, os.path.join(d, "a.out"))
        profile(plain, kind, 6720, os.path.join(d, "b.out"))
        a, b = load(os.path.join(d, "a.out")), load(os.path.join(d, "b.out"))
    n = 6400.0
    ir = {k: (v - a[0].get(k, 0)) / n for k, v in b[0].items()}
    print(f"{kind}, {binary}: {sum(ir.values()):.0f} instructions per operation")
    for k, v in sorted(ir.items(), key=lambda x: -x[1])[:top]:
        print(f"  {v:7.0f}  {demangle(k)[:110]}")
    for target in ("swift_retain", "swift_release", "malloc", "swift_allocObject"):
        rows = [((v - a[1].get(k, 0)) / n, k) for k, v in b[1].items() if k[1] == target]
        rows = [(v, k) for v, k in rows if v > 0.05]
        print(f"calls to {target} per operation: {sum(v for v, _ in rows):.2f}")
        for v, k in sorted(rows, reverse=True)[:top]:
            per = (b[2][k] - a[2].get(k, 0)) / n / v
            print(f"  {v:6.2f}  ({per:5.1f} Ir each)  {demangle(k[0])[:100]}")


if __name__ == "__main__":
    main()
