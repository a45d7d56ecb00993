"""An account session ends with the passkey that signed it in, under attack: races forced with a store whose calls
can be interleaved (sign-in, renewal and registration against a deletion), a credential id registered again, stored
records no version writes, conformance mode, every store backend. (Written by a review of the feature.)"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import pytest

from aioctap.server.app import ACCOUNT_SESSIONS, CREDENTIALS, create_app
from aioctap.server.records import RelyingParty
from aioctap.server.responses import ACCOUNT_COOKIE
from aioctap.stores import MemoryStore, open_store
from aioctap.stores.base import Record, Write
from tests.server.test_accounts import ORIGIN, Env, Passkey, assert_failed, env, register, sign_in

Hook = Callable[[], Awaitable[None]]


class HookedStore(MemoryStore):
    """A memory store that runs a hook (once) just before a chosen call: a deterministic interleaving."""

    def __init__(self) -> None:
        super().__init__()
        self.hooks: dict[tuple[str, str], list[Hook]] = {}

    def before(self, method: str, namespace: str, hook: Hook) -> None:
        self.hooks.setdefault((method, namespace), []).append(hook)

    async def _run(self, method: str, namespace: str) -> None:
        hooks = self.hooks.get((method, namespace))
        if hooks:
            await hooks.pop(0)()

    async def get(self, namespace: str, key: str) -> Record | None:
        await self._run("get", namespace)
        return await super().get(namespace, key)

    async def put(self, namespace: str, key: str, value: bytes, **kw: Any) -> int:
        await self._run("put", namespace)
        return await super().put(namespace, key, value, **kw)

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        await self._run("transact", writes[0].namespace)
        return await super().transact(writes)


def hooked_env() -> tuple[Env, HookedStore]:
    store = HookedStore()
    return Env(create_app(store, origin=ORIGIN, otp_routes=False), store), store


async def add_passkey(http: httpx.AsyncClient, key: Passkey) -> None:
    r = await http.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
    assert (await http.post("/fido2/attestation/result", json=key.create(r.json()))).status_code == 200, r.text


async def test_sign_in_racing_the_deletion_of_its_passkey_opens_no_session() -> None:
    """The sign-in read the credential; the owner deletes it before the sign-in's write: no session."""
    e, store = hooked_env()
    async with e.browser() as alice, e.browser() as finder:
        lost, kept = Passkey(), Passkey()
        await register(alice, "alice", kept)
        await add_passkey(alice, lost)

        async def delete() -> None:
            assert (await alice.delete(f"/fido2/credentials/{lost.id}")).status_code == 200

        store.before("transact", CREDENTIALS, delete)  # the sign-in's counter update + session
        assert_failed(await sign_in(finder, lost), 400, "removed")
        assert ACCOUNT_COOKIE not in finder.cookies
        assert len(await store.scan(ACCOUNT_SESSIONS)) == 1  # alice's


async def test_renewal_racing_the_dead_session_deletion() -> None:
    """Two requests of one session: A passed the passkey check and renews; the passkey is deleted and B deletes
    the session before A's compare-and-set: A's renewal does not bring the session back."""
    e, store = hooked_env()
    rp: RelyingParty = e.app.state.relying_party
    async with e.browser() as alice, e.browser() as finder:
        lost, kept = Passkey(), Passkey()
        await register(alice, "alice", kept)
        await add_passkey(alice, lost)
        assert (await sign_in(finder, lost)).status_code == 200
        token = finder.cookies[ACCOUNT_COOKIE]
        [(key, record)] = [(k, r) for k, r in await store.scan(ACCOUNT_SESSIONS) if b"credential" in r.value
                           and json.loads(r.value)["credential"] == lost.id]  # fmt: skip
        created = json.loads(record.value)["created"]
        seen: list[Any] = []

        async def kill() -> None:
            assert (await alice.delete(f"/fido2/credentials/{lost.id}")).status_code == 200
            seen.append(await rp.session(token, now=created + 120))  # B: finds the passkey gone

        store.before("put", ACCOUNT_SESSIONS, kill)  # just before A's renewal
        assert await rp.session(token, now=created + 120) is None  # A: its CAS fails, the session is gone
        assert seen == [None] and await store.get(ACCOUNT_SESSIONS, key) is None


async def test_a_deleted_passkey_id_registered_again_does_not_bring_its_dead_sessions_back() -> None:
    """The finder's session (passkey X) is found dead only at its next use. Before that, a credential with X's id
    but another key is registered (a client chooses credential ids): the session names X's public key, so it stays
    dead."""
    async with env() as e, e.browser() as alice, e.browser() as finder:
        lost, kept = Passkey(), Passkey()
        await register(alice, "alice", kept)
        await add_passkey(alice, lost)
        assert (await sign_in(finder, lost)).status_code == 200
        assert (await alice.delete(f"/fido2/credentials/{lost.id}")).status_code == 200
        again = Passkey()
        again.credential_id = lost.credential_id  # same id, a new key
        await add_passkey(alice, again)
        assert_failed(await finder.get("/fido2/account"), 401)
        assert (await alice.get("/fido2/account")).status_code == 200


async def test_registration_completed_while_its_session_passkey_is_deleted() -> None:
    """complete_registration checks the session, then writes the credential: a deletion of the session's passkey
    in between stops the new passkey (the write checks the session's record and its passkey's: 409, nothing
    stored), and the session is then found dead."""
    e, store = hooked_env()
    async with e.browser() as alice, e.browser() as finder:
        lost, kept = Passkey(), Passkey()
        await register(alice, "alice", kept)
        await add_passkey(alice, lost)
        assert (await sign_in(finder, lost)).status_code == 200
        r = await finder.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        mine = Passkey()

        async def delete() -> None:
            assert (await alice.delete(f"/fido2/credentials/{lost.id}")).status_code == 200

        # the completion's reads: the user record (add_credential) comes after the session check
        store.before("get", "webauthn-users", delete)
        r = await finder.post("/fido2/attestation/result", json=mine.create(r.json()))
        assert_failed(r, 409, "changed meanwhile")
        assert await store.get(CREDENTIALS, mine.id) is None
        assert_failed(await finder.get("/fido2/account"), 401)
        assert_failed(await sign_in(finder, mine), 400, "unknown credential")


