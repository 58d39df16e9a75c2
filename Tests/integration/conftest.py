"""Fixtures: a real ringkv-server per matrix entry and a real redis-server.

Nothing here is autouse and nothing starts at import, so modules that bring
their own fixtures (test_capture_veth.py) are unaffected by this file.

Environment:
  RINGKV_BIN        server binary (default .build/release/ringkv-server)
  RINGKV_MATRIX     comma list of BACKEND-SHARDS (default uring-1,uring-4,epoll-1,epoll-4)
  REDIS_SERVER_BIN  reference redis-server (default from PATH)
  RINGKV_EXTRA_CONFIG  config file whose directives every ringkv also gets
                    (configs/shrunk-bounds.conf: make shrunk)
A sanitizer report in a ringkv's log fails the test that stops it (make sanitize).
"""
from __future__ import annotations

import pytest

import harness

try:
    _MATRIX = harness.matrix()
except ValueError as e:  # a typo in RINGKV_MATRIX should stop the run, not skip tests
    raise pytest.UsageError(str(e))


# Under a sanitizer build (RINGKV_SANITIZER, make sanitize-full) some tests
# measure the sanitizer rather than the server: RSS against redis-server
# (its allocator's redzones and shadow) and CPU time per command. They are
# skipped, by name, with the reason.
_MEASURES_ALLOCATOR_OR_CPU = (
    "test_sets.py::test_memory_small_int_sets",
    "test_lists.py::test_big_list_memory_is_not_above_redis",
    "test_sorted_sets.py::test_million_member_zset_memory_within_redis",
    "test_framing_limits.py::test_trickled_command_costs_about_one_piece",
)
_SANITIZER_SKIPS = {
    "": (),
    "asan": _MEASURES_ALLOCATOR_OR_CPU,
    "tsan": _MEASURES_ALLOCATOR_OR_CPU,
}


def pytest_collection_modifyitems(config, items):
    skips = _SANITIZER_SKIPS.get(harness.SANITIZER, ())
    if not skips:
        return
    mark = pytest.mark.skip(reason=f"measures the {harness.SANITIZER} runtime, not the server")
    for item in items:
        if any(s in item.nodeid for s in skips):
            item.add_marker(mark)


def _start(server: harness.Server) -> harness.Server:
    try:
        return server.start()
    except harness.ServerError as e:
        server.cleanup()
        pytest.fail(str(e), pytrace=False)


# Session scope + params makes pytest group tests by matrix entry, so each
# entry costs one server start for the whole run.
@pytest.fixture(scope="session", params=_MATRIX, ids=[f"{b}-{s}" for b, s in _MATRIX])
def matrix_entry(request) -> tuple[str, int]:
    return request.param


@pytest.fixture(scope="session")
def ringkv(matrix_entry):
    backend, shards = matrix_entry
    server = _start(harness.ringkv_server(backend, shards))
    yield server
    alive = server.alive()
    rc = server.stop()
    log = server.log_tail()
    server.cleanup()
    # A crash or an unclean exit is a bug even when every test passed.
    assert alive, f"{server} died during the session\n{log}"
    assert rc == 0, f"{server} exited {rc} on SIGTERM\n{log}"


@pytest.fixture(scope="session")
def redis_ref():
    server = _start(harness.redis_server())
    yield server
    server.cleanup()


def _fresh(server: harness.Server):
    client = server.client()
    client.flushall()
    return client


@pytest.fixture
def r(ringkv):
    """redis-py client on an empty ringkv; checks the server survived the test."""
    client = _fresh(ringkv)
    yield client
    client.close()
    assert ringkv.alive(), f"{ringkv} crashed during the test\n{ringkv.log_tail()}"


@pytest.fixture(scope="session")
def redis_dbg():
    """The reference with DEBUG enabled, as ringkv is started here (expiry
    scenarios, DEBUG SET-ACTIVE-EXPIRE)."""
    server = _start(harness.redis_server(extra=["--enable-debug-command", "yes"]))
    yield server
    server.cleanup()


@pytest.fixture
def rref(redis_ref):
    client = _fresh(redis_ref)
    yield client
    client.close()


@pytest.fixture
def server_factory():
    """Start extra servers with custom flags; all are stopped at teardown."""
    started: list[harness.Server] = []

    def make(kind: str = "ringkv", **kw) -> harness.Server:
        server = harness.ringkv_server(**kw) if kind == "ringkv" else harness.redis_server(**kw)
        started.append(server)
        return _start(server)

    yield make
    # Every server is stopped even when one left a sanitizer report; the
    # first report then fails the test.
    errors = []
    for s in started:
        try:
            s.cleanup()
        except harness.ServerError as e:
            errors.append(e)
    if errors:
        raise errors[0]
