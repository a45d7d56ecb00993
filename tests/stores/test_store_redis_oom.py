"""The Redis store on a real server that reaches ``maxmemory`` (policy ``noeviction``): a transaction that
Redis refuses for lack of memory writes none of its records, raises :class:`StoreError`, and the store
works again once memory is freed.

Redis decides whether a script may write while over ``maxmemory`` once, when the script starts (a
transaction that crosses the limit midway completes: Redis never stops a script between two writes).
Scripts without flags are refused only if their first write is one that may grow memory (``INCR``,
``HSET``); from 7.0 the store's writing transactions declare flags (a ``#!lua`` shebang), so Redis refuses
them before they run, whatever their first command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from aioctap.stores import ConflictError, StoreError
from aioctap.stores.base import Check, Delete, Put
from aioctap.stores.redis import RedisStore, _supports_script_flags

BIG = 1_500_000  # bytes: one value that takes the server over its limit


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    """A RedisStore on the session's server, emptied, with ``noeviction``; the configuration is restored."""
    s = await RedisStore.connect(redis_url)
    r = s._r
    saved = {name: (await r.config_get(name))[name] for name in ("maxmemory", "maxmemory-policy")}
    await r.flushdb()
    try:
        await r.config_set("maxmemory-policy", "noeviction")
        yield s
    finally:
        await r.config_set("maxmemory", saved["maxmemory"])
        await r.config_set("maxmemory-policy", saved["maxmemory-policy"])
        await r.flushdb()
        await s.aclose()


async def _used(store: RedisStore) -> int:
    return int((await store._r.info("memory"))["used_memory"])


async def _values(store: RedisStore, *keys: str) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for k in keys:
        record = await store.get("ns", k)
        out[k] = None if record is None else record.value
    return out


@pytest.mark.parametrize("flags", [True, False], ids=["scripts-with-flags", "as-on-redis-6"])
async def test_a_transaction_refused_for_lack_of_memory_writes_nothing(store: RedisStore, flags: bool) -> None:
    """``as-on-redis-6``: the scripts without a shebang, as the store sends them to Redis < 7."""
    assert store._script_flags  # the server here is Redis 7 (Debian bookworm's 7.0)
    store._script_flags = flags
    r = store._r
    await store.put("ns", "existing", b"old")
    before = await _used(store)
    limit = before + 2 * BIG
    await r.config_set("maxmemory", limit)
    await r.config_resetstat()

    # under the limit when it starts, over it while it runs (its arguments' and its records' copies of the big
    # value): the transaction completes, the writes after the crossing included
    await store.transact([Put("ns", "big", b"a" * BIG), Put("ns", "second", b"2"), Put("ns", "third", b"3")])
    assert int((await r.info("memory"))["used_memory_peak"]) > limit
    assert await _values(store, "second", "third") == {"second": b"2", "third": b"3"}
    limit = before + BIG // 2  # the big record alone takes the server over it
    await r.config_set("maxmemory", limit)
    assert await _used(store) > limit

    # over the limit: a transaction that would write refuses with StoreError (not a conflict) and writes
    # none of its records, whether it starts with a put or with a deletion
    refused = (
        [Put("ns", "n1", b"x", expected_version=0), Delete("ns", "existing"), Put("ns", "n2", b"y")],
        [Delete("ns", "existing"), Put("ns", "n1", b"x"), Check("ns", "second", 3)],
        [Check("ns", "existing", 1), Delete("ns", "second"), Put("ns", "n2", b"new")],
    )
    if not store._script_flags:  # Redis < 7: refused only when the first write is a put
        refused = refused[:1]
    for ops in refused:
        with pytest.raises(StoreError) as e:
            await store.transact(ops)
        assert not isinstance(e.value, ConflictError) and "OutOfMemory" in str(e.value)
        assert await _values(store, "n1", "n2", "existing", "second") == {
            "n1": None,
            "n2": None,
            "existing": b"old",
            "second": b"2",
        }
    with pytest.raises(StoreError):
        await store.put("ns", "n1", b"x")
    assert [k for k, _ in await store.scan("ns")] == ["big", "existing", "second", "third"]

    # what only frees memory still runs: a delete, a take, a transaction of deletions and checks
    assert await store.delete("ns", "third")
    assert await store.take("ns", "second") == b"2"
    assert await store.transact([Delete("ns", "big"), Check("ns", "existing", 1)]) == [1, 1]
    with anyio.fail_after(15):  # the server gives back the query buffer that held the big value after ~2 s idle
        while await _used(store) >= limit:
            await anyio.sleep(0.2)

    # memory freed: writes work again, all of them
    versions = await store.transact([Delete("ns", "existing"), Put("ns", "n1", b"x"), Put("ns", "n2", b"y")])
    assert versions[0] == 1 and await _values(store, "n1", "n2", "existing") == {
        "n1": b"x",
        "n2": b"y",
        "existing": None,
    }


@pytest.mark.parametrize(
    ("version", "flags"),
    [
        ("7.0.15", True),
        ("7.2.4", True),
        ("10.0.0", True),
        ("6.2.14", False),
        ("6.0.16", False),
        ("5.0.7", False),
        ("", False),
        ("x", False),
    ],
)
def test_script_flags_from_redis_7(version: str, flags: bool) -> None:
    assert _supports_script_flags(version) is flags
