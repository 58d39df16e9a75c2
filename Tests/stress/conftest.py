"""Stress and fault tests (make stress): loopback only, bounded in time.

They reuse the integration harness (Tests/integration/harness.py) for
starting servers and speaking RESP.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
