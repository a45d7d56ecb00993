"""Accounts and sessions (the default mode of ``create_app``) through the ASGI app over HTTP: who may add a
credential to an account, what anonymous callers learn, account sessions, and the signed-in user's own
credentials. Each browser is its own httpx client (its own cookie jar) on one app and one store."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette

from aioctap import cbor
from aioctap.client import WebAuthnClient
from aioctap.server.app import ACCOUNT_SESSIONS, CREDENTIALS, USER_CREDENTIALS, USERS, create_app, fido2_routes
from aioctap.server.ceremony import Fido2Server
from aioctap.server.records import RelyingParty
from aioctap.server.responses import ACCOUNT_COOKIE
from aioctap.stores import MemoryStore, Store, open_store
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import websafe_encode

ORIGIN = "http://localhost:8000"
RP_ID_HASH = hashlib.sha256(b"localhost").digest()
BE, BS = 0x08, 0x10


class Passkey:
    """A discoverable credential held in the test: registrations and assertions with any flags."""

    def __init__(self, flags: int = 0x05) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.flags = flags
        self.counter = 0
        self.user_handle = ""
        nums = self.key.public_key().public_numbers()
        self.cose = cbor.dumps({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")})

    @property
    def id(self) -> str:
        return websafe_encode(self.credential_id)

    def _client_data(self, kind: str, options: dict[str, Any]) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": ORIGIN}).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        self.user_handle = options["user"]["id"]
        cid = self.credential_id
        auth_data = (
            RP_ID_HASH + bytes([self.flags | 0x40]) + struct.pack(">I", 0) + bytes(16)
            + struct.pack(">H", len(cid)) + cid + self.cose
        )  # fmt: skip
        att = cbor.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": self.id, "rawId": self.id, "type": "public-key", "fido2SessionId": options["fido2SessionId"],
                "response": {"clientDataJSON": websafe_encode(self._client_data("webauthn.create", options)),
                             "attestationObject": websafe_encode(att)}}  # fmt: skip

    def get(self, options: dict[str, Any], *, flags: int | None = None, **response: Any) -> dict[str, Any]:
        self.counter += 1
        client_data = self._client_data("webauthn.get", options)
        auth_data = RP_ID_HASH + bytes([self.flags if flags is None else flags]) + struct.pack(">I", self.counter)
        sig = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        answer = {"clientDataJSON": websafe_encode(client_data), "authenticatorData": websafe_encode(auth_data),
                  "signature": websafe_encode(sig), "userHandle": self.user_handle, **response}  # fmt: skip
        return {"id": self.id, "rawId": self.id, "type": "public-key", "fido2SessionId": options["fido2SessionId"],
                "response": answer}  # fmt: skip


class Env:
    def __init__(self, app: Any, store: Store) -> None:
        self.app = app
        self.store = store

    def browser(self, base_url: str = "http://localhost:8000") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=base_url)


@contextlib.asynccontextmanager
async def env(**options: Any) -> AsyncIterator[Env]:
    store = MemoryStore()
    yield Env(create_app(store, **{"origin": ORIGIN, "otp_routes": False, **options}), store)


async def register(http: httpx.AsyncClient, username: str, passkey: Passkey) -> httpx.Response:
    r = await http.post("/fido2/attestation/options", json={"username": username, "displayName": username})
    if r.status_code != 200:
        return r
    return await http.post("/fido2/attestation/result", json=passkey.create(r.json()))


async def sign_in(http: httpx.AsyncClient, passkey: Passkey, username: str = "", **response: Any) -> httpx.Response:
    r = await http.post("/fido2/assertion/options", json={"username": username})
    assert r.status_code == 200, r.text
    return await http.post("/fido2/assertion/result", json=passkey.get(r.json(), **response))


def assert_failed(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["status"] == "failed" and r.json()["errorMessage"]
    for word in words:
        assert word in r.json()["errorMessage"], r.text


async def test_anonymous_caller_cannot_add_a_credential_to_an_existing_account() -> None:
    """The issue's attack, with real authenticators: alice registers; an anonymous caller asks to register
    for "alice" and learns nothing, and cannot complete a registration for her."""
    async with (
        env() as e,
        e.browser() as alice_browser,
        e.browser() as attacker,
        open_virtual_device(authenticator=VirtualAuthenticator()) as alice_dev,
        open_virtual_device(authenticator=VirtualAuthenticator()) as attacker_dev,
    ):
        r = await alice_browser.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        options = r.json()
        assert options["authenticatorSelection"]["residentKey"] == "required" and options["excludeCredentials"] == []
        credential = await WebAuthnClient(alice_dev, ORIGIN).create(options)
        r = await alice_browser.post("/fido2/attestation/result", json=credential)
        assert r.status_code == 200 and r.json()["username"] == "alice", r.text
        user_handle = options["user"]["id"]

        r = await attacker.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert_failed(r, 403, "sign in")
        assert (
            user_handle not in r.text
            and credential["id"] not in r.text
            and set(r.json())
            == {
                "status",
                "errorMessage",
            }
        )
        # the same answer for a user name that is free, when new accounts are closed
        async with env(registration="closed") as closed, closed.browser() as anyone:
            r2 = await anyone.post("/fido2/attestation/options", json={"username": "zed", "displayName": "Z"})
        assert (r2.status_code, r2.json()) == (r.status_code, r.json())

        # the attacker's authenticator signs in as nobody
        r = await attacker.post("/fido2/assertion/options", json={"username": "alice"})
        assert r.json()["allowCredentials"] == []
        with pytest.raises(Exception):  # noqa: B017 - the authenticator has no credential for this RP
            await WebAuthnClient(attacker_dev, ORIGIN).get(r.json())
        assert len(await e.store.scan(CREDENTIALS)) == 1

        # alice signs in with her passkey (no user name typed: userHandle names her)
        r = await alice_browser.post("/fido2/assertion/options", json={})
        assertion = await WebAuthnClient(alice_dev, ORIGIN).get(r.json())
        r = await alice_browser.post("/fido2/assertion/result", json=assertion)
        assert r.status_code == 200 and r.json()["username"] == "alice", r.text


async def test_assertion_options_look_alike_for_known_and_unknown_user_names() -> None:
    async with env() as e, e.browser() as http:
        assert (await register(http, "alice", Passkey())).status_code == 200
        answers = []
        for username in ("alice", "nobody", ""):
            r = await http.post("/fido2/assertion/options", json={"username": username})
            assert r.status_code == 200, r.text
            body = r.json()
            for varying in ("challenge", "fido2SessionId"):
                assert len(body.pop(varying)) == 43
            answers.append(body)
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["allowCredentials"] == []


async def test_a_new_account_is_signed_in_and_adds_passkeys_with_its_session() -> None:
    async with env() as e, e.browser() as alice, e.browser() as other:
        first, second = Passkey(), Passkey()
        r = await register(alice, "alice", first)
        assert r.status_code == 200 and r.cookies.get(ACCOUNT_COOKIE), r.text
        account = (await alice.get("/fido2/account")).json()
        assert account["username"] == "alice" and [c["id"] for c in account["credentials"]] == [first.id]

        # signed in: the options carry alice's user handle and exclude her credential
        r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        options = r.json()
        assert options["user"]["id"] == first.user_handle
        assert [c["id"] for c in options["excludeCredentials"]] == [first.id]
        r = await alice.post("/fido2/attestation/result", json=second.create(options))
        assert r.status_code == 200, r.text
        listed = (await alice.get("/fido2/credentials")).json()["credentials"]
        assert sorted(c["id"] for c in listed) == sorted([first.id, second.id])
        assert len(await e.store.scan(USER_CREDENTIALS)) == 2 and len(await e.store.scan(USERS)) == 1

        # both passkeys sign in as alice, from another browser too
        assert (await sign_in(other, second)).json()["username"] == "alice"
        assert (await sign_in(other, first, "alice")).json()["username"] == "alice"


async def test_signing_out_between_options_and_result_writes_nothing() -> None:
    async with env() as e, e.browser() as alice:
        assert (await register(alice, "alice", Passkey())).status_code == 200
        r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert (await alice.post("/fido2/logout")).json()["status"] == "ok"
        r = await alice.post("/fido2/attestation/result", json=Passkey().create(r.json()))
        assert_failed(r, 403, "sign in")
        assert len(await e.store.scan(CREDENTIALS)) == 1


async def test_someone_elses_credentials_are_not_found() -> None:
    async with env() as e, e.browser() as alice, e.browser() as bob:
        alice_key, bob_key = Passkey(), Passkey()
        await register(alice, "alice", alice_key)
        await register(bob, "bob", bob_key)
        # bob signed in cannot register for alice, nor see, rename or delete her passkey
        r = await bob.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert_failed(r, 403)
        assert alice_key.id not in (await bob.get("/fido2/credentials")).text
        for r in (
            await bob.patch(f"/fido2/credentials/{alice_key.id}", json={"name": "mine"}),
            await bob.delete(f"/fido2/credentials/{alice_key.id}"),
            await bob.delete("/fido2/credentials/" + websafe_encode(os.urandom(16))),
            await bob.delete("/fido2/credentials/%00"),
        ):
            assert_failed(r, 404, "no such credential")
        record = await e.store.get(CREDENTIALS, alice_key.id)
        assert record is not None and json.loads(record.value)["name"] == ""


async def test_anonymous_callers_get_401_from_the_account_routes() -> None:
    async with env() as e, e.browser() as http:
        http.cookies.set(ACCOUNT_COOKIE, "not a token \x7f", domain="localhost", path="/fido2")
        for method, path in (("GET", "/fido2/account"), ("GET", "/fido2/credentials"),
                             ("PATCH", "/fido2/credentials/AAAA"), ("DELETE", "/fido2/credentials/AAAA")):  # fmt: skip
            r = await http.request(method, path, json={"name": "x"} if method == "PATCH" else None)
            assert_failed(r, 401, "not signed in")
        assert (await http.post("/fido2/logout")).status_code == 200  # no session: nothing to end


async def test_rename_and_delete_own_credentials() -> None:
    async with env() as e, e.browser() as alice:
        first, second = Passkey(), Passkey()
        await register(alice, "alice", first)
        assert_failed(await alice.delete(f"/fido2/credentials/{first.id}"), 409, "only passkey")
        r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        await alice.post("/fido2/attestation/result", json=second.create(r.json()))

        for bad in ({"name": "a\x00b"}, {"name": "x" * 65}, {"name": "\u0085"}, {"name": 3}, {}):
            assert_failed(await alice.patch(f"/fido2/credentials/{first.id}", json=bad), 400, "name")
        r = await alice.patch(f"/fido2/credentials/{first.id}", json={"name": "Phone \U0001f511"})
        assert r.status_code == 200, r.text
        names = {c["id"]: c["name"] for c in (await alice.get("/fido2/credentials")).json()["credentials"]}
        assert names == {first.id: "Phone \U0001f511", second.id: ""}

        # the session was opened by registering ``first``: deleting it ends the session (the cookie is cleared)
        r = await alice.delete(f"/fido2/credentials/{first.id}")
        assert r.status_code == 200 and ACCOUNT_COOKIE not in alice.cookies, r.text
        assert await e.store.get(CREDENTIALS, first.id) is None
        assert [k.split("/")[1] for k, _ in await e.store.scan(USER_CREDENTIALS)] == [second.id]
        assert_failed(await alice.get("/fido2/account"), 401)
        assert_failed(await sign_in(alice, first), 400, "unknown credential")
        assert (await sign_in(alice, second)).status_code == 200
        assert_failed(await alice.delete(f"/fido2/credentials/{second.id}"), 409, "only passkey")


async def test_deleting_a_passkey_ends_the_sessions_it_signed_in() -> None:
    """A lost passkey's finder signed in with it; its owner deletes it from another browser: the finder's session
    ends (at once, though its cookie still names it), the owner's, signed in with another passkey, does not."""
    async with env() as e, e.browser() as alice, e.browser() as finder, e.browser() as laptop:
        lost, kept = Passkey(), Passkey()
        await register(alice, "alice", kept)
        r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert (await alice.post("/fido2/attestation/result", json=lost.create(r.json()))).status_code == 200
        assert (await sign_in(finder, lost)).status_code == 200
        assert (await sign_in(laptop, lost)).status_code == 200
        assert (await finder.get("/fido2/account")).status_code == 200
        assert len(await e.store.scan(ACCOUNT_SESSIONS)) == 3

        r = await alice.delete(f"/fido2/credentials/{lost.id}")
        assert r.status_code == 200 and "set-cookie" not in r.headers, r.text  # alice's own session goes on
        for browser in (finder, laptop):
            assert ACCOUNT_COOKIE in browser.cookies
            assert_failed(await browser.get("/fido2/account"), 401, "not signed in")
            assert_failed(await browser.patch(f"/fido2/credentials/{kept.id}", json={"name": "x"}), 401)
        assert (await alice.get("/fido2/account")).json()["username"] == "alice"
        assert len(await e.store.scan(ACCOUNT_SESSIONS)) == 1  # the dead sessions' records were deleted

        # a passkey removed behind the app's back (by an operator, in the store) ends its sessions too
        other = Passkey()
        r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert (await alice.post("/fido2/attestation/result", json=other.create(r.json()))).status_code == 200
        assert (await sign_in(finder, other)).status_code == 200
        await e.store.delete(CREDENTIALS, other.id)
        assert_failed(await finder.get("/fido2/account"), 401)


