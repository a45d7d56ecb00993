"""The conformance API on every store (memory, SQLite, Redis, PostgreSQL): concurrent completions of one
ceremony give one success, the signature counter is a compare-and-set, ceremony state is consumed once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from aioctap import cbor
from aioctap.client import WebAuthnClient
from aioctap.cose import ES256
from aioctap.server.app import CREDENTIALS, SESSIONS, USER_CREDENTIALS, create_app
from aioctap.stores import Store, open_store
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "http://localhost:8000"


@contextlib.asynccontextmanager
async def rp_on(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, WebAuthnClient, Store]]:
    async with (
        open_store(url) as store,
        open_virtual_device(authenticator=VirtualAuthenticator()) as dev,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(store, origin=ORIGIN, otp_routes=False)),
            base_url="http://localhost:8000",
        ) as http,
    ):
        yield http, WebAuthnClient(dev, ORIGIN), store


async def _registration(http: httpx.AsyncClient, client: WebAuthnClient, username: str) -> dict[str, Any]:
    r = await http.post("/fido2/attestation/options", json={"username": username, "displayName": username})
    assert r.status_code == 200, r.text
    options = r.json()
    return {**await client.create(options), "fido2SessionId": options["fido2SessionId"]}


async def _assertion(http: httpx.AsyncClient, client: WebAuthnClient, username: str) -> dict[str, Any]:
    r = await http.post("/fido2/assertion/options", json={"username": username})
    assert r.status_code == 200, r.text
    options = r.json()
    return {**await client.get(options), "fido2SessionId": options["fido2SessionId"]}


async def test_concurrent_completions_of_one_ceremony_give_one_success(store_url: str) -> None:
    async with rp_on(store_url) as (http, client, store):
        registration = await _registration(http, client, "alice")
        answers = await asyncio.gather(*(http.post("/fido2/attestation/result", json=registration) for _ in range(4)))
        assert sorted(r.status_code for r in answers) == [200, 400, 400, 400], [r.text for r in answers]
        assert len(await store.scan(CREDENTIALS)) == 1 and len(await store.scan(USER_CREDENTIALS)) == 1

        assertion = await _assertion(http, client, "alice")
        answers = await asyncio.gather(*(http.post("/fido2/assertion/result", json=assertion) for _ in range(4)))
        assert sorted(r.status_code for r in answers) == [200, 400, 400, 400], [r.text for r in answers]
        assert all("already used" in r.json()["errorMessage"] for r in answers if r.status_code == 400)
        assert await store.scan(SESSIONS) == []


async def test_sign_count_is_a_compare_and_set(store_url: str) -> None:
    async with rp_on(store_url) as (http, client, store):
        registration = await _registration(http, client, "bob")
        assert (await http.post("/fido2/attestation/result", json=registration)).status_code == 200
        # several ceremonies of one credential completed at once: the stored counter ends at the
        # highest counter that was accepted, and never goes backwards
        assertions = [await _assertion(http, client, "bob") for _ in range(4)]
        answers = await asyncio.gather(*(http.post("/fido2/assertion/result", json=a) for a in assertions))
        assert any(r.status_code == 200 for r in answers)
        record = await store.get(CREDENTIALS, registration["id"])
        assert record is not None
        stored = json.loads(record.value)["sign_count"]
        counters = [_counter(a) for a, r in zip(assertions, answers, strict=True) if r.status_code == 200]
        assert stored == max(counters) == max(_counter(a) for a in assertions)
        for r in answers:  # refused only as a non-increasing counter
            assert r.status_code == 200 or "SignCountError" in r.json()["errorMessage"], r.text


def _counter(assertion: dict[str, Any]) -> int:
    from aioctap.webauthn import AuthenticatorData, websafe_decode

    return AuthenticatorData(websafe_decode(assertion["response"]["authenticatorData"])).counter


async def test_app_opens_the_store_from_a_url_in_its_lifespan(store_url: str) -> None:
    app = create_app(store_url, origin=ORIGIN, otp_routes=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http,
    ):
        r = await http.post("/fido2/attestation/options", json={"username": "carol", "displayName": "Carol"})
        assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    # closed after the lifespan
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
        r2 = await http.post("/fido2/attestation/options", json={"username": "carol", "displayName": "Carol"})
    assert r2.status_code == 503 and r2.json()["errorMessage"]


def _long_id_passkey(options: dict[str, Any], credential_id: bytes, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """A ``none``-attestation registration response, built by hand, for a credential ID of any length."""
    from aioctap.webauthn import AttestedCredentialData, AuthenticatorData, CollectedClientData

    public = ES256.from_cryptography_key(key.public_key())
    client_data = CollectedClientData.create("webauthn.create", websafe_decode(options["challenge"]), ORIGIN)
    acd = AttestedCredentialData.create(bytes(16), credential_id, public)
    auth_data = AuthenticatorData.create(hashlib.sha256(b"localhost").digest(), 0x45, 0, acd)
    attestation_object = cbor.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
    cid = websafe_encode(credential_id)
    return {"id": cid, "rawId": cid, "type": "public-key", "fido2SessionId": options["fido2SessionId"],
            "response": {"clientDataJSON": websafe_encode(client_data),
                         "attestationObject": websafe_encode(attestation_object)}}  # fmt: skip


def _long_id_assertion(
    options: dict[str, Any], credential_id: bytes, key: ec.EllipticCurvePrivateKey, user_handle: str
) -> dict[str, Any]:
    from aioctap.webauthn import AuthenticatorData, CollectedClientData

    client_data = CollectedClientData.create("webauthn.get", websafe_decode(options["challenge"]), ORIGIN)
    auth_data = AuthenticatorData.create(hashlib.sha256(b"localhost").digest(), 0x05, 1)
    signature = key.sign(auth_data + client_data.hash, ec.ECDSA(hashes.SHA256()))
    cid = websafe_encode(credential_id)
    return {"id": cid, "rawId": cid, "type": "public-key", "fido2SessionId": options["fido2SessionId"],
            "response": {"clientDataJSON": websafe_encode(client_data), "authenticatorData": websafe_encode(auth_data),
                         "signature": websafe_encode(signature), "userHandle": user_handle}}  # fmt: skip


async def test_longest_credential_id_registers_and_authenticates(store_url: str) -> None:
    """WebAuthn allows credential IDs of up to 1023 bytes (1364 base64url characters): every store keeps
    one under its ID and the user's index; an assertion naming a longer ID gets a 400, not a store error."""
    async with rp_on(store_url) as (http, _, store):
        key = ec.generate_private_key(ec.SECP256R1())
        credential_id = bytes(range(256)) * 3 + os.urandom(1023 - 768)
        r = await http.post("/fido2/attestation/options", json={"username": "long", "displayName": "Long"})
        user_handle = r.json()["user"]["id"]
        answer = await http.post("/fido2/attestation/result", json=_long_id_passkey(r.json(), credential_id, key))
        assert answer.status_code == 200, answer.text
        assert await store.get(CREDENTIALS, websafe_encode(credential_id)) is not None
        r = await http.post("/fido2/assertion/options", json={"username": "long"})
        assert r.json()["allowCredentials"] == []  # the account mode lists no credential (WebAuthn L3 §14.6.2)
        assertion = _long_id_assertion(r.json(), credential_id, key, user_handle)
        answer = await http.post("/fido2/assertion/result", json=assertion)
        assert answer.status_code == 200, answer.text

        for too_long in (credential_id + b"x", credential_id * 2):
            r = await http.post("/fido2/assertion/options", json={})
            assertion = _long_id_assertion(r.json(), too_long, key, user_handle)
            answer = await http.post("/fido2/assertion/result", json=assertion)
            assert answer.status_code == 400 and "1-1023 bytes" in answer.json()["errorMessage"], answer.text
        assert len(await store.scan(CREDENTIALS)) == 1


async def test_malformed_session_ids_are_refused(store_url: str) -> None:
    async with rp_on(store_url) as (http, _, _store):
        for session in ("a\x00b", "x" * 129, "a/b", "\u00e9t\u00e9", " "):
            for route in ("/fido2/attestation/result", "/fido2/assertion/result"):
                response = {"clientDataJSON": "AA", "authenticatorData": "AA", "signature": "AA"}  # well formed
                answer = await http.post(route, json={"fido2SessionId": session, "id": "AA", "rawId": "AA",
                                                      "type": "public-key", "response": response})  # fmt: skip
                assert answer.status_code == 400 and "session" in answer.json()["errorMessage"], answer.text
