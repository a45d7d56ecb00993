"""PostgreSQL store (``postgresql://user:pass@host:port/db``): shared relational storage.

Compare-and-set is one conditional ``UPDATE``/``INSERT ... ON CONFLICT`` statement, take is
``DELETE ... RETURNING``: each atomic in the database. Versions come from a sequence.

Nothing waits on the database without a limit: taking a connection from the pool waits at most
``acquire_timeout`` seconds and a statement runs at most ``command_timeout`` seconds (the whole
operation at most their sum and a second more); past that a frozen or overloaded database is a
:class:`StoreError`, which the HTTP layers answer with 503.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import anyio

from .base import (
    Check,
    ConflictError,
    Delete,
    Put,
    Record,
    StoreError,
    Write,
    scrub_url_secrets,
    validate_key,
    validate_name,
    validate_writes,
)

__all__ = ["PostgresStore"]

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS aioctap_version_seq;
CREATE TABLE IF NOT EXISTS aioctap_records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BYTEA NOT NULL,
    version BIGINT NOT NULL,
    expires TIMESTAMPTZ,
    PRIMARY KEY (namespace, key)
);
"""
LIVE = "(expires IS NULL OR expires > now())"
LIVE_RECORD = f"namespace = $1 AND key = $2 AND {LIVE}"  # the record ($1, $2), unless expired
# delete and transact's Delete: without an expected version (True if the record was live), and with one
DELETE_ANY = f"DELETE FROM aioctap_records WHERE namespace = $1 AND key = $2 RETURNING {LIVE}"
DELETE_VERSION = f"DELETE FROM aioctap_records WHERE {LIVE_RECORD} AND version = $3 RETURNING 1"
SWEEP_INTERVAL = 60.0  # seconds between deletions of expired records
COMMAND_TIMEOUT = 5.0  # seconds a statement may run
ACQUIRE_TIMEOUT = 5.0  # seconds to wait for a pooled connection (or a new one)
# insert-or-replace; put appends a WHERE to it for "create only" (expected_version=0)
UPSERT = (
    "INSERT INTO aioctap_records VALUES ($1, $2, $3, nextval('aioctap_version_seq'), {expires}) "
    "ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, "
    "expires = EXCLUDED.expires"
)


