"""DUMP, RESTORE and DEBUG DIGEST against redis-server 7.0.

A seeded random dataset holds every type in every encoding Redis 7.0 has
for it (int/embstr/raw strings, long compressible strings; quicklists with
small, 12-bit and 32-bit length elements; intsets of every width and
hashtable sets; listpack and skiplist sorted sets; listpack and hashtable
hashes). The same commands build it in ringkv (every matrix entry, so keys
spread over 4 shards) and in redis-server, then:

* DUMP payloads are byte-identical wherever Redis's bytes do not follow its
  dict's iteration order (everything but hashtable sets and hashes);
* a payload DUMPed by either server RESTOREs in the other with the same
  TYPE, value, OBJECT ENCODING and DEBUG DIGEST-VALUE;
* DEBUG DIGEST of the whole dataset (several databases, keys with TTLs) is
  the same 40 hex digits on both servers;
* RESTORE's options and errors are Redis's;
* corrupt payloads carrying a correct CRC64 (so the parser itself is hit)
  get an error or a usable value, and the server stays up.
"""
from __future__ import annotations

import random
import time

import pytest

import harness

# Redis's CRC-64 (Jones, reflected, init 0), for payloads built here.
_POLY = 0x95AC9329AC4BC9B5
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc64(data: bytes) -> int:
    c = 0
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c


def with_footer(body: bytes, version: int = 10) -> bytes:
    """A DUMP payload: value, RDB version, CRC64 of both."""
    b = body + version.to_bytes(2, "little")
    return b + crc64(b).to_bytes(8, "little")


def dataset(seed: int) -> list[tuple]:
    """Commands building one key of each type and encoding (plus variants)."""
    rnd = random.Random(seed)
    word = lambda n: "".join(rnd.choice("abcdefghij") for _ in range(n))
    cmds: list[tuple] = []
    # Strings: shared and unshared ints, 8/16/32-bit int encodings, 64-bit
    # ints stored as text, embstr/raw, compressible and incompressible.
    for i, v in enumerate(["0", "7", "-128", "127", "300", "-32768", "70000", "-2147483648", "2147483647",
                           "4294967296", "-9223372036854775808", "9223372036854775807", "007", "+5", "1.5",
                           "", "x", word(30), word(44), word(45), "ab" * 40, "hello world " * 30,
                           bytes(rnd.getrandbits(8) for _ in range(300))]):
        cmds.append(("SET", f"str:{i}", v))
    # Lists: RPUSH-built (Redis's nodes are then what ringkv's DUMP rebuilds).
    cmds.append(("RPUSH", "list:small", "a", "1", "-1", "4095", "-4096", "32767", "-32769", "8388607",
                 "-2147483649", "9223372036854775807", "-9223372036854775808", "12ab"))
    cmds.append(("RPUSH", "list:big", *[str(rnd.randint(-10**12, 10**12)) for _ in range(3000)]))
    cmds.append(("RPUSH", "list:words", *[word(rnd.randint(1, 80)) for _ in range(1500)]))
    cmds.append(("RPUSH", "list:huge-elements", "h" * 70, "i" * 5000, word(9000), "z"))
    # Sets: intsets of each width, hashtables of strings and of many ints.
    cmds.append(("SADD", "set:int16", *[str(rnd.randint(-30000, 30000)) for _ in range(50)]))
    cmds.append(("SADD", "set:int32", "1", "-70000", "2000000000"))
    cmds.append(("SADD", "set:int64", "1", "5000000000", "-9223372036854775808"))
    cmds.append(("SADD", "set:strings", *[word(rnd.randint(1, 20)) for _ in range(40)]))
    cmds.append(("SADD", "set:many-ints", *[str(i * 3) for i in range(700)]))
    # Sorted sets: listpack (integer, fractional, negative, infinite, huge
    # scores), skiplist by count and by member length.
    cmds.append(("ZADD", "zset:small", "1", "a", "2.5", "b", "-3", "c", "1e20", "d", "inf", "e", "-inf", "f",
                 "0.1", "g", "4611686018427387904", "h", "1e300", "i", "100", "123"))
    cmds.append(("ZADD", "zset:big", *[x for i in range(300) for x in (str(rnd.randint(-500, 500) / 4), f"m{i}")]))
    cmds.append(("ZADD", "zset:long-member", "1", "x" * 100, "2", "y"))
    # Hashes: listpack with integer and string values, hashtables.
    cmds.append(("HSET", "hash:small", "f1", "v1", "n", "-42", "big", "5000000000", "s", word(60), "7", "8"))
    cmds.append(("HSET", "hash:big", *[x for i in range(600) for x in (f"field{i}", str(rnd.randint(0, 10**6)))]))
    cmds.append(("HSET", "hash:long-value", "f", "v" * 100))
    # Strings and sorted sets of the other families: HyperLogLogs (sparse,
    # dense), a bitmap, a geo set.
    cmds.append(("PFADD", "hll:sparse", *[word(8) for _ in range(40)]))
    cmds.append(("PFADD", "hll:dense", *[word(12) for _ in range(3000)]))
    cmds.append(("SETBIT", "bits", rnd.randint(0, 5000), 1))
    cmds.append(("GEOADD", "geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"))
    # Streams, with explicit IDs so both servers hold the same entries:
    # nodes split by entry count and by bytes, same-fields and full entries,
    # integer values, deleted entries, an exact trim inside a node, groups
    # without consumers (a consumer's times would differ), an emptied
    # stream with XSETID's counters.
    cmds.append(("XADD", "stream:small", "1-1", "a", "1", "b", word(5)))
    cmds.append(("XADD", "stream:small", "1-2", "a", "-70000", "b", "x"))
    cmds.append(("XADD", "stream:small", "5-0", "c", "9223372036854775807", "d", ""))
    for i in range(450):
        f = ("temp", str(rnd.randint(-50, 5000)), "name", word(rnd.randint(1, 12))) if i % 9 else ("other", word(3))
        cmds.append(("XADD", "stream:big", f"{100 + i // 4}-{i % 4}", *f))
    cmds.append(("XDEL", "stream:big", "100-3", "110-0", "150-2", "150-3", "99-0"))
    cmds.append(("XTRIM", "stream:big", "MAXLEN", "400"))
    cmds.append(("XGROUP", "CREATE", "stream:big", "g1", "0"))
    cmds.append(("XGROUP", "CREATE", "stream:big", "g2", "150-1", "ENTRIESREAD", "40"))
    cmds.append(("XGROUP", "CREATE", "stream:big", "g0", "$"))
    for i in range(40):
        cmds.append(("XADD", "stream:bytes", f"{10**12 + i * 1000}-0", "payload", word(rnd.randint(100, 400))))
    cmds.append(("XADD", "stream:empty", "1-0", "f", "v"))
    cmds.append(("XDEL", "stream:empty", "1-0"))
    cmds.append(("XSETID", "stream:empty", "10-0", "ENTRIESADDED", "5", "MAXDELETEDID", "3-0"))
    cmds.append(("XGROUP", "CREATE", "stream:empty", "g", "$"))
    return cmds


