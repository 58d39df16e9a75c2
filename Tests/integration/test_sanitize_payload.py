"""sanitize-dump-payload: RingKV always checks RESTORE payloads (and RDB
files) deeply, so it accepts the values that promise that (yes, the
default here, and clients: every RESTORE comes from a client) and refuses
no, which would promise payloads taken unchecked. A payload only deep
sanitization rejects (a listpack hash with a duplicate field, correct CRC)
gets Redis's error, as redis-server gives it with sanitize-dump-payload yes.

Loading happens before the listeners open (Server.swift: loadDataset, then
openListener), so no client can see a LOADING state: INFO persistence
says loading:0 whenever it can be asked.
"""
from __future__ import annotations

import pytest

import harness
from test_dump_restore import with_footer

# HSET h a 1 b 2 as Redis 7.0 dumps it (type 16, a listpack), with the
# second field renamed to "a": only a deep check sees the duplicate.
LISTPACK_DUP = b"\x10\x11\x11\x00\x00\x00\x04\x00\x81a\x02\x01\x01\x81a\x02\x02\x01\xff"


def test_config_values(ringkv, redis_ref):
    with ringkv.raw() as c, redis_ref.raw() as ref:
        assert harness.plain(c.call("CONFIG", "GET", "sanitize-dump-payload")) == [b"sanitize-dump-payload", b"yes"]
        try:
            assert c.call("CONFIG", "SET", "sanitize-dump-payload", "clients") == ("+", b"OK")
            assert harness.plain(c.call("CONFIG", "GET", "sanitize-dump-payload")) == \
                [b"sanitize-dump-payload", b"clients"]
            t, msg = c.call("CONFIG", "SET", "sanitize-dump-payload", "no")
            assert t == "-" and b"sanitize-dump-payload no" in msg and b"not supported yet" in msg, msg
            assert harness.plain(c.call("CONFIG", "GET", "sanitize-dump-payload")) == \
                [b"sanitize-dump-payload", b"clients"]
            # An unknown value: Redis's enum error, word for word.
            assert c.call("CONFIG", "SET", "sanitize-dump-payload", "bogus") == \
                ref.call("CONFIG", "SET", "sanitize-dump-payload", "bogus")
        finally:
            c.call("CONFIG", "SET", "sanitize-dump-payload", "yes")


def test_no_is_refused_at_startup():
    server = harness.ringkv_server(extra=["--sanitize-dump-payload", "no"])
    try:
        with pytest.raises(harness.ServerError) as e:
            server.start(timeout=10)
        assert "sanitize-dump-payload no" in str(e.value)
    finally:
        server.cleanup()


@pytest.mark.parametrize("mode", ["yes", "clients"])
def test_deep_check_matches_redis(r, rref, mode):
    payload = with_footer(LISTPACK_DUP)
    rref.config_set("sanitize-dump-payload", "yes")
    try:
        r.config_set("sanitize-dump-payload", mode)
        got = []
        for c in (r, rref):
            with pytest.raises(Exception) as e:
                c.restore("h", 0, payload)
            got.append(str(e.value))
            assert c.exists("h") == 0
        assert got[0] == got[1] == "Bad data format"
    finally:
        rref.config_set("sanitize-dump-payload", "no")
        r.config_set("sanitize-dump-payload", "yes")


def test_loading_is_never_seen(r):
    info = r.info("persistence")
    assert info["loading"] == 0 and info["async_loading"] == 0
    assert "loading_start_time" not in info
