"""The async store protocol: a namespaced key-value store with versioned compare-and-set.

Everything that must survive a restart or be shared between server instances (OTP accounts and
their last used counters, WebAuthn credentials and sign counters, pending ceremony challenges,
Taler OTP devices, API tokens) is kept as records in a :class:`Store`. Every security-relevant
state change is **one** atomic compare-and-set on a record's version (``put(...,
expected_version=v)``) or an atomic ``take`` (get-and-delete), never read-then-write.

Versions: a missing record has version 0; every successful write increases the version.
``expected_version=0`` therefore means "create, fail if it exists".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "MAX_NAME_BYTES",
    "ConflictError",
    "Record",
    "Store",
    "StoreError",
    "check_version",
    "validate_key",
    "validate_name",
]


class StoreError(Exception):
    """A store failed (connection lost, bad URL, corrupt record)."""


class ConflictError(StoreError):
    """A compare-and-set lost: the record's version was not the expected one."""

    def __init__(self, namespace: str, key: str, expected: int, actual: int) -> None:
        self.namespace = namespace
        self.key = key
        self.expected = expected
        self.actual = actual
        super().__init__(f"record {namespace}/{key} changed concurrently (expected version {expected}, found {actual})")


@dataclass(frozen=True, slots=True)
class Record:
    """A stored value and its version (>= 1)."""

    value: bytes
    version: int

    def __repr__(self) -> str:  # values may hold secrets (encrypted or not): never print them
        return f"Record(version={self.version}, {len(self.value)} bytes)"


MAX_NAME_BYTES = 2048
"""The longest namespace or key, in UTF-8 bytes. Room for the longest WebAuthn credential ID
(1023 bytes, 1364 base64url characters) with a user handle in front of it, and still within
PostgreSQL's limit for one B-tree index entry (about 2.7 kB) for the (namespace, key) pair."""


def validate_name(kind: str, name: str) -> None:
    """Namespaces and keys are non-empty text without NUL, encodable as UTF-8 (no lone surrogates,
    which SQLite, Redis and PostgreSQL all refuse) in at most :data:`MAX_NAME_BYTES` bytes."""
    try:
        size = len(name.encode()) if isinstance(name, str) else 0
    except UnicodeEncodeError:
        size = 0
    if not 0 < size <= MAX_NAME_BYTES or "\x00" in name:
        raise ValueError(f"invalid store {kind}: must be 1-{MAX_NAME_BYTES} bytes of UTF-8 without NUL")


def validate_key(namespace: str, key: str) -> None:
    """Validate a record's address: both ``namespace`` and ``key`` as :func:`validate_name` says."""
    validate_name("namespace", namespace)
    validate_name("key", key)


def check_version(namespace: str, key: str, expected_version: int | None, actual: int) -> None:
    """The compare of compare-and-set: raise :class:`ConflictError` unless ``expected_version``
    is None or equals the record's ``actual`` version (0 when absent)."""
    if expected_version is not None and actual != expected_version:
        raise ConflictError(namespace, key, expected_version, actual)


@runtime_checkable
class Store(Protocol):
    """An async key-value store with per-record versions and atomic compare-and-set.

    Implementations: ``memory://`` (:class:`aioctap.stores.memory.MemoryStore`), ``sqlite:///path``,
    ``redis://...``, ``postgresql://...``; open one with :func:`aioctap.stores.open_store`.
    """

    async def get(self, namespace: str, key: str) -> Record | None:
        """The record, or None when absent or expired."""
        ...

    async def put(
        self,
        namespace: str,
        key: str,
        value: bytes,
        *,
        expected_version: int | None = None,
        ttl: float | None = None,
    ) -> int:
        """Write ``value`` and return the new version.

        With ``expected_version``, the write happens only if the current version (0 when
        absent) equals it, atomically; otherwise :class:`ConflictError`. ``ttl`` (seconds)
        makes the record expire; without it the record never expires.
        """
        ...

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """Delete the record; True if one was deleted. CAS semantics as for :meth:`put`
        (a version mismatch on an existing record raises :class:`ConflictError`)."""
        ...

    async def take(self, namespace: str, key: str) -> bytes | None:
        """Atomically read and delete a record (single-use values such as challenges).

        Of any number of concurrent takes of one record, exactly one gets the value.
        """
        ...

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """Records of a namespace whose key starts with ``prefix``, ordered by key."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
