"""The GEO family against redis-server 7.0.

Each scenario sends the same commands to ringkv (every matrix entry,
including 4 shards, where STORE forms run across shards) and to a real
redis-server, and compares the replies with their RESP types. Geo sets are
sorted sets with Redis's 52-bit geohash scores, so ZRANGE WITHSCORES of a
geo key is compared too. A search without ASC/DESC replies in Redis's walk
order (cell by cell, in score order), which is deterministic: it is
compared exactly, and so are COUNT's results, which go through Redis's
partial quicksort (equal distances included). SORTED marks a step
compared as a sorted list.
"""
from __future__ import annotations

import random

import pytest

import harness
from test_command_meta_collections import _conn, _first_diff, _present

SORTED = "sorted"

SICILY = ("13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")


def norm(reply, sort):
    t, v = reply
    if sort and t == "*" and v is not None:
        return (t, sorted(v, key=repr))
    return reply


def run(server, steps, proto=2):
    out = []
    with server.raw() as c:
        c.call("FLUSHALL")
        if proto == 3:
            c.call("HELLO", "3")
        try:
            for s in steps:
                mark = s[0] if s and s[0] == SORTED else None
                cmd = s[1] if mark else s
                out.append((cmd, norm(c.call(*cmd), mark == SORTED)))
        finally:
            c.call("CONFIG", "SET", "zset-max-listpack-entries", "128")
            c.call("CONFIG", "SET", "zset-max-listpack-value", "64")
    return out


def compare(ringkv, redis_ref, steps, proto=2):
    got = run(ringkv, steps, proto)
    want = run(redis_ref, steps, proto)
    assert len(got) == len(want)
    for (cmd, g), (_, w) in zip(got, want):
        assert g == w, f"{cmd}: ringkv {g!r} != redis {w!r}"