async def test_a_session_record_of_an_older_version_and_a_corrupt_one() -> None:
    """A session stored before sessions named their passkey lives on; one whose passkey member is not a string is
    a stored record that is corrupt (500, nothing changed)."""
    async with env() as e, e.browser() as alice:
        await register(alice, "alice", Passkey())
        [(key, record)] = await e.store.scan(ACCOUNT_SESSIONS)
        doc = json.loads(record.value)
        assert isinstance(doc.pop("credential"), str) and isinstance(doc.pop("credential_key"), str)
        await e.store.put(ACCOUNT_SESSIONS, key, json.dumps(doc).encode())
        assert (await alice.get("/fido2/account")).json()["username"] == "alice"
        doc["credential"] = 7
        await e.store.put(ACCOUNT_SESSIONS, key, json.dumps(doc).encode())
        assert_failed(await alice.get("/fido2/account"), 500, "corrupt")
        stored = await e.store.get(ACCOUNT_SESSIONS, key)
        assert stored is not None and json.loads(stored.value)["credential"] == 7


async def test_credential_changes_from_another_origin_are_refused() -> None:
    async with env() as e, e.browser() as alice:
        key = Passkey()
        await register(alice, "alice", key)
        r = await alice.patch(f"/fido2/credentials/{key.id}", json={"name": "x"}, headers={"origin": "https://evil"})
        assert_failed(r, 403, "Origin")
        r = await alice.patch(f"/fido2/credentials/{key.id}", json={"name": "x"}, headers={"origin": ORIGIN})
        assert r.status_code == 200, r.text


