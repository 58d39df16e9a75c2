"""HyperLogLog (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) against
redis-server 7.0.

An HLL is a string in Redis's own format, so besides the replies the tests
compare the HLL's bytes (GET) after the same adds, for sparse and dense
HLLs; move HLL bytes from redis-server into ringkv and back; and feed both
servers the same corrupted HLLs. With 4 shards PFCOUNT's and PFMERGE's
keys live on different shards.
"""
from __future__ import annotations

import random

import pytest

import harness
from test_bitmaps import SYNC, compare
from test_command_meta_collections import _conn, _first_diff, _present

COMMANDS = "pfadd pfcount pfmerge pfdebug pfselftest".split()


def elements(rnd, n):
    return [f"e{rnd.random()}" for _ in range(n)]


def adds(key, els, step=9):
    return [("PFADD", key, *els[i:i + step]) for i in range(0, len(els), step)]


@pytest.mark.parametrize("n", [0, 1, 20, 200, 900, 2500, 12000])
def test_bytes_after_adds(ringkv, redis_ref, n):
    """Sparse, promoted and dense HLLs have Redis's bytes, cache included."""
    rnd = random.Random(n)
    els = elements(rnd, n)
    steps = [("PFADD", "h")] + adds("h", els)
    steps += [("GET", "h"), ("PFCOUNT", "h"), ("GET", "h"), ("PFADD", "h", *els[:5]), ("GET", "h"),
              ("PFADD", "h", "new1", "new2"), ("GET", "h"), ("PFDEBUG", "ENCODING", "h"), ("STRLEN", "h"),
              ("OBJECT", "ENCODING", "h"), ("PFCOUNT", "h"), ("TYPE", "h")]
    if n <= 900:
        steps.append(("PFDEBUG", "DECODE", "h"))
    compare(ringkv, redis_ref, steps)


def test_sparse_max_bytes(ringkv, redis_ref):
    steps = [("CONFIG", "SET", "hll-sparse-max-bytes", "60"), SYNC]
    steps += adds("h", [str(i) for i in range(40)], step=1)
    steps += [("GET", "h"), ("PFDEBUG", "ENCODING", "h"), SYNC, ("CONFIG", "SET", "hll-sparse-max-bytes", "0"),
              SYNC, ("PFADD", "z", "a"), ("PFDEBUG", "ENCODING", "z"), ("GET", "z"), SYNC,
              ("CONFIG", "SET", "hll-sparse-max-bytes", "3000"), ("CONFIG", "GET", "hll-sparse-max-bytes")]
    compare(ringkv, redis_ref, steps)


def test_bytes_round_trip(ringkv, redis_ref):
    """HLL bytes written by redis-server count the same in ringkv, and the
    bytes ringkv writes from there are redis-server's."""
    rnd = random.Random(5)
    ref = redis_ref.client()
    ours = ringkv.client()
    for n in (3, 300, 5000):
        ref.flushall()
        ours.flushall()
        els = elements(rnd, n)
        ref.pfadd("h", *els)
        raw = ref.get("h")
        ours.set("h", raw)
        assert ours.pfcount("h") == ref.pfcount("h")
        more = elements(rnd, 50)
        ours.pfadd("h", *more)
        ref.pfadd("h", *more)
        assert ours.get("h") == ref.get("h")
        # And back: ringkv's bytes into redis-server.
        ref.set("h2", ours.get("h"))
        assert ref.pfcount("h2") == ours.pfcount("h")
        assert ref.execute_command("PFDEBUG", "GETREG", "h2") == ours.execute_command("PFDEBUG", "GETREG", "h")
    ref.close()
    ours.close()


