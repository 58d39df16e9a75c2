"""Bitmaps (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO)
against redis-server 7.0.

Each scenario sends the same commands to ringkv (every matrix entry; with
4 shards BITOP's keys live on different shards) and to a real
redis-server, and compares the replies with their RESP types, in RESP2 and
RESP3. Randomised scenarios use a fixed seed, so a failure replays.
"""
from __future__ import annotations

import random

import pytest

import harness
from test_command_meta_collections import _conn, _first_diff, _present

COMMANDS = "setbit getbit bitcount bitpos bitop bitfield bitfield_ro".split()


# A step that ends the pipeline so far: CONFIG SET runs where the
# connection lives as soon as it is read, so it must not share a pipeline
# with commands sent to other shards before it.
SYNC = ("SYNC",)


def run(server, steps, proto=2):
    out = []
    with server.raw() as c:
        c.call("FLUSHALL")
        if proto == 3:
            c.call("HELLO", "3")
        chunk = []
        for s in steps + [SYNC]:
            if s == SYNC:
                out += c.pipeline(chunk) if chunk else []
                chunk = []
            else:
                chunk.append(s)
    return out


def compare(ringkv, redis_ref, steps, proto=2):
    got = run(ringkv, steps, proto)
    want = run(redis_ref, steps, proto)
    cmds = [s for s in steps if s != SYNC]
    assert len(got) == len(want) == len(cmds)
    for cmd, g, w in zip(cmds, got, want):
        assert g == w, f"{cmd}: ringkv {g!r} != redis {w!r}"


