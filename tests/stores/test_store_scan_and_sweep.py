"""scan's prefix is exact (case-sensitive, also with a limit), and expired records do not pile up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aioctap.stores import MemoryStore, open_store
from aioctap.stores.sqlite import SQLiteStore


async def test_scan_prefix_is_case_sensitive_with_a_limit(store_url: str) -> None:
    async with open_store(store_url) as store:
        for key in ("A/1", "A/2", "a/1", "a/2", "a_3", "a%4", "b/1"):
            await store.put("ns", key, key.encode())
        assert [k for k, _ in await store.scan("ns", "a/", limit=1)] == ["a/1"]
        assert [k for k, _ in await store.scan("ns", "a/")] == ["a/1", "a/2"]
        assert [k for k, _ in await store.scan("ns", "a_")] == ["a_3"]
        assert [k for k, _ in await store.scan("ns", "a%")] == ["a%4"]
        assert [k for k, _ in await store.scan("ns", "A", limit=5)] == ["A/1", "A/2"]


async def test_versions_never_repeat_after_delete(store_url: str) -> None:
    async with open_store(store_url) as store:
        seen = set()
        for _ in range(3):
            seen.add(await store.put("ns", "k", b"v", expected_version=0))
            assert await store.delete("ns", "k")
        assert len(seen) == 3


async def test_memory_store_sweeps_abandoned_records(monkeypatch: pytest.MonkeyPatch) -> None:
    import aioctap.stores.memory as memory

    monkeypatch.setattr(memory, "SWEEP_INTERVAL", 0.0)
    store = MemoryStore()
    for i in range(50):
        await store.put("sessions", f"s{i}", b"x", ttl=0.01)
    await store.put("keep", "k", b"x")
    await asyncio.sleep(0.03)
    await store.put("keep", "k2", b"x")
    assert sorted(store._data) == [("keep", "k"), ("keep", "k2")]


async def test_sqlite_store_sweeps_abandoned_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aioctap.stores.sqlite as sqlite

    monkeypatch.setattr(sqlite, "SWEEP_INTERVAL", 0.0)
    store = SQLiteStore(f"{tmp_path}/s.db")
    try:
        for i in range(20):
            await store.put("sessions", f"s{i}", b"x", ttl=0.01)
        await asyncio.sleep(0.03)
        await store.put("keep", "k", b"x")
        (count,) = store._db.execute("SELECT count(*) FROM records").fetchone()
        assert count == 1
    finally:
        await store.aclose()


async def test_sqlite_files_are_created_for_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "store.db"
    async with open_store(f"sqlite:///{path}") as store:
        await store.put("ns", "k", b"secret")
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["store.db", "store.db-shm", "store.db-wal"]
        for name in files:
            assert (path.parent / name).stat().st_mode & 0o777 == 0o600, name
    assert path.parent.stat().st_mode & 0o777 == 0o700
