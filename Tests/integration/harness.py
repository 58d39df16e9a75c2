"""Process and wire helpers shared by the integration tests.

Kept out of conftest.py so test modules can import it by name; pytest's default
rootdir-relative import mode puts this directory on sys.path.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".build" / "release" / "ringkv-server"

# Backend/shard combinations the suite runs ringkv under; RINGKV_MATRIX narrows it.
FULL_MATRIX = ["uring-1", "uring-4", "epoll-1", "epoll-4"]


def ringkv_bin() -> str:
    return os.environ.get("RINGKV_BIN") or str(DEFAULT_BIN)


def extra_config_args() -> list[str]:
    """RINGKV_EXTRA_CONFIG: a config file whose directives every ringkv the
    harness starts gets as command-line options (configs/shrunk-bounds.conf).
    They come before a test's own options, so a test that sets one wins."""
    path = os.environ.get("RINGKV_EXTRA_CONFIG")
    if not path:
        return []
    out: list[str] = []
    for line in Path(path).read_text().splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            out += ["--" + words[0], *words[1:]]
    return out


# Sanitizer builds run 5-15x slower (make sanitize-full sets this): every
# wait the harness owns is multiplied by RINGKV_TIMEOUT_SCALE, and tests
# with a deadline of their own take it through scaled(), so a slow build
# does not fail a test that only ran out of time.
TIMEOUT_SCALE = float(os.environ.get("RINGKV_TIMEOUT_SCALE") or 1)


def scaled(seconds: float) -> float:
    return seconds * TIMEOUT_SCALE


# RINGKV_SANITIZER (asan/tsan, set by make sanitize-full): conftest.py skips
# the tests that would measure the sanitizer's runtime, not the server.
SANITIZER = os.environ.get("RINGKV_SANITIZER", "")


# A sanitizer build (make sanitize) writes its reports to stderr, which the
# harness sends to the server's log; any of these there fails the run.
SANITIZER_MARKERS = (b"WARNING: ThreadSanitizer", b"ERROR: ThreadSanitizer", b"ERROR: AddressSanitizer",
                     b"ERROR: LeakSanitizer", b"SUMMARY: UndefinedBehaviorSanitizer")


def redis_bin() -> str:
    return os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server") or "redis-server"


def matrix() -> list[tuple[str, int]]:
    raw = os.environ.get("RINGKV_MATRIX", ",".join(FULL_MATRIX))
    out = []
    for item in raw.replace(" ", ",").split(","):
        if not item:
            continue
        backend, _, shards = item.partition("-")
        if backend not in ("uring", "epoll", "auto") or not shards.isdigit():
            raise ValueError(f"RINGKV_MATRIX entry {item!r}: want BACKEND-SHARDS, e.g. uring-4")
        out.append((backend, int(shards)))
    if not out:
        raise ValueError("RINGKV_MATRIX is empty")
    return out


def free_port() -> int:
    # The kernel picks an unused ephemeral port; the tiny window before the
    # server binds it is covered by Server.start retrying on a new port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    pass


