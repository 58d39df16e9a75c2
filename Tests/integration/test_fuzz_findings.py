"""Inputs the fuzzers (Fuzz/, issue 13) found to break the server, sent
to ringkv (every matrix entry) and to redis-server 7.0: same replies with
their RESP types, and the server still answers afterwards. Each case names
its input under Fuzz/regressions/."""
from __future__ import annotations

import pytest

MAX = "9223372036854775807"

CASES = {
    # Fuzz/regressions/exec/bzmpop-numkeys-overflow: `2 + numkeys + 1` (and
    # the routing's `2 + numkeys`) trapped on overflow and stopped the server.
    "mpop_numkeys_near_int_max": [
        ("BZMPOP", "0", MAX, "k", "MIN"), ("BLMPOP", "0", MAX, "k", "LEFT"),
        ("BZMPOP", "0", "9223372036854775806", "k", "MIN"), ("BLMPOP", "0.01", "9223372036854775805", "k", "LEFT"),
        ("LMPOP", MAX, "k", "LEFT"), ("ZMPOP", MAX, "k", "MIN"), ("SINTERCARD", MAX, "k"),
        ("ZUNIONSTORE", "d", MAX, "k"), ("ZUNION", MAX, "k"), ("EVAL", "return 1", MAX, "k"),
        ("BZMPOP", "0", "-1", "k", "MIN"), ("BLMPOP", "0", "0", "k", "LEFT"),
    ],
}


def replies(server, steps):
    with server.raw() as c:
        c.call("FLUSHALL")
        out = [c.call(*s) for s in steps]
        out.append(c.call("PING"))
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_fuzz_finding(ringkv, redis_ref, case):
    steps = CASES[case]
    got = replies(ringkv, steps)
    want = replies(redis_ref, steps)
    for s, g, w in zip(steps + [("PING",)], got, want):
        assert g == w, f"{s}: ringkv {g!r} != redis {w!r}"
    assert ringkv.alive(), ringkv.log_tail()
