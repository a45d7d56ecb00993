"""The Store contract on every backend (memory, SQLite, and real Redis and PostgreSQL servers)."""

from __future__ import annotations

import anyio
import pytest

from aioctap.stores import ConflictError, StoreError, open_store
from aioctap.stores.base import MAX_NAME_BYTES


async def test_get_put_versions_and_cas(store_url: str) -> None:
    async with open_store(store_url) as store:
        assert await store.get("ns", "k") is None
        v1 = await store.put("ns", "k", b"one", expected_version=0)
        assert v1 >= 1
        record = await store.get("ns", "k")
        assert record is not None and record.value == b"one" and record.version == v1
        with pytest.raises(ConflictError) as e:
            await store.put("ns", "k", b"x", expected_version=0)
        assert e.value.actual == v1
        with pytest.raises(ConflictError):
            await store.put("ns", "k", b"x", expected_version=v1 + 100)
        v2 = await store.put("ns", "k", b"two", expected_version=v1)
        assert v2 > v1
        v3 = await store.put("ns", "k", b"three")
        assert v3 > v2
        assert "three" not in repr(await store.get("ns", "k"))  # values never printed


async def test_delete_and_versions_never_reused(store_url: str) -> None:
    async with open_store(store_url) as store:
        v1 = await store.put("ns", "k", b"a")
        with pytest.raises(ConflictError):
            await store.delete("ns", "k", expected_version=v1 + 1)
        assert await store.delete("ns", "k", expected_version=v1) is True
        assert await store.delete("ns", "k") is False
        v2 = await store.put("ns", "k", b"b", expected_version=0)
        assert v2 > v1  # an old version can never match the re-created record
        with pytest.raises(ConflictError):
            await store.put("ns", "k", b"c", expected_version=v1)


async def test_take_is_single_use(store_url: str) -> None:
    async with open_store(store_url) as store:
        await store.put("challenges", "c1", b"secret")
        got: list[bytes | None] = []

        async def taker() -> None:
            got.append(await store.take("challenges", "c1"))

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(taker)
        assert got.count(b"secret") == 1 and got.count(None) == 19


async def test_100_concurrent_cas_one_winner(store_url: str) -> None:
    async with open_store(store_url) as store:
        v = await store.put("otp", "alice", b"counter=0")
        wins, losses = [], []

        async def attempt(i: int) -> None:
            try:
                wins.append(await store.put("otp", "alice", f"counter={i}".encode(), expected_version=v))
            except ConflictError:
                losses.append(i)

        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(attempt, i)
        assert len(wins) == 1 and len(losses) == 99


async def test_ttl_expiry(store_url: str) -> None:
    async with open_store(store_url) as store:
        await store.put("ns", "short", b"x", ttl=0.2)
        await store.put("ns", "long", b"y", ttl=60)
        assert await store.get("ns", "short") is not None
        await anyio.sleep(1.1 if "postgresql" in store_url or "redis" in store_url else 0.3)
        assert await store.get("ns", "short") is None
        assert await store.take("ns", "short") is None
        assert await store.put("ns", "short", b"z", expected_version=0) > 0  # expired counts as absent
        assert (await store.get("ns", "long")) is not None


async def test_scan_ordered_with_prefix(store_url: str) -> None:
    async with open_store(store_url) as store:
        for key in ("user:b", "user:a", "user:c", "other", "user_x"):
            await store.put("ns", key, key.encode())
        await store.put("ns2", "user:z", b"z")
        keys = [k for k, _ in await store.scan("ns", "user:")]
        assert keys == ["user:a", "user:b", "user:c"]
        assert [k for k, _ in await store.scan("ns", "user:", limit=2)] == ["user:a", "user:b"]
        assert len(await store.scan("ns")) == 5


async def test_name_validation(store_url: str) -> None:
    async with open_store(store_url) as store:
        with pytest.raises(ValueError):
            await store.get("", "k")
        with pytest.raises(ValueError):
            await store.put("ns", "a\x00b", b"")
        # the limit is in UTF-8 bytes: 2048 of them fit (the longest credential ID is 1364 characters)
        for longest in ("k" * MAX_NAME_BYTES, "\u20ac" * (MAX_NAME_BYTES // 3) + "kk"):
            version = await store.put("ns", longest, b"v", expected_version=0)
            record = await store.get("ns", longest)
            assert record is not None and record.version == version
            assert [k for k, _ in await store.scan("ns", longest[:100])] == [longest]
            assert await store.take("ns", longest) == b"v"
        for bad in ("k" * (MAX_NAME_BYTES + 1), "\u20ac" * (MAX_NAME_BYTES // 3 + 1), "\ud800", 7):
            with pytest.raises(ValueError, match="1-2048 bytes"):
                await store.put("ns", bad, b"")  # type: ignore[arg-type]
            with pytest.raises(ValueError):
                await store.get(bad, "k")  # type: ignore[arg-type]
        assert await store.scan("ns") == []


async def test_bad_urls(tmp_path: object) -> None:
    for url in ("ftp://x", "nothing", "sqlite://relative-without-third-slash"):
        with pytest.raises(StoreError):
            async with open_store(url):
                pass
    with pytest.raises(StoreError, match="cannot connect"):
        async with open_store("redis://127.0.0.1:1/0"):
            pass


async def test_two_connections_share_one_sqlite_file(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    async with open_store(url) as a, open_store(url) as b:
        v = await a.put("ns", "k", b"1")
        with pytest.raises(ConflictError):
            await b.put("ns", "k", b"2", expected_version=v - 1)
        await b.put("ns", "k", b"2", expected_version=v)
        record = await a.get("ns", "k")
        assert record is not None and record.value == b"2"