HASHTABLE_ORDER = {"set:strings", "set:many-ints", "hash:big", "hash:long-value"}


def keys_of(cmds) -> list[str]:
    return list(dict.fromkeys(c[2] if c[0] == "XGROUP" else c[1] for c in cmds))


def xinfo_full(client, key: str):
    """XINFO STREAM FULL as sent (no redis-py parsing), delivery and seen
    times masked, without radix-tree-nodes (RingKV estimates the rax's
    node count)."""
    cb = client.response_callbacks
    saved = {k: cb.pop(k) for k in list(cb) if k.startswith("XINFO")}
    try:
        v = client.execute_command("XINFO", "STREAM", key, "FULL")
    finally:
        cb.update(saved)

    def mask(x):
        if isinstance(x, list):
            return [mask(e) for e in x]
        return "time" if isinstance(x, int) and x > 10**12 else x
    v = mask(v)
    i = v.index(b"radix-tree-nodes")
    del v[i:i + 2]
    return v


def build(client, cmds, db: int = 0):
    client.execute_command("SELECT", db)
    for c in cmds:
        client.execute_command(*c)


def snapshot(client, key: str):
    """TYPE, value (sets and hashes sorted), OBJECT ENCODING."""
    t = client.execute_command("TYPE", key).decode()
    if t == "string":
        v = client.execute_command("GET", key)
    elif t == "list":
        v = client.execute_command("LRANGE", key, 0, -1)
    elif t == "set":
        v = sorted(client.execute_command("SMEMBERS", key))
    elif t == "zset":
        v = client.execute_command("ZRANGE", key, 0, -1, "WITHSCORES")
    elif t == "hash":
        v = sorted(client.execute_command("HGETALL", key))
    elif t == "stream":
        v = xinfo_full(client, key)
    else:
        v = None
    enc = client.execute_command("OBJECT", "ENCODING", key) if t != "none" else None
    return t, v, enc


@pytest.fixture
def pair(ringkv, redis_dbg):
    ours, ref = ringkv.client(), redis_dbg.client()
    for c in (ours, ref):
        c.flushall()
    yield ours, ref
    for c in (ours, ref):
        c.execute_command("CONFIG", "SET", "rdbcompression", "yes")
        c.flushall()
        c.close()
    assert ringkv.alive(), ringkv.log_tail()


@pytest.mark.parametrize("seed", [1, 2])
def test_dump_payloads_are_redis_bytes(pair, seed):
    ours, ref = pair
    cmds = dataset(seed)
    for c in (ours, ref):
        build(c, cmds)
    for key in keys_of(cmds):
        assert snapshot(ours, key) == snapshot(ref, key), key
        got, want = ours.execute_command("DUMP", key), ref.execute_command("DUMP", key)
        if key in HASHTABLE_ORDER:
            # Same type byte, length and footer version; the order is the table's.
            assert got[0] == want[0] and len(got) == len(want) and got[-10:-8] == want[-10:-8], key
        else:
            assert got == want, f"{key}: DUMP differs\n ringkv {got[:80]!r}\n redis  {want[:80]!r}"


def test_dump_without_compression(pair):
    ours, ref = pair
    for c in (ours, ref):
        c.execute_command("CONFIG", "SET", "rdbcompression", "no")
        c.execute_command("SET", "s", "ab" * 100)
        c.execute_command("RPUSH", "l", *(["same-element"] * 200))
    for key in ("s", "l"):
        got = ours.execute_command("DUMP", key)
        assert got == ref.execute_command("DUMP", key), key
    assert ours.execute_command("DUMP", "s")[1:3] == b"\x40\xc8", "a plain 200-byte string"


