"""Hostile input never crashes the server: random commands from the table
with edge-case arguments (huge, negative, empty, binary), random options and
raw garbage, from several connections. Every reply must be a well-formed
RESP reply and the server must stay up. FUZZ_SEED replays a run."""
import os
import random
import socket

import harness

EDGE = [b"", b"0", b"-1", b"1", b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808",
        b"18446744073709551615", b"1e300", b"-inf", b"nan", b"0x10", b" 1", b"\x00", b"\xff\xfe", b"{t}a", b"{t}b",
        b"k1", b"k2", b"*", b"[", b"\\", b"3.5", b"100000000000", b"-100000000000", b"4294967296"]
OPTIONS = [b"EX", b"PX", b"EXAT", b"PXAT", b"NX", b"XX", b"GT", b"LT", b"KEEPTTL", b"GET", b"PERSIST", b"MATCH",
           b"COUNT", b"TYPE", b"IDX", b"LEN", b"MINMATCHLEN", b"WITHMATCHLEN", b"REPLACE", b"DB", b"ASYNC"]
# Commands that would end the session or block the server are left out.
SKIP = {b"shutdown", b"quit", b"debug", b"reset", b"client", b"config", b"hello", b"auth", b"select",
        b"flushall", b"flushdb", b"swapdb",
        # Blocking pops may wait forever by design (test_blocking.py covers them).
        b"blpop", b"brpop", b"brpoplpush", b"blmove", b"blmpop", b"bzpopmin", b"bzpopmax", b"bzmpop"}


def arg(rng):
    r = rng.random()
    if r < 0.5:
        return rng.choice(EDGE)
    if r < 0.8:
        return rng.choice(OPTIONS)
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 12)))


def test_random_commands_never_crash(ringkv):
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(1 << 30)))
    print(f"FUZZ_SEED={seed}")
    rng = random.Random(seed)
    with ringkv.raw() as c:
        names = harness.plain(c.call("COMMAND", "LIST"))
    names = [n for n in names if n.lower() not in SKIP]
    conns = [ringkv.raw() for _ in range(3)]
    try:
        assert len(names) > 50, names
        for i in range(int(os.environ.get("FUZZ_OPS", 3000))):
            c = rng.choice(conns)
            cmd = [rng.choice(names)] + [arg(rng) for _ in range(rng.randint(0, 6))]
            reply = c.call(*cmd)
            assert reply is not None, (seed, i, cmd)
    finally:
        for c in conns:
            c.close()
    assert ringkv.alive(), f"FUZZ_SEED={seed}: server died\n{ringkv.log_tail()}"


def test_random_bytes_never_crash(ringkv):
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    for _ in range(200):
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
        if rng.random() < 0.5:
            junk = rng.choice([b"*", b"$", b"*3\r\n$3\r\nSET\r\n", b"*-5\r\n", b"*1\r\n$"]) + junk
        s = socket.create_connection(("127.0.0.1", ringkv.port), timeout=5)
        try:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()
    assert ringkv.alive(), f"FUZZ_SEED={seed}: server died\n{ringkv.log_tail()}"
    with ringkv.raw() as c:
        assert c.call("PING") == ("+", b"PONG")


# Header-level mutations: the framing itself is attacked, not the arguments.
COUNTS = [b"2147483647", b"2147483648", b"1000000000", b"536870913", b"536870912", b"-1", b"-5",
          b"-2147483648", b"9223372036854775807", b"9223372036854775808", b"99999999999999999999",
          b"", b"abc", b"+3", b"03", b" 3", b"0", b"1"]


def _frame(args: list[bytes]) -> list[bytes]:
    """A command as its pieces: the `*` header, then `$` header and payload
    pairs, so a mutation can hit one piece."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts += [b"$%d\r\n" % len(a), a + b"\r\n"]
    return parts


def _mutate(rng, parts: list[bytes]) -> list[bytes]:
    i = rng.randrange(len(parts))
    p = parts[i]
    kind = rng.randrange(5)
    if p[:1] in (b"*", b"$") and kind < 2:
        parts[i] = p[:1] + rng.choice(COUNTS) + b"\r\n"          # huge, negative, overflowing, junk
    elif kind == 2:
        parts[i] = p.replace(b"\r\n", b"", 1)                   # a missing CRLF
    elif kind == 3:
        parts[i] = p[:rng.randrange(len(p))]                     # truncated
        del parts[i + 1:]
    else:
        parts.insert(i, rng.choice([b"*", b"$"]) + rng.choice(COUNTS) + b"\r\n")
    return parts


def _session(server, data: bytes) -> tuple[bytes, bool]:
    """Sends `data`, half-closes, and returns every byte back and whether the
    server closed the connection itself."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    out = b""
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out, True
            out += chunk
    except ConnectionResetError:
        return out, True
    except socket.timeout:
        return out, False
    finally:
        s.close()


def test_framing_mutations_match_redis(ringkv, redis_ref):
    """Each session is a few valid commands with one header mutated. The
    server must stay up and send exactly the bytes Redis 7.0 sends: the
    replies before the damage, then the same protocol error, or nothing more
    while it waits for bytes that never come."""
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(1 << 30)))
    print(f"FUZZ_SEED={seed}")
    rng = random.Random(seed)
    for case in range(int(os.environ.get("FUZZ_FRAMES", 150))):
        key = b"ff:%d:%d" % (seed, case)
        cmds = [[b"SET", key, b"v%d" % case], [b"GET", key], [b"INCR", key + b":n"],
                [b"APPEND", key, b"xyz"], [b"GET", key], [b"DEL", key, key + b":n"], [b"PING"]]
        parts: list[bytes] = []
        for c in cmds[:rng.randint(2, len(cmds))]:
            parts += _frame(c)
        data = b"".join(_mutate(rng, parts))
        # A mutation can turn a payload into another key ("", a prefix):
        # both servers start each case empty so their replies can be compared.
        for server in (redis_ref, ringkv):
            with server.raw() as c:
                assert c.call("FLUSHALL") == ("+", b"OK")
        theirs, theirs_closed = _session(redis_ref, data)
        ours, ours_closed = _session(ringkv, data)
        assert ringkv.alive(), f"FUZZ_SEED={seed} case {case}: server died on {data!r}\n{ringkv.log_tail()}"
        assert ours == theirs, f"FUZZ_SEED={seed} case {case}: {data!r}\nours   {ours!r}\ntheirs {theirs!r}"
        assert ours_closed == theirs_closed, (seed, case, data)
