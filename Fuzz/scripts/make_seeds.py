#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/corpus/<target>/ from a real
redis-server 7.0 (DUMP payloads, an RDB file, HLL strings) and hand-written
RESP pipelines and config lines. Usage: make_seeds.py PORT"""
import hashlib, os, sys
import redis

port = int(sys.argv[1])
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")
r = redis.Redis(port=port)

def put(target, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)

def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

# RESP: byte 0 = cut count (bits 0-2), small limits (bit 3), auth (bit 4), byte-wise (bit 5); 7 cut bytes.
pipes = [
    resp("SET", "k", "v"), resp("GET", "k") + resp("PING"), resp("MSET", "a", "1", "b", "2", "c", "3"),
    b"PING\r\n", b"SET k \"a b\\x41\"\r\nGET k\n", b"*0\r\n*-1\r\n" + resp("DEL", "x"), b"*1\r\n$4\r\nPI",
    b"*2\r\n$3\r\nGET\r\n$-1\r\n", b"*3\r\n+x\r\n", b"*abc\r\n", b"\r\n\r\n" + resp("ECHO", "x" * 100),
    resp("HSET", "h", "f", "v" * 50, "g", "w") * 3, b"'unbalanced\r\n", b"*2\r\n$3\r\nGET\r\n$99999999999\r\n",
]
for i, p in enumerate(pipes):
    put("resp", bytes([i % 64, 30, 60, 90, 120, 150, 200, 250]) + p)
    put("resp", bytes([0x20, 0, 0, 0, 0, 0, 0, 0]) + p)

for line in [b"SET k v", b"set \"a\\tb\" 'c d'", b"\"\\x00\\xff\" x", b"'it''s'", b"\"open", b"a\"b\" c",
             b"   spaced   args  ", b"\"\\u\\n\\r\\a\\b\"", b"''", b"\"\"x"]:
    put("inline", line)

conf = open(os.path.join(os.path.dirname(__file__), "..", "..", "configs", "ringkv.conf"), "rb").read()
put("config", conf)
for c in [b"port 7000\nbind 127.0.0.1 -::1\n", b"maxmemory 100mb\nmaxmemory-policy allkeys-lru\n",
          b"save 900 1 300 10\nappendonly no\n", b"rename-command FLUSHALL \"\"\n", b"loglevel verbose\n# c\n",
          b"client-output-buffer-limit normal 0 0 0\n", b"hz 500\ndatabases 4\n", b"port \"6379\nx",
          b"user default on nopass ~* +@all\n", b"notify-keyspace-events KEA\n", b"unknown-directive 1\n",
          b"list-max-listpack-size -2\nzset-max-listpack-entries 128\n"]:
    put("config", c)

# Values of every type and encoding, DUMPed by the real server.
r.flushall()
r.set("s", "hello"); r.set("i", 12345); r.set("big", "x" * 300); r.set("neg", -5)
r.rpush("l", "a", "b", 1, 2, "c" * 70)
r.rpush("lbig", *[str(i) * 20 for i in range(200)])
r.sadd("is", 1, 2, 3, 70000, -5); r.sadd("ss", "a", "b", "c"); r.sadd("sbig", *range(600))
r.sadd("is64", 1, 2**40)
r.hset("h", mapping={"f": "v", "n": 7}); r.hset("hbig", mapping={f"f{i}": "v" * 70 for i in range(10)})
r.zadd("z", {"a": 1, "b": 2.5, "c": -3}); r.zadd("zbig", {f"m{i}": i for i in range(200)})
r.xadd("x", {"f": "v"}); r.xadd("x", {"f": "w", "g": "1"})
r.xgroup_create("x", "g1", id="0"); r.xreadgroup("g1", "c1", {"x": ">"}, count=1)
r.pfadd("hll", "a", "b", "c"); r.pfadd("hlld", *range(3000)); r.pfadd("hlle")
for k in r.keys():
    d = r.dump(k)
    put("rdb", b"\x00" + d)
    put("rdb", b"\x02" + d[:-10])
    if d[0] in (11, 16, 17, 18, 19, 20, 21):  # intset/ziplist/listpack blobs inside an RDB string
        b = d[1:-10]
        if b[0] >> 6 == 0: blob = b[1:1 + b[0]]
        elif b[0] >> 6 == 1: blob = b[2:2 + (((b[0] & 63) << 8) | b[1])]
        else: continue
        put("packed", b"\x01" + blob)
for k in ("hll", "hlld", "hlle"):
    v = r.get(k)
    put("hll", bytes([1 if v[4] == 0 else 0, v[4], ]) + v[8:])
    put("hll", bytes([0x0e if v[4] == 0 else 0x5e, v[4]]) + v[8:])
r.save()
rdb = os.path.join(r.config_get("dir")["dir"], r.config_get("dbfilename")["dbfilename"])
put("rdb", b"\x01" + open(rdb, "rb").read()[9:])
# Ziplist seeds: a hand-built 2-entry ziplist ("ab", 5).
zl = bytearray(b"\x00" * 10) + b"\x00\x02ab" + b"\x04\xf6" + b"\xff"
put("packed", b"\x02" + bytes(zl))
put("packed", b"\x03" + b"\x00" * 6 + b"\x82ab\x03\x05\x01\xff")
