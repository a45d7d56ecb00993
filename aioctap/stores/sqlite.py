"""SQLite store (``sqlite:///path``): the embedded default, standard library only.

One connection per store, used from one worker thread at a time (anyio's to_thread with a
capacity limiter of 1). The database file is created 0600 (SQLite gives its WAL and shared-memory
files the same mode). Every compare-and-set and take is a single ``BEGIN IMMEDIATE``
transaction, so concurrent processes sharing the file cannot interleave a read and a write.
Versions come from a per-store sequence table, so a deleted and re-created record never gets
an old version back.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .base import (
    Check,
    Delete,
    Put,
    Record,
    StoreError,
    Write,
    check_version,
    validate_key,
    validate_name,
    validate_writes,
)

__all__ = ["SQLiteStore"]

SWEEP_INTERVAL = 60.0  # seconds between deletions of expired records

INSERT = "INSERT OR REPLACE INTO records (namespace, key, value, version, expires) VALUES (?, ?, ?, ?, ?)"
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires REAL,
    PRIMARY KEY (namespace, key)
);
CREATE TABLE IF NOT EXISTS sequence (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO sequence (id, value) VALUES (1, 0);
"""


class SQLiteStore:
    """A :class:`~aioctap.stores.base.Store` in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:  # created readable by its owner only; SQLite gives its -wal and -shm files the same mode
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as e:
                raise StoreError(f"cannot create SQLite store {self.path}: {e.strerror}") from None
        self._limiter = anyio.CapacityLimiter(1)
        self._next_sweep = time.time() + SWEEP_INTERVAL
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite store {self.path}: {e}") from None

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    async def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store failed: {e}") from None

    def _tx(self, fn: Any) -> Any:
        """``fn()`` in one transaction; on any failure, the COMMIT's too, it is rolled back (a transaction left
        open would show its records to this connection's reads and refuse every later BEGIN)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = fn()
            self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended the transaction already
                self._db.execute("ROLLBACK")
            raise
        return result

    def _current(self, namespace: str, key: str, now: float) -> tuple[bytes, int] | None:
        row = self._db.execute(
            "SELECT value, version FROM records WHERE namespace = ? AND key = ? AND (expires IS NULL OR expires > ?)",
            (namespace, key, now),
        ).fetchone()
        return None if row is None else (bytes(row[0]), int(row[1]))

    def _write(self, w: Put, now: float) -> int:
        """Store ``w``'s value under the next version of the store's sequence; that version."""
        self._db.execute("UPDATE sequence SET value = value + 1 WHERE id = 1")
        (version,) = self._db.execute("SELECT value FROM sequence WHERE id = 1").fetchone()
        self._db.execute(INSERT, (w.namespace, w.key, bytes(w.value), version, None if w.ttl is None else now + w.ttl))
        return int(version)

    async def get(self, namespace: str, key: str) -> Record | None:
        """See :meth:`Store.get <aioctap.stores.base.Store.get>`."""
        validate_key(namespace, key)
        row = await self._run(self._current, namespace, key, time.time())
        return None if row is None else Record(row[0], row[1])

    async def put(
        self,
        namespace: str,
        key: str,
        value: bytes,
        *,
        expected_version: int | None = None,
        ttl: float | None = None,
    ) -> int:
        """See :meth:`Store.put <aioctap.stores.base.Store.put>`."""
        validate_key(namespace, key)

        def work() -> int:
            now = time.time()
            current = self._current(namespace, key, now)
            check_version(namespace, key, expected_version, 0 if current is None else current[1])
            version = self._write(Put(namespace, key, value, ttl=ttl), now)
            if now >= self._next_sweep:  # drop expired records nobody read again (abandoned ceremonies)
                self._next_sweep = now + SWEEP_INTERVAL
                self._db.execute("DELETE FROM records WHERE expires IS NOT NULL AND expires <= ?", (now,))
            return version

        return int(await self._run(self._tx, work))

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """See :meth:`Store.delete <aioctap.stores.base.Store.delete>`."""
        validate_key(namespace, key)

        def work() -> bool:
            current = self._current(namespace, key, time.time())
            if current is None:
                return False
            check_version(namespace, key, expected_version, current[1])
            self._db.execute("DELETE FROM records WHERE namespace = ? AND key = ?", (namespace, key))
            return True

        return bool(await self._run(self._tx, work))

    async def take(self, namespace: str, key: str) -> bytes | None:
        """See :meth:`Store.take <aioctap.stores.base.Store.take>`."""
        validate_key(namespace, key)

        def work() -> bytes | None:
            current = self._current(namespace, key, time.time())
            self._db.execute("DELETE FROM records WHERE namespace = ? AND key = ?", (namespace, key))
            return None if current is None else current[0]

        result = await self._run(self._tx, work)
        return None if result is None else bytes(result)

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """See :meth:`Store.scan <aioctap.stores.base.Store.scan>`."""
        validate_name("namespace", namespace)

        def work() -> list[tuple[str, Record]]:
            # substr compares exactly (LIKE would fold ASCII case before the LIMIT applies)
            rows = self._db.execute(
                "SELECT key, value, version FROM records WHERE namespace = ? AND substr(key, 1, ?) = ? "
                "AND (expires IS NULL OR expires > ?) ORDER BY key LIMIT ?",
                (namespace, len(prefix), prefix, time.time(), -1 if limit is None else limit),
            ).fetchall()
            return [(str(k), Record(bytes(v), int(ver))) for k, v, ver in rows]

        return list(await self._run(work))

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """See :meth:`Store.transact <aioctap.stores.base.Store.transact>`: one ``BEGIN IMMEDIATE`` transaction."""
        validate_writes(writes)
        ops = list(writes)

        def work() -> list[int]:
            now = time.time()
            current = []
            for w in ops:
                row = self._current(w.namespace, w.key, now)
                actual = 0 if row is None else row[1]
                check_version(w.namespace, w.key, w.expected_version, actual)
                current.append(actual)
            out: list[int] = []
            for w, actual in zip(ops, current, strict=True):
                if isinstance(w, Put):
                    out.append(self._write(w, now))
                elif isinstance(w, Delete):
                    self._db.execute("DELETE FROM records WHERE namespace = ? AND key = ?", (w.namespace, w.key))
                    out.append(1 if actual else 0)
                else:
                    assert isinstance(w, Check)
                    out.append(actual)
            return out

        return list(await self._run(self._tx, work))

    async def aclose(self) -> None:
        """See :meth:`Store.aclose <aioctap.stores.base.Store.aclose>`."""
        async with self._limiter:
            self._db.close()