SCENARIOS = {
    "setbit_getbit": [
        ("SETBIT", "b", "7", "1"), ("GET", "b"), ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "0"),
        ("GET", "b"), ("SETBIT", "b", "100", "1"), ("STRLEN", "b"), ("GET", "b"), ("GETBIT", "b", "100"),
        ("GETBIT", "b", "99"), ("GETBIT", "b", "100000"), ("GETBIT", "nokey", "0"), ("OBJECT", "ENCODING", "b"),
        ("SETBIT", "b", "0", "1"), ("GETBIT", "b", "0"), ("BITCOUNT", "b"),
        # An int-encoded string is its decimal bytes; a write makes it raw.
        ("SET", "i", "255"), ("GETBIT", "i", "2"), ("GETBIT", "i", "3"), ("BITCOUNT", "i"), ("OBJECT", "ENCODING", "i"),
        ("SETBIT", "i", "7", "1"), ("GET", "i"), ("OBJECT", "ENCODING", "i"),
        ("SET", "e", "ab"), ("OBJECT", "ENCODING", "e"), ("SETBIT", "e", "0", "0"), ("OBJECT", "ENCODING", "e"),
        # TTL survives a growing write.
        ("SET", "t", "x", "EX", "100"), ("SETBIT", "t", "1000", "1"), ("TTL", "t"), ("STRLEN", "t"),
    ],
    "bit_errors": [
        ("SETBIT", "b", "-1", "1"), ("SETBIT", "b", "x", "1"), ("SETBIT", "b", "1", "2"), ("SETBIT", "b", "1", "-1"),
        ("SETBIT", "b", "1", "x"), ("SETBIT", "b", "4294967296", "1"), ("SETBIT", "b", "99999999999999999999", "1"),
        ("SETBIT", "b", "+1", "1"), ("SETBIT", "b", "01", "1"), ("GETBIT", "b", "-1"), ("GETBIT", "b", "4294967296"),
        ("EXISTS", "b"), ("SETBIT", "b"), ("GETBIT", "b"), ("BITCOUNT",), ("BITPOS", "b"),
        ("LPUSH", "l", "x"), ("SETBIT", "l", "1", "1"), ("GETBIT", "l", "1"), ("BITCOUNT", "l"), ("BITPOS", "l", "1"),
        ("BITFIELD", "l", "GET", "u8", "0"), ("BITFIELD_RO", "l", "GET", "u8", "0"), ("BITOP", "AND", "d", "l"),
        ("BITOP", "OR", "l", "nokey"), ("TYPE", "l"),
        ("SET", "s", "foobar"), ("BITCOUNT", "s", "1"), ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "1", "b"),
        ("BITCOUNT", "s", "1", "2", "x"), ("BITCOUNT", "s", "1", "2", "BIT", "x"), ("BITCOUNT", "s", "-1", "-2", "x"),
        ("BITCOUNT", "nokey", "1"), ("BITCOUNT", "nokey", "a", "b"),
        ("BITPOS", "s", "2"), ("BITPOS", "s", "a"), ("BITPOS", "s", "-1"), ("BITPOS", "s", "1", "x"),
        ("BITPOS", "s", "1", "0", "x"), ("BITPOS", "s", "1", "0", "1", "x"), ("BITPOS", "s", "1", "0", "1", "BIT", "x"),
        ("BITPOS", "nokey", "1", "a"), ("BITPOS", "nokey", "0"), ("BITPOS", "nokey", "1"),
        ("BITOP", "NOT", "d", "a", "b"), ("BITOP", "NOT", "d"), ("BITOP", "FOO", "d", "a"), ("BITOP", "AND", "d"),
    ],
    "bitcount_bitpos_edges": [
        ("SET", "s", "foobar"), ("BITCOUNT", "s"), ("BITCOUNT", "s", "0", "0"), ("BITCOUNT", "s", "1", "1"),
        ("BITCOUNT", "s", "1", "1", "BYTE"), ("BITCOUNT", "s", "5", "30", "BIT"), ("BITCOUNT", "s", "-1", "-1"),
        ("BITCOUNT", "s", "0", "-1", "bit"), ("BITCOUNT", "s", "-100", "100"), ("BITCOUNT", "s", "3", "1"),
        ("SET", "z", ""), ("BITCOUNT", "z"), ("BITPOS", "z", "0"), ("BITPOS", "z", "1"), ("BITCOUNT", "z", "0", "-1"),
        ("SET", "ones", b"\xff\xff\xff"), ("BITPOS", "ones", "0"), ("BITPOS", "ones", "0", "0", "-1"),
        ("BITPOS", "ones", "0", "1"), ("BITPOS", "ones", "0", "0", "-1", "BIT"), ("BITPOS", "ones", "0", "3", "20", "bit"),
        ("BITPOS", "ones", "1", "7", "9", "BIT"),
        ("SET", "zeros", b"\x00\x00\x00"), ("BITPOS", "zeros", "1"), ("BITPOS", "zeros", "0", "1"),
        ("BITPOS", "zeros", "1", "0", "-1", "BIT"),
        ("SET", "w", b"\x00" * 40 + b"\x01" + b"\xff" * 40), ("BITPOS", "w", "1"), ("BITPOS", "w", "0", "41"),
        ("BITPOS", "w", "0", "41", "-1"), ("BITCOUNT", "w"), ("BITCOUNT", "w", "3", "300", "BIT"),
        ("SET", "n", "-123"), ("BITPOS", "n", "1"), ("BITCOUNT", "n", "1", "2"),
    ],
    "bitfield": [
        ("BITFIELD", "f", "SET", "u8", "0", "255", "GET", "u8", "0"), ("GET", "f"),
        ("BITFIELD", "f", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"),
        ("BITFIELD", "f", "SET", "i8", "#1", "-100", "GET", "i8", "#1", "GET", "u4", "#3"), ("GET", "f"),
        ("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "8", "-100", "INCRBY", "i8", "8", "100"),
        ("BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "u63", "1", "9223372036854775807"),
        ("BITFIELD", "f", "SET", "i64", "3", "-9223372036854775808", "INCRBY", "i64", "3", "-1"),
        ("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i64", "3", "-1", "INCRBY", "i64", "3", "9223372036854775807"),
        ("BITFIELD", "f", "GET", "u1", "100000"), ("STRLEN", "f"),
        ("BITFIELD", "f"), ("BITFIELD", "nokey"), ("EXISTS", "nokey"), ("BITFIELD", "nokey", "GET", "i5", "3"),
        ("EXISTS", "nokey"),
        ("BITFIELD", "f", "GET", "u64", "0"), ("BITFIELD", "f", "GET", "i65", "0"), ("BITFIELD", "f", "GET", "u0", "0"),
        ("BITFIELD", "f", "GET", "x8", "0"), ("BITFIELD", "f", "GET", "", "0"), ("BITFIELD", "f", "GET", "u8", "-1"),
        ("BITFIELD", "f", "GET", "u8", "#-1"), ("BITFIELD", "f", "GET", "u8", "#x"), ("BITFIELD", "f", "GET", "u8"),
        ("BITFIELD", "f", "SET", "u8", "0"), ("BITFIELD", "f", "SET", "u8", "0", "x"), ("BITFIELD", "f", "FOO", "u8", "0"),
        ("BITFIELD", "f", "OVERFLOW"), ("BITFIELD", "f", "OVERFLOW", "foo", "GET", "u8", "0"),
        ("BITFIELD", "f", "GET", "u8", "0", "SET", "x8", "0", "1"),
        ("BITFIELD", "f", "GET", "u8", "4294967296"), ("BITFIELD", "f", "GET", "i64", "#9223372036854775807"),
        ("BITFIELD_RO", "f", "GET", "u8", "0", "GET", "i3", "#2"), ("BITFIELD_RO", "f", "SET", "u8", "0", "1"),
        ("BITFIELD_RO", "f", "INCRBY", "u8", "0", "1"), ("BITFIELD_RO", "f", "OVERFLOW", "SAT"),
        ("BITFIELD_RO", "nokey", "GET", "u8", "0"), ("BITFIELD_RO", "nokey", "SET", "u8", "0", "1"),
        ("SET", "i", "123456"), ("BITFIELD_RO", "i", "GET", "u16", "0", "GET", "i32", "20"),
        ("BITFIELD", "i", "GET", "u8", "8"), ("OBJECT", "ENCODING", "i"),
        ("BITFIELD", "i", "SET", "u8", "0", "65"), ("GET", "i"), ("OBJECT", "ENCODING", "i"),
    ],
    "watch": [
        # A SETBIT that changes nothing does not touch a watched key.
        ("SET", "k", "a"), ("WATCH", "k"), ("SETBIT", "k", "0", "0"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "k"), ("SETBIT", "k", "1", "1"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "k"), ("SETBIT", "k", "100", "0"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "k"), ("BITFIELD", "k", "SET", "u8", "0", "97"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "k"), ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"), ("MULTI",), ("PING",),
        ("EXEC",),
        ("SET", "n", "1"), ("WATCH", "n"), ("SETBIT", "n", "0", "0"), ("OBJECT", "ENCODING", "n"), ("MULTI",),
        ("PING",), ("EXEC",),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(ringkv, redis_ref, name, proto):
    compare(ringkv, redis_ref, SCENARIOS[name], proto)


def test_random_ranges(ringkv, redis_ref):
    rnd = random.Random(7)
    steps = [("SET", "s", "foobar"), ("SET", "i", "-1234567"), ("SET", "r", bytes(rnd.randrange(256) for _ in range(77)))]
    steps.append(("SET", "o", b"\xff" * 20 + b"\x00" + b"\xff" * 20))
    for k in ("s", "i", "r", "o", "nokey"):
        for _ in range(60):
            a, b = rnd.randint(-700, 700), rnd.randint(-700, 700)
            if rnd.random() < 0.5:
                a, b = a // 20, b // 20
            steps += [("BITCOUNT", k, a, b), ("BITCOUNT", k, a, b, "BIT"), ("BITCOUNT", k, a, b, "BYTE")]
            for bit in (0, 1):
                steps += [("BITPOS", k, bit, a), ("BITPOS", k, bit, a, b), ("BITPOS", k, bit, a, b, "BIT"),
                          ("BITPOS", k, bit, a, b, "BYTE")]
    compare(ringkv, redis_ref, steps)


def test_random_setbit_and_bitfield(ringkv, redis_ref):
    rnd = random.Random(11)
    steps = []
    for _ in range(300):
        steps.append(("SETBIT", "bm", rnd.randint(0, 700), rnd.randint(0, 1)))
    steps += [("GET", "bm"), ("BITCOUNT", "bm")]
    for _ in range(400):
        t = rnd.choice("iu") + str(rnd.randint(1, 64))
        if t == "u64":
            t = "u63"
        off = rnd.choice([str(rnd.randint(0, 200)), "#" + str(rnd.randint(0, 12))])
        v = rnd.choice([rnd.randint(-2**63, 2**63 - 1), rnd.randint(-300, 300)])
        steps.append(("BITFIELD", "bf", "OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"]),
                      rnd.choice(["SET", "INCRBY"]), t, off, v, "GET", t, off, "GET", "i64", rnd.randint(0, 1700)))
    steps.append(("GET", "bf"))
    compare(ringkv, redis_ref, steps)


def test_bitop(ringkv, redis_ref, matrix_entry):
    """BITOP with sources and destination on distinct shards (4 shards)."""
    _, shards = matrix_entry
    rnd = random.Random(3)
    keys = harness.keys_on_distinct_shards("bk", 6, shards)
    steps = []
    for k in keys[:4]:
        steps.append(("SET", k, bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 90)))))
    steps.append(("SET", keys[4], "12345"))
    dst = keys[5]
    src = keys[:5] + ["bk-missing"]
    for op in ("AND", "OR", "XOR", "and", "Or"):
        for n in range(1, 7):
            ks = [rnd.choice(src) for _ in range(n)]
            steps += [("BITOP", op, dst, *ks), ("GET", dst), ("OBJECT", "ENCODING", dst), ("TTL", dst)]
    steps += [("BITOP", "NOT", dst, keys[0]), ("GET", dst), ("BITOP", "NOT", dst, keys[4]), ("GET", dst),
              ("BITOP", "NOT", dst, "bk-missing"), ("EXISTS", dst),
              ("SET", dst, "x", "EX", "100"), ("BITOP", "OR", dst, keys[1]), ("TTL", dst), ("GET", dst),
              ("LPUSH", keys[3], "x"), ("BITOP", "OR", dst, keys[0], keys[3]), ("GET", dst),
              ("SADD", dst, "m"), ("BITOP", "XOR", dst, keys[0]), ("TYPE", dst),
              ("BITOP", "AND", keys[0], keys[0], keys[1]), ("GET", keys[0]),
              ("BITOP", "OR", dst, "bk-missing", "bk-missing2"), ("EXISTS", dst)]
    compare(ringkv, redis_ref, steps)