@pytest.mark.parametrize("direction", ["redis-to-ringkv", "ringkv-to-redis"])
def test_restore_across_servers(pair, direction):
    ours, ref = pair
    src, dst = (ref, ours) if direction == "redis-to-ringkv" else (ours, ref)
    cmds = dataset(3)
    build(src, cmds)
    for key in keys_of(cmds):
        payload = src.execute_command("DUMP", key)
        assert dst.execute_command("RESTORE", key, 0, payload) == b"OK"
        assert snapshot(dst, key) == snapshot(src, key), key
        assert dst.execute_command("DEBUG", "DIGEST-VALUE", key) == \
            src.execute_command("DEBUG", "DIGEST-VALUE", key), key
        # And back again: the value survives a second trip unchanged.
        again = dst.execute_command("DUMP", key)
        assert src.execute_command("RESTORE", "again", 0, again, "REPLACE") == b"OK"
        assert snapshot(src, "again") == snapshot(src, key), key
    src.execute_command("DEL", "again")
    assert dst.execute_command("DEBUG", "DIGEST") == src.execute_command("DEBUG", "DIGEST")


def test_digest_of_whole_dataset(pair):
    ours, ref = pair
    assert ours.execute_command("DEBUG", "DIGEST") == ref.execute_command("DEBUG", "DIGEST") == b"0" * 40
    cmds = dataset(4)
    for c in (ours, ref):
        build(c, cmds, db=0)
        build(c, cmds[:10], db=3)
        c.execute_command("SELECT", 0)
        c.execute_command("EXPIRE", "list:small", 1000)
        c.execute_command("PEXPIRE", "str:3", 5000000)
    d = ours.execute_command("DEBUG", "DIGEST")
    assert d == ref.execute_command("DEBUG", "DIGEST")
    keys = keys_of(cmds) + ["missing"]
    assert ours.execute_command("DEBUG", "DIGEST-VALUE", *keys) == \
        ref.execute_command("DEBUG", "DIGEST-VALUE", *keys)
    assert ours.execute_command("DEBUG", "DIGEST-VALUE") == ref.execute_command("DEBUG", "DIGEST-VALUE") == []
    # The digest sees a change, a moved database and a dropped TTL.
    for c in (ours, ref):
        c.execute_command("PERSIST", "str:3")
    d2 = ours.execute_command("DEBUG", "DIGEST")
    assert d2 != d and d2 == ref.execute_command("DEBUG", "DIGEST")
    for c in (ours, ref):
        c.execute_command("SWAPDB", 3, 5)
    assert ours.execute_command("DEBUG", "DIGEST") == ref.execute_command("DEBUG", "DIGEST") != d2


def call_both(ours, ref, *cmd):
    """The same command on both; errors compared by message."""
    out = []
    for c in (ours, ref):
        try:
            out.append(("ok", c.execute_command(*cmd)))
        except Exception as e:  # noqa: BLE001 - the error text is the point
            out.append(("err", str(e)))
    assert out[0] == out[1], f"{cmd[:3]}: ringkv {out[0]!r}, redis {out[1]!r}"
    return out[0]


def test_restore_options_and_errors(pair):
    ours, ref = pair
    for c in (ours, ref):
        c.execute_command("SET", "src", "value")
        c.execute_command("SET", "busy", "x")
    payload = ref.execute_command("DUMP", "src")
    assert ours.execute_command("DUMP", "src") == payload
    assert call_both(ours, ref, "DUMP", "nokey") == ("ok", None)
    cases = [
        ("RESTORE", "busy", 0, payload),
        ("RESTORE", "busy", 0, payload, "REPLACE"),
        ("RESTORE", "k1", -1, payload),
        ("RESTORE", "k1", "abc", payload),
        ("RESTORE", "k1", 0, payload, "FOO"),
        ("RESTORE", "k1", 0, payload, "IDLETIME"),
        ("RESTORE", "k1", 0, payload, "IDLETIME", "-1"),
        ("RESTORE", "k1", 0, payload, "IDLETIME", "x"),
        ("RESTORE", "k1", 0, payload, "FREQ", "256"),
        ("RESTORE", "k1", 0, payload, "FREQ", "-1"),
        ("RESTORE", "k1", 0, payload, "FREQ", "5", "IDLETIME", "5"),
        ("RESTORE", "k1", 0, payload, "IDLETIME", "5", "FREQ", "5"),
        ("RESTORE", "k2", 0, b"short"),
        ("RESTORE", "k2", 0, payload[:-1] + bytes([payload[-1] ^ 1])),
        ("RESTORE", "k2", 0, with_footer(payload[:-10], version=11)),
        ("RESTORE", "k2", 0, with_footer(b"\x63\x00")),             # not a value type
        ("RESTORE", "k2", 0, with_footer(b"\x00\x05ab")),           # string past the end
        ("RESTORE", "k2", 0, with_footer(b"\x02\x00")),             # empty set
        ("RESTORE", "k2", 0, with_footer(b"\x02\x02\x01a\x01a")),   # duplicate member
        ("RESTORE", "k2", 0, with_footer(b"\x05\x01\x01a" + b"\x00" * 6 + b"\xf8\x7f")),  # NaN score
        ("RESTORE", "k3", 0, payload, "FREQ", "100"),
        ("RESTORE", "k4", 0, payload, "ABSTTL"),
        ("RESTORE", "k5", 1, payload, "ABSTTL"),                      # already expired
        ("RESTORE", "busy", 1, payload, "ABSTTL", "REPLACE"),         # deletes busy
        ("RESTORE", "k6", 0, with_footer(payload[:-10], version=9)),  # older versions load
    ]
    for cmd in cases:
        call_both(ours, ref, *cmd)
    for key in ("busy", "k1", "k2", "k3", "k4", "k5", "k6"):
        assert snapshot(ours, key) == snapshot(ref, key), key
    # TTLs: relative and absolute.
    for c in (ours, ref):
        c.execute_command("RESTORE", "t1", 100000, payload)
        assert 95000 < c.execute_command("PTTL", "t1") <= 100000
        c.execute_command("RESTORE", "t2", 4102444800000, payload, "ABSTTL")
        assert c.execute_command("PEXPIRETIME", "t2") == 4102444800000
        c.execute_command("RESTORE", "idle", 0, payload, "IDLETIME", "1000")
        assert 1000 <= c.execute_command("OBJECT", "IDLETIME", "idle") <= 1002