EVIL = "https://evil.example"


async def test_a_cross_site_form_cannot_sign_a_browser_in_to_another_account() -> None:
    """Login CSRF: mallory signs sign-in options (or a new account's registration options) with her own passkey
    and has the victim's browser post the result from her site, as an auto-submitted <form enctype=text/plain>
    would (a top-level navigation, whose answer may set SameSite=Strict cookies). The victim's browser must not
    end up signed in to mallory's account: a result from another Origin is refused (403), and so is a body that
    is not declared JSON (415); nothing is written."""
    async with env() as e, e.browser() as mallory, e.browser() as victim:
        key = Passkey()
        assert (await register(mallory, "mallory", key)).status_code == 200
        form = {"content-type": "text/plain", "origin": EVIL}
        for headers, status, words in (
            (form, 403, "Origin"),
            ({"content-type": "application/json", "origin": EVIL}, 403, "Origin"),
            ({"content-type": "text/plain"}, 415, "application/json"),
            ({"content-type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ):
            for path in ("/fido2/assertion/result", "/fido2/attestation/result"):
                options = (await mallory.post("/fido2/assertion/options", json={})).json()
                r = await victim.post(path, content=json.dumps(key.get(options)), headers=headers)
                assert_failed(r, status, *words)
                assert ACCOUNT_COOKIE not in r.headers.get("set-cookie", "") and not victim.cookies
            # a new account's first registration signs in too
            r = await mallory.post("/fido2/attestation/options", json={"username": f"m{status}", "displayName": "m"})
            r = await victim.post("/fido2/attestation/result", content=json.dumps(Passkey().create(r.json())),
                                  headers=headers)  # fmt: skip
            assert_failed(r, status, *words)
            assert not victim.cookies and await e.store.get(USERS, f"m{status}") is None
        assert len(await e.store.scan(ACCOUNT_SESSIONS)) == 1  # mallory's own
        # the same requests from the RP's own page work (JSON, its Origin, or no Origin at all as non-browsers send)
        for headers in ({"content-type": "application/json", "origin": ORIGIN}, {"content-type": "application/json"},
                        {"content-type": "application/json; charset=utf-8", "origin": ORIGIN}):  # fmt: skip
            options = (await victim.post("/fido2/assertion/options", json={})).json()
            r = await victim.post("/fido2/assertion/result", content=json.dumps(key.get(options)), headers=headers)
            assert r.status_code == 200 and r.json()["username"] == "mallory", r.text


async def test_a_cross_site_form_cannot_sign_a_browser_out() -> None:
    """Logout CSRF: a cross-site form's answer could delete the account cookie; POST /fido2/logout from another
    Origin is refused and the session lives on."""
    async with env() as e, e.browser() as alice:
        await register(alice, "alice", Passkey())
        r = await alice.post("/fido2/logout", headers={"origin": EVIL, "content-type": "text/plain"})
        assert_failed(r, 403, "Origin")
        assert ACCOUNT_COOKIE not in r.headers.get("set-cookie", "")
        assert (await alice.get("/fido2/account")).status_code == 200
        assert (await alice.post("/fido2/logout", headers={"origin": ORIGIN})).status_code == 200
        assert_failed(await alice.get("/fido2/account"), 401)


async def test_session_cookie_and_a_new_session_at_every_sign_in() -> None:
    async with env() as e, e.browser() as alice:
        key = Passkey()
        r = await register(alice, "alice", key)
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/fido2" in cookie
        assert "secure" not in cookie.replace("samesite", "")
        first = r.cookies[ACCOUNT_COOKIE]
        # the store keeps a hash of the token, never the token
        stored = await e.store.scan(ACCOUNT_SESSIONS)
        assert len(stored) == 1 and first not in stored[0][0] and first.encode() not in stored[0][1].value

        r = await sign_in(alice, key)
        second = r.cookies[ACCOUNT_COOKIE]
        assert second != first and len(await e.store.scan(ACCOUNT_SESSIONS)) == 1  # the old one ended
        async with e.browser() as thief:
            thief.cookies.set(ACCOUNT_COOKIE, first, domain="localhost", path="/fido2")
            assert_failed(await thief.get("/fido2/account"), 401)
        assert (await alice.get("/fido2/account")).status_code == 200

        r = await alice.post("/fido2/logout")
        assert r.status_code == 200 and ACCOUNT_COOKIE in r.headers["set-cookie"]
        assert await e.store.scan(ACCOUNT_SESSIONS) == []
        async with e.browser() as replay:
            replay.cookies.set(ACCOUNT_COOKIE, second, domain="localhost", path="/fido2")
            assert_failed(await replay.get("/fido2/account"), 401)

    async with env(origin="https://localhost") as e2, e2.browser("https://localhost") as https:
        r = await https.post("/fido2/attestation/options", json={"username": "u", "displayName": "u"})
        assert "; secure" in r.headers["set-cookie"].lower()


async def test_cookies_are_secure_when_the_origin_is_https_behind_a_plain_http_proxy() -> None:
    """A TLS proxy that forwards plain http without X-Forwarded-Proto: the app sees http, the browser an https
    origin. A cookie without Secure would be sent in clear to http://example.com (a link a network attacker
    plants), so with https origins only, every cookie is Secure whatever scheme the app sees."""
    async with env(rp_id="example.com", origin="https://example.com") as e, e.browser("http://example.com") as http:
        r = await http.post("/fido2/attestation/options", json={"username": "u", "displayName": "u"})
        assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower(), r.headers
        r = await http.post("/fido2/logout")
        assert "; secure" in r.headers["set-cookie"].lower(), r.headers
    # an Android app's origin beside the https one (a native app has no cookies) and an upper-case scheme: Secure
    android = "android:apk-key-hash:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    async with (
        env(rp_id="example.com", origin=["HTTPS://example.com", android]) as e,
        e.browser("http://example.com") as http,
    ):
        r = await http.post("/fido2/assertion/options", json={})
        assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower(), r.headers
    # an http origin (localhost) keeps cookies without Secure, which a browser would not send over http
    async with env() as e, e.browser() as http:
        r = await http.post("/fido2/attestation/options", json={"username": "u", "displayName": "u"})
        assert "secure" not in r.headers["set-cookie"].lower().replace("samesite", "")


async def test_fido2_routes_in_another_app_set_secure_cookies_for_https_origins() -> None:
    """The same rule for the public ``fido2_routes`` put in an app of one's own (no ``app.state.relying_party``):
    the options' session cookie, a sign-in's account cookie and the sign-out's deletion are all Secure when
    every origin is https, whatever scheme the app sees behind its proxy."""
    store = MemoryStore()
    rp = RelyingParty(store, Fido2Server("example.com", "https://example.com"))
    app = Starlette(routes=fido2_routes(rp))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as http:
        r = await http.post("/fido2/attestation/options", json={"username": "u", "displayName": "u"})
        assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower(), r.headers
        r = await http.post("/fido2/assertion/options", json={})
        assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower(), r.headers
        r = await http.post("/fido2/logout")
        assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower(), r.headers
    # an http origin keeps them without Secure there too
    app = Starlette(routes=fido2_routes(RelyingParty(store, Fido2Server("localhost", ORIGIN))))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        r = await http.post("/fido2/assertion/options", json={})
        assert "secure" not in r.headers["set-cookie"].lower().replace("samesite", "")


async def test_idle_and_absolute_session_lifetimes() -> None:
    async with env(session_idle=1.5, session_lifetime=60) as e, e.browser() as alice:
        await register(alice, "alice", Passkey())
        assert (await alice.get("/fido2/account")).status_code == 200
        await anyio.sleep(2.0)
        assert_failed(await alice.get("/fido2/account"), 401)
    async with env() as e, e.browser() as alice:
        r = await register(alice, "alice", Passkey())
        token = r.cookies[ACCOUNT_COOKIE]
        rp: RelyingParty = e.app.state.relying_party
        now = time.time()
        assert await rp.session(token, now=now + 600) is not None  # used within the idle time: renewed
        assert await rp.session(token, now=now + 1200) is not None
        assert await rp.session(token, now=now + 12 * 3600 + 1) is None  # past the absolute lifetime
        assert await rp.session(token, now=now + 1200 + 1801) is None  # idle too long
    with pytest.raises(ValueError, match="session_idle"):
        create_app(MemoryStore(), session_idle=100, session_lifetime=10)


async def test_a_passkey_sign_in_needs_the_owners_user_handle() -> None:
    async with env() as e, e.browser() as http:
        alice, bob = Passkey(), Passkey()
        await register(http, "alice", alice)
        await register(http, "bob", bob)
        assert_failed(await sign_in(http, alice, userHandle=None), 400, "UserHandleError", "required")
        assert_failed(await sign_in(http, alice, userHandle=""), 400, "UserHandleError")
        assert_failed(await sign_in(http, alice, userHandle=bob.user_handle), 400, "UserHandleError")
        # a user name typed before a passkey sign-in must be the passkey's owner's
        assert_failed(await sign_in(http, alice, "bob"), 400, "not registered for that user name")
        assert (await sign_in(http, alice, "alice")).status_code == 200


@pytest.mark.parametrize(
    ("changed", "accepted"),
    [(lambda f: f | BS, True), (lambda f: f & ~BS, True), (lambda f: f & ~(BE | BS), False)],
)
async def test_backup_flags_at_sign_in(changed: Callable[[int], int], accepted: bool) -> None:
    """WebAuthn L3 §7.2: BE never changes after registration (refused); a change of BS is recorded."""
    async with env() as e, e.browser() as http:
        key = Passkey(flags=0x05 | BE)
        await register(http, "alice", key)
        r = await sign_in(http, key, flags=changed(key.flags))
        record = await e.store.get(CREDENTIALS, key.id)
        assert record is not None
        doc = json.loads(record.value)
        if not accepted:
            assert_failed(r, 400, "BackupFlagsError")
            assert doc["sign_count"] == 0 and doc["backup_eligible"] is True
            return
        assert r.status_code == 200, r.text
        new_bs = bool(changed(key.flags) & BS)
        assert doc["backup_state"] is new_bs and ("backup_state_changed" in doc) is new_bs


async def test_conformance_mode_keeps_the_conformance_tools_behaviour() -> None:
    """Anyone registers for any user name, and options list the user's credentials."""
    async with env(conformance=True) as e, e.browser() as alice, e.browser() as anyone:
        first = Passkey()
        await register(alice, "alice", first)
        r = await anyone.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert r.status_code == 200 and [c["id"] for c in r.json()["excludeCredentials"]] == [first.id]
        r = await anyone.post("/fido2/assertion/options", json={"username": "alice"})
        assert [c["id"] for c in r.json()["allowCredentials"]] == [first.id]
        assert_failed(await anyone.post("/fido2/assertion/options", json={"username": "nobody"}), 400, "not exist")


async def orphans(store: Store) -> list[str]:
    """Records that break the registration invariant: every credential has its index entry and its user,
    every index entry its credential, every user at least one credential."""
    users = {k: json.loads(r.value) for k, r in await store.scan(USERS)}
    creds = {k: json.loads(r.value) for k, r in await store.scan(CREDENTIALS)}
    index = {k for k, _ in await store.scan(USER_CREDENTIALS)}
    problems = []
    for cid, doc in creds.items():
        if f"{doc['user_handle']}/{cid}" not in index:
            problems.append(f"credential {cid} without its index entry")
        user = users.get(doc["username"])
        if user is None or user["id"] != doc["user_handle"]:
            problems.append(f"credential {cid} without its user")
    problems += [f"index entry {key} without its credential" for key in index if key.split("/", 1)[1] not in creds]
    handles = {doc["user_handle"] for doc in creds.values()}
    problems += [f"user {name} without a credential" for name, user in users.items() if user["id"] not in handles]
    return problems


async def test_accounts_on_every_store(store_url: str) -> None:
    """The account flow on memory, SQLite, Redis and PostgreSQL: registrations and deletions are single
    atomic writes, sessions expire and rotate, nothing is left inconsistent."""
    async with open_store(store_url) as store:
        app = create_app(store, origin=ORIGIN, otp_routes=False, session_idle=2.0, session_lifetime=60)
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as alice,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as bob,
        ):
            keys = [Passkey() for _ in range(3)]
            assert (await register(alice, "alice", keys[0])).status_code == 200
            assert (await register(bob, "bob", Passkey())).status_code == 200
            assert_failed(await register(bob, "alice", Passkey()), 403)
            for key in keys[1:]:
                r = await alice.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
                assert (await alice.post("/fido2/attestation/result", json=key.create(r.json()))).status_code == 200
            assert (await alice.patch(f"/fido2/credentials/{keys[1].id}", json={"name": "laptop"})).status_code == 200
            assert_failed(await bob.delete(f"/fido2/credentials/{keys[1].id}"), 404)
            assert (await alice.delete(f"/fido2/credentials/{keys[2].id}")).status_code == 200
            listed = (await alice.get("/fido2/credentials")).json()["credentials"]
            assert {c["id"]: c["name"] for c in listed} == {keys[0].id: "", keys[1].id: "laptop"}
            assert len(await store.scan(CREDENTIALS)) == 3 and await orphans(store) == []

            r = await sign_in(alice, keys[1], "alice")
            sessions = [json.loads(record.value)["username"] for _, record in await store.scan(ACCOUNT_SESSIONS)]
            assert r.status_code == 200 and sessions.count("alice") == 1  # a new session, the old one ended
            assert (await alice.post("/fido2/logout")).status_code == 200
            assert_failed(await alice.get("/fido2/account"), 401)
            await anyio.sleep(2.5)  # bob's session: idle past its two seconds
            assert_failed(await bob.get("/fido2/account"), 401)
            assert await store.scan(ACCOUNT_SESSIONS) == []


async def test_kill_9_during_registrations_leaves_no_orphan(store_url: str) -> None:
    """``aioctap server`` killed with SIGKILL while registrations are in flight, five times over: every
    registration is in the store whole or not at all."""
    if store_url == "memory://":
        pytest.skip("a memory store does not outlive its process")
    completed = 0
    for round_ in range(5):
        completed += await _register_until_killed(store_url, f"r{round_}", 20 + 10 * round_)
    async with open_store(store_url) as store:
        assert await orphans(store) == []
        assert len(await store.scan(CREDENTIALS)) >= completed >= 200


async def _register_until_killed(store_url: str, prefix: str, kill_after: int) -> int:
    """Start ``aioctap server`` on ``store_url``, run 16 concurrent registrations until ``kill_after`` of
    them completed, SIGKILL the server; the number of completed registrations."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    origin = f"http://localhost:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioctap", "server", "--port", str(port), "--db", store_url, "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    completed = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            with anyio.fail_after(30):
                while True:
                    assert proc.poll() is None, "aioctap server exited"
                    try:
                        await http.get("/openapi.json")
                        break
                    except httpx.TransportError:
                        await anyio.sleep(0.1)

            async def worker(n: int) -> None:
                nonlocal completed
                for i in range(10_000):
                    key = Passkey()
                    try:
                        body = {"username": f"{prefix}-{n}-{i}", "displayName": "U"}
                        options = (await http.post("/fido2/attestation/options", json=body)).json()
                        answer = key.create(options)
                        answer["response"]["clientDataJSON"] = websafe_encode(
                            json.dumps({"type": "webauthn.create", "challenge": options["challenge"],
                                        "origin": origin}).encode()
                        )  # fmt: skip
                        r = await http.post("/fido2/attestation/result", json=answer)
                        assert r.status_code == 200, r.text
                        completed += 1
                    except httpx.TransportError:
                        return

            async with anyio.create_task_group() as tg:
                for n in range(16):
                    tg.start_soon(worker, n)
                with anyio.fail_after(60):
                    while completed < kill_after:
                        await anyio.sleep(0.005)
                proc.kill()  # SIGKILL, with requests in flight
    finally:
        proc.kill()
        proc.wait(10)
    return completed
