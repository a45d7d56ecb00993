"""In-process store (``memory://``): for tests, the demo and single-process services."""

from __future__ import annotations

import time
from collections.abc import Sequence

from .base import Check, Delete, Put, Record, Write, check_version, validate_key, validate_name, validate_writes

__all__ = ["MemoryStore"]

SWEEP_INTERVAL = 60.0  # seconds between sweeps of expired records


class MemoryStore:
    """A :class:`~aioctap.stores.base.Store` in a dict.

    Every method runs without awaiting in between its read and its write, so each is atomic
    with respect to other tasks on the event loop.
    """

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], tuple[bytes, int, float | None]] = {}
        # one counter for every record (as the other stores' sequences): a deleted and re-created
        # record never gets an old version back, without remembering every key ever written
        self._sequence = 0
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL

    def _live(self, k: tuple[str, str]) -> tuple[bytes, int, float | None] | None:
        item = self._data.get(k)
        if item is not None and item[2] is not None and item[2] <= time.monotonic():
            del self._data[k]
            return None
        return item

    async def get(self, namespace: str, key: str) -> Record | None:
        """See :meth:`Store.get <aioctap.stores.base.Store.get>`."""
        validate_key(namespace, key)
        item = self._live((namespace, key))
        return None if item is None else Record(item[0], item[1])

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
        k = (namespace, key)
        item = self._live(k)
        if item is None:  # a new record: its address is checked once, when it is created
            validate_key(namespace, key)
        check_version(namespace, key, expected_version, 0 if item is None else item[1])
        self._sequence += 1
        now = time.monotonic()
        self._data[k] = (bytes(value), self._sequence, None if ttl is None else now + ttl)
        if now >= self._next_sweep:
            self._sweep(now)
        return self._sequence

    def _sweep(self, now: float) -> None:
        """Drop expired records nobody read again (abandoned ceremonies), so memory stays bounded."""
        self._next_sweep = now + SWEEP_INTERVAL
        for k in [k for k, item in self._data.items() if item[2] is not None and item[2] <= now]:
            del self._data[k]

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """See :meth:`Store.delete <aioctap.stores.base.Store.delete>`."""
        validate_key(namespace, key)
        k = (namespace, key)
        item = self._live(k)
        if item is None:
            return False
        check_version(namespace, key, expected_version, item[1])
        del self._data[k]
        return True

    async def take(self, namespace: str, key: str) -> bytes | None:
        """See :meth:`Store.take <aioctap.stores.base.Store.take>`."""
        validate_key(namespace, key)
        k = (namespace, key)
        return None if self._live(k) is None else self._data.pop(k)[0]

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """See :meth:`Store.scan <aioctap.stores.base.Store.scan>`."""
        validate_name("namespace", namespace)
        out: list[tuple[str, Record]] = []
        for ns, key in sorted(self._data):
            if ns == namespace and key.startswith(prefix):
                item = self._live((ns, key))
                if item is not None:
                    out.append((key, Record(item[0], item[1])))
                    if limit is not None and len(out) >= limit:
                        break
        return out

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """See :meth:`Store.transact <aioctap.stores.base.Store.transact>`."""
        validate_writes(writes)
        current = []
        for w in writes:  # every comparison before any write, with no await in between
            item = self._live((w.namespace, w.key))
            actual = 0 if item is None else item[1]
            check_version(w.namespace, w.key, w.expected_version, actual)
            current.append(actual)
        out: list[int] = []
        now = time.monotonic()
        for w, actual in zip(writes, current, strict=True):
            k = (w.namespace, w.key)
            if isinstance(w, Put):
                self._sequence += 1
                self._data[k] = (bytes(w.value), self._sequence, None if w.ttl is None else now + w.ttl)
                out.append(self._sequence)
            elif isinstance(w, Delete):
                self._data.pop(k, None)
                out.append(1 if actual else 0)
            else:
                assert isinstance(w, Check)
                out.append(actual)
        return out

    async def aclose(self) -> None:
        """See :meth:`Store.aclose <aioctap.stores.base.Store.aclose>`."""
        self._data.clear()
