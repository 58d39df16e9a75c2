"""COMMAND INFO and COMMAND DOCS for the list, hash, set, sorted set and SORT
commands are Redis 7.0's, wire type for wire type, in RESP2 and RESP3.

The metadata comes from CommandSpec (arity, flags, key positions, ACL
categories, summary, since, group) and from the generated tables in
Sources/Commands/CommandDocsData+*.swift (scripts/gen_command_docs.py).
A command ringkv does not have yet is skipped.
"""
from __future__ import annotations

import pytest

COMMANDS = """
    lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove
    rpoplpush lmpop blpop brpop blmove brpoplpush blmpop
    hset hsetnx hmset hget hmget hdel hlen hstrlen hexists hkeys hvals hgetall hincrby
    hincrbyfloat hrandfield hscan
    sadd srem scard sismember smismember smembers srandmember spop smove sinter sintercard
    sinterstore sunion sunionstore sdiff sdiffstore sscan
    zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount zrange zrangestore
    zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zrevrange zremrangebyrank
    zremrangebyscore zremrangebylex zpopmin zpopmax zmpop zrandmember zunion zinter zdiff
    zunionstore zinterstore zdiffstore zintercard zscan bzpopmin bzpopmax bzmpop
    sort sort_ro
""".split()


def _conn(server, proto: int):
    c = server.raw()
    if proto == 3:
        t, _ = c.call("HELLO", "3")
        assert t == "%", f"{server}: HELLO 3 failed"
    return c


def _present(conn, names: list[str]) -> list[str]:
    t, rows = conn.call("COMMAND", "INFO", *names)
    assert t == "*", rows
    return [n for n, (_, v) in zip(names, rows) if v is not None]


def _first_diff(got, want, path="reply"):
    """Where two tagged replies first differ, for a readable failure."""
    if got == want:
        return None
    if not (isinstance(got, tuple) and isinstance(want, tuple)) or got[0] != want[0]:
        return f"{path}: ringkv {got!r}\n  redis  {want!r}"
    gv, wv = got[1], want[1]
    if isinstance(gv, list) and isinstance(wv, list):
        if got[0] in "%|":  # map: compare key by key, in Redis's order
            for i, (g, w) in enumerate(zip(gv, wv)):
                label = w[0][1].decode(errors="replace") if isinstance(w[0][1], bytes) else i
                d = _first_diff(g[0], w[0], f"{path}.key[{i}]") or _first_diff(g[1], w[1], f"{path}.{label}")
                if d:
                    return d
        else:
            for i, (g, w) in enumerate(zip(gv, wv)):
                d = _first_diff(g, w, f"{path}[{i}]")
                if d:
                    return d
        if len(gv) != len(wv):
            return f"{path}: ringkv has {len(gv)} entries, redis {len(wv)}\n  ringkv {got!r}\n  redis  {want!r}"
    return f"{path}: ringkv {got!r}\n  redis  {want!r}"


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", COMMANDS)
def test_command_info_and_docs_match_redis(ringkv, redis_ref, name, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        if not _present(ours, [name]):
            pytest.skip(f"ringkv has no {name.upper()} yet")
        for sub in ("INFO", "DOCS"):
            # Upper case as clients send it; Redis's names are lower case.
            got = ours.call("COMMAND", sub, name.upper())
            want = ref.call("COMMAND", sub, name.upper())
            assert got == want, f"COMMAND {sub} {name} (RESP{proto}) differs:\n" + _first_diff(got, want)


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs_many_at_once(ringkv, redis_ref, proto):
    """Several names in one call: entries in the order asked, as Redis."""
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        names = _present(ours, COMMANDS)
        if not names:
            pytest.skip("ringkv has none of these commands yet")
        names = list(reversed(names))
        for sub in ("INFO", "DOCS"):
            got = ours.call("COMMAND", sub, *names)
            want = ref.call("COMMAND", sub, *names)
            assert got == want, f"COMMAND {sub} for {len(names)} names (RESP{proto}) differs:\n" + \
                _first_diff(got, want)