def test_cross_shard_count_and_merge(ringkv, redis_ref, matrix_entry):
    _, shards = matrix_entry
    rnd = random.Random(9)
    ks = harness.keys_on_distinct_shards("hk", 5, shards)
    steps = []
    for k, n in zip(ks[:4], (10, 300, 2000, 0)):
        steps += adds(k, elements(rnd, n), step=50) + [("PFADD", k)]
    steps += [("PFCOUNT", *ks[:4]), ("PFCOUNT", ks[0], ks[1]), ("PFCOUNT", ks[0], "hk-missing"),
              ("PFCOUNT", ks[3], ks[3]),
              ("PFMERGE", ks[4], ks[0], ks[1]), ("GET", ks[4]), ("PFCOUNT", ks[4]), ("PFDEBUG", "ENCODING", ks[4]),
              ("PFMERGE", ks[4], ks[2]), ("GET", ks[4]), ("PFDEBUG", "ENCODING", ks[4]),
              ("PFMERGE", ks[0], ks[1], "hk-missing"), ("GET", ks[0]), ("PFCOUNT", ks[0]),
              ("PFMERGE", "hk-new"), ("GET", "hk-new"), ("PFMERGE", ks[3]), ("GET", ks[3]),
              ("SET", ks[1], "x", "EX", "100"), ("PFCOUNT", ks[0], ks[1]), ("PFMERGE", ks[4], ks[1]),
              ("PFMERGE", ks[1], ks[0]),
              ("DEL", ks[1]), ("PFADD", ks[1], "a"), ("EXPIRE", ks[1], "100"), ("PFMERGE", ks[1], ks[2]),
              ("TTL", ks[1]), ("GET", ks[1])]
    compare(ringkv, redis_ref, steps)
    compare(ringkv, redis_ref, steps, proto=3)


def test_errors_and_types(ringkv, redis_ref):
    steps = [("SET", "str", "hello"), ("PFADD", "str", "a"), ("PFCOUNT", "str"), ("PFCOUNT", "str", "nokey"),
             ("PFMERGE", "d", "str"), ("PFMERGE", "str", "nokey"), ("PFDEBUG", "ENCODING", "str"),
             ("SET", "int", "1234567890123456789"), ("PFADD", "int", "a"), ("PFCOUNT", "int"),
             ("SET", "short", "HYLL"), ("PFCOUNT", "short"),
             ("LPUSH", "l", "a"), ("PFADD", "l", "a"), ("PFCOUNT", "l"), ("PFCOUNT", "l", "str"),
             ("PFMERGE", "l", "nokey"), ("PFMERGE", "nokey", "l"), ("EXISTS", "nokey"), ("PFDEBUG", "GETREG", "l"),
             ("PFADD",), ("PFCOUNT",), ("PFMERGE",), ("PFDEBUG", "GETREG"), ("PFDEBUG", "GETREG", "a", "b"),
             ("PFSELFTEST", "x"),
             ("PFDEBUG", "GETREG", "nokey"), ("PFDEBUG", "FOO", "nokey"), ("PFADD", "h", "a", "b"),
             ("PFDEBUG", "FOO", "h"), ("PFDEBUG", "encoding", "h"), ("PFDEBUG", "decode", "h"),
             ("PFDEBUG", "TODENSE", "h"), ("PFDEBUG", "TODENSE", "h"), ("PFDEBUG", "DECODE", "h"), ("GET", "h"),
             ("PFCOUNT", "h"), ("PFCOUNT", "nokey"), ("PFCOUNT", "nokey", "nokey2"), ("EXISTS", "nokey")]
    compare(ringkv, redis_ref, steps)


def test_getreg_and_watch(ringkv, redis_ref):
    steps = [("PFADD", "h", *[str(i) for i in range(100)]), ("PFDEBUG", "GETREG", "h"), ("GET", "h"),
             # PFCOUNT refreshes the cache (a change), a cached PFCOUNT does not.
             ("PFADD", "h", "x"), ("WATCH", "h"), ("PFCOUNT", "h"), ("MULTI",), ("PING",), ("EXEC",),
             ("WATCH", "h"), ("PFCOUNT", "h"), ("MULTI",), ("PING",), ("EXEC",),
             ("WATCH", "h"), ("PFADD", "h", "x"), ("MULTI",), ("PING",), ("EXEC",),
             ("WATCH", "h"), ("PFADD", "h", "never-seen-before"), ("MULTI",), ("PING",), ("EXEC",)]
    compare(ringkv, redis_ref, steps)


def _corrupt_cases():
    rnd = random.Random(13)
    hdr = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80"
    cases = [hdr + b"\x7f\xff", hdr + b"\x7f\xff\x80", hdr + b"\x7f\xfe\x80", hdr + b"\x80\x7f\xfe",
             hdr + b"\x7f\xfe\x83", hdr + b"\x7f\xff\x00", hdr + b"\x7f\xff\x7f\xff", hdr, hdr + b"\x7f",
             hdr + b"\xff" * 4096, hdr + b"\x7f\xfe\x7f", b"HYLL\x02" + hdr[5:] + b"\x7f\xff",
             b"HYLX" + hdr[4:] + b"\x7f\xff", b"HYLL\x00" + hdr[5:] + b"\x00" * 12287,
             b"HYLL\x00" + hdr[5:] + b"\xff" * 12288, b"HYLL\x00" + hdr[5:] + b"\x00" * 12289]
    return cases, rnd