def test_restore_wakes_blocked_pop_and_watch(ringkv, redis_dbg):
    """RESTORE is a write: a WATCHing transaction fails and BLPOP wakes."""
    c = ringkv.client()
    c.flushall()
    c.rpush("tmpl", "x")
    payload = c.dump("tmpl")
    w = ringkv.client()
    w.execute_command("WATCH", "w")
    c.restore("w", 0, payload)
    w.execute_command("MULTI")
    w.execute_command("PING")
    assert w.execute_command("EXEC") is None
    blocked = ringkv.raw()
    blocked.send(harness.encode("BLPOP", "q", "5"))
    import time
    time.sleep(0.2)
    c.restore("q", 0, payload)
    assert blocked.read() == ("*", [("$", b"q"), ("$", b"x")])
    blocked.close()
    c.flushall()


def test_corrupt_payloads_with_valid_crc(ringkv, redis_dbg):
    """Bit flips, truncations and random bytes behind a correct footer: an
    error or a value that works, never a dead server."""
    src = redis_dbg.client()
    src.flushall()
    build(src, dataset(5))
    payloads = [src.execute_command("DUMP", k) for k in keys_of(dataset(5))]
    src.flushall()
    c = ringkv.client()
    c.flushall()
    rnd = random.Random(99)
    outcomes = {"ok": 0, "err": 0}
    for i in range(600):
        body = bytearray(rnd.choice(payloads)[:-10])
        kind = i % 4
        if kind == 0:
            body[rnd.randrange(len(body))] ^= 1 << rnd.randrange(8)
        elif kind == 1:
            del body[rnd.randrange(1, len(body)):]
        elif kind == 2:
            for _ in range(rnd.randint(1, 6)):
                body[rnd.randrange(len(body))] = rnd.randrange(256)
        else:
            body = bytearray([rnd.choice([0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 16, 17, 18])]) + \
                bytearray(rnd.randrange(256) for _ in range(rnd.randint(0, 60)))
        try:
            c.execute_command("RESTORE", f"f{i}", 0, with_footer(bytes(body)))
            outcomes["ok"] += 1
            # Whatever loaded must be a working value.
            snapshot(c, f"f{i}")
            again = c.execute_command("DUMP", f"f{i}")
            c.execute_command("RESTORE", f"f{i}", 0, again, "REPLACE")
        except Exception as e:  # noqa: BLE001
            assert "Bad data format" in str(e), str(e)
            outcomes["err"] += 1
    assert c.ping()
    assert outcomes["err"] > 100, outcomes
    assert ringkv.alive(), ringkv.log_tail()
    c.flushall()


@pytest.mark.parametrize("name", ["dump", "restore"])
def test_command_info_and_docs(ringkv, redis_ref, name):
    with ringkv.raw() as ours, redis_ref.raw() as ref:
        for sub in ("INFO", "DOCS"):
            assert ours.call("COMMAND", sub, name) == ref.call("COMMAND", sub, name), (sub, name)


# --------------------------------------------------------------------------
# SAVE and loading at start-up. These start their own servers (in their own
# directories), so they run once, not per matrix entry.

LIB = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)"


def fill(client, seed: int):
    client.flushall()
    build(client, dataset(seed), db=0)
    build(client, dataset(seed + 1)[:12], db=5)
    client.execute_command("SELECT", 0)
    client.execute_command("EXPIRE", "str:1", 1000)
    client.execute_command("PEXPIRE", "list:small", 2000000)
    client.execute_command("FUNCTION", "LOAD", LIB)


def digest(server) -> bytes:
    c = server.client()
    try:
        return c.execute_command("DEBUG", "DIGEST")
    finally:
        c.close()


@pytest.fixture(scope="module")
def reference_digest():
    """DEBUG DIGEST of the saved dataset on a real redis-server."""
    ref = harness.redis_server(extra=["--enable-debug-command", "yes"]).start()
    try:
        c = ref.client()
        fill(c, 11)
        yield digest(ref)
    finally:
        ref.cleanup()


def test_save_restart_and_reshard(server_factory, reference_digest):
    s = server_factory("ringkv", shards=3)
    c = s.client()
    fill(c, 11)
    assert digest(s) == reference_digest
    before = c.lastsave()
    assert c.save() is True
    assert c.lastsave() >= before
    info = c.info("persistence")
    assert info["rdb_saves"] == 1
    c.close()
    assert (s.workdir / "dump.rdb").exists() and not list(s.workdir.glob("temp-*.rdb"))
    assert s.stop() == 0
    # The same file, loaded by a server with a different number of shards.
    s.args[s.args.index("--shards") + 1] = "2"
    s.start()
    assert digest(s) == reference_digest
    n = len(keys_of(dataset(11))) + 12
    assert f"Done loading RDB, keys loaded: {n}, keys expired: 0." in s.log_tail()
    c = s.client()
    assert 990 <= c.ttl("str:1") <= 1000
    assert c.execute_command("FCALL", "f1", 0) == 1
    c.close()


