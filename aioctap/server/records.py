"""The relying party's records in a store: users, credentials, the per-user index, ceremony sessions.

Every write is a create-only write or a compare-and-set on one record (see :mod:`aioctap.stores.base`):
sessions are consumed with one atomic ``take``, credentials are created once, the signature counter
is a compare-and-set. The HTTP layer is :mod:`aioctap.server.app`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from typing import Any

from ..stores.base import ConflictError, Record, Store, StoreError
from ..webauthn import websafe_decode, websafe_encode
from .ceremony import CeremonyState, Fido2Server, StoredCredential
from .errors import SignCountError, VerificationError
from .verify import AuthenticationResult, RegistrationResult

__all__ = [
    "CREDENTIALS",
    "SESSIONS",
    "USERS",
    "USER_CREDENTIALS",
    "ApiError",
    "OpenedStore",
    "RelyingParty",
]

USERS = "webauthn-users"  # username -> {"id": user handle (b64url), "displayName"}
CREDENTIALS = "webauthn-credentials"  # credential id (b64url) -> the credential
USER_CREDENTIALS = "webauthn-user-credentials"  # "<user handle>/<credential id>" -> index entry
SESSIONS = "webauthn-sessions"  # session id -> ceremony state, consumed once
_SESSION_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # secrets.token_urlsafe


class ApiError(Exception):
    """An error answered as a ServerResponse with status "failed"."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _load(record: Record | None, what: str) -> dict[str, Any] | None:
    if record is None:
        return None
    try:
        doc = json.loads(record.value)
    except (json.JSONDecodeError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise ApiError(f"a stored {what} record is corrupt", 500)
    return doc


class RelyingParty:
    """The relying party's records in a store, around a sans-IO :class:`Fido2Server`."""

    def __init__(self, store: Store, server: Fido2Server, *, max_cas_retries: int = 16) -> None:
        self.store = store
        self.server = server
        self.max_cas_retries = max_cas_retries

    def __repr__(self) -> str:
        return f"RelyingParty({self.server!r})"

    async def user(self, username: str) -> dict[str, Any] | None:
        """The user record (``id``: user handle (base64url), ``displayName``), or None."""
        return _load(await self.store.get(USERS, username), "user")

    async def credentials(self, user_handle: str) -> list[StoredCredential]:
        """The user's credentials, via the per-user index."""
        out = []
        for key, _ in await self.store.scan(USER_CREDENTIALS, user_handle + "/"):
            cid = key.split("/", 1)[1]
            doc = _load(await self.store.get(CREDENTIALS, cid), "credential")
            if doc is not None:
                out.append(_stored(cid, doc))
        return out

    async def save_session(self, state: CeremonyState, username: str, display_name: str | None = None) -> str:
        """Keep the ceremony state under a new random session id (expiring with the challenge)."""
        session = secrets.token_urlsafe(32)
        data = {**state.to_dict(), "username": username, "displayName": display_name}
        await self.store.put(SESSIONS, session, json.dumps(data).encode(), expected_version=0, ttl=self.server.timeout)
        return session

    async def take_session(self, session: str | None) -> tuple[CeremonyState, dict[str, Any]]:
        """Consume the ceremony state (one atomic take): a second completion finds nothing."""
        if not session or len(session) > 128 or session.strip(_SESSION_ALPHABET):
            raise ApiError("no ceremony session: call the options endpoint first")
        raw = await self.store.take(SESSIONS, session)
        if raw is None:
            raise ApiError("unknown, expired or already used ceremony session")
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError("a stored ceremony session is corrupt", 500) from None
        if not isinstance(data, dict):
            raise ApiError("a stored ceremony session is corrupt", 500)
        try:
            state = CeremonyState.from_dict(data)
        except VerificationError:
            raise ApiError("a stored ceremony session is corrupt", 500) from None
        return state, data

    async def add_credential(
        self, username: str, user_handle: bytes, reg: RegistrationResult, display_name: str | None = None
    ) -> str:
        """Store a verified registration: the user record when new, the credential, its index entry.

        Each is a create-only write; when a later one fails, the earlier ones of this call are
        removed again, so a failed registration leaves nothing behind.
        """
        cid = websafe_encode(reg.credential_id)
        uh = websafe_encode(user_handle)
        created_user: int | None = None
        user = await self.user(username)
        if user is None:
            doc = {"id": uh, "displayName": display_name or username}
            try:
                created_user = await self.store.put(USERS, username, json.dumps(doc).encode(), expected_version=0)
            except ConflictError:
                user = await self.user(username)
        if user is not None and user.get("id") != uh:
            raise ApiError(f"user {username!r} was registered concurrently: start the registration again", 409)
        record = {
            "username": username,
            "user_handle": uh,
            "public_key": websafe_encode(reg.credential_public_key),
            "sign_count": reg.sign_count,
            "transports": list(reg.transports),
            "aaguid": str(reg.aaguid),
            "fmt": reg.fmt,
            "user_verified": reg.user_verified,
            "backup_eligible": reg.backup_eligible,
            "backup_state": reg.backup_state,
            "created": time.time(),
        }
        stored_credential = False
        try:
            try:
                await self.store.put(CREDENTIALS, cid, json.dumps(record).encode(), expected_version=0)
            except ConflictError:
                raise ApiError("this credential is already registered") from None
            stored_credential = True
            await self.store.put(USER_CREDENTIALS, f"{uh}/{cid}", b"{}", expected_version=0)
        except BaseException:
            if stored_credential:
                with contextlib.suppress(StoreError):
                    await self.store.delete(CREDENTIALS, cid)
            if created_user is not None:
                with contextlib.suppress(StoreError):
                    await self.store.delete(USERS, username, expected_version=created_user)
            raise
        return cid

    async def credential(self, cid: str) -> tuple[Record, dict[str, Any], StoredCredential] | None:
        """The credential's record, its document and what verification needs, or None."""
        record = await self.store.get(CREDENTIALS, cid)
        doc = _load(record, "credential")
        return None if record is None or doc is None else (record, doc, _stored(cid, doc))

    async def update_sign_count(self, cid: str, result: AuthenticationResult, record: Record | None = None) -> None:
        """Compare-and-set the signature counter; the clone check is repeated on the value it replaces.

        ``record``: the credential's record as read before verification (saves a read when nobody
        changed it since); after a lost compare-and-set the record is read again.
        """
        new = result.new_sign_count
        for _ in range(self.max_cas_retries):
            if record is None:
                record = await self.store.get(CREDENTIALS, cid)
            doc = _load(record, "credential")
            if record is None or doc is None:
                raise ApiError("the credential was removed during the sign-in")
            old = int(doc["sign_count"])
            if (new != 0 or old != 0) and new <= old and self.server.reject_possible_clone:
                raise SignCountError(f"signature counter {new} did not increase past {old}: possible clone")
            doc["sign_count"] = max(new, old)
            doc["last_used"] = time.time()
            try:
                await self.store.put(CREDENTIALS, cid, json.dumps(doc).encode(), expected_version=record.version)
                return
            except ConflictError:
                record = None
        raise ApiError("the credential is being used concurrently; try again", 409)


def _stored(cid: str, doc: dict[str, Any]) -> StoredCredential:
    try:
        return StoredCredential(
            credential_id=websafe_decode(cid),
            public_key=websafe_decode(doc["public_key"]),
            sign_count=int(doc["sign_count"]),
            user_handle=websafe_decode(doc["user_handle"]),
            transports=tuple(str(t) for t in doc.get("transports", ())),
        )
    except (KeyError, TypeError, ValueError):
        raise ApiError("a stored credential record is corrupt", 500) from None


class OpenedStore:
    """A :class:`Store` that forwards to the store the app's lifespan opens from a URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.inner: Store | None = None

    def __repr__(self) -> str:
        return f"OpenedStore(open={self.inner is not None})"

    def _store(self) -> Store:
        if self.inner is None:
            raise StoreError("the store is not open (the app's lifespan has not started)")
        return self.inner

    async def get(self, namespace: str, key: str) -> Record | None:
        """See :meth:`Store.get <aioctap.stores.base.Store.get>` (StoreError before the lifespan opened the store)."""
        return await self._store().get(namespace, key)

    async def put(
        self, namespace: str, key: str, value: bytes, *, expected_version: int | None = None, ttl: float | None = None
    ) -> int:
        """See :meth:`Store.put <aioctap.stores.base.Store.put>` (StoreError before the lifespan opened the store)."""
        return await self._store().put(namespace, key, value, expected_version=expected_version, ttl=ttl)

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """See :meth:`Store.delete <aioctap.stores.base.Store.delete>` (StoreError before the lifespan opened the
        store)."""
        return await self._store().delete(namespace, key, expected_version=expected_version)

    async def take(self, namespace: str, key: str) -> bytes | None:
        """See :meth:`Store.take <aioctap.stores.base.Store.take>` (StoreError before the lifespan opened the store)."""
        return await self._store().take(namespace, key)

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """See :meth:`Store.scan <aioctap.stores.base.Store.scan>` (StoreError before the lifespan opened the store)."""
        return await self._store().scan(namespace, prefix, limit=limit)

    async def aclose(self) -> None:
        """Close the opened store, if any (the lifespan does this on shutdown)."""
        if self.inner is not None:
            await self.inner.aclose()
