"""The async store protocol: a namespaced key-value store with versioned compare-and-set.

Everything that must survive a restart or be shared between server instances (OTP accounts and
their last used counters, WebAuthn credentials and sign counters, pending ceremony challenges,
Taler OTP devices, API tokens) is kept as records in a :class:`Store`. Every security-relevant
state change is **one** atomic compare-and-set on a record's version (``put(...,
expected_version=v)``) or an atomic ``take`` (get-and-delete), never read-then-write.

Versions: a missing record has version 0; every successful write increases the version.
``expected_version=0`` therefore means "create, fail if it exists".

A record made of several keys (a user, a credential and its index entry) is written with
:meth:`Store.transact`: a list of :class:`Put`, :class:`Delete` and :class:`Check` operations that
all happen, or none does.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "MAX_NAME_BYTES",
    "Check",
    "ConflictError",
    "Delete",
    "Put",
    "Record",
    "Store",
    "StoreError",
    "Write",
    "check_version",
    "validate_key",
    "validate_name",
    "validate_writes",
]


class StoreError(Exception):
    """A store failed (connection lost, bad URL, corrupt record)."""


# -- store URLs in messages: never their password --------------------------------------------------------------------
# A URL's password may sit in its userinfo (``redis://:PASSWORD@host``, ``postgresql://user:PASSWORD@host``) or in
# a ``password`` query parameter; a password with an unescaped '/', '?' or '#' makes URL parsers split it (part of it
# becomes a "port" or a path, which their error messages then quote).

_QUERY_PASSWORD = re.compile(r"[?&](?:password|passwd|pass)=([^&#]*)", re.IGNORECASE)
_PIECES = re.compile(r"[/?#:@&=]")


def _url_secrets(url: str) -> list[str]:
    """The strings of ``url`` that may be (part of) its password, longest first."""
    secrets: list[str] = []
    rest = url.split("://", 1)[1] if "://" in url else url
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        user, sep, password = userinfo.partition(":")
        secrets.append(password if sep else user)  # a lone userinfo is a password to Redis (``redis://PASS@h``)
    secrets.extend(_QUERY_PASSWORD.findall(url))
    out: set[str] = set()
    for secret in secrets:
        for text in (secret, urllib.parse.unquote(secret)):
            out.add(text)
            out.update(_PIECES.split(text))
    return sorted((s for s in out if s), key=len, reverse=True)


def scrub_url_secrets(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with every piece of the URL's password replaced by ``***``
    (a piece of one or two characters only where a message quotes it, so that words stay whole)."""
    for secret in _url_secrets(url):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
        else:
            text = text.replace(f"'{secret}'", "'***'").replace(f'"{secret}"', '"***"')
    return text


def url_location(url: str) -> str:
    """``host[:port][/path]`` of a store URL, for messages: without its user, password, query and fragment."""
    rest = url.split("://", 1)[1] if "://" in url else url
    rest = rest.rsplit("@", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    return scrub_url_secrets(rest, url) or "localhost"


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


@dataclass(frozen=True, slots=True)
class Put:
    """In :meth:`Store.transact`: write ``value`` (compare-and-set on ``expected_version`` when given)."""

    namespace: str
    key: str
    value: bytes
    expected_version: int | None = None
    ttl: float | None = None

    def __repr__(self) -> str:  # never print the value
        size = len(self.value)
        return f"Put({self.namespace!r}, {self.key!r}, {size} bytes, expected_version={self.expected_version})"


@dataclass(frozen=True, slots=True)
class Delete:
    """In :meth:`Store.transact`: delete the record if present. With ``expected_version`` the record's
    version (0 when absent) must equal it, as for :class:`Put`."""

    namespace: str
    key: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """In :meth:`Store.transact`: write nothing, but the record's version (0 when absent) must be
    ``expected_version`` for the other operations to happen."""

    namespace: str
    key: str
    expected_version: int


Write = Put | Delete | Check
MAX_TRANSACT = 64  # operations in one transact call
MAX_TTL = 10 * 365 * 86400.0  # seconds; longer is a mistake (and overflows Redis's PEXPIRE in milliseconds)


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


def validate_writes(writes: Sequence[Write]) -> None:
    """Check a :meth:`Store.transact` list before anything is sent: valid addresses, each record at most
    once, at most :data:`MAX_TRANSACT` operations."""
    if not 0 < len(writes) <= MAX_TRANSACT:
        raise ValueError(f"transact takes 1-{MAX_TRANSACT} operations")
    seen: set[tuple[str, str]] = set()
    for w in writes:
        if not isinstance(w, (Put, Delete, Check)):
            raise TypeError(f"transact takes Put, Delete and Check operations, not {type(w).__name__}")
        validate_key(w.namespace, w.key)
        if isinstance(w, Put) and w.ttl is not None and not 0 < w.ttl <= MAX_TTL:
            raise ValueError(f"a ttl must be more than 0 and at most {MAX_TTL} seconds")
        if w.expected_version is not None and w.expected_version < 0:
            raise ValueError("an expected version is never negative")
        if (w.namespace, w.key) in seen:
            raise ValueError(f"record {w.namespace}/{w.key} appears twice in one transact call")
        seen.add((w.namespace, w.key))


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

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """Apply every operation of ``writes`` atomically, or none of them.

        Every ``expected_version`` is compared first; when one differs, :class:`ConflictError`
        (naming that record) is raised and nothing is written. A failure of the store itself also
        leaves nothing written. Returns one number per operation: the new version for a
        :class:`Put`, 1 or 0 (deleted or absent) for a :class:`Delete`, the version for a :class:`Check`.
        A record may appear only once in ``writes``.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
