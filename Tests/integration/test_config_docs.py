"""configs/ringkv.conf must document every directive the server knows, with
the server's own default, so the file is the reference for operators."""
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]


def documented():
    values = {}
    for line in (REPO / "configs" / "ringkv.conf").read_text().splitlines():
        alias = re.match(r"^# alias ([a-z0-9-]+) ([a-z0-9-]+)$", line)
        if alias:
            values[alias.group(1)] = "alias of " + alias.group(2)
            continue
        m = re.match(r"^#?\s*([a-z][a-z0-9-]+)\s+(.*)$", line)
        if m and not line.startswith("# "):
            values.setdefault(m.group(1), m.group(2).strip())
    return values


def test_every_directive_is_documented(ringkv, r):
    names = set(r.config_get("*"))
    missing = sorted(n for n in names if n not in documented())
    assert not missing, f"configs/ringkv.conf lacks: {missing}"
