#!/usr/bin/env python3
"""Generate Sources/Commands/CommandDocsData+<Family>.swift from redis-server 7.0.

Reads COMMAND DOCS and COMMAND INFO (over RESP3, so maps, sets and arrays keep
their wire types and order) from a real redis-server 7.0 and writes Swift in
the style of CommandDocsData.swift: one `t["name"] = CommandMeta(...)`
statement per command and per subcommand, one function per family.

Summary, since and group are not written: they live in each CommandSpec
(--notes prints them, with arity, flags, key positions and ACL categories).

Usage (from the repository root):
  scripts/gen_command_docs.py                      # every family below
  scripts/gen_command_docs.py --family lists       # one family
  scripts/gen_command_docs.py --print get set      # Swift for these names, to stdout
  scripts/gen_command_docs.py --check              # regenerate the entries already in
                                                   # CommandDocsData.swift and diff them
  scripts/gen_command_docs.py --notes /work/notes/collection-specs.txt
  scripts/gen_command_docs.py --connect 127.0.0.1:6379   # use a running redis-server

Without --connect it starts `redis-server --port 6404 --save ''` (--port to
change) and stops it at the end. Only the standard library is needed.
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS_DIR = REPO / "Sources" / "Commands"
MAIN_DATA = COMMANDS_DIR / "CommandDocsData.swift"

# family -> (file suffix, function name, commands)
FAMILIES: dict[str, tuple[str, str, list[str]]] = {
    "lists": ("Lists", "addLists", """
        lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove
        rpoplpush lmpop blpop brpop blmove brpoplpush blmpop""".split()),
    "hashes": ("Hashes", "addHashes", """
        hset hsetnx hmset hget hmget hdel hlen hstrlen hexists hkeys hvals hgetall hincrby
        hincrbyfloat hrandfield hscan""".split()),
    "sets": ("Sets", "addSets", """
        sadd srem scard sismember smismember smembers srandmember spop smove sinter sintercard
        sinterstore sunion sunionstore sdiff sdiffstore sscan""".split()),
    "sortedsets": ("SortedSets", "addSortedSets", """
        zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount zrange zrangestore
        zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zrevrange zremrangebyrank
        zremrangebyscore zremrangebylex zpopmin zpopmax zmpop zrandmember zunion zinter zdiff
        zunionstore zinterstore zdiffstore zintercard zscan bzpopmin bzpopmax bzmpop""".split()),
    "sort": ("Sort", "addSort", "sort sort_ro".split()),
    "geo": ("Geo", "addGeo", """
        geoadd geodist geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro
        geosearch geosearchstore""".split()),
    "bitmaps": ("Bitmaps", "addBitmaps", "setbit getbit bitcount bitpos bitop bitfield bitfield_ro".split()),
    "hyperloglog": ("HyperLogLog", "addHyperLogLog", "pfadd pfcount pfmerge pfdebug pfselftest".split()),
    "pubsub": ("PubSub", "addPubSub", """
        subscribe unsubscribe psubscribe punsubscribe ssubscribe sunsubscribe publish spublish pubsub
        monitor client|pause client|unpause client|tracking client|caching client|getredir
        client|trackinginfo""".split()),
    "dumprestore": ("DumpRestore", "addDumpRestore", "dump restore".split()),
    "persistence": ("Persistence", "addPersistence", "save bgsave".split()),
    "migrate": ("Migrate", "addMigrate", ["migrate"]),
    "aof": ("Aof", "addAof", "bgrewriteaof".split()),
    "streams": ("Streams", "addStreams", """
        xadd xlen xrange xrevrange xdel xtrim xsetid xread xreadgroup xgroup xack xpending xclaim
        xautoclaim xinfo""".split()),
}

INDENT = "        "  # statements inside the function body


class ModelGap(Exception):
    """Redis replied something CommandMeta/CommandArg/KeySpec cannot express."""


# --------------------------------------------------------------------------
# RESP3 client (standard library only)


class Resp3:
    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        hello = self.call("HELLO", "3")
        if not isinstance(hello, dict):
            raise RuntimeError(f"HELLO 3 failed: {hello!r}")
        self.hello = hello

    def close(self):
        self.f.close()
        self.sock.close()

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise EOFError("connection closed")
        t, rest = chr(line[0]), line[1:-2]
        if t == "+":
            return Simple(rest.decode())
        if t == "-":
            raise RuntimeError(rest.decode())
        if t == ":":
            return int(rest)
        if t in "$=":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if t == "_":
            return None
        if t in "*~>":
            n = int(rest)
            if n < 0:
                return None
            items = [self.read() for _ in range(n)]
            return RSet(items) if t == "~" else items
        if t == "%":
            n = int(rest)
            out = {}
            for _ in range(n):
                k = self.read()
                out[k] = self.read()
            return out
        if t == ",":
            return float(rest)
        if t == "#":
            return rest == b"t"
        raise ValueError(f"unknown RESP3 type {line[:20]!r}")


class Simple(str):
    """A +simple string (Redis writes flags as these, tips as bulk strings)."""


class RSet(list):
    """A RESP3 set, kept in wire order."""


# --------------------------------------------------------------------------
# Reference server


class RedisRef:
    def __init__(self, connect: str | None, port: int, binary: str):
        self.proc = None
        self.tmp = None
        if connect:
            host, _, p = connect.rpartition(":")
            self.host, self.port = host or "127.0.0.1", int(p)
        else:
            self.host, self.port = "127.0.0.1", port
            exe = shutil.which(binary) or binary
            self.tmp = tempfile.mkdtemp(prefix="gen-docs-")
            self.proc = subprocess.Popen(
                [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", self.tmp],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while True:
            try:
                self.conn = Resp3(self.host, self.port)
                break
            except OSError:
                if self.proc and self.proc.poll() is not None:
                    raise SystemExit(f"redis-server exited {self.proc.returncode} (port {port} busy? use --port/--connect)")
                if time.time() > deadline:
                    raise SystemExit(f"no redis-server on {self.host}:{self.port}")
                time.sleep(0.05)
        self.version = self.conn.hello.get("version", "?")
        if not str(self.version).startswith("7.0."):
            print(f"warning: redis-server {self.version}, the table is meant to be Redis 7.0's",
                  file=sys.stderr)

    def close(self):
        try:
            self.conn.close()
        finally:
            if self.proc:
                self.proc.terminate()
                self.proc.wait(10)
                shutil.rmtree(self.tmp, ignore_errors=True)

    def docs(self, names: list[str]) -> dict:
        return self.conn.call("COMMAND", "DOCS", *names)

    def info(self, name: str):
        rows = self.conn.call("COMMAND", "INFO", name)
        return rows[0]


def find_info(info, full: str):
    """COMMAND INFO row for `full`, looking into subcommands for `a|b`."""
    if info[0] == full:
        return info
    for sub in info[9]:
        if sub[0] == full:
            return sub
    raise KeyError(full)


# --------------------------------------------------------------------------
# Swift emission


def sw(s: str) -> str:
    """A Swift string literal."""
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def sw_list(items) -> str:
    return "[" + ", ".join(sw(x) for x in items) + "]"


ARG_TYPES = {
    "key": "key", "string": "string", "integer": "integer", "double": "double", "pattern": "pattern",
    "unix-time": "unixTime", "pure-token": "pureToken", "oneof": "oneof", "block": "block",
}
ARG_FLAGS = {"optional": ".optional", "multiple": ".multiple", "multiple_token": ".multipleToken"}
ARG_KEYS = ["name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since", "flags",
            "arguments"]
DOC_KEYS = ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by",
            "history", "arguments", "subcommands"]
KEYSPEC_KEYS = ["notes", "flags", "begin_search", "find_keys"]


def check_order(what: str, got: list, order: list[str]):
    unknown = [k for k in got if k not in order]
    if unknown:
        raise ModelGap(f"{what}: fields {unknown} have no place in the model")
    idx = [order.index(k) for k in got]
    if idx != sorted(idx):
        raise ModelGap(f"{what}: field order {got} differs from ours {order}")


def emit_args(args: list, depth: int, where: str) -> list[str]:
    pad = INDENT + "    " * depth
    lines = []
    for a in args:
        check_order(f"{where} argument {a.get('name')}", list(a), ARG_KEYS)
        t = a["type"]
        if t not in ARG_TYPES:
            raise ModelGap(f"{where}: argument type {t!r}")
        parts = [sw(a["name"]), "." + ARG_TYPES[t]]
        if "key_spec_index" in a:
            parts.append(f"keySpec: {a['key_spec_index']}")
        for key, label in (("token", "token"), ("summary", "summary"), ("since", "since"),
                           ("deprecated_since", "deprecatedSince")):
            if key in a:
                parts.append(f"{label}: {sw(a[key])}")
        if "flags" in a:
            flags = list(a["flags"])
            bad = [f for f in flags if f not in ARG_FLAGS]
            if bad:
                raise ModelGap(f"{where}: argument flags {bad}")
            order = list(ARG_FLAGS)
            if [order.index(f) for f in flags] != sorted(order.index(f) for f in flags):
                raise ModelGap(f"{where}: argument flag order {flags}")
            if not flags:
                raise ModelGap(f"{where}: empty flags set would be dropped")
            parts.append("flags: [" + ", ".join(ARG_FLAGS[f] for f in flags) + "]")
        sub = a.get("arguments")
        if t in ("oneof", "block") and not sub:
            raise ModelGap(f"{where}: {t} {a['name']!r} without nested arguments ('arguments' would be dropped)")
        if sub is not None and t not in ("oneof", "block"):
            raise ModelGap(f"{where}: nested arguments under a {t}")
        if sub:
            lines.append(f"{pad}A({', '.join(parts)}, [")
            lines += emit_args(sub, depth + 1, where)
            lines.append(f"{pad}]),")
        else:
            lines.append(f"{pad}A({', '.join(parts)}),")
    return lines


def emit_begin(b: dict, where: str) -> str:
    t, spec = b["type"], b["spec"]
    if t == "index" and list(spec) == ["index"]:
        return f".index({spec['index']})"
    if t == "keyword" and list(spec) == ["keyword", "startfrom"]:
        return f".keyword({sw(spec['keyword'])}, startFrom: {spec['startfrom']})"
    if t == "unknown" and not spec:
        return ".unknown"
    raise ModelGap(f"{where}: begin_search {b!r}")


def emit_find(f: dict, where: str) -> str:
    t, spec = f["type"], f["spec"]
    if t == "range" and list(spec) == ["lastkey", "keystep", "limit"]:
        return f".range(lastKey: {spec['lastkey']}, step: {spec['keystep']}, limit: {spec['limit']})"
    if t == "keynum" and list(spec) == ["keynumidx", "firstkey", "keystep"]:
        return f".keynum(index: {spec['keynumidx']}, firstKey: {spec['firstkey']}, step: {spec['keystep']})"
    if t == "unknown" and not spec:
        return ".unknown"
    raise ModelGap(f"{where}: find_keys {f!r}")


def emit_keyspec(k: dict, where: str) -> str:
    check_order(f"{where} key spec", list(k), KEYSPEC_KEYS)
    if list(k.get("begin_search", {})) != ["type", "spec"] or list(k.get("find_keys", {})) != ["type", "spec"]:
        raise ModelGap(f"{where}: key spec layout {k!r}")
    parts = []
    if "notes" in k:
        parts.append(f"notes: {sw(k['notes'])}")
    parts.append(f"flags: {sw_list(k['flags'])}")
    parts.append(f"begin: {emit_begin(k['begin_search'], where)}")
    parts.append(f"find: {emit_find(k['find_keys'], where)}")
    return f"KeySpec({', '.join(parts)})"


def emit_entry(full: str, doc: dict, info) -> list[str]:
    """One `t["name"] = CommandMeta(...)` statement (with its comment)."""
    check_order(f"{full} docs", list(doc), DOC_KEYS)
    if info[7] is None or info[8] is None:
        raise ModelGap(f"{full}: COMMAND INFO without tips/key specs")
    fields: list[list[str]] = []  # each field: its lines, first one without indentation
    if "complexity" in doc:
        fields.append([f"complexity: {sw(doc['complexity'])}"])
    if "doc_flags" in doc:
        fields.append([f"docFlags: {sw_list(doc['doc_flags'])}"])
    if "deprecated_since" in doc:
        fields.append([f"deprecatedSince: {sw(doc['deprecated_since'])}"])
    if "replaced_by" in doc:
        fields.append([f"replacedBy: {sw(doc['replaced_by'])}"])
    if "history" in doc and doc["history"]:
        items = []
        for h in doc["history"]:
            if len(h) != 2:
                raise ModelGap(f"{full}: history entry {h!r}")
            items.append(f"({sw(h[0])}, {sw(h[1])})")
        fields.append([f"history: [{', '.join(items)}]"])
    tips = list(info[7])
    if tips:
        fields.append([f"tips: {sw_list(tips)}"])
    specs = list(info[8])
    if specs:
        f = ["keySpecs: ["]
        f += [f"{INDENT}        {emit_keyspec(k, full)}," for k in specs]
        f.append(f"{INDENT}    ]")
        fields.append(f)
    if "arguments" in doc:
        if not doc["arguments"]:
            raise ModelGap(f"{full}: empty 'arguments' would be dropped")
        f = ["arguments: ["]
        f += emit_args(doc["arguments"], 2, full)
        f.append(f"{INDENT}    ]")
        fields.append(f)
    comment = f"{INDENT}// {full.upper().replace('|', ' ')}"
    head = f'{INDENT}t[{sw(full)}] = CommandMeta('
    if not fields:
        return [comment, head + ")"]
    lines = [comment, head]
    for i, f in enumerate(fields):
        last = i == len(fields) - 1
        body = [INDENT + "    " + f[0]] + f[1:]
        body[-1] += ")" if last else ","
        lines += body
    return lines


def entries_for(ref: RedisRef, names: list[str]) -> list[tuple[str, list[str]]]:
    """(full name, statement lines) for each name and its subcommands, in order."""
    docs = ref.docs(names)
    out = []
    for name in names:
        if name not in docs:
            raise SystemExit(f"redis-server {ref.version} has no command {name!r}")
        info = ref.info(name)
        out.append((name, emit_entry(name, docs[name], info)))
        for sub, sdoc in (docs[name].get("subcommands") or {}).items():
            out.append((sub, emit_entry(sub, sdoc, find_info(info, sub))))
    return out


def family_file(ref: RedisRef, family: str) -> tuple[Path, str]:
    suffix, func, names = FAMILIES[family]
    lines = [
        f"// Generated by scripts/gen_command_docs.py from redis-server {ref.version}'s",
        "// COMMAND DOCS and COMMAND INFO replies; regenerate rather than edit:",
        f"//   scripts/gen_command_docs.py --family {family}",
        "// Summary, since and group live in each CommandSpec.",
        "",
        "extension CommandDocs {",
        "    // One statement per command keeps the type checker fast.",
        f"    static func {func}(_ t: inout [String: CommandMeta]) {{",
    ]
    for _, stmt in entries_for(ref, names):
        lines += stmt
    lines += ["    }", "}", ""]
    return COMMANDS_DIR / f"CommandDocsData+{suffix}.swift", "\n".join(lines)


# --------------------------------------------------------------------------
# --check: regenerate what CommandDocsData.swift already has


def existing_statements(path: Path) -> dict[str, str]:
    """name -> statement text (comment lines dropped) from a data file."""
    text = path.read_text()
    out = {}
    for m in re.finditer(r'^ *t\["([^"]+)"\] = CommandMeta\(', text, re.M):
        i, depth, in_str = m.end(), 1, False
        while depth:
            ch = text[i]
            if in_str:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            i += 1
        out[m.group(1)] = text[m.start():i]
    return out


def normalize(stmt: str) -> str:
    """Whitespace and trailing commas outside string literals removed."""
    out, in_str, i = [], False, 0
    while i < len(stmt):
        ch = stmt[i]
        if in_str:
            out.append(ch)
            if ch == "\\":
                out.append(stmt[i + 1])
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif not ch.isspace():
            out.append(ch)
        i += 1
    return re.sub(r",([\])])", r"\1", "".join(out))


def check(ref: RedisRef, path: Path) -> int:
    have = existing_statements(path)
    tops = [n for n in have if "|" not in n]
    gen = {}
    for name in tops:
        try:
            for full, stmt in entries_for(ref, [name]):
                gen[full] = "\n".join(l for l in stmt if not l.lstrip().startswith("//"))
        except ModelGap as e:
            print(f"MODEL GAP {e}")
    exact = same = 0
    problems = 0
    for full, old in have.items():
        new = gen.get(full)
        if new is None:
            print(f"{full}: not generated (not in Redis {ref.version}, or a subcommand Redis lacks)")
            problems += 1
            continue
        if new == old:
            exact += 1
        elif normalize(new) == normalize(old):
            same += 1
            print(f"{full}: same data, another layout")
        else:
            problems += 1
            print(f"--- {full}: differs from Redis {ref.version}")
            for l in difflib.unified_diff(old.splitlines(), new.splitlines(), "CommandDocsData.swift",
                                          "generated", lineterm="", n=1):
                print("    " + l)
    extra = sorted(set(gen) - set(have))
    if extra:
        print(f"subcommands Redis has that the table lacks (only matters if CommandSpec has them): {' '.join(extra)}")
    print(f"{len(have)} entries: {exact} identical, {same} same data in another layout, {problems} differ")
    return 1 if problems else 0


# --------------------------------------------------------------------------
# --notes: the CommandSpec side, for whoever writes the specs

FLAG_SWIFT = {
    "write": ".write", "readonly": ".readonly", "denyoom": ".denyoom", "admin": ".admin",
    "pubsub": ".pubsub", "noscript": ".noscript", "blocking": ".blocking", "loading": ".loading",
    "stale": ".stale", "skip_monitor": ".skipMonitor", "skip_slowlog": ".skipSlowlog",
    "asking": ".asking", "fast": ".fast", "no_auth": ".noAuth", "no_mandatory_keys": ".noMandatoryKeys",
    "no_async_loading": ".noAsyncLoading", "no_multi": ".noMulti", "movablekeys": ".movableKeys",
    "allow_busy": ".allowBusy",
}


def implied_acl(flags: list[str]) -> set[str]:
    """Categories CommandSpec derives from flags (aclCategories in CommandSpec.swift)."""
    out = set()
    if "write" in flags:
        out.add("@write")
    if "readonly" in flags:
        out.add("@read")
    if "admin" in flags:
        out |= {"@admin", "@dangerous"}
    if "pubsub" in flags:
        out.add("@pubsub")
    if "fast" in flags:
        out.add("@fast")
    else:
        out.add("@slow")
    if "blocking" in flags:
        out.add("@blocking")
    return out


def notes(ref: RedisRef, families: list[str]) -> str:
    lines = [
        f"# Redis {ref.version} COMMAND INFO / COMMAND DOCS for the collection commands",
        "# (scripts/gen_command_docs.py --notes). One command per line, fields separated by ' | ':",
        "# name | arity | flags (Redis order) | swift flags | first,last,step | ACL categories (Redis order)",
        "#   | explicit acl: (what CommandSpec's acl: must list; flags add the rest) | group | since",
        "#   | doc_flags/deprecated | summary",
        "# 'movablekeys' commands need keysOf: in their CommandSpec.",
    ]
    for fam in families:
        names = FAMILIES[fam][2]
        docs = ref.docs(names)
        lines.append(f"## {fam}")
        for n in names:
            info, doc = ref.info(n), docs[n]
            flags = list(info[2])
            acl = list(info[6])
            explicit = [a for a in acl if a not in implied_acl(flags)]
            dep = ""
            if "doc_flags" in doc:
                dep = ",".join(doc["doc_flags"])
                if "deprecated_since" in doc:
                    dep += f" since {doc['deprecated_since']}; use {doc.get('replaced_by', '?')}"
            lines.append(" | ".join([
                n, str(info[1]), " ".join(flags) or "-",
                "[" + ", ".join(FLAG_SWIFT.get(f, "?" + f) for f in flags) + "]",
                f"{info[3]},{info[4]},{info[5]}", " ".join(acl),
                "acl: [" + ", ".join(f'"{a}"' for a in explicit) + "]",
                doc["group"], doc["since"], dep or "-", doc["summary"],
            ]))
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connect", metavar="HOST:PORT", help="use a running redis-server 7.0")
    ap.add_argument("--port", type=int, default=6404, help="port for the redis-server started here")
    ap.add_argument("--redis-server", default=os.environ.get("REDIS_SERVER_BIN", "redis-server"))
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES),
                    help="write this family's file (default: all); repeatable")
    ap.add_argument("--print", nargs="+", metavar="NAME", help="print the statements for these commands")
    ap.add_argument("--check", nargs="?", const=str(MAIN_DATA), metavar="FILE",
                    help="regenerate the entries in FILE (default CommandDocsData.swift) and diff")
    ap.add_argument("--notes", metavar="FILE", help="write the CommandSpec table for the families")
    ap.add_argument("--stdout", action="store_true", help="print family files instead of writing them")
    a = ap.parse_args()

    ref = RedisRef(a.connect, a.port, a.redis_server)
    try:
        if a.print:
            for _, stmt in entries_for(ref, [n.lower() for n in a.print]):
                print("\n".join(stmt))
            return 0
        if a.check:
            return check(ref, Path(a.check))
        families = a.family or list(FAMILIES)
        if a.notes:
            Path(a.notes).write_text(notes(ref, families))
            print(f"wrote {a.notes}")
            return 0
        for fam in families:
            path, text = family_file(ref, fam)
            if a.stdout:
                print(text)
            else:
                path.write_text(text)
                print(f"wrote {path.relative_to(REPO)}")
        return 0
    except ModelGap as e:
        print(f"MODEL GAP: {e}", file=sys.stderr)
        return 2
    finally:
        ref.close()


if __name__ == "__main__":
    sys.exit(main())