class Server:
    """One server process (ringkv or redis-server) on a private port.

    `args` is the argument list after the binary, without --port: start()
    appends --port so a port collision can be retried with a fresh one.
    """

    def __init__(self, name: str, binary: str, args: list[str], password: str | None = None,
                 port_flag: bool = True):
        self.name = name
        self.binary = binary
        self.args = list(args)
        self.password = password
        self.port_flag = port_flag
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.logpath = self.workdir / "server.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        cmd = [self.binary, *self.args]
        if self.port_flag:
            cmd += ["--port", str(self.port)]
        return cmd

    def start(self, timeout: float = 30.0, port: int | None = None) -> "Server":
        if not os.path.exists(self.binary) and not shutil.which(self.binary):
            raise ServerError(
                f"{self.name}: binary {self.binary} not found "
                "(build with `swift build -c release`, or set RINGKV_BIN)")
        timeout = scaled(timeout)
        for attempt in range(3):
            self.port = port or free_port()
            log = open(self.logpath, "ab")
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
            log.close()
            if self._wait_ready(timeout):
                return self
            # Exited early: a lost race for the port is worth another try,
            # anything else is a real start-up failure.
            if "in use" in self.log_tail().lower() and port is None and attempt < 2:
                continue
            break
        self.kill()
        raise ServerError(f"{self.name} did not become ready: {self.command()}\n--- log ---\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    data = s.recv(64)
                    # NOAUTH still proves the server is serving.
                    if data.startswith(b"+PONG") or data.startswith(b"-NOAUTH"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.logpath.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(scaled(timeout))

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def sanitizer_report(self) -> str | None:
        try:
            log = self.logpath.read_bytes()
        except OSError:
            return None
        hits = [log.find(m) for m in SANITIZER_MARKERS]
        hits = [h for h in hits if h >= 0]
        if not hits:
            return None
        first = min(hits)
        return log[max(0, first - 200):first + 6000].decode("utf-8", "replace")

    def cleanup(self) -> None:
        self.kill()
        report = self.sanitizer_report()
        if report is not None:
            kept = Path(tempfile.gettempdir()) / f"ringkv-sanitizer-{os.getpid()}-{self.port}.log"
            shutil.copyfile(self.logpath, kept)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if report is not None:
            raise ServerError(f"{self.name}: sanitizer report (full log: {kept})\n{report}")

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise ServerError("no VmRSS")

    def client(self, **kw):
        import redis  # imported lazily so harness users without redis-py still work
        import redis.backoff
        import redis.retry
        kw.setdefault("protocol", 2)  # redis-py 8 defaults to RESP3; be explicit
        kw.setdefault("socket_timeout", scaled(20))
        # redis-py 8 retries with backoff by default, which turns an expected
        # auth error into seconds of sleep and could mask a dropped connection.
        kw.setdefault("retry", redis.retry.Retry(redis.backoff.NoBackoff(), 0))
        if self.password and "password" not in kw:
            kw["password"] = self.password
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self, timeout: float = 10.0, rcvbuf: int | None = None) -> "RespConn":
        return RespConn(self.port, scaled(timeout), rcvbuf)

    def __repr__(self) -> str:
        return f"<{self.name} :{self.port}>"


def ringkv_server(backend: str = "auto", shards: int = 1, extra: list[str] | None = None,
                  conf: str | None = None, password: str | None = None) -> Server:
    args = [conf] if conf else []
    args += ["--bind", "127.0.0.1", "--shards", str(shards), "--io-backend", backend]
    # Client libraries' own suites run Redis with DEBUG enabled; the tests
    # here compare DEBUG with such a redis-server. The default (no) is
    # tested on its own in test_no_silent_noops.py.
    if not conf:
        args += ["--enable-debug-command", "yes"]
    if password:
        args += ["--requirepass", password]
    args += extra_config_args()
    args += extra or []
    return Server(f"ringkv-{backend}-{shards}", ringkv_bin(), args, password=password)


def redis_server(extra: list[str] | None = None, password: str | None = None) -> Server:
    args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    if password:
        args += ["--requirepass", password]
    args += extra or []
    return Server("redis", redis_bin(), args, password=password)


# --------------------------------------------------------------------------
# Raw RESP connection: replies are kept as tagged tuples so that comparisons
# see the wire type (+OK is not $2 OK, :1 is not $1 1).


class Closed(Exception):
    pass


def encode(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConn:
    def __init__(self, port: int, timeout: float = 10.0, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args):
        self.send(encode(*args))
        return self.read()

    def pipeline(self, cmds) -> list:
        self.send(b"".join(encode(*c) for c in cmds))
        return [self.read() for _ in cmds]

    def _fill(self) -> None:
        if self.pos > 1 << 20:
            del self.buf[: self.pos]
            self.pos = 0
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise Closed()
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        if self.buf[self.pos + n:self.pos + n + 2] != b"\r\n":
            raise ValueError("bulk not terminated by CRLF")
        self.pos += n + 2
        return data

    def read(self):
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t in "+-":
            return (t, rest)
        if t in ":(":
            return (t, int(rest))
        if t in "$=!":
            n = int(rest)
            return (t, None if n < 0 else self._exact(n))
        if t in "*~>":
            n = int(rest)
            return (t, None if n < 0 else [self.read() for _ in range(n)])
        if t == "%" or t == "|":
            n = int(rest)
            return (t, [(self.read(), self.read()) for _ in range(n)])
        if t == "_":
            return ("_", None)
        if t == ",":
            return (",", rest)
        if t == "#":
            return ("#", rest == b"t")
        raise ValueError(f"unknown RESP type byte {line[:20]!r}")

    def read_until_close(self, timeout: float = 5.0) -> bytes:
        """Everything the peer sends until it closes; raises if it stays open."""
        self.sock.settimeout(scaled(timeout))
        data = bytes(self.buf[self.pos:])
        self.buf.clear()
        self.pos = 0
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def plain(reply):
    """Tagged reply -> plain Python value, for readable assertions."""
    t, v = reply
    if t in "*~>" and v is not None:
        return [plain(x) for x in v]
    if t in "%|":
        return {plain(k): plain(x) for k, x in v}
    if t == "-":
        raise AssertionError(f"unexpected error reply: {v!r}")
    return v


def info_dict(text: str | bytes) -> dict[str, str]:
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, _, v = line.partition(":")
            out[k] = v
    return out


def play(server: Server, steps) -> list:
    """Runs (connection, command) steps on two fresh connections of `server`
    after a FLUSHALL; ("SLEEP", s) pauses. Returns (who, command, reply) per
    step, with HELLO's reply (which names the server) left out."""
    import time as _time
    conns = [RespConn(server.port), RespConn(server.port)]
    out = []
    try:
        conns[0].call("FLUSHALL")
        for who, cmd in steps:
            if cmd[0] == "SLEEP":
                _time.sleep(cmd[1])
                continue
            reply = conns[who].call(*cmd)
            if cmd[0] == "HELLO":
                reply = ("hello", None)
            out.append((who, cmd, reply))
    finally:
        for c in conns:
            c.close()
    return out


_M64 = (1 << 64) - 1


def _hash_bytes(b: bytes) -> int:
    """Storage/Hash.swift's hashBytes, for tests that place keys on shards."""
    k = 0x9E3779B97F4A7C15
    h = 0xCBF29CE484222325 ^ ((len(b) * k) & _M64)
    i, n = 0, len(b)
    while i + 8 <= n or (i < n):
        w = int.from_bytes(b[i:i + 8], "little")
        h = ((h ^ w) * k) & _M64
        h = ((h << 31) | (h >> 33)) & _M64
        i += 8
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    h ^= h >> 33
    return h


def shard_of(key, shards: int) -> int:
    """The shard that owns `key` (with Redis Cluster's {tag} rule)."""
    b = key.encode() if isinstance(key, str) else bytes(key)
    if shards == 1:
        return 0
    s = b.find(b"{")
    if s >= 0:
        e = b.find(b"}", s + 1)
        if e > s + 1:
            b = b[s + 1:e]
    return (_hash_bytes(b) >> 32) % shards


def keys_on_distinct_shards(prefix: str, count: int, shards: int) -> list[str]:
    """`count` keys named prefix<N>, each on a different shard where the
    shard count allows (else just distinct keys)."""
    out, seen, i = [], set(), 0
    while len(out) < count and i < 10000:
        k = f"{prefix}{i}"
        sh = shard_of(k, shards)
        if sh not in seen or len(seen) >= shards:
            seen.add(sh)
            out.append(k)
        i += 1
    return out


def play_blocking(server, steps) -> list:
    """(connection, command) steps on two fresh connections of `server` after
    a FLUSHALL; ("SLEEP", s) pauses. A blocking command's (B...) reply is
    read at its connection's next step or at the end, so a step may block
    one connection while the other runs. Returns (connection, reply) in read
    order; HELLO's reply (which names the server) is reduced to its type."""
    conns = [server.raw(), server.raw()]
    try:
        conns[0].call("FLUSHALL")
        owed: list[list[bool]] = [[], []]
        out = []

        def drain(i):
            while owed[i]:
                hello = owed[i].pop(0)
                reply = conns[i].read()
                out.append((i, reply if not hello else reply[0]))

        for step in steps:
            if step[0] == "SLEEP":
                time.sleep(step[1])
                continue
            who, cmd = step
            drain(who)
            conns[who].send(encode(*cmd))
            owed[who].append(cmd[0].upper() == "HELLO")
            if not cmd[0].upper().startswith("B"):
                drain(who)
        drain(0)
        drain(1)
        return out
    finally:
        for c in conns:
            c.close()