class PostgresStore:
    """A :class:`~aioctap.stores.base.Store` in a PostgreSQL table."""

    def __init__(
        self, pool: object, *, command_timeout: float = COMMAND_TIMEOUT, acquire_timeout: float = ACQUIRE_TIMEOUT
    ) -> None:
        self._pool: Any = pool  # an asyncpg Pool (asyncpg ships no types)
        self._acquire_timeout = acquire_timeout
        self._deadline = command_timeout + acquire_timeout + 1.0  # a backstop over the two
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL

    @classmethod
    async def connect(
        cls, url: str, *, command_timeout: float = COMMAND_TIMEOUT, acquire_timeout: float = ACQUIRE_TIMEOUT
    ) -> PostgresStore:
        """Open a connection pool to ``url`` and create the table and sequence if missing."""
        try:
            import asyncpg
        except ImportError:
            raise StoreError("the postgresql store needs asyncpg: pip install 'aioctap[postgresql]'") from None
        pool: Any = None
        try:
            with anyio.fail_after(command_timeout + acquire_timeout + 1.0):
                pool = await asyncpg.create_pool(
                    url, min_size=1, max_size=10, command_timeout=command_timeout, timeout=acquire_timeout
                )
            # three statements of at most command_timeout each (the lock waits for another instance's schema)
            with anyio.fail_after(3 * command_timeout + acquire_timeout + 1.0):
                async with pool.acquire(timeout=acquire_timeout) as conn:
                    await conn.execute("SELECT pg_advisory_lock(74112)")
                    try:
                        await conn.execute(SCHEMA)
                    finally:
                        await conn.execute("SELECT pg_advisory_unlock(74112)")
        except Exception as e:
            if pool is not None:
                pool.terminate()
            detail = scrub_url_secrets(str(e), url)
            raise StoreError(f"cannot open the PostgreSQL store: {type(e).__name__}: {detail}") from None
        return cls(pool, command_timeout=command_timeout, acquire_timeout=acquire_timeout)

    def __repr__(self) -> str:
        return "PostgresStore()"

    async def _fetch(self, query: str, *args: Any, many: bool = False) -> Any:
        try:
            with anyio.fail_after(self._deadline):
                async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                    return await (conn.fetch if many else conn.fetchrow)(query, *args)
        except Exception as e:
            raise StoreError(f"PostgreSQL store failed: {type(e).__name__}: {e}") from None

    async def get(self, namespace: str, key: str) -> Record | None:
        """See :meth:`Store.get <aioctap.stores.base.Store.get>`."""
        validate_key(namespace, key)
        row = await self._fetch(f"SELECT value, version FROM aioctap_records WHERE {LIVE_RECORD}", namespace, key)
        return None if row is None else Record(bytes(row["value"]), int(row["version"]))

    async def _actual(self, namespace: str, key: str) -> int:
        record = await self.get(namespace, key)
        return 0 if record is None else record.version

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
        row = await self._fetch(*_put_statement(Put(namespace, key, value, expected_version, ttl)))
        if row is None:
            assert expected_version is not None
            raise ConflictError(namespace, key, expected_version, await self._actual(namespace, key))
        if time.monotonic() >= self._next_sweep:  # drop expired records nobody read again
            self._next_sweep = time.monotonic() + SWEEP_INTERVAL
            await self._fetch("DELETE FROM aioctap_records WHERE expires IS NOT NULL AND expires <= now()")
        return int(row["version"])

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """See :meth:`Store.delete <aioctap.stores.base.Store.delete>`."""
        validate_key(namespace, key)
        if expected_version is None:
            row = await self._fetch(DELETE_ANY, namespace, key)
            return bool(row is not None and row[0])
        row = await self._fetch(DELETE_VERSION, namespace, key, expected_version)
        if row is not None:
            return True
        actual = await self._actual(namespace, key)
        if actual == 0:
            return False
        raise ConflictError(namespace, key, expected_version, actual)

    async def take(self, namespace: str, key: str) -> bytes | None:
        """See :meth:`Store.take <aioctap.stores.base.Store.take>`."""
        validate_key(namespace, key)
        row = await self._fetch(
            "DELETE FROM aioctap_records WHERE namespace = $1 AND key = $2 "
            "RETURNING value, (expires IS NULL OR expires > now()) AS live",
            namespace,
            key,
        )
        return bytes(row["value"]) if row is not None and row["live"] else None

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """See :meth:`Store.scan <aioctap.stores.base.Store.scan>`."""
        validate_name("namespace", namespace)
        rows = await self._fetch(
            f"SELECT key, value, version FROM aioctap_records WHERE namespace = $1 AND left(key, $2) = $3 "
            f'AND {LIVE} ORDER BY key COLLATE "C" LIMIT $4',
            namespace,
            len(prefix),
            prefix,
            limit,
            many=True,
        )
        return [(str(r["key"]), Record(bytes(r["value"]), int(r["version"]))) for r in rows]

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """See :meth:`Store.transact <aioctap.stores.base.Store.transact>`: one transaction; each operation is
        a conditional statement, and the first that finds another version rolls the transaction back.
        A :class:`Check` locks the record it finds (``FOR SHARE``) until the commit."""
        validate_writes(writes)
        try:
            # in (namespace, key) order, so two transactions on the same records lock them in the same order
            # and cannot deadlock
            order = sorted(range(len(writes)), key=lambda i: (writes[i].namespace, writes[i].key))
            out = [0] * len(writes)
            with anyio.fail_after(self._deadline):
                async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
                    for i in order:
                        out[i] = await self._apply(conn, writes[i])
            return out
        except ConflictError:
            raise
        except Exception as e:
            raise StoreError(f"PostgreSQL store failed: {type(e).__name__}: {e}") from None

    @staticmethod
    async def _apply(conn: Any, w: Write) -> int:
        """One operation of :meth:`transact` on ``conn``, inside its transaction."""
        expected = w.expected_version
        row: Any
        if isinstance(w, Put):
            row = await conn.fetchrow(*_put_statement(w))
            if row is not None:
                return int(row["version"])
        elif isinstance(w, Delete) and expected != 0:
            if expected is None:
                row = await conn.fetchrow(DELETE_ANY, w.namespace, w.key)
                return 1 if row is not None and row[0] else 0
            row = await conn.fetchrow(DELETE_VERSION, w.namespace, w.key, expected)
            if row is not None:
                return 1
        else:  # a Check, or a Delete of a record that must be absent
            assert isinstance(w, (Check, Delete))
            row = await conn.fetchrow(
                f"SELECT version FROM aioctap_records WHERE {LIVE_RECORD} FOR SHARE", w.namespace, w.key
            )
            actual = 0 if row is None else int(row["version"])
            if actual == expected:
                return actual
        row = await conn.fetchrow(f"SELECT version FROM aioctap_records WHERE {LIVE_RECORD}", w.namespace, w.key)
        assert expected is not None
        raise ConflictError(w.namespace, w.key, expected, 0 if row is None else int(row["version"]))

    async def aclose(self) -> None:
        """See :meth:`Store.aclose <aioctap.stores.base.Store.aclose>`: closes the pool's connections gracefully
        within the store's deadline; past it, or when the server fails to answer, drops them (terminates the pool)
        and raises :class:`StoreError`."""
        try:
            with anyio.fail_after(self._deadline):  # close() first waits for every connection to be released
                await self._pool.close()
        except Exception as e:
            self._pool.terminate()
            raise StoreError(f"PostgreSQL store failed to close: {type(e).__name__}: {e}") from None


def _put_statement(w: Put) -> tuple[str, *tuple[Any, ...]]:
    """The one conditional statement of a put and its arguments: an upsert, an upsert that replaces only an
    expired record (``expected_version=0``), or an update of the expected version of a live record."""
    expires = "NULL" if w.ttl is None else "now() + make_interval(secs => $4)"
    args: list[Any] = [w.namespace, w.key, bytes(w.value)]
    if w.ttl is not None:
        args.append(float(w.ttl))
    if w.expected_version is None:
        return UPSERT.format(expires=expires) + " RETURNING version", *args
    if w.expected_version == 0:
        return (
            UPSERT.format(expires=expires) + " WHERE aioctap_records.expires IS NOT NULL "
            "AND aioctap_records.expires <= now() RETURNING version",
            *args,
        )
    return (
        f"UPDATE aioctap_records SET value = $3, version = nextval('aioctap_version_seq'), expires = {expires} "
        f"WHERE {LIVE_RECORD} AND version = ${len(args) + 1} RETURNING version",
        *args,
        w.expected_version,
    )