def test_corrupted_hlls(ringkv, redis_ref):
    """Corrupt HLLs get Redis's replies (INVALIDOBJ / WRONGTYPE), never a crash."""
    cases, _ = _corrupt_cases()
    steps = [("PFADD", "ok", "a", "b", "c")]
    for i, v in enumerate(cases):
        k = f"c{i}"
        steps += [("SET", k, v), ("PFCOUNT", k), ("PFCOUNT", k, "ok"), ("PFADD", k, "q", "r", "s"), ("GET", k),
                  ("PFMERGE", f"m{i}", k), ("GET", f"m{i}"), ("PFDEBUG", "TODENSE", k), ("PFDEBUG", "ENCODING", k)]
    compare(ringkv, redis_ref, steps)


def test_fuzzed_hlls(ringkv, redis_ref):
    """Sparse and dense HLLs with random bytes changed, each fed to both
    servers through every command."""
    rnd = random.Random(17)
    ref = redis_ref.client()
    srcs = []
    for n in (5, 50, 300, 3000):
        ref.delete("src")
        ref.pfadd("src", *elements(rnd, n))
        srcs.append(ref.get("src"))
    ref.close()
    steps = []
    for t in range(150):
        v = bytearray(rnd.choice(srcs))
        for _ in range(rnd.randint(1, 4)):
            v[rnd.randrange(16, len(v))] = rnd.randrange(256)
        steps += [("SET", "fz", bytes(v)), ("PFCOUNT", "fz"), ("PFCOUNT", "fz", "nokey"),
                  ("PFADD", "fz", f"x{t}"), ("GET", "fz"), ("DEL", "m"), ("PFMERGE", "m", "fz"), ("GET", "m"),
                  ("PFDEBUG", "ENCODING", "fz")]
    compare(ringkv, redis_ref, steps)


def test_register_promotion_by_merge(ringkv, redis_ref):
    """A dense source with a register over 32 makes a sparse destination dense."""
    regs = bytearray(12288)
    regs[0] = 40  # register 0 = 40
    dense = b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80" + bytes(regs)
    steps = [("SET", "d", dense), ("PFCOUNT", "d"), ("PFADD", "s", "a"), ("PFMERGE", "s", "d"), ("GET", "s"),
             ("PFDEBUG", "ENCODING", "s"), ("PFCOUNT", "s"), ("PFCOUNT", "s", "d")]
    compare(ringkv, redis_ref, steps)


def _dense(vals):
    """A dense HLL with these register values (6 bits each, LSB first)."""
    regs = bytearray(12289)
    for i, v in enumerate(vals):
        bit = i * 6
        w = v << (bit % 8)
        regs[bit // 8] |= w & 0xff
        regs[bit // 8 + 1] |= w >> 8
    return b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80" + bytes(regs[:12288])


def test_extreme_dense_registers(ringkv, redis_ref):
    """Registers Redis never writes itself (51..63) reach the estimator's
    edges: an infinite or huge estimate is Redis's integer indefinite."""
    rnd = random.Random(21)
    cases = [[50] * 16384, [51] * 16384, [63] * 16384, [49] * 16384, [0] * 16383 + [63],
             [rnd.randint(0, 63) for _ in range(16384)], [rnd.randint(40, 63) for _ in range(16384)],
             [rnd.choice([0, 51]) for _ in range(16384)]]
    steps = []
    for i, vals in enumerate(cases):
        steps += [("SET", f"d{i}", _dense(vals)), ("PFCOUNT", f"d{i}"), ("PFCOUNT", f"d{i}", "nokey"),
                  ("PFMERGE", f"m{i}", f"d{i}"), ("PFCOUNT", f"m{i}"), ("GET", f"m{i}"), ("PFADD", f"d{i}", "a"),
                  ("GET", f"d{i}")]
    compare(ringkv, redis_ref, steps)


def test_selftest(ringkv):
    with ringkv.raw(timeout=60) as c:
        assert c.call("PFSELFTEST") == ("+", b"OK")


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", COMMANDS)
def test_command_info_and_docs(ringkv, redis_ref, name, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        assert _present(ours, [name]) == [name]
        for sub in ("INFO", "DOCS"):
            got = ours.call("COMMAND", sub, name.upper())
            want = ref.call("COMMAND", sub, name.upper())
            assert got == want, f"COMMAND {sub} {name} (RESP{proto}) differs:\n" + _first_diff(got, want)
