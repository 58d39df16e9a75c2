"""The differential campaign's short form: 20,000 commands of the seeded
stream (Tests/stress/diff_campaign.py; `make diff-campaign` runs the long
one) against each matrix entry and redis-server 7.0, every reply compared.

  DIFF_CAMPAIGN_SEED  seed (default 1); DIFF_CAMPAIGN_OPS  commands (default 20000)
"""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stress"))
import diff_campaign  # noqa: E402

OPS = int(os.environ.get("DIFF_CAMPAIGN_OPS", "20000"))
SEED = int(os.environ.get("DIFF_CAMPAIGN_SEED", "1"))


def test_campaign_smoke(ringkv, redis_ref, matrix_entry):
    opts = types.SimpleNamespace(check_every=5000, batch=60)
    camp = diff_campaign.Campaign(opts, ringkv, redis_ref, SEED, OPS, "%s-%d" % matrix_entry)
    try:
        camp.run()
    except diff_campaign.Divergence as e:
        pytest.fail(f"seed {SEED}: {e}", pytrace=False)
    finally:
        with redis_ref.raw() as c:
            c.call("FLUSHALL")
    assert camp.index >= OPS
    assert sum(camp.counts.values()) == camp.index
    # Every family of the generator was exercised.
    assert set(camp.counts) >= {"string", "keys", "list", "hash", "set", "zset", "bitmap", "hll", "stream",
                                "geo", "script", "sort", "scan", "object", "multi", "error"}
    assert not camp.divergences, f"seed {SEED}: {len(camp.divergences)} divergences, first: " + \
        "\n".join(f"{d['where']}: {d['cmd']}\n  ringkv {d['ours']}\n  redis  {d['ref']}"
                  for d in camp.divergences[:5])