async def test_registration_completed_after_a_sign_out_of_its_session() -> None:
    """The same window with a sign-out of the adding session (in another tab): 409, nothing stored."""
    e, store = hooked_env()
    async with e.browser() as alice:
        await register(alice, "alice", Passkey())
        token = alice.cookies[ACCOUNT_COOKIE]
        r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        mine = Passkey()

        async def sign_out() -> None:
            await e.app.state.relying_party.end_session(token)

        store.before("get", "webauthn-users", sign_out)
        r = await alice.post("/fido2/attestation/result", json=mine.create(r.json()))
        assert_failed(r, 409, "changed meanwhile")
        assert await store.get(CREDENTIALS, mine.id) is None


@pytest.mark.parametrize("value", ["", "a" * 3000, "\ud800", "a/b", 7, None])
async def test_a_session_record_with_an_impossible_credential(value: object) -> None:
    """A passkey member no credential id can be (or, with a passkey id, no key digest): a stored session record that
    is corrupt (500 saying so), the record unchanged."""
    async with env() as e, e.browser() as alice:
        await register(alice, "alice", Passkey())
        [(key, record)] = await e.store.scan(ACCOUNT_SESSIONS)
        doc = json.loads(record.value)
        if value is None:
            del doc["credential_key"]
        else:
            doc["credential"] = value
        await e.store.put(ACCOUNT_SESSIONS, key, json.dumps(doc).encode())
        assert_failed(await alice.get("/fido2/account"), 500, "stored session record is corrupt")
        stored = await e.store.get(ACCOUNT_SESSIONS, key)
        assert stored is not None and json.loads(stored.value) == doc


async def test_conformance_mode_opens_no_session_to_end() -> None:
    """Conformance mode opens no account session at all (test_app_hardening: anyone may add a passkey to any user
    name there), so deleting a passkey there has no session to end: it sets no cookie."""
    async with env(conformance=True) as e, e.browser() as alice, e.browser() as other:
        first, second = Passkey(), Passkey()
        await register(alice, "alice", first)
        await register(alice, "alice", second)
        assert (await sign_in(alice, first, "alice")).status_code == 200
        assert (await sign_in(other, second, "alice")).status_code == 200
        assert not await e.store.scan(ACCOUNT_SESSIONS)
        assert_failed(await alice.delete(f"/fido2/credentials/{second.id}"), 401)
        assert_failed(await other.get("/fido2/account"), 401)


async def test_a_passkey_added_while_signed_in_does_not_change_the_sessions_passkey() -> None:
    async with env() as e, e.browser() as alice:
        first, added = Passkey(), Passkey()
        await register(alice, "alice", first)
        await add_passkey(alice, added)
        r = await alice.delete(f"/fido2/credentials/{added.id}")
        assert r.status_code == 200 and "set-cookie" not in r.headers
        assert (await alice.get("/fido2/account")).status_code == 200
        await add_passkey(alice, added2 := Passkey())
        r = await alice.delete(f"/fido2/credentials/{first.id}")
        assert r.status_code == 200 and ACCOUNT_COOKIE not in alice.cookies
        assert (await sign_in(alice, added2)).status_code == 200


async def test_an_old_session_outlives_the_deletion_of_its_passkey() -> None:
    """Documented: a record without "credential" lives on until it expires (at most session_lifetime)."""
    async with env() as e, e.browser() as alice:
        first, second = Passkey(), Passkey()
        await register(alice, "alice", first)
        await add_passkey(alice, second)
        [(key, record)] = await e.store.scan(ACCOUNT_SESSIONS)
        doc = json.loads(record.value)
        del doc["credential"], doc["credential_key"]
        await e.store.put(ACCOUNT_SESSIONS, key, json.dumps(doc).encode(), ttl=1800)
        r = await alice.delete(f"/fido2/credentials/{first.id}")
        assert r.status_code == 200 and "set-cookie" not in r.headers
        assert (await alice.get("/fido2/account")).status_code == 200


async def test_deleting_a_passkey_ends_its_sessions_on_every_store(store_url: str) -> None:
    async with open_store(store_url) as store:
        app = create_app(store, origin=ORIGIN, otp_routes=False)
        e = Env(app, store)
        async with e.browser() as alice, e.browser() as finder:
            lost, kept = Passkey(), Passkey()
            await register(alice, "alice", kept)
            await add_passkey(alice, lost)
            assert (await sign_in(finder, lost)).status_code == 200
            assert (await alice.delete(f"/fido2/credentials/{lost.id}")).status_code == 200
            assert_failed(await finder.get("/fido2/account"), 401)
            assert len(await store.scan(ACCOUNT_SESSIONS)) == 1
            # the finder deletes a passkey of their own session's: it is the caller's own passkey case
            assert (await sign_in(finder, kept)).status_code == 200
            await add_passkey(finder, other := Passkey())
            r = await finder.delete(f"/fido2/credentials/{kept.id}")
            assert r.status_code == 200 and ACCOUNT_COOKIE not in finder.cookies
            assert_failed(await alice.get("/fido2/account"), 401)  # alice's session was opened by ``kept`` too
            assert await store.scan(ACCOUNT_SESSIONS) == []
            assert (await sign_in(alice, other)).status_code == 200
