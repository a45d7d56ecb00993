"""Async stores: ``open_store(url)`` for ``memory://``, ``sqlite:///path``, ``redis://…``, ``postgresql://…``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .base import ConflictError, Record, Store, StoreError
from .memory import MemoryStore

__all__ = ["ConflictError", "MemoryStore", "Record", "Store", "StoreError", "open_store"]


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """Open the store named by ``url`` and close it on exit.

    ``memory://`` (in process), ``sqlite:///relative/or//absolute/path`` (the embedded default),
    ``redis://host:port/db`` and ``postgresql://user@host:port/db`` (shared deployments; need the
    ``redis`` / ``postgresql`` extras). An async context manager: ``async with open_store(url) as store:``.

    Raises:
        aioctap.stores.StoreError: an unsupported scheme or a malformed URL, the store cannot be opened, or
            ``redis://`` / ``postgresql://`` without its extra installed (the message says which).
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    store: Store
    if scheme == "memory":
        store = MemoryStore()
    elif scheme == "sqlite":
        from .sqlite import SQLiteStore

        if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
            raise StoreError(f"bad SQLite URL {url!r}: use sqlite:///relative/path or sqlite:////absolute/path")
        store = SQLiteStore(url[len("sqlite:///") :])
    elif scheme == "redis":
        from .redis import RedisStore

        store = await RedisStore.connect(url)
    elif scheme in ("postgresql", "postgres"):
        from .postgresql import PostgresStore

        store = await PostgresStore.connect(url)
    else:
        raise StoreError(
            f"unsupported store URL scheme {scheme!r}: use memory://, sqlite:///path, redis://… or postgresql://…"
        )
    try:
        yield store
    finally:
        await store.aclose()
