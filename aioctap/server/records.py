"""The relying party's records in a store: users, credentials, the per-user index, ceremony sessions and
account sessions.

A record made of several keys is written with one atomic :meth:`Store.transact <aioctap.stores.base.Store.transact>`:
a registration (the user record when new, the credential, its index entry, and the account session it opens),
a credential deletion (the credential and its index entry), a sign-in (the signature counter's
compare-and-set and the new account session). Ceremony sessions are consumed with one atomic ``take``.

Account sessions: the browser holds an opaque random token (a cookie); the store keys the session by the
token's SHA-256, so neither the store nor a log line holds a usable token. A session expires after
``session_idle`` seconds without use (the record's TTL, renewed as it is used) and ``session_lifetime``
seconds after sign-in in any case; adding a passkey to the account needs a sign-in of the last ``recent_sign_in``
seconds (a stolen session cookie must not become a passkey of the thief's: OWASP ASVS 4.0 V3.7.1's re-authentication
before a sensitive action). A session records the passkey that signed it in (or, for a new account,
the first passkey registered) and ends when that passkey is deleted: deleting a lost or stolen passkey also
signs out whoever signed in with it. A session stored before sessions recorded their passkey (no
``credential`` member) lives on until it expires. The HTTP layer is :mod:`aioctap.server.app`.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..stores.base import Check, ConflictError, Delete, Put, Record, Store, StoreError, Write
from ..webauthn import JSONValue, websafe_decode, websafe_encode
from .bodies import CredentialSummary
from .ceremony import CeremonyState, Fido2Server, StoredCredential
from .errors import SignCountError, VerificationError
from .verify import AuthenticationResult, RegistrationResult

__all__ = [
    "ACCOUNT_SESSIONS",
    "CREDENTIALS",
    "SESSIONS",
    "USERS",
    "USER_CREDENTIALS",
    "AccountSession",
    "ApiError",
    "OpenedStore",
    "RelyingParty",
]

USERS = "webauthn-users"  # username -> {"id": user handle (b64url), "displayName"}
CREDENTIALS = "webauthn-credentials"  # credential id (b64url) -> the credential
USER_CREDENTIALS = "webauthn-user-credentials"  # "<user handle>/<credential id>" -> index entry
SESSIONS = "webauthn-sessions"  # ceremony session id -> ceremony state, consumed once
ACCOUNT_SESSIONS = "webauthn-account-sessions"  # SHA-256 of the session token (b64url) -> the signed-in user
_SESSION_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # secrets.token_urlsafe


class ApiError(Exception):
    """An error answered as a ServerResponse with status "failed"."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _load(record: Record | bytes | None, what: str) -> dict[str, Any] | None:
    if record is None:
        return None
    try:
        doc = json.loads(record if isinstance(record, bytes) else record.value)
    except (json.JSONDecodeError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise ApiError(f"a stored {what} is corrupt", 500)
    return doc


def _token_ok(token: str | None) -> TypeGuard[str]:
    return token is not None and 0 < len(token) <= 128 and not token.strip(_SESSION_ALPHABET)


def _credential_id_ok(cid: object) -> TypeGuard[str]:
    """A credential id as the store keeps it: base64url of at most about 1,023 bytes (WebAuthn's limit)."""
    return type(cid) is str and 0 < len(cid) <= 1400 and not cid.strip(_SESSION_ALPHABET)


def _key_digest(public_key: object) -> str:
    """SHA-256 of a credential record's ``public_key`` member (base64url), as a session record keeps it."""
    text = public_key if type(public_key) is str else repr(public_key)
    return websafe_encode(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())


def _session_key(token: str) -> str:
    return websafe_encode(hashlib.sha256(token.encode("ascii")).digest())


@dataclass(frozen=True)
class AccountSession:
    """A signed-in user's session as stored (the token itself is never kept)."""

    key: str  # the store key: SHA-256 of the token, base64url
    username: str
    user_handle: str  # base64url
    created: float
    last_seen: float
    version: int
    credential: str | None = None  # the passkey that signed it in (base64url id); None in an older version's record
    credential_version: int = 0  # that passkey's record version when the session was last checked

    def __repr__(self) -> str:
        return f"AccountSession(username={self.username!r})"


class RelyingParty:
    """The relying party's records in a store, around a sans-IO :class:`Fido2Server`."""

    def __init__(
        self,
        store: Store,
        server: Fido2Server,
        *,
        max_cas_retries: int = 16,
        session_idle: float = 1800.0,
        session_lifetime: float = 12 * 3600.0,
        recent_sign_in: float = 600.0,
    ) -> None:
        if not 0 < session_idle <= session_lifetime:
            raise ValueError("session_idle must be more than 0 and at most session_lifetime")
        if not recent_sign_in > 0:
            raise ValueError("recent_sign_in must be more than 0")
        self.store = store
        self.server = server
        self.max_cas_retries = max_cas_retries
        self.session_idle = session_idle
        self.session_lifetime = session_lifetime
        self.recent_sign_in = recent_sign_in

    def __repr__(self) -> str:
        return f"RelyingParty({self.server!r})"

    async def user(self, username: str) -> dict[str, JSONValue] | None:
        """The user record (``id``: user handle (base64url), ``displayName``), or None."""
        return _load(await self.store.get(USERS, username), "user record")

    async def credential_records(self, user_handle: str) -> list[tuple[str, dict[str, JSONValue]]]:
        """The user's credentials (id, stored document), via the per-user index."""
        out = []
        for key, _ in await self.store.scan(USER_CREDENTIALS, user_handle + "/"):
            cid = key.split("/", 1)[1]
            doc = _load(await self.store.get(CREDENTIALS, cid), "credential record")
            if doc is not None and doc.get("user_handle") == user_handle:
                out.append((cid, doc))
        return out

    async def credentials(self, user_handle: str) -> list[StoredCredential]:
        """The user's credentials, via the per-user index."""
        return [_stored(cid, doc) for cid, doc in await self.credential_records(user_handle)]

    # -- ceremony sessions -----------------------------------------------------------------------------

    async def save_session(
        self, state: CeremonyState, username: str, display_name: str | None = None, **extra: str | bool | None
    ) -> str:
        """Keep the ceremony state under a new random session id (expiring with the challenge)."""
        session = secrets.token_urlsafe(32)
        data = {**state.to_dict(), "username": username, "displayName": display_name, **extra}
        await self.store.put(SESSIONS, session, json.dumps(data).encode(), expected_version=0, ttl=self.server.timeout)
        return session

    async def take_session(self, session: str | None) -> tuple[CeremonyState, dict[str, JSONValue]]:
        """Consume the ceremony state (one atomic take): a second completion finds nothing."""
        if not _token_ok(session):
            raise ApiError("no ceremony session: call the options endpoint first")
        data = _load(await self.store.take(SESSIONS, session), "ceremony session")
        if data is None:
            raise ApiError("unknown, expired or already used ceremony session")
        try:
            state = CeremonyState.from_dict(data)
        except VerificationError:
            raise ApiError("a stored ceremony session is corrupt", 500) from None
        return state, data

    # -- account sessions ------------------------------------------------------------------------------

    def open_session(
        self, username: str, user_handle: str, credential: str, public_key: str, *, replacing: str | None = None
    ) -> tuple[str, list[Write]]:
        """A new session token and the writes that store it (and end the session ``replacing``, a token), which
        the caller applies in the same :meth:`Store.transact` as its sign-in or registration: a new session id at
        every sign-in. ``credential`` and ``public_key`` (base64url, as in the credential record): the passkey that
        signs the session in; the session ends when that passkey is deleted (and stays ended should a passkey with
        the same credential id be registered again: its public key differs)."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        doc = {"username": username, "user_handle": user_handle, "credential": credential,
               "credential_key": _key_digest(public_key), "created": now, "last_seen": now}  # fmt: skip
        writes: list[Write] = [
            Put(ACCOUNT_SESSIONS, _session_key(token), json.dumps(doc).encode(), expected_version=0,
                ttl=self.session_idle)
        ]  # fmt: skip
        if _token_ok(replacing):
            writes.append(Delete(ACCOUNT_SESSIONS, _session_key(replacing)))
        return token, writes

    def signed_in_recently(self, session: AccountSession, *, now: float | None = None) -> bool:
        """Whether ``session`` signed in at most ``recent_sign_in`` seconds ago (what adding a passkey needs)."""
        return (time.time() if now is None else now) - session.created <= self.recent_sign_in

    async def session(self, token: str | None, *, now: float | None = None) -> AccountSession | None:
        """The live session of ``token``, or None; its idle expiry is renewed (at most once a minute).

        A session whose passkey was deleted (or whose credential id now names another user's passkey, or another
        public key) is not live: it is deleted.
        """
        if not _token_ok(token):
            return None
        key = _session_key(token)
        record = await self.store.get(ACCOUNT_SESSIONS, key)
        doc = _load(record, "session record")
        if record is None or doc is None:
            return None
        t = time.time() if now is None else now
        try:
            created, last_seen = float(doc["created"]), float(doc["last_seen"])
            username, user_handle = str(doc["username"]), str(doc["user_handle"])
            credential, digest = doc.get("credential"), doc.get("credential_key")
            if credential is not None and (not _credential_id_ok(credential) or type(digest) is not str):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise ApiError("a stored session record is corrupt", 500) from None
        left = created + self.session_lifetime - t
        if left <= 0 or t - last_seen > self.session_idle:
            return None
        passkey_version = 0
        if credential is not None:
            passkey_record = await self.store.get(CREDENTIALS, credential)
            passkey = _load(passkey_record, "credential record")
            if (
                passkey_record is None
                or passkey is None
                or passkey.get("user_handle") != user_handle
                or _key_digest(passkey.get("public_key")) != digest
            ):  # the passkey was deleted: so is the session
                await self.store.delete(ACCOUNT_SESSIONS, key)
                return None
            passkey_version = passkey_record.version
        version = record.version
        if t - last_seen > min(60.0, self.session_idle / 10):
            doc["last_seen"] = t
            try:  # a compare-and-set: a session ended meanwhile (sign-out) is not brought back
                version = await self.store.put(
                    ACCOUNT_SESSIONS, key, json.dumps(doc).encode(), expected_version=record.version,
                    ttl=max(min(self.session_idle, left), 0.001),
                )  # fmt: skip
            except ConflictError:
                return await self.session(token, now=now) if await self.store.get(ACCOUNT_SESSIONS, key) else None
        return AccountSession(key, username, user_handle, created, t, version, credential, passkey_version)

    async def end_session(self, token: str | None) -> None:
        """Sign out: delete the session of ``token`` (nothing when there is none)."""
        if _token_ok(token):
            await self.store.delete(ACCOUNT_SESSIONS, _session_key(token))

    # -- credentials -----------------------------------------------------------------------------------

    async def add_credential(
        self,
        username: str,
        user_handle: bytes,
        reg: RegistrationResult,
        display_name: str | None = None,
        *,
        also: Sequence[Write] = (),
    ) -> str:
        """Store a verified registration in one atomic write: the user record when new (or a check that the
        existing one is unchanged), the credential, its index entry, and ``also`` (the account session a new account
        opens, or checks that the session adding the passkey and its own passkey are unchanged: a conflict there is
        a 409). A failed registration (a conflict, a store failure) leaves nothing behind."""
        cid = websafe_encode(reg.credential_id)
        uh = websafe_encode(user_handle)
        record = await self.store.get(USERS, username)
        user = _load(record, "user record")
        concurrent = ApiError(f"user {username!r} was registered concurrently: start the registration again", 409)
        writes: list[Write] = []
        if record is None:
            doc = {"id": uh, "displayName": display_name or username}
            writes.append(Put(USERS, username, json.dumps(doc).encode(), expected_version=0))
        elif user is None or user.get("id") != uh:
            raise concurrent
        else:
            writes.append(Check(USERS, username, record.version))
        credential = {
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
            "name": "",
        }
        writes += [
            Put(CREDENTIALS, cid, json.dumps(credential).encode(), expected_version=0),
            Put(USER_CREDENTIALS, f"{uh}/{cid}", b"{}", expected_version=0),
            *also,
        ]
        try:
            await self.store.transact(writes)
        except ConflictError as e:
            if e.namespace == CREDENTIALS and e.key == cid:
                raise ApiError("this credential is already registered") from None
            if e.namespace == USERS:
                raise concurrent from None
            # ``also``: the account session adding the passkey, or the passkey that signed it in, changed meanwhile
            changed = "the session or the account's passkeys changed meanwhile: add the passkey again"
            raise ApiError(changed, 409) from None
        return cid

    async def credential(self, cid: str) -> tuple[Record, dict[str, JSONValue], StoredCredential] | None:
        """The credential's record, its document and what verification needs, or None."""
        record = await self.store.get(CREDENTIALS, cid)
        doc = _load(record, "credential record")
        return None if record is None or doc is None else (record, doc, _stored(cid, doc))

    async def update_sign_count(
        self, cid: str, result: AuthenticationResult, record: Record | None = None, *, also: Sequence[Write] = ()
    ) -> None:
        """Compare-and-set the signature counter and record the BS flag; the clone check is repeated on the
        value it replaces. ``also`` (an account session) is written in the same atomic operation. ``record``: the
        credential's record as read before verification (saves a read when nobody changed it since); after a lost
        compare-and-set the record is read again."""
        new = result.new_sign_count
        for _ in range(self.max_cas_retries):
            if record is None:
                record = await self.store.get(CREDENTIALS, cid)
            doc = _load(record, "credential record")
            if record is None or doc is None:
                raise ApiError("the credential was removed during the sign-in")
            old = int(doc["sign_count"])
            if (new != 0 or old != 0) and new <= old and self.server.reject_possible_clone:
                raise SignCountError(f"signature counter {new} did not increase past {old}: possible clone")
            now = time.time()
            doc["sign_count"] = max(new, old)
            doc["last_used"] = now
            if doc.get("backup_state") != result.backup_state:  # WebAuthn L3 §7.2 step 26: keep the current BS
                doc["backup_state"] = result.backup_state
                doc["backup_state_changed"] = now
            try:
                await self.store.transact(
                    [Put(CREDENTIALS, cid, json.dumps(doc).encode(), expected_version=record.version), *also]
                )
                return
            except ConflictError as e:
                if e.namespace != CREDENTIALS:
                    raise
                record = None
        raise ApiError("the credential is being used concurrently; try again", 409)

    async def rename_credential(self, user_handle: str, cid: str, name: str) -> None:
        """Set the name of one of the user's credentials (a compare-and-set on its record)."""
        for _ in range(self.max_cas_retries):
            record, doc = await self._own(user_handle, cid)
            doc["name"] = name
            try:
                await self.store.put(CREDENTIALS, cid, json.dumps(doc).encode(), expected_version=record.version)
                return
            except ConflictError:
                continue
        raise ApiError("the credential is being used concurrently; try again", 409)

    async def delete_credential(self, user_handle: str, cid: str) -> None:
        """Delete one of the user's credentials and its index entry in one atomic write. The account's last
        credential is kept (without it nobody could sign in to the account again): the write also checks that
        another of the user's credentials still exists. The sessions the credential signed in end with it (each
        is found dead at its next use, see :meth:`session`)."""
        record, _ = await self._own(user_handle, cid)
        others = [
            (k, r) for k, r in await self.store.scan(USER_CREDENTIALS, user_handle + "/") if k.split("/", 1)[1] != cid
        ]
        if not others:
            raise ApiError("this is the account's only passkey: add another one before deleting it", 409)
        key, other = others[0]
        try:
            await self.store.transact(
                [
                    Delete(CREDENTIALS, cid, expected_version=record.version),
                    Delete(USER_CREDENTIALS, f"{user_handle}/{cid}"),
                    Check(USER_CREDENTIALS, key, other.version),
                ]
            )
        except ConflictError:
            raise ApiError("the account's passkeys changed meanwhile; try again", 409) from None

    async def _own(self, user_handle: str, cid: str) -> tuple[Record, dict[str, Any]]:
        """The credential ``cid`` if it belongs to ``user_handle``; the same 404 whether it is someone
        else's or does not exist."""
        if not _credential_id_ok(cid):
            raise ApiError("no such credential", 404)
        record = await self.store.get(CREDENTIALS, cid)
        doc = _load(record, "credential record")
        if record is None or doc is None or doc.get("user_handle") != user_handle:
            raise ApiError("no such credential", 404)
        return record, doc


def _stored(cid: str, doc: dict[str, Any]) -> StoredCredential:
    try:
        be = doc.get("backup_eligible")
        return StoredCredential(
            credential_id=websafe_decode(cid),
            public_key=websafe_decode(doc["public_key"]),
            sign_count=int(doc["sign_count"]),
            user_handle=websafe_decode(doc["user_handle"]),
            transports=tuple(str(t) for t in doc.get("transports", ())),
            backup_eligible=be if isinstance(be, bool) else None,
        )
    except (KeyError, TypeError, ValueError):
        raise ApiError("a stored credential record is corrupt", 500) from None


def credential_summary(cid: str, doc: dict[str, Any]) -> CredentialSummary:
    """What the credential's owner sees of it (no public key, no counter)."""

    def when(name: str) -> float | None:
        value = doc.get(name)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    return CredentialSummary(
        id=cid,
        name=str(doc.get("name") or ""),
        created=when("created"),
        lastUsed=when("last_used"),
        aaguid=str(doc.get("aaguid") or ""),
        transports=[str(t) for t in doc.get("transports", ()) if isinstance(t, str)],
        backupEligible=doc.get("backup_eligible") is True,
        backupState=doc.get("backup_state") is True,
    )


class OpenedStore:
    """A :class:`Store` that forwards to the store the app's lifespan opens from a URL (each method raises
    StoreError before the lifespan opened the store)."""

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
        """See :meth:`Store.get <aioctap.stores.base.Store.get>`."""
        return await self._store().get(namespace, key)

    async def put(
        self, namespace: str, key: str, value: bytes, *, expected_version: int | None = None, ttl: float | None = None
    ) -> int:
        """See :meth:`Store.put <aioctap.stores.base.Store.put>`."""
        return await self._store().put(namespace, key, value, expected_version=expected_version, ttl=ttl)

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """See :meth:`Store.delete <aioctap.stores.base.Store.delete>`."""
        return await self._store().delete(namespace, key, expected_version=expected_version)

    async def take(self, namespace: str, key: str) -> bytes | None:
        """See :meth:`Store.take <aioctap.stores.base.Store.take>`."""
        return await self._store().take(namespace, key)

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """See :meth:`Store.scan <aioctap.stores.base.Store.scan>`."""
        return await self._store().scan(namespace, prefix, limit=limit)

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """See :meth:`Store.transact <aioctap.stores.base.Store.transact>`."""
        return await self._store().transact(writes)

    async def aclose(self) -> None:
        """Close the opened store, if any (the lifespan does this on shutdown)."""
        if self.inner is not None:
            await self.inner.aclose()