def test_redis_loads_ringkv_file_and_back(server_factory, reference_digest):
    s = server_factory("ringkv", shards=4)
    c = s.client()
    fill(c, 11)
    assert c.save() is True
    c.close()
    # redis-server starts on RingKV's file...
    ref = server_factory("redis", extra=["--dir", str(s.workdir), "--enable-debug-command", "yes"])
    assert digest(ref) == reference_digest
    rc = ref.client()
    assert rc.execute_command("FUNCTION", "LIST")[0][1] == b"mylib"
    # ...and saves it again (over it); RingKV starts on Redis's file.
    ours = (s.workdir / "dump.rdb").read_bytes()
    assert rc.save() is True
    rc.close()
    assert (s.workdir / "dump.rdb").read_bytes() != ours
    s2 = server_factory("ringkv", shards=2, extra=["--dir", str(s.workdir)])
    assert digest(s2) == reference_digest


def test_shutdown_save(server_factory):
    s = server_factory("ringkv", shards=2)
    c = s.client()
    fill(c, 12)
    d = digest(s)
    with s.raw() as raw:
        raw.send(harness.encode("SHUTDOWN", "SAVE"))
        with pytest.raises(harness.Closed):
            raw.read()
    assert s.wait(15) == 0
    s.start()
    assert digest(s) == d