def test_big_offsets_and_limits(ringkv, redis_ref):
    """Offsets are bounded by proto-max-bulk-len, as it is set now."""
    steps = [("CONFIG", "SET", "proto-max-bulk-len", "2mb"), SYNC,
             ("SETBIT", "b", "16777215", "1"), ("SETBIT", "b", "16777216", "1"), ("STRLEN", "b"), ("BITCOUNT", "b"),
             ("BITPOS", "b", "1"), ("BITPOS", "b", "0", "-1"), ("GETBIT", "b", "16777216"),
             ("BITFIELD", "b", "SET", "u8", "16777208", "1"), ("BITFIELD", "b", "GET", "u16", "16777208"),
             ("BITFIELD", "b", "SET", "u16", "16777208", "1"), ("BITFIELD", "b", "SET", "u8", "#2097151", "3"),
             ("BITFIELD", "b", "SET", "u8", "#2097152", "3"), ("STRLEN", "b"), SYNC,
             ("CONFIG", "SET", "proto-max-bulk-len", "512mb")]
    compare(ringkv, redis_ref, steps)


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", COMMANDS)
def test_command_info_and_docs(ringkv, redis_ref, name, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        assert _present(ours, [name]) == [name]
        for sub in ("INFO", "DOCS"):
            got = ours.call("COMMAND", sub, name.upper())
            want = ref.call("COMMAND", sub, name.upper())
            assert got == want, f"COMMAND {sub} {name} (RESP{proto}) differs:\n" + _first_diff(got, want)
        got = ours.call("COMMAND", "GETKEYS", *(["BITOP", "AND", "d", "a", "b"] if name == "bitop" else
                                                [name.upper(), "k", "0", "1"]))
        want = ref.call("COMMAND", "GETKEYS", *(["BITOP", "AND", "d", "a", "b"] if name == "bitop" else
                                                [name.upper(), "k", "0", "1"]))
        assert got == want
