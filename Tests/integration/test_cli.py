"""Drive ringkv with the stock redis-cli, as a user would."""
from __future__ import annotations

import re
import subprocess

import harness


def cli(server, *args, stdin: bytes | None = None, extra: list[str] | None = None) -> bytes:
    cmd = ["redis-cli", "-p", str(server.port), *(extra or []), *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}: {proc.stderr!r}"
    return proc.stdout


def test_ping(ringkv, r):
    assert cli(ringkv, "PING") == b"PONG\n"
    assert cli(ringkv, "PING", "hello") == b"hello\n"
    assert cli(ringkv, "ECHO", "x y") == b"x y\n"


def test_set_get(ringkv, r):
    assert cli(ringkv, "SET", "greeting", "hello world") == b"OK\n"
    assert cli(ringkv, "GET", "greeting") == b"hello world\n"
    assert cli(ringkv, "GET", "missing") == b"\n"
    assert cli(ringkv, "EXISTS", "greeting", "missing", "greeting") == b"2\n"
    assert cli(ringkv, "-n", "3", "SET", "indb3", "v") == b"OK\n"
    assert cli(ringkv, "-n", "3", "GET", "indb3") == b"v\n"
    assert cli(ringkv, "GET", "indb3") == b"\n"


def test_binary_safe_value(ringkv, r):
    value = bytes(range(256)) + b"\r\n\x00end\r\n"
    # -x takes the last argument from stdin verbatim.
    assert cli(ringkv, "-x", "SET", "bin", stdin=value) == b"OK\n"
    assert cli(ringkv, "--raw", "GET", "bin") == value + b"\n"
    assert cli(ringkv, "STRLEN", "bin") == str(len(value)).encode() + b"\n"
    assert r.get("bin") == value


def test_pipe_mass_insertion(ringkv, r):
    n = 20000
    payload = b"".join(harness.encode("SET", f"mass:{i}", f"v{i}") for i in range(n))
    out = cli(ringkv, "--pipe", stdin=payload).decode()
    m = re.search(r"errors: (\d+), replies: (\d+)", out)
    assert m, out
    assert (int(m.group(1)), int(m.group(2))) == (0, n), out
    assert r.dbsize() == n
    assert r.get("mass:12345") == b"v12345"
    assert r.mget("mass:0", f"mass:{n - 1}", "mass:nope") == [b"v0", f"v{n - 1}".encode(), None]


def test_scan_via_cli(ringkv, r):
    keys = {f"scan:{i}".encode() for i in range(3000)}
    r.mset({k: b"1" for k in keys})
    r.set("other", "x")
    out = cli(ringkv, "--scan", "--pattern", "scan:*")
    found = out.splitlines()
    assert set(found) == keys
    assert len(found) >= len(keys)


def test_info_parsing(ringkv, r, matrix_entry):
    backend, shards = matrix_entry
    info = harness.info_dict(cli(ringkv, "INFO", "server"))
    assert info["redis_version"] == "7.0.15"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", info["ringkv_version"]), info
    assert info["io_backend"] == backend
    assert int(info["tcp_port"]) == ringkv.port
    assert int(info["process_id"]) == ringkv.pid

    r.mset({"a": 1, "b": 2, "c": 3})
    r.expire("a", 1000)
    keyspace = harness.info_dict(cli(ringkv, "INFO", "keyspace"))
    m = re.fullmatch(r"keys=(\d+),expires=(\d+),avg_ttl=(\d+)", keyspace["db0"])
    assert m and (m.group(1), m.group(2)) == ("3", "1"), keyspace

    sections = set(re.findall(rb"^# (\w+)", cli(ringkv, "INFO", "everything"), re.M))
    for want in (b"Server", b"Clients", b"Memory", b"Stats", b"CPU", b"Commandstats",
                 b"Errorstats", b"Keyspace"):
        assert want in sections, sections


def test_info_stats_count_commands(ringkv, r):
    r.config_resetstat()
    for i in range(7):
        r.set(f"s{i}", i)
    cli(ringkv, "NOSUCHCMD")
    stats = harness.info_dict(cli(ringkv, "INFO", "commandstats"))
    assert stats["cmdstat_set"].startswith("calls=7,"), stats
    errors = harness.info_dict(cli(ringkv, "INFO", "errorstats"))
    assert errors.get("errorstat_ERR", "").startswith("count=1"), errors


def cli_error(server, *args) -> bytes:
    # redis-cli prints an error reply followed by a blank line.
    out = cli(server, *args)
    assert out.endswith(b"\n\n"), out
    return out[:-2]


def test_unknown_command_error(ringkv, r):
    assert cli_error(ringkv, "foo", "a") == b"ERR unknown command 'foo', with args beginning with: 'a' "
    assert cli_error(ringkv, "FooBar") == b"ERR unknown command 'FooBar', with args beginning with: "


def test_wrong_arity_error(ringkv, r):
    assert cli_error(ringkv, "GET") == b"ERR wrong number of arguments for 'get' command"
    assert cli_error(ringkv, "set", "onlykey") == b"ERR wrong number of arguments for 'set' command"
    # The connection stays usable after an error reply.
    assert cli(ringkv, "GET", "x") == b"\n"


def test_command_table_for_cli_hints(ringkv, r):
    count = int(cli(ringkv, "COMMAND", "COUNT"))
    assert count >= 60
    with ringkv.raw() as c:
        info = harness.plain(c.call("COMMAND", "INFO", "get"))
        assert info[0][:2] == [b"get", 2], info
        # redis-cli builds its hints from COMMAND DOCS: a map of name -> doc map.
        docs = harness.plain(c.call("COMMAND", "DOCS", "set"))
        assert docs[0] == b"set", docs
        fields = docs[1][::2]
        assert b"summary" in fields and b"arguments" in fields, docs


def test_bigkeys(ringkv, r):
    r.set("small", "x")
    r.set("large", "y" * 5000)
    out = cli(ringkv, "--bigkeys").decode()
    assert "Biggest string found '\"large\"' has 5000 bytes" in out, out
    assert "2 strings" in out, out


def test_cli_auth(server_factory, matrix_entry):
    backend, shards = matrix_entry
    server = server_factory(backend=backend, shards=shards, password="s3cret")
    assert cli_error(server, "GET", "x") == b"NOAUTH Authentication required."
    assert cli(server, "SET", "x", "1", extra=["-a", "s3cret", "--no-auth-warning"]) == b"OK\n"
    # redis-cli reports the failed AUTH on stderr, then the command's NOAUTH.
    proc = subprocess.run(["redis-cli", "-p", str(server.port), "-a", "wrong", "--no-auth-warning", "GET", "x"],
                          capture_output=True, timeout=60)
    assert proc.stderr.startswith(b"AUTH failed: WRONGPASS invalid username-password pair"), proc
    assert proc.stdout.startswith(b"NOAUTH"), proc