def test_corrupt_file_stops_start_up(server_factory):
    s = server_factory("ringkv", shards=1)
    c = s.client()
    fill(c, 13)
    assert c.save() is True
    c.close()
    s.stop()
    good = (s.workdir / "dump.rdb").read_bytes()
    for bad, why in [(good[:len(good) // 2], ("Short read", "Bad data format")),
                     (good[:-30], ("Short read", "Bad data format")),
                     (good[:-1] + bytes([good[-1] ^ 1]), ("Wrong RDB checksum",)),
                     (b"REDIS0011" + good[9:], ("Can't handle RDB format version 11",)),
                     (b"NOTRDB" + good[6:], ("Wrong signature",))]:
        (s.workdir / "dump.rdb").write_bytes(bad)
        with pytest.raises(harness.ServerError):
            s.start(timeout=10)
        tail = s.log_tail(400)
        assert any(w in tail for w in why), tail
    # Expired keys are dropped on load; a good file starts again.
    (s.workdir / "dump.rdb").write_bytes(good)
    s.start()
    assert s.client().dbsize() == len(keys_of(dataset(13)))


def test_function_dump_compresses_as_redis(pair):
    """FUNCTION DUMP's library code is an RDB string: LZF when it pays."""
    ours, ref = pair
    lib = "#!lua name=big\n" + "".join(
        f"redis.register_function('f{i}', function() return {i} end)\n" for i in range(8))
    for c in (ours, ref):
        c.execute_command("FUNCTION", "FLUSH")
        c.execute_command("FUNCTION", "LOAD", lib)
    got, want = ours.execute_command("FUNCTION", "DUMP"), ref.execute_command("FUNCTION", "DUMP")
    assert got == want and len(got) < len(lib)
    for c in (ours, ref):
        c.execute_command("FUNCTION", "FLUSH")
        assert c.execute_command("FUNCTION", "RESTORE", want) == b"OK"
        assert c.execute_command("FCALL", "f5", 0) == 5
        c.execute_command("FUNCTION", "FLUSH")


def test_rdbchecksum_no(server_factory):
    """rdbchecksum no: the file ends with a zero checksum, which loads."""
    s = server_factory("ringkv", shards=2, extra=["--rdbchecksum", "no"])
    c = s.client()
    c.set("a", "1")
    c.rpush("l", "x", "y")
    assert c.save() is True
    c.close()
    data = (s.workdir / "dump.rdb").read_bytes()
    assert data[-9:] == b"\xff" + b"\x00" * 8
    s.stop()
    s.start()
    c = s.client()
    assert c.get("a") == b"1" and c.lrange("l", 0, -1) == [b"x", b"y"]
    c.execute_command("CONFIG", "SET", "rdbchecksum", "yes")
    assert c.save() is True
    c.close()
    data = (s.workdir / "dump.rdb").read_bytes()
    assert data[-8:] == crc64(data[:-8]).to_bytes(8, "little")
    ref = server_factory("redis", extra=["--dir", str(s.workdir)])
    assert ref.client().lrange("l", 0, -1) == [b"x", b"y"]


def test_restore_honours_current_thresholds(pair):
    """A payload converts as Redis 7.0's loader converts it under the
    receiving server's *-max-* settings (listpack entries counted, plain
    encodings also checked for value length)."""
    ours, ref = pair
    cmds = dataset(6)
    build(ref, cmds)
    payloads = {k: ref.execute_command("DUMP", k) for k in keys_of(cmds)}
    settings = [("hash-max-listpack-entries", "4"), ("hash-max-listpack-value", "8"),
                ("zset-max-listpack-entries", "5"), ("zset-max-listpack-value", "3"),
                ("set-max-intset-entries", "10"), ("list-max-listpack-size", "3")]
    try:
        for c in (ours, ref):
            for name, value in settings:
                c.execute_command("CONFIG", "SET", name, value)
        for key, p in payloads.items():
            for c in (ours, ref):
                c.execute_command("RESTORE", "t:" + key, 0, p)
            assert snapshot(ours, "t:" + key) == snapshot(ref, "t:" + key), key
            assert ours.execute_command("DEBUG", "DIGEST-VALUE", "t:" + key) == \
                ref.execute_command("DEBUG", "DIGEST-VALUE", "t:" + key), key
        # A list built here under the small node size: nodes of 3, as Redis's.
        for c in (ours, ref):
            c.execute_command("RPUSH", "nodes", *[str(i) for i in range(10)])
        assert ours.execute_command("DUMP", "nodes") == ref.execute_command("DUMP", "nodes")
    finally:
        for c in (ours, ref):
            for name, value in [("hash-max-listpack-entries", "512"), ("hash-max-listpack-value", "64"),
                                ("zset-max-listpack-entries", "128"), ("zset-max-listpack-value", "64"),
                                ("set-max-intset-entries", "512"), ("list-max-listpack-size", "-2")]:
                c.execute_command("CONFIG", "SET", name, value)


@pytest.mark.parametrize("shards", [1, 3])
def test_debug_reload(server_factory, shards):
    s = server_factory("ringkv", shards=shards)
    c = s.client()
    fill(c, 14)
    d = digest(s)
    w = s.client()
    w.execute_command("WATCH", "str:2")
    assert c.execute_command("DEBUG", "RELOAD") == b"OK"
    assert digest(s) == d
    # The flush touched the watched key, as Redis's emptyData does.
    w.execute_command("MULTI")
    w.execute_command("PING")
    assert w.execute_command("EXEC") is None
    # NOSAVE: back to the file's contents.
    c.set("extra", "1")
    c.delete("str:3")
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert digest(s) == d and c.exists("extra") == 0
    # NOFLUSH without MERGE meets the same keys: an error, the server stays.
    with pytest.raises(Exception, match="Error trying to load the RDB dump"):
        c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
    c.set("str:4", "changed")
    c.set("extra", "2")
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
    assert c.get("str:4") != b"changed" and c.get("extra") == b"2"
    with pytest.raises(Exception, match="only supports the MERGE, NOFLUSH and NOSAVE options"):
        c.execute_command("DEBUG", "RELOAD", "FAST")
    assert c.execute_command("FCALL", "f1", 0) == 1


STREAM_NODE_LIMITS = [("stream-node-max-entries", "100"), ("stream-node-max-bytes", "4096")]


def build_groups_stream(c, key: str = "s"):
    """A stream with consumers and PELs: XREADGROUP, XCLAIM to another
    consumer (TIME and RETRYCOUNT), XACK, an empty consumer, a pending entry
    deleted from the stream, a group whose entries-read is unknown."""
    for i in range(30):
        c.execute_command("XADD", key, f"{i + 1}-{i % 3}", "k", str(i), "w", "x" * (i % 7))
    c.execute_command("XGROUP", "CREATE", key, "grp", "0")
    c.execute_command("XGROUP", "CREATE", key, "late", "20-0")
    c.execute_command("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "10", "STREAMS", key, ">")
    c.execute_command("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "5", "STREAMS", key, ">")
    c.execute_command("XREADGROUP", "GROUP", "late", "carol", "COUNT", "3", "STREAMS", key, ">")
    c.execute_command("XCLAIM", key, "grp", "bob", "0", "2-1", "3-2", "TIME", "1700000000000", "RETRYCOUNT", "7")
    c.execute_command("XACK", key, "grp", "4-0", "12-2")
    c.execute_command("XGROUP", "CREATECONSUMER", key, "grp", "dave")
    c.execute_command("XDEL", key, "5-1")


def test_stream_groups_dump_and_restore_both_ways(pair):
    """Consumers and PELs: the same XINFO STREAM FULL (times masked) after
    a RESTORE in either direction; DUMPs the same length (the times are
    fixed-width) and the same bytes for a stream without consumers under
    small node limits."""
    ours, ref = pair
    for c in (ours, ref):
        build_groups_stream(c)
    assert xinfo_full(ours, "s") == xinfo_full(ref, "s")
    mine, theirs = ours.execute_command("DUMP", "s"), ref.execute_command("DUMP", "s")
    assert len(mine) == len(theirs) and mine[0] == theirs[0] == 19
    assert ours.execute_command("RESTORE", "from-redis", 0, theirs) == b"OK"
    assert ref.execute_command("RESTORE", "from-ringkv", 0, mine) == b"OK"
    assert xinfo_full(ours, "from-redis") == xinfo_full(ref, "s")
    assert xinfo_full(ref, "from-ringkv") == xinfo_full(ref, "s")
    assert ours.execute_command("DEBUG", "DIGEST-VALUE", "from-redis") == \
        ref.execute_command("DEBUG", "DIGEST-VALUE", "s")
    # The restored stream keeps working: delivery continues where it was.
    for c, k in ((ours, "from-redis"), (ref, "s")):
        c.execute_command("XADD", k, "40-0", "k", "new")
    got = ours.execute_command("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "from-redis", ">")
    want = ref.execute_command("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "s", ">")
    assert got[0][1] == want[0][1] and len(got[0][1]) == 16
    try:
        for c in (ours, ref):
            c.execute_command("CONFIG", "SET", "stream-node-max-entries", "5")
            c.execute_command("CONFIG", "SET", "stream-node-max-bytes", "120")
            for i in range(60):
                c.execute_command("XADD", "small-nodes", f"{i}-1", "f", "v" * (i % 20), *(["g", str(i)] if i % 4 else []))
            c.execute_command("XDEL", "small-nodes", "7-1", "8-1", "9-1")
            c.execute_command("XTRIM", "small-nodes", "MINID", "12-1")
        assert ours.execute_command("DUMP", "small-nodes") == ref.execute_command("DUMP", "small-nodes")
        assert xinfo_full(ours, "small-nodes") == xinfo_full(ref, "small-nodes")
    finally:
        for c in (ours, ref):
            for name, value in STREAM_NODE_LIMITS:
                c.execute_command("CONFIG", "SET", name, value)


def test_older_stream_type_loads_as_redis_does(pair):
    """RDB_TYPE_STREAM_LISTPACKS (15, Redis 5/6) has no first or max-deleted
    ID, entries-added or entries-read: 7.0 derives them; so does RingKV."""
    ours, ref = pair
    ref.execute_command("XADD", "s", "5-1", "a", "1", "b", "2")
    ref.execute_command("XADD", "s", "6-0", "a", "3", "b", "4")
    ref.execute_command("XADD", "s", "7-3", "c", "5")
    ref.execute_command("XDEL", "s", "6-0")
    ref.execute_command("XGROUP", "CREATE", "s", "g", "5-1", "ENTRIESREAD", "1")
    body = ref.execute_command("DUMP", "s")[:-10]
    # v2 tail: length, last ID, first ID, max deleted ID, entries added;
    # group: name, last ID, entries-read, PEL (0), consumers (0). Every
    # number here takes one byte.
    tail = bytes([2, 7, 3, 5, 1, 6, 0, 3, 1, 1]) + b"g" + bytes([5, 1, 1, 0, 0])
    assert body.endswith(tail)
    old = bytes([15]) + body[1:-len(tail)] + bytes([2, 7, 3, 1, 1]) + b"g" + bytes([5, 1, 0, 0])
    payload = with_footer(old)
    for c in (ours, ref):
        assert c.execute_command("RESTORE", "old", 0, payload) == b"OK"
    assert xinfo_full(ours, "old") == xinfo_full(ref, "old")
    assert ours.execute_command("XINFO", "GROUPS", "old") == ref.execute_command("XINFO", "GROUPS", "old")
    assert ours.execute_command("DUMP", "old") == ref.execute_command("DUMP", "old")


def test_corrupt_stream_payloads(ringkv, redis_dbg):
    """Streams' payloads damaged behind a correct CRC: "Bad data format" or
    a stream that reads, dumps and takes new entries, never a dead server."""
    src = redis_dbg.client()
    src.flushall()
    build_groups_stream(src)
    build(src, [c for c in dataset(8) if c[1].startswith("stream:") or c[0] == "XGROUP"])
    payloads = [src.execute_command("DUMP", k) for k in ("s", "stream:small", "stream:big", "stream:empty")]
    src.flushall()
    c = ringkv.client()
    c.flushall()
    rnd = random.Random(7)
    outcomes = {"ok": 0, "err": 0}
    for i in range(500):
        body = bytearray(rnd.choice(payloads)[:-10])
        kind = i % 3
        if kind == 0:
            body[rnd.randrange(len(body))] ^= 1 << rnd.randrange(8)
        elif kind == 1:
            del body[rnd.randrange(1, len(body)):]
        else:
            for _ in range(rnd.randint(1, 4)):
                body[rnd.randrange(len(body))] = rnd.randrange(256)
        key = f"f{i}"
        try:
            c.execute_command("RESTORE", key, 0, with_footer(bytes(body)))
        except Exception as e:  # noqa: BLE001
            assert "Bad data format" in str(e), str(e)
            outcomes["err"] += 1
            continue
        outcomes["ok"] += 1
        if c.type(key) != b"stream":
            continue
        xinfo_full(c, key)
        c.execute_command("XRANGE", key, "-", "+")
        c.execute_command("XREVRANGE", key, "+", "-", "COUNT", 5)
        c.execute_command("XINFO", "GROUPS", key)
        again = c.execute_command("DUMP", key)
        c.execute_command("RESTORE", key, 0, again, "REPLACE")
        try:
            c.execute_command("XADD", key, "*", "x", "y")
        except Exception as e:  # noqa: BLE001  (a last ID at the maximum)
            assert "equal or smaller" in str(e) or "smaller" in str(e), str(e)
        c.execute_command("XTRIM", key, "MAXLEN", "2")
        c.delete(key)
    assert c.ping()
    assert outcomes["err"] > 200, outcomes
    assert ringkv.alive(), ringkv.log_tail()
    c.flushall()


def test_stream_with_groups_survives_save_and_restart(server_factory):
    s = server_factory("ringkv", shards=2)
    c = s.client()
    build_groups_stream(c)
    build_groups_stream(c, "t")
    before = (xinfo_full(c, "s"), xinfo_full(c, "t"))
    assert c.save() is True
    c.close()
    assert s.stop() == 0
    s.start()
    c = s.client()
    assert (xinfo_full(c, "s"), xinfo_full(c, "t")) == before
    c.close()


# --------------------------------------------------------------------------
# rdb_changes_since_last_save: Redis's server.dirty.

DIRTY_CMDS = [
    ("SET", "k", "v"), ("SET", "k", "v2", "EX", "100"), ("SETNX", "k", "x"), ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MSETNX", "a", "1", "zz", "2"), ("INCR", "n"), ("INCRBY", "n", "5"), ("APPEND", "k", "xx"), ("GETSET", "k", "y"),
    ("SETRANGE", "k", "0", "y"), ("SETBIT", "bm", "7", "1"), ("SETBIT", "bm", "7", "1"), ("SETBIT", "bm", "7", "0"),
    ("DEL", "a", "b", "nosuch"), ("UNLINK", "c"), ("EXPIRE", "k", "100"), ("PERSIST", "k"), ("PERSIST", "k"),
    ("SADD", "s", "a", "b", "c"), ("SADD", "s", "a", "d"), ("SADD", "s", "a"), ("SREM", "s", "a", "b", "zz"),
    ("SADD", "si", "1", "2", "3"), ("SREM", "si", "1", "2"),
    ("HSET", "h", "f1", "1", "f2", "2"), ("HSET", "h", "f1", "3"), ("HDEL", "h", "f1", "f2", "f3"),
    ("HINCRBY", "h2", "x", "1"), ("HMSET", "h3", "a", "1", "b", "2", "c", "3"),
    ("RPUSH", "l", "1", "2", "3"), ("LPUSH", "l", "0"), ("LPOP", "l"), ("RPOP", "l", "2"), ("LSET", "l", "0", "x"),
    ("LREM", "l", "0", "x"), ("RPUSH", "l", "a", "b"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "5", "a"), ("ZINCRBY", "z", "1", "b"),
    ("ZREM", "z", "a", "q"), ("XADD", "st", "1-1", "f", "v"), ("XADD", "st", "2-1", "f", "v"), ("XDEL", "st", "1-1"),
    ("RENAME", "n", "n2"), ("COPY", "n2", "n3"), ("SINTERSTORE", "dst", "s", "s"), ("ZUNIONSTORE", "zd", "1", "z"),
    ("GETDEL", "n3"), ("SPOP", "s"), ("GET", "k"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), ("ZREM", "z", "a", "b"), ("ZPOPMIN", "z", "2"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZREMRANGEBYSCORE", "z", "0", "2"), ("ZREMRANGEBYRANK", "z", "0", "0"),
    ("RPUSH", "l", "1", "2", "3", "4", "5"), ("LTRIM", "l", "1", "2"), ("LTRIM", "l", "0", "-1"),
    ("XADD", "st", "3-1", "f", "v"), ("XADD", "st", "4-1", "f", "v"), ("XTRIM", "st", "MAXLEN", "1"),
    ("XGROUP", "CREATE", "st", "g", "0"), ("XGROUP", "CREATE", "st2", "g", "$", "MKSTREAM"),
    ("XGROUP", "CREATECONSUMER", "st", "g", "d"), ("XGROUP", "CREATECONSUMER", "st", "g", "d"),
    ("XGROUP", "DELCONSUMER", "st", "g", "d"), ("XSETID", "st", "10-0"), ("XGROUP", "SETID", "st", "g", "0"),
    ("XGROUP", "DESTROY", "st", "g"), ("XGROUP", "DESTROY", "st", "g"), ("MOVE", "x9", "1"), ("SET", "x9", "1"),
    ("MOVE", "x9", "1"), ("PFADD", "hll", "a"), ("SADD", "sp", "1", "2", "3", "4", "5"), ("SPOP", "sp", "2"),
    ("SPOP", "sp", "10"), ("RPUSH", "sl", "3", "1", "2"), ("SORT", "sl", "STORE", "sorted"),
    ("SORT", "sl", "STORE", "sorted"), ("SORT", "nosuch", "STORE", "sorted"), ("SET", "x1", "1"), ("FLUSHDB",), ("FLUSHDB",),
]


def changes(client) -> int:
    return client.info("persistence")["rdb_changes_since_last_save"]


def test_rdb_changes_since_last_save_counts_as_redis(pair):
    """Per command, the change in rdb_changes_since_last_save is Redis's:
    elements added or removed, keys set or deleted, nothing for a no-op."""
    ours, ref = pair
    got, want = [], []
    for cmd in DIRTY_CMDS:
        for c, out in ((ours, got), (ref, want)):
            before = changes(c)
            c.execute_command(*cmd)
            out.append((" ".join(cmd), changes(c) - before))
    assert got == want


def test_save_and_reload_reset_changes(server_factory):
    s = server_factory("ringkv", shards=2)
    c = s.client()
    assert changes(c) == 0
    start = int(c.lastsave().timestamp())
    c.execute_command("MSET", *[f"k{i}" for i in range(20) for _ in (0, 1)])
    c.execute_command("SADD", "set", "a", "b", "c")
    assert changes(c) == 23
    time.sleep(1.1)
    assert c.save() is True
    info = c.info("persistence")
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_last_save_time"] == int(c.lastsave().timestamp()) > start
    c.delete("k1", "k2")
    assert changes(c) == 2
    assert c.execute_command("DEBUG", "RELOAD") == b"OK"
    assert changes(c) == 0
    c.set("k1", "x")
    # NOSAVE keeps the unsaved changes: the load itself is none.
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert changes(c) == 1
    c.close()
    # A restart loads the file: nothing unsaved.
    assert s.stop() == 0
    s.start()
    c = s.client()
    assert changes(c) == 0 and c.dbsize() == 19
    c.close()