# Points around Sicily and a few far away: several search cells, both
# hemispheres, both sides of the antimeridian.
POINTS = [
    ("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
    ("12.758489", "38.788135", "edge1"), ("13.5", "37.3", "Agrigento"), ("14.25", "37.99", "mid"),
    ("15.55", "38.19", "Messina"), ("12.5", "37.8", "Marsala"), ("16.0", "39.0", "Cosenza"),
    ("13.361389", "38.115556", "PalermoTwin"), ("-73.9857", "40.7484", "NYC"), ("151.2093", "-33.8688", "Sydney"),
    ("179.99", "-16.5", "FijiE"), ("-179.99", "-16.6", "FijiW"), ("0", "0", "null_island"),
    ("-0.1278", "51.5074", "London"), ("2.3522", "48.8566", "Paris"), ("139.6917", "35.6895", "Tokyo"),
    ("180", "85.05112878", "corner"), ("-180", "-85.05112878", "corner2"), ("10", "80.5", "arctic"),
]


def geoadd_all(key="g"):
    args = []
    for lon, lat, m in POINTS:
        args += [lon, lat, m]
    return ("GEOADD", key, *args)


SEARCHES = [
    ("GEORADIUS", "g", "15", "37", "200", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "DESC"),
    ("GEORADIUS", "g", "15", "37", "200000", "m", "COUNT", "3"),
    ("GEORADIUS", "g", "15", "37", "200", "mi", "COUNT", "2", "ANY"),
    ("GEORADIUS", "g", "15", "37", "200", "mi", "COUNT", "2", "ANY", "ASC", "WITHDIST"),
    ("GEORADIUS", "g", "15", "37", "500000", "ft", "WITHDIST"),
    ("GEORADIUS", "g", "0", "0", "0", "m", "WITHDIST"),
    ("GEORADIUS", "g", "0", "0", "10000", "km", "WITHDIST", "ASC"),
    ("GEORADIUS", "g", "0", "0", "25000", "km", "ASC"),
    ("GEORADIUS", "g", "179.5", "-16.5", "200", "km", "WITHDIST", "WITHCOORD"),
    ("GEORADIUS", "g", "10", "80", "100", "km", "WITHDIST"),
    ("GEORADIUS_RO", "g", "13", "38", "100", "km", "WITHHASH", "WITHCOORD"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "WITHDIST", "ASC"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "0", "km", "WITHDIST"),
    ("GEORADIUSBYMEMBER_RO", "g", "London", "400", "km", "WITHCOORD", "DESC"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHDIST"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "100", "300", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "20000", "20000", "km", "WITHDIST", "WITHHASH"),
    ("GEOSEARCH", "g", "FROMLONLAT", "-179.9", "-16.5", "BYBOX", "100", "100", "km", "DESC", "WITHDIST"),
    ("GEOSEARCH", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "1", "m"),
    ("GEOSEARCH", "g", "BYRADIUS", "300", "km", "FROMMEMBER", "Catania", "COUNT", "4", "WITHDIST"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Catania", "BYRADIUS", "300", "km", "COUNT", "4", "ANY"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Catania", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "DESC"),
    ("geosearch", "g", "fromlonlat", "15", "37", "byradius", "2", "KM", "withdist", "withcoord", "withhash"),
]

ERRORS = [
    ("GEORADIUS", "g", "200", "37", "200", "km"), ("GEORADIUS", "g", "x", "37", "200", "km"),
    ("GEORADIUS", "g", "15", "nan", "200", "km"), ("GEORADIUS", "g", "15", "37", "-1", "km"),
    ("GEORADIUS", "g", "15", "37", "x", "km"), ("GEORADIUS", "g", "15", "37", "1", "yards"),
    ("GEORADIUS", "g", "15", "37", "1", "km", "COUNT", "0"), ("GEORADIUS", "g", "15", "37", "1", "km", "COUNT", "-3"),
    ("GEORADIUS", "g", "15", "37", "1", "km", "COUNT", "x"), ("GEORADIUS", "g", "15", "37", "1", "km", "COUNT"),
    ("GEORADIUS", "g", "15", "37", "1", "km", "ANY"), ("GEORADIUS", "g", "15", "37", "1", "km", "WITHDIST", "STORE", "d"),
    ("GEORADIUS", "g", "15", "37", "1", "km", "STORE"), ("GEORADIUS", "g", "15", "37", "1", "km", "bogus"),
    ("GEORADIUS_RO", "g", "15", "37", "1", "km", "STORE", "d"),
    ("GEORADIUS_RO", "g", "15", "37", "1", "km", "STOREDIST", "d"),
    ("GEORADIUSBYMEMBER", "g", "nosuch", "1", "km"), ("GEORADIUSBYMEMBER", "g", "Palermo", "-1", "km"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "1", "km", "WITHHASH", "STOREDIST", "d"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "d"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "COUNT", "3"), ("GEOSEARCH", "g", "BYRADIUS", "1", "km", "ASC"),
    ("GeoSearch", "g", "WITHDIST", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "1", "x", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "parsec"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "1", "1"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "91", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY", "COUNT", "0"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHCOORD"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "x"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST", "x"),
    ("geosearchstore", "d", "g", "BYRADIUS", "1", "km", "STOREDIST"),
    ("GEOSEARCH", "g"), ("GEOSEARCHSTORE", "d", "g", "BYRADIUS", "1", "km"), ("GEORADIUS", "g", "1", "2", "3"),
]

SCENARIOS = {
    "basics": [
        ("GEOADD", "Sicily", *SICILY), ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"), ("TYPE", "Sicily"),
        ("OBJECT", "ENCODING", "Sicily"), ("GEOPOS", "Sicily", "Palermo", "nope", "Catania"),
        ("GEODIST", "Sicily", "Palermo", "Catania"), ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "MI"), ("GEODIST", "Sicily", "Palermo", "Catania", "Ft"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "m"), ("GEODIST", "Sicily", "Palermo", "Palermo"),
        ("GEODIST", "Sicily", "Palermo", "nope"), ("GEODIST", "nokey", "a", "b"),
        ("GEODIST", "nokey", "a", "b", "lightyears"), ("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "cm"),
        ("GEOHASH", "Sicily", "Palermo", "Catania", "nope"), ("GEOHASH", "nokey", "a", "b"), ("GEOHASH", "Sicily"),
        ("GEOPOS", "nokey", "a", "b"), ("GEOPOS", "Sicily"), ("ZSCORE", "Sicily", "Palermo"),
        ("ZCARD", "Sicily"), ("ZREM", "Sicily", "Palermo"), ("GEOPOS", "Sicily", "Palermo"),
    ],
    "geoadd_options": [
        ("GEOADD", "k", "1", "2", "a", "3", "4", "b"), ("GEOADD", "k", "NX", "5", "6", "a", "7", "8", "c"),
        ("GEOADD", "k", "XX", "5", "6", "a", "7", "8", "d"), ("GEOADD", "k", "CH", "9", "10", "a", "3", "4", "b"),
        ("GEOADD", "k", "ch", "xx", "11", "12", "a", "13", "14", "e"), ("GEOADD", "k", "XX", "CH", "1", "2", "a"),
        ("GEOADD", "k", "nx", "ch", "1", "2", "a", "3", "3", "z"), ("ZRANGE", "k", "0", "-1", "WITHSCORES"),
        ("GEOADD", "k", "XX", "NX", "1", "2", "a"), ("GEOADD", "k", "CH", "CH", "CH"),
        ("GEOADD", "k", "1", "2", "a", "3"), ("GEOADD", "k", "GT", "1", "2", "a"),
        ("GEOADD", "k", "INCR", "1", "2", "a"), ("GEOADD", "k", "1", "2"),
        ("GEOADD", "k", "200", "10", "a"), ("GEOADD", "k", "10", "86", "a"), ("GEOADD", "k", "-180.1", "0", "a"),
        ("GEOADD", "k", "inf", "10", "a"), ("GEOADD", "k", "10", "-inf", "a"), ("GEOADD", "k", "1e400", "0", "a"),
        ("GEOADD", "k", "x", "10", "a"), ("GEOADD", "k", "10", "", "a"), ("GEOADD", "k", " 10", "1", "a"),
        ("GEOADD", "k", "1", "1", "ok", "10", "86", "bad"), ("ZCARD", "k"),
        ("GEOADD", "e", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "o", "-0", "-0", "mo",
         "179.999999", "0.000001", "t", "0x10", "1e1", "hex"),
        ("ZRANGE", "e", "0", "-1", "WITHSCORES"), ("GEOPOS", "e", "ne", "sw", "o", "mo", "t", "hex"),
        ("GEOHASH", "e", "ne", "sw", "o", "mo", "t", "hex"),
        ("SET", "str", "x"), ("GEOADD", "str", "1", "2", "a"), ("GEOADD", "str", "1", "200", "a"),
        ("GEOPOS", "str", "a"), ("GEODIST", "str", "a", "b"), ("GEODIST", "str", "a", "b", "parsec"),
        ("GEOHASH", "str", "a"), ("GEORADIUS", "str", "1", "2", "3", "km"),
        ("GEORADIUS", "str", "1", "200", "3", "km"), ("GEOSEARCH", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m"),
        ("GEOSEARCHSTORE", "d", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m"),
        ("GEOADD", "k", "1", "2", "a", "1", "2", "a"), ("GEOADD", "k", "CH", "1", "2", "a", "2", "2", "a"),
    ],
    "non_geo_scores": [
        ("ZADD", "z", "-1", "neg", "1e300", "big", "inf", "pinf", "-inf", "ninf", "1.5", "f",
         "4503599627370496", "x52", "9007199254740993", "x53", "-9.3e18", "hugeneg", "1.8e19", "x64", "0", "zero"),
        ("GEOPOS", "z", "neg", "big", "pinf", "ninf", "f", "x52", "x53", "hugeneg", "x64", "zero"),
        ("GEOHASH", "z", "neg", "big", "pinf", "ninf", "f", "x52", "x53", "hugeneg", "x64", "zero"),
        ("GEODIST", "z", "neg", "f"), ("GEODIST", "z", "big", "zero", "km"),
        ("GEOSEARCH", "z", "FROMLONLAT", "-180", "-85", "BYRADIUS", "100", "km", "WITHHASH", "WITHCOORD", "WITHDIST"),
        ("GEOSEARCH", "z", "FROMMEMBER", "f", "BYBOX", "10", "10", "km", "WITHHASH"),
    ],
    "searches": [geoadd_all(), ("ZRANGE", "g", "0", "-1", "WITHSCORES"), *SEARCHES],
    "searches_skiplist": [("CONFIG", "SET", "zset-max-listpack-entries", "0"), geoadd_all(),
                          ("OBJECT", "ENCODING", "g"), ("ZRANGE", "g", "0", "-1", "WITHSCORES"), *SEARCHES],
    "search_errors": [geoadd_all(), *ERRORS],
    "missing_source": [
        ("GEORADIUS", "nokey", "15", "37", "200", "km"), ("GEORADIUS", "nokey", "15", "370", "200", "km"),
        ("GEORADIUSBYMEMBER", "nokey", "m", "-5", "parsec"), ("GEORADIUSBYMEMBER", "nokey", "m", "5", "km", "x"),
        ("GEORADIUSBYMEMBER", "nokey", "m", "5", "km", "STORE", "d"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "m", "BYRADIUS", "-1", "km"),
        ("GEOSEARCH", "nokey", "FROMLONLAT", "1", "2", "BYBOX", "1", "1", "km", "ANY"),
        ("SET", "d", "x"), ("GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
        ("EXISTS", "d"), ("SET", "d", "x"), ("GEORADIUS", "nokey", "1", "2", "3", "km", "STOREDIST", "d"),
        ("EXISTS", "d"), ("GEORADIUS", "nokey", "1", "2", "3", "km", "STOREDIST", "d"),
    ],
    "store": [
        geoadd_all(),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d1"), ("ZRANGE", "d1", "0", "-1", "WITHSCORES"),
        ("OBJECT", "ENCODING", "d1"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d2"), ("ZRANGE", "d2", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d3", "STOREDIST", "d4"), ("EXISTS", "d3", "d4"),
        ("ZRANGE", "d4", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "2", "DESC", "STORE", "d5"),
        ("ZRANGE", "d5", "0", "-1", "WITHSCORES"),
        ("GEORADIUSBYMEMBER", "g", "Palermo", "300", "km", "STOREDIST", "d6", "COUNT", "3"),
        ("ZRANGE", "d6", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "d7", "g", "FROMMEMBER", "Palermo", "BYBOX", "500", "500", "km"),
        ("ZRANGE", "d7", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "d8", "g", "FROMMEMBER", "Palermo", "BYBOX", "500", "500", "mi", "STOREDIST", "COUNT", "5"),
        ("ZRANGE", "d8", "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", "d8"),
        ("GEOSEARCHSTORE", "d9", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "30000", "km", "STOREDIST"),
        ("ZRANGE", "d9", "0", "-1", "WITHSCORES"), ("GEOPOS", "d7", "Palermo", "Catania"),
        ("SET", "d10", "x"), ("EXPIRE", "d10", "1000"),
        ("GEOSEARCHSTORE", "d10", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km"), ("TYPE", "d10"),
        ("TTL", "d10"), ("GEOSEARCHSTORE", "d10", "g", "FROMLONLAT", "-100", "-60", "BYRADIUS", "1", "km"),
        ("EXISTS", "d10"),
        ("GEOSEARCHSTORE", "g", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"),
        ("ZRANGE", "g", "0", "-1", "WITHSCORES"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "3"),
        ("GEORADIUS", "g", "15", "37", "300", "km", "STORE", "d11"), ("OBJECT", "ENCODING", "d11"),
        ("ZRANGE", "d11", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "g", "15", "37", "300", "km", "STORE", "d12", "COUNT", "3"), ("OBJECT", "ENCODING", "d12"),
        ("CONFIG", "SET", "zset-max-listpack-value", "5"),
        ("GEORADIUS", "g", "15", "37", "300", "km", "STORE", "d13", "COUNT", "2"), ("OBJECT", "ENCODING", "d13"),
        ("ZRANGE", "d13", "0", "-1", "WITHSCORES"),
    ],
    "encodings_and_watch": [
        ("GEOADD", "big", "1", "2", "x" * 100), ("OBJECT", "ENCODING", "big"), ("GEOPOS", "big", "x" * 100),
        ("GEOADD", "big", "3", "4", "short"), ("ZRANGE", "big", "0", "-1", "WITHSCORES"),
        ("ZADD", "mix", "1", "a", "2", "b"), ("GEOADD", "mix", "CH", "1", "2", "a", "3", "4", "c"),
        ("ZRANGE", "mix", "0", "-1", "WITHSCORES"), ("GEORADIUS", "mix", "1", "2", "500", "km", "WITHDIST"),
        ("GEOADD", "w", "1", "2", "a"), ("WATCH", "w"), ("GEOADD", "w", "NX", "5", "5", "a"),
        ("GEOADD", "w", "1", "2", "a"), ("GEOADD", "w", "XX", "1", "2", "nope"),
        ("GEOSEARCH", "w", "FROMMEMBER", "a", "BYRADIUS", "1", "km"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w"), ("GEOADD", "w", "5", "5", "b"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "w2"), ("GEOSEARCHSTORE", "w2", "w", "FROMMEMBER", "a", "BYRADIUS", "1", "km"), ("MULTI",),
        ("PING",), ("EXEC",),
        ("MULTI",), ("GEOADD", "w", "7", "7", "c"), ("GEOPOS", "w", "c"), ("GEOSEARCH", "w", "FROMMEMBER", "c",
                                                                           "BYRADIUS", "1", "km"), ("EXEC",),
    ],
    "ties": [
        ("GEOADD", "t", "10", "10", "a", "10", "10", "b", "10", "10", "c", "10.001", "10", "d", "9.999", "10", "e"),
        ("GEORADIUS", "t", "10", "10", "1", "km", "ASC", "WITHDIST"),
        ("GEORADIUS", "t", "10", "10", "1", "km", "DESC"),
        ("GEORADIUS", "t", "10", "10", "1", "km"),
        ("GEORADIUS", "t", "10", "10", "1", "km", "COUNT", "5"),
        ("GEORADIUS", "t", "10", "10", "1", "km", "COUNT", "2", "WITHDIST"),
        ("GEORADIUS", "t", "10", "10", "1", "km", "COUNT", "4", "DESC"),
        ("GEOSEARCH", "t", "FROMMEMBER", "a", "BYRADIUS", "1", "km", "COUNT", "2", "ANY"),
    ],
    # Many equal distances: COUNT goes through Redis's partial quicksort
    # (insertion sort under 7, median of three, ninther over 40).
    "count_ties": [
        ("GEOADD", "q", *[x for i in range(90) for x in (str(5 + (i % 3) * 0.001), "5", f"p{i:02}")]),
        ("GEOADD", "q", *[x for i in range(20) for x in ("5", str(5 + (i % 4) * 0.001), f"n{i:02}")]),
        *[("GEOSEARCH", "q", "FROMLONLAT", "5", "5", "BYRADIUS", "1", "km", "COUNT", str(c), o, "WITHDIST")
          for c in (1, 3, 6, 7, 8, 40, 41, 64, 109, 110) for o in ("ASC", "DESC")],
        ("GEOSEARCH", "q", "FROMLONLAT", "5.0005", "5", "BYRADIUS", "1", "km", "COUNT", "50"),
        ("GEOSEARCHSTORE", "qd", "q", "FROMLONLAT", "5", "5", "BYRADIUS", "1", "km", "COUNT", "30", "STOREDIST"),
        ("ZRANGE", "qd", "0", "-1", "WITHSCORES"),
    ],
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(ringkv, redis_ref, name):
    compare(ringkv, redis_ref, SCENARIOS[name])


@pytest.mark.parametrize("name", ["basics", "searches", "non_geo_scores", "missing_source"])
def test_resp3(ringkv, redis_ref, name):
    compare(ringkv, redis_ref, SCENARIOS[name], proto=3)


def random_points(rng, n):
    pts = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.5:  # clustered: many points per cell
            lon, lat = 2.35 + rng.uniform(-0.5, 0.5), 48.85 + rng.uniform(-0.5, 0.5)
        elif kind < 0.6:  # near the antimeridian
            lon, lat = rng.choice([-1, 1]) * rng.uniform(179, 180), rng.uniform(-60, 60)
        elif kind < 0.7:  # near Mercator's limits
            lon, lat = rng.uniform(-180, 180), rng.choice([-1, 1]) * rng.uniform(80, 85.05)
        else:
            lon, lat = rng.uniform(-180, 180), rng.uniform(-85.05, 85.05)
        pts.append((f"{lon:.6f}", f"{lat:.6f}", f"m{i}"))
    return pts


@pytest.mark.parametrize("seed,encoding", [(1, "listpack"), (2, "skiplist"), (3, "listpack")])
def test_random_searches(ringkv, redis_ref, seed, encoding):
    """Seeded random points, centres, radii and boxes: every search's
    members, distances, hashes and coordinates equal Redis's."""
    rng = random.Random(seed)
    steps = []
    if encoding == "skiplist":
        steps.append(("CONFIG", "SET", "zset-max-listpack-entries", "0"))
    pts = random_points(rng, 100 if encoding == "listpack" else 300)
    for k in range(0, len(pts), 50):
        args = []
        for p in pts[k:k + 50]:
            args += list(p)
        steps.append(("GEOADD", "r", *args))
    steps.append(("ZRANGE", "r", "0", "-1", "WITHSCORES"))
    for _ in range(120):
        if rng.random() < 0.5:
            lon, lat, _m = rng.choice(pts)
            lon, lat = float(lon) + rng.uniform(-0.3, 0.3), float(lat) + rng.uniform(-0.3, 0.3)
            lon, lat = max(-180, min(180, lon)), max(-85.05, min(85.05, lat))
            frm = ["FROMLONLAT", f"{lon:.5f}", f"{lat:.5f}"]
        else:
            frm = ["FROMMEMBER", rng.choice(pts)[2]]
        unit = rng.choice(["m", "km", "ft", "mi"])
        scale = {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34}[unit]
        size = 10 ** rng.uniform(1, 7.3) / scale
        if rng.random() < 0.5:
            by = ["BYRADIUS", f"{size:.3f}", unit]
        else:
            by = ["BYBOX", f"{size:.3f}", f"{size * rng.uniform(0.2, 3):.3f}", unit]
        opts = ["WITHDIST", "WITHHASH", "WITHCOORD"]
        r = rng.random()
        mark = None
        if r < 0.3:
            opts.append("ASC")
        elif r < 0.5:
            opts.append("DESC")
        elif r < 0.65:
            opts += ["COUNT", str(rng.randint(1, 20)), "ANY"]
        elif r < 0.8:
            opts += ["COUNT", str(rng.randint(1, 20))]
        cmd = ("GEOSEARCH", "r", *frm, *by, *opts)
        steps.append((mark, cmd) if mark else cmd)
        if rng.random() < 0.2:
            steps.append(("GEOSEARCHSTORE", "dst", "r", *frm, *by, "STOREDIST"))
            steps.append(("ZRANGE", "dst", "0", "-1", "WITHSCORES"))
    compare(ringkv, redis_ref, steps)


def test_cross_shard_store(ringkv, redis_ref):
    """STORE and GEOSEARCHSTORE whose source and destination live on
    different shards (4-shard matrix entry), also inside MULTI."""
    src, dst, other = harness.keys_on_distinct_shards("geo", 3, 4)
    steps = [
        ("GEOADD", src, *SICILY, "14", "37.5", "mid"),
        ("GEORADIUS", src, "15", "37", "200", "km", "STORE", dst), ("ZRANGE", dst, "0", "-1", "WITHSCORES"),
        ("GEORADIUSBYMEMBER", src, "Palermo", "200", "km", "STOREDIST", other),
        ("ZRANGE", other, "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", dst, src, "FROMMEMBER", "Catania", "BYBOX", "300", "300", "km", "STOREDIST"),
        ("ZRANGE", dst, "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", dst, src, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"), ("EXISTS", dst),
        ("GEOSEARCHSTORE", dst, other, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
        ("MULTI",), ("GEOSEARCHSTORE", dst, src, "FROMMEMBER", "mid", "BYRADIUS", "500", "km"),
        ("GEORADIUS", src, "15", "37", "50", "km", "STORE", other), ("ZCARD", dst), ("EXEC",),
        ("ZRANGE", dst, "0", "-1", "WITHSCORES"), ("ZRANGE", other, "0", "-1", "WITHSCORES"),
        ("GEORADIUS", src, "15", "37", "200", "km", "WITHDIST", "ASC"),
    ]
    compare(ringkv, redis_ref, steps)


def test_getkeys(ringkv, redis_ref):
    cmds = [
        ("COMMAND", "GETKEYS", "GEORADIUS", "src", "1", "2", "3", "km", "STORE", "d1", "STOREDIST", "d2"),
        ("COMMAND", "GETKEYS", "GEORADIUS", "src", "1", "2", "3", "km", "WITHDIST"),
        ("COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "src", "m", "3", "km", "STORE", "d1"),
        ("COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
        ("COMMAND", "GETKEYS", "GEOADD", "k", "1", "2", "m"),
        ("COMMAND", "COUNT",),
    ]
    got = run(ringkv, cmds[:-1])
    want = run(redis_ref, cmds[:-1])
    assert got == want


GEO_COMMANDS = """geoadd geodist geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro
    geosearch geosearchstore""".split()


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs(ringkv, redis_ref, proto):
    with _conn(ringkv, proto) as ours, _conn(redis_ref, proto) as ref:
        assert _present(ours, GEO_COMMANDS) == GEO_COMMANDS
        for name in GEO_COMMANDS:
            for sub in ("INFO", "DOCS"):
                got = ours.call("COMMAND", sub, name.upper())
                want = ref.call("COMMAND", sub, name.upper())
                assert got == want, f"COMMAND {sub} {name} (RESP{proto}):\n" + _first_diff(got, want)


def test_redis_py(ringkv):
    r = ringkv.client()
    r.flushall()
    assert r.geoadd("Sicily", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]) == 2
    assert r.geodist("Sicily", "Palermo", "Catania", unit="km") == pytest.approx(166.2742)
    assert r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", sort="ASC") == \
        [b"Catania", b"Palermo"]
    assert r.geohash("Sicily", "Palermo") == ["sqc8b49rny0"]
