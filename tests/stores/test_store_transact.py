"""``Store.transact`` on every backend (memory, SQLite, real Redis and PostgreSQL servers): several records
written as one atomic operation, all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from aioctap.stores import ConflictError, StoreError, open_store
from aioctap.stores.base import MAX_TRANSACT, Check, Delete, Put
from aioctap.stores.sqlite import SQLiteStore


async def test_transact_writes_every_record_and_returns_their_versions(store_url: str) -> None:
    async with open_store(store_url) as store:
        old = await store.put("users", "alice", b"u")
        versions = await store.transact(
            [
                Put("creds", "c1", b"cred", expected_version=0),
                Put("index", "alice/c1", b"{}", expected_version=0),
                Check("users", "alice", old),
                Delete("sessions", "absent"),
            ]
        )
        assert versions[0] > old and versions[1] > versions[0] and versions[2:] == [old, 0]
        c1, idx = await store.get("creds", "c1"), await store.get("index", "alice/c1")
        assert c1 is not None and c1.value == b"cred" and c1.version == versions[0]
        assert idx is not None and idx.version == versions[1]
        assert [k for k, _ in await store.scan("index", "alice/")] == ["alice/c1"]

        # a deletion of a record and its index entry together
        assert await store.transact([Delete("creds", "c1", expected_version=c1.version), Delete("index", "alice/c1")])
        assert await store.get("creds", "c1") is None and await store.scan("index") == []


@pytest.mark.parametrize("failing", [0, 2, 3])
async def test_a_conflict_anywhere_writes_nothing(store_url: str, failing: int) -> None:
    """The conflicting operation is first, in the middle or last: PostgreSQL has applied the earlier ones
    inside its transaction by then, and must roll them back."""
    async with open_store(store_url) as store:
        v = await store.put("ns", "existing", b"old")
        await store.put("ns", "doomed", b"still here")
        ops: list[Put | Delete | Check] = [
            Put("ns", "new-1", b"x", expected_version=0),
            Delete("ns", "doomed"),
            Put("ns", "new-2", b"y", expected_version=0),
        ]
        ops.insert(failing, Put("ns", "existing", b"new", expected_version=v + 1000))
        with pytest.raises(ConflictError) as e:
            await store.transact(ops)
        assert (e.value.namespace, e.value.key, e.value.expected, e.value.actual) == ("ns", "existing", v + 1000, v)
        assert await store.get("ns", "new-1") is None and await store.get("ns", "new-2") is None
        doomed, existing = await store.get("ns", "doomed"), await store.get("ns", "existing")
        assert doomed is not None and doomed.value == b"still here"
        assert existing is not None and existing.value == b"old" and existing.version == v
        assert [k for k, _ in await store.scan("ns")] == ["doomed", "existing"]


async def test_delete_with_an_expected_version_compares_it(store_url: str) -> None:
    async with open_store(store_url) as store:
        v = await store.put("ns", "k", b"v")
        with pytest.raises(ConflictError):
            await store.transact([Delete("ns", "k", expected_version=0)])  # must be absent: it is not
        with pytest.raises(ConflictError):
            await store.transact([Delete("ns", "gone", expected_version=v)])  # absent: version 0
        assert await store.transact([Delete("ns", "gone", expected_version=0)]) == [0]
        assert await store.transact([Delete("ns", "k", expected_version=v)]) == [1]
        assert await store.get("ns", "k") is None


async def test_ttl_in_a_transaction(store_url: str) -> None:
    async with open_store(store_url) as store:
        await store.transact([Put("s", "short", b"x", ttl=0.2), Put("s", "long", b"y", ttl=60)])
        assert await store.get("s", "short") is not None
        await anyio.sleep(0.5)
        assert await store.get("s", "short") is None and await store.get("s", "long") is not None
        # an expired record counts as absent: it can be created again
        assert await store.transact([Put("s", "short", b"z", expected_version=0)])


async def test_concurrent_transactions_on_one_record_one_wins(store_url: str) -> None:
    """50 registrations of one new user name at once, each with its own credential: exactly one user
    record and the one credential that came with it."""
    async with open_store(store_url) as store:
        won: list[int] = []

        async def register(i: int) -> None:
            try:
                await store.transact(
                    [
                        Put("users", "alice", str(i).encode(), expected_version=0),
                        Put("creds", f"c{i:02}", b"cred", expected_version=0),
                        Put("index", f"alice/c{i:02}", b"{}", expected_version=0),
                    ]
                )
            except ConflictError:
                return
            won.append(i)

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(register, i)
        assert len(won) == 1
        user = await store.get("users", "alice")
        assert user is not None and user.value == str(won[0]).encode()
        assert [k for k, _ in await store.scan("creds")] == [f"c{won[0]:02}"]
        assert [k for k, _ in await store.scan("index")] == [f"alice/c{won[0]:02}"]


async def test_bad_transactions_are_refused_before_anything_is_sent(store_url: str) -> None:
    async with open_store(store_url) as store:
        for ops in (
            [],
            [Put("ns", "k", b"1"), Put("ns", "k", b"2")],
            [Put("ns", "a", b"1"), Put("ns", "\x00", b"2")],
            [Put("ns", "a", b"1"), Put("ns", "b", b"2", ttl=0)],
            [Put("ns", "a", b"1"), Put("ns", "b", b"2", ttl=float("inf"))],
            [Put("ns", "a", b"1"), Check("ns", "b", -1)],
            [Put("ns", f"k{i}", b"") for i in range(MAX_TRANSACT + 1)],
        ):
            with pytest.raises(ValueError):
                await store.transact(ops)
        assert await store.scan("ns") == []


def test_put_repr_hides_the_value() -> None:
    assert "secret" not in repr(Put("ns", "k", b"secret")) and "6 bytes" in repr(Put("ns", "k", b"secret"))


class _CommitFails:
    """A sqlite3 connection whose next COMMIT fails (a full disk, an I/O error), otherwise the connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.armed = True

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def close(self) -> None:
        self.db.close()


async def test_sqlite_failed_commit_leaves_nothing_and_the_store_usable(tmp_path: Path) -> None:
    """A COMMIT that fails must not leave its transaction open on the store's connection: its records would
    be visible to this process's reads (never durable), and every later write would fail ("cannot start a
    transaction within a transaction")."""
    store = SQLiteStore(f"{tmp_path}/s.db")
    try:
        store._db = _CommitFails(store._db)  # type: ignore[assignment]
        with pytest.raises(StoreError, match="disk is full"):
            await store.transact([Put("creds", "c1", b"cred", expected_version=0), Put("index", "a/c1", b"{}")])
        assert await store.get("creds", "c1") is None and await store.get("index", "a/c1") is None
        await store.put("ns", "k", b"v")
        record = await store.get("ns", "k")
        assert record is not None and record.value == b"v"
    finally:
        await store.aclose()
