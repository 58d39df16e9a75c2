#!/usr/bin/env python3
"""Writes Fuzz/corpus/aof/ from a real redis-server 7.0 run with appendonly
yes: its manifests (byte 0 = 0) and its AOF files (byte 0 = 1): incr files
with SELECT, MULTI/EXEC and #TS annotations, a base written without the RDB
preamble, and one cut short. Starts its own redis-server on PORT in a
temporary directory. Usage: make_aof_seeds.py PORT"""
import hashlib, os, subprocess, sys, tempfile, time
import redis

port = int(sys.argv[1])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "aof")
os.makedirs(out, exist_ok=True)

def put(mode, data):
    data = bytes([mode]) + data
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)

def harvest(d):
    ad = os.path.join(d, "appendonlydir")
    for name in sorted(os.listdir(ad)):
        data = open(os.path.join(ad, name), "rb").read()
        if name.endswith(".manifest"):
            put(0, data)
        elif not data.startswith(b"REDIS"):  # RDB-preamble bases are fuzz-rdb's
            put(1, data)
            if len(data) > 40:
                put(1, data[:len(data) * 2 // 3])

with tempfile.TemporaryDirectory() as d:
    srv = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--dir", d,
                            "--appendonly", "yes", "--aof-use-rdb-preamble", "no",
                            "--aof-timestamp-enabled", "yes"], stdout=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        for _ in range(50):
            try:
                r.ping(); break
            except redis.ConnectionError:
                time.sleep(0.1)
        r.set("s", "v"); r.set("e", "x", px=100000); r.incr("n"); r.append("s", "w")
        r.rpush("l", "a", "b", 1); r.lpop("l"); r.sadd("st", 1, "a"); r.hset("h", mapping={"f": "v", "g": 2})
        r.zadd("z", {"a": 1.5, "b": -2}); r.xadd("x", {"f": "v"}); r.pfadd("hll", "a", "b")
        r.setbit("bits", 77, 1); r.expire("h", 1000)
        p = r.pipeline(transaction=True); p.set("t", 1); p.incr("t"); p.lpush("l", "q"); p.execute()
        r.execute_command("SELECT", 2); r.set("db2", "v"); r.geoadd("g", (13.36, 38.11, "p"))
        r.execute_command("SELECT", 0); r.delete("s"); r.sinterstore("dst", "st", "st")
        r.xgroup_create("x", "g1", id="0"); r.xreadgroup("g1", "c1", {"x": ">"}, count=1)
        time.sleep(1.2)  # a second #TS annotation
        r.set("late", "1")
        harvest(d)
        r.bgrewriteaof()
        for _ in range(100):
            if r.info("persistence")["aof_rewrite_in_progress"] == 0:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        r.set("after", "rewrite"); r.rpush("l", "z")
        harvest(d)
    finally:
        srv.terminate(); srv.wait()

put(0, b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n"
       b"file appendonly.aof.2.incr.aof seq 2 type i\n")
put(0, b"# comment\r\nfile a seq 1 type b\r\n\r\nfile b seq 3 type i\r\n")
