"""The conformance API (/fido2) through the ASGI app, with aioctap's client and software authenticator."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.client import WebAuthnClient
from aioctap.server import AttestationType, RegistrationResult
from aioctap.server.app import (
    CREDENTIALS,
    SESSIONS,
    USER_CREDENTIALS,
    USERS,
    ApiError,
    RelyingParty,
    create_app,
    is_authentication_request,
)
from aioctap.server.ceremony import Fido2Server
from aioctap.stores import MemoryStore, StoreError
from aioctap.stores.base import Write
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import Aaguid, websafe_decode, websafe_encode

ORIGIN = "http://localhost:8000"


class Rp:
    """An HTTP client of the app plus a WebAuthn client with a software authenticator."""

    def __init__(self, http: httpx.AsyncClient, client: WebAuthnClient, store: MemoryStore) -> None:
        self.http = http
        self.client = client
        self.store = store

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(path, json=body)

    async def register(self, username: str = "alice", **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        r = await self.post("/fido2/attestation/options", {"username": username, "displayName": username, **request})
        assert r.status_code == 200, r.text
        options = r.json()
        return options, await self.client.create(options)

    async def sign_in_options(self, username: str = "alice", path: str = "/fido2/assertion/options") -> dict[str, Any]:
        r = await self.post(path, {"username": username, "userVerification": "preferred"})
        assert r.status_code == 200, r.text
        return dict(r.json())


@contextlib.asynccontextmanager
async def rp_env(*, conformance: bool = True) -> AsyncIterator[Rp]:
    """The app on a memory store with a client; a context manager (the device's task group must stay in one task).

    The tests of this module check the FIDO conformance-server shape: the conformance mode by default (the
    account mode is tested in test_accounts.py).
    """
    store = MemoryStore()
    app = create_app(store, origin=ORIGIN, otp_routes=False, conformance=conformance)
    async with (
        open_virtual_device(authenticator=VirtualAuthenticator()) as dev,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http,
    ):
        yield Rp(http, WebAuthnClient(dev, ORIGIN), store)


def assert_failed(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "failed" and body["errorMessage"]
    for word in words:
        assert word in body["errorMessage"], body["errorMessage"]


async def test_register_and_sign_in() -> None:
    async with rp_env() as rp:
        options, credential = await rp.register("alice")
        assert options["status"] == "ok" and options["errorMessage"] == ""
        assert options["rp"]["id"] == "localhost" and options["user"]["name"] == "alice"
        assert len(websafe_decode(options["challenge"])) == 32 and options["fido2SessionId"]
        r = await rp.post("/fido2/attestation/result", credential)  # session from the cookie
        assert r.json() == {"status": "ok", "errorMessage": "", "username": "alice", "credentialId": credential["id"]}
        stored = await rp.store.get(CREDENTIALS, credential["id"])
        assert stored is not None and json.loads(stored.value)["username"] == "alice"

        options = await rp.sign_in_options("alice")
        assert [c["id"] for c in options["allowCredentials"]] == [credential["id"]]
        assertion = await rp.client.get(options)
        r = await rp.post("/fido2/assertion/result", {**assertion, "fido2SessionId": options["fido2SessionId"]})
        assert r.status_code == 200 and r.json()["username"] == "alice", r.text
        stored = await rp.store.get(CREDENTIALS, credential["id"])
        assert stored is not None and json.loads(stored.value)["sign_count"] > 0

        # the registration options now exclude the registered credential
        r = await rp.post("/fido2/attestation/options", {"username": "alice", "displayName": "alice"})
        options = r.json()
        assert [c["id"] for c in options["excludeCredentials"]] == [credential["id"]]


async def test_discoverable_sign_in_without_username() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("bob", authenticatorSelection={"residentKey": "required"})
        assert (await rp.post("/fido2/attestation/result", credential)).status_code == 200
        options = await rp.sign_in_options("")
        assert options["allowCredentials"] == []
        assertion = await rp.client.get(options)
        assert assertion["response"]["userHandle"]
        r = await rp.post("/fido2/assertion/result", assertion)
        assert r.status_code == 200 and r.json()["username"] == "bob", r.text


async def test_attestation_options_starts_an_authentication_as_in_nevisfido() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("carol")
        assert (await rp.post("/fido2/attestation/result", credential)).status_code == 200
        options = await rp.sign_in_options("carol", path="/fido2/attestation/options")
        assert "rpId" in options and "allowCredentials" in options and "user" not in options
        assertion = await rp.client.get(options)
        r = await rp.post("/fido2/attestation/result", assertion)  # completes the ceremony it started
        assert r.status_code == 200 and r.json()["username"] == "carol", r.text


def test_which_members_decide_the_ceremony() -> None:
    assert is_authentication_request({"username": "a", "userVerification": "required"})
    assert is_authentication_request({"username": "a"})
    assert is_authentication_request({"username": "a", "extensions": {"appid": "https://x"}})
    assert not is_authentication_request({"username": "a", "displayName": "A"})
    assert not is_authentication_request({"username": "a", "attestation": "none"})
    assert not is_authentication_request({"username": "a", "authenticatorSelection": {}})


async def test_options_echo_conformance_members() -> None:
    async with rp_env() as rp:
        extensions = {
            "appidExclude": "https://localhost/app",
            "uvm": True,
            "credProps": True,
            "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
            "enforceCredentialProtectionPolicy": False,
            "hmacCreateSecret": True,
            "example.extension": {"any": "thing"},
        }
        r = await rp.post(
            "/fido2/attestation/options",
            {
                "username": "dave",
                "displayName": "Dave D.",
                "authenticatorSelection": {
                    "authenticatorAttachment": "cross-platform",
                    "requireResidentKey": True,
                    "userVerification": "required",
                },
                "attestation": "direct",
                "extensions": extensions,
            },
        )
        body = r.json()
        assert r.status_code == 200 and body["status"] == "ok", r.text
        assert body["user"]["displayName"] == "Dave D." and body["attestation"] == "direct"
        assert body["authenticatorSelection"] == {
            "userVerification": "required",
            "residentKey": "required",
            "requireResidentKey": True,
            "authenticatorAttachment": "cross-platform",
        }
        assert body["extensions"] == extensions
        assert {p["alg"] for p in body["pubKeyCredParams"]} >= {-7, -8, -257}
        r = await rp.post(
            "/fido2/assertion/options",
            {
                "username": "",
                "extensions": {"appid": "https://localhost/app", "hmacGetSecret": {"salt1": websafe_encode(bytes(32))}},
            },
        )
        assert r.status_code == 200 and r.json()["extensions"]["appid"] == "https://localhost/app", r.text


async def test_unknown_user_names_are_400_in_conformance_mode() -> None:
    """The conformance tool's behaviour (see test_accounts), declared as a 400 of the options operations."""
    async with rp_env() as rp:
        for path in ("/fido2/attestation/options", "/fido2/assertion/options"):
            assert_failed(await rp.post(path, {"username": "nobody"}), 400, "nobody", "does not exist")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"displayName": "x"}, ["username", "required"]),
        ({"username": 5, "displayName": "x"}, ["username", "string"]),
        ({"username": "x" * 300, "displayName": "x"}, ["username", "256"]),
        ({"username": "a", "attestation": "full"}, ["attestation", "direct"]),
        ({"username": "a", "authenticatorSelection": []}, ["authenticatorSelection", "object"]),
        ({"username": "a", "authenticatorSelection": {"residentKey": "always"}}, ["residentKey"]),
        ({"username": "a", "authenticatorSelection": {"userVerification": "yes"}}, ["userVerification"]),
        ({"username": "a", "authenticatorSelection": {"authenticatorAttachment": "usb"}}, ["authenticatorAttachment"]),
        ({"username": "a", "authenticatorSelection": {"requireResidentKey": "yes"}}, ["requireResidentKey"]),
        ({"username": "a", "displayName": "a", "extensions": []}, ["extensions", "object"]),
        ({"username": "a", "displayName": "a", "extensions": {"uvm": "yes"}}, ["extensions.uvm", "boolean"]),
        (
            {"username": "a", "displayName": "a", "extensions": {"credentialProtectionPolicy": "x"}},
            ["credentialProtection"],
        ),
        ({"username": "a", "displayName": "a", "extensions": {"hmacGetSecret": {}}}, ["salt1", "required"]),
        (
            {"username": "a", "displayName": "a", "extensions": {"hmacGetSecret": {"salt1": "!!"}}},
            ["salt1", "base64url"],
        ),
        (
            {"username": "a", "displayName": "a", "extensions": {"hmacGetSecret": {"salt1": "AAAA"}}},
            ["salt1", "32 bytes"],
        ),
        ({"username": "a", "userVerification": "always"}, ["userVerification"]),
    ],
)
async def test_bad_options_requests_say_what_is_wrong(body: dict[str, Any], words: list[str]) -> None:
    async with rp_env() as rp:
        assert_failed(await rp.post("/fido2/attestation/options", body), 400, *words)


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 200),  # no Content-Type: read as JSON (an HTML form always sends one)
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("Application/JSON;charset=UTF-8", 200),
        ("application/vnd.example+json", 200),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("text/json", 415),
    ],
)
@pytest.mark.parametrize("conformance", [True, False])
async def test_the_content_types_the_readme_names(content_type: str | None, status: int, conformance: bool) -> None:
    """README ("Relying party"): a body sent with a Content-Type other than JSON is a 415 (application/json or
    application/*+json, any parameters, any case); a request without a Content-Type is read as JSON. In both modes."""
    async with rp_env(conformance=conformance) as rp:
        headers = {} if content_type is None else {"content-type": content_type}
        r = await rp.http.post("/fido2/assertion/options", content=b"{}", headers=headers)
        assert r.status_code == status, r.text
        if status == 415:
            assert_failed(r, 415, "application/json")


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000, b"{" + b" " * 70_000 + b"}"],
)
async def test_malformed_json_is_400(raw: bytes) -> None:
    async with rp_env() as rp:
        for path in (
            "/fido2/attestation/options",
            "/fido2/attestation/result",
            "/fido2/assertion/options",
            "/fido2/assertion/result",
        ):
            r = await rp.http.post(path, content=raw, headers={"content-type": "application/json"})
            assert_failed(r, 413 if len(raw) > 64 * 1024 else 400)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"username": "a\\u0000b", "displayName": "A"}', ["control characters"]),
        (b'{"username": "a\\u0000b"}', ["control characters"]),
        (b'{"username": "alice", "displayName": "\\ud800"}', ["surrogate"]),
        (b'{"username": "alice", "displayName": "A", "extensions": {"x": 1e400}}', ["out of range"]),
        (b'{"username": "alice", "displayName": "A", "extensions": {"x": NaN}}', ["NaN"]),
        # an integer of more than 4300 digits: Python's int() refuses it with a plain ValueError (a 500 before)
        pytest.param(
            b'{"username": "a", "displayName": "A", "extensions": {"x": 1' + b"0" * 5000 + b"}}",
            ["digits"],
            id="int-5001-digits",
        ),
        pytest.param(b'{"username": "a", "x": -' + b"9" * 4301 + b"}", ["digits"], id="int-4301-digits"),
    ],
)
async def test_bodies_the_store_or_json_cannot_hold_are_400(raw: bytes, words: list[str]) -> None:
    """Found by the fido2_api fuzz target: these used to answer 500."""
    async with rp_env() as rp:
        for path in ("/fido2/attestation/options", "/fido2/assertion/options"):
            r = await rp.http.post(path, content=raw, headers={"content-type": "application/json"})
            assert_failed(r, 400, *words)


async def test_streamed_body_is_cut_at_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "'
        for _ in range(100):
            yield b"x" * 1024

    async with rp_env() as rp:
        r = await rp.http.post("/fido2/attestation/options", content=chunks())
        assert "content-length" not in r.request.headers
        assert_failed(r, 413, "larger than")


async def test_malformed_base64url_is_400_and_does_not_consume_the_session() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("erin")
        for member in ("clientDataJSON", "attestationObject"):
            bad = copy.deepcopy(credential)
            bad["response"][member] = "not base64url!"
            assert_failed(await rp.post("/fido2/attestation/result", bad), 400, member, "base64url")
        bad = {**credential, "rawId": "###"}
        assert_failed(await rp.post("/fido2/attestation/result", bad), 400, "rawId", "base64url")
        assert_failed(await rp.post("/fido2/attestation/result", {**credential, "type": "password"}), 400, "type")
        assert_failed(await rp.post("/fido2/attestation/result", {**credential, "response": 3}), 400, "response")
        assert_failed(await rp.post("/fido2/attestation/result", {"type": "public-key"}), 400, "id")
        # the session survived the malformed attempts; the real response completes it
        assert (await rp.post("/fido2/attestation/result", credential)).status_code == 200


async def test_raw_id_defaults_to_id() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("fay")
        del credential["rawId"]
        assert (await rp.post("/fido2/attestation/result", credential)).status_code == 200


async def test_replayed_registration_fails_and_leaves_one_record() -> None:
    async with rp_env() as rp:
        options, credential = await rp.register("gus")
        session = {"fido2SessionId": options["fido2SessionId"]}
        assert (await rp.post("/fido2/attestation/result", {**credential, **session})).status_code == 200
        assert_failed(await rp.post("/fido2/attestation/result", {**credential, **session}), 400, "already used")
        assert len(await rp.store.scan(CREDENTIALS)) == 1 and len(await rp.store.scan(USER_CREDENTIALS)) == 1


async def test_failed_verification_consumes_the_challenge_and_writes_nothing() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("hal")
        bad = copy.deepcopy(credential)
        client_data = json.loads(websafe_decode(bad["response"]["clientDataJSON"]))
        client_data["origin"] = "http://evil.example"
        bad["response"]["clientDataJSON"] = websafe_encode(json.dumps(client_data).encode())
        assert_failed(await rp.post("/fido2/attestation/result", bad), 400, "OriginMismatchError")
        assert await rp.store.scan(CREDENTIALS) == [] and await rp.store.scan(USER_CREDENTIALS) == []
        # single use: the genuine response now fails too
        assert_failed(await rp.post("/fido2/attestation/result", credential), 400, "already used")
        assert await rp.store.scan(SESSIONS) == []


async def test_old_response_for_a_new_session_is_rejected() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("ida")
        assert (await rp.post("/fido2/attestation/result", credential)).status_code == 200
        r = await rp.post("/fido2/attestation/options", {"username": "ida", "displayName": "ida"})
        forged = {**credential, "fido2SessionId": r.json()["fido2SessionId"]}
        assert_failed(await rp.post("/fido2/attestation/result", forged), 400, "ChallengeMismatchError")
        assert len(await rp.store.scan(CREDENTIALS)) == 1


def _registration(credential_id: bytes) -> RegistrationResult:
    return RegistrationResult(
        credential_id=credential_id, credential_public_key=b"\xa0", sign_count=0, aaguid=Aaguid(bytes(16)),
        fmt="none", attestation_type=AttestationType.NONE, trust_path=(), attestation_trusted=False,
        user_verified=False, user_present=True, backup_eligible=False, backup_state=False, transports=(),
        extensions=None, alg=-7,
    )  # fmt: skip


async def test_credential_registered_twice_is_rejected() -> None:
    store = MemoryStore()
    rp = RelyingParty(store, Fido2Server("localhost", ORIGIN))
    await rp.add_credential("ida", b"user-1", _registration(b"cred-1"))
    with pytest.raises(ApiError, match="already registered"):
        await rp.add_credential("eve", b"user-2", _registration(b"cred-1"))
    assert [c.user_handle for c in await rp.credentials(websafe_encode(b"user-1"))] == [b"user-1"]
    assert await rp.credentials(websafe_encode(b"user-2")) == []
    assert [k for k, _ in await store.scan(USERS)] == ["ida"]  # eve's user record was undone


class IndexWriteFails(MemoryStore):
    """The store fails (connection lost) when asked to write an index entry, in any way."""

    async def put(self, namespace: str, key: str, value: bytes, **kw: Any) -> int:
        if namespace == USER_CREDENTIALS:
            raise StoreError("connection lost")
        return await super().put(namespace, key, value, **kw)

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        if any(w.namespace == USER_CREDENTIALS for w in writes):
            raise StoreError("connection lost")
        return await super().transact(writes)


async def test_registration_that_fails_midway_leaves_nothing() -> None:
    store = IndexWriteFails()
    rp = RelyingParty(store, Fido2Server("localhost", ORIGIN))
    with pytest.raises(StoreError):
        await rp.add_credential("ida", b"user-1", _registration(b"cred-1"))
    assert await store.scan(CREDENTIALS) == [] and await store.scan(USERS) == []
    app = create_app(store, origin=ORIGIN, otp_routes=False)
    async with (
        open_virtual_device(authenticator=VirtualAuthenticator()) as dev,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http,
    ):
        r = await http.post("/fido2/attestation/options", json={"username": "ida", "displayName": "ida"})
        credential = await WebAuthnClient(dev, ORIGIN).create(r.json())
        assert_failed(await http.post("/fido2/attestation/result", json=credential), 503, "store")
    assert await store.scan(CREDENTIALS) == [] and await store.scan(USERS) == []


async def test_replayed_assertion_fails() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("jan")
        await rp.post("/fido2/attestation/result", credential)
        options = await rp.sign_in_options("jan")
        assertion = await rp.client.get(options)
        assert (await rp.post("/fido2/assertion/result", assertion)).status_code == 200
        again = {**assertion, "fido2SessionId": options["fido2SessionId"]}
        assert_failed(await rp.post("/fido2/assertion/result", again), 400, "already used")


async def test_assertion_of_another_users_credential_is_rejected() -> None:
    async with rp_env() as rp:
        _, cred_k = await rp.register("kim")
        await rp.post("/fido2/attestation/result", cred_k)
        _, cred_l = await rp.register("lee")
        await rp.post("/fido2/attestation/result", cred_l)
        options_k = await rp.sign_in_options("kim")
        # an assertion for kim's challenge made with lee's credential
        assertion = await rp.client.get({**options_k, "allowCredentials": [{"type": "public-key", "id": cred_l["id"]}]})
        r = await rp.post("/fido2/assertion/result", assertion)
        assert_failed(r, 400, "CredentialIdError")


async def test_stale_sign_count_is_rejected() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("max")
        await rp.post("/fido2/attestation/result", credential)
        first_options = await rp.sign_in_options("max")
        first = await rp.client.get(first_options)
        options = await rp.sign_in_options("max")
        second = await rp.client.get(options)
        assert (await rp.post("/fido2/assertion/result", second)).status_code == 200
        # the earlier assertion carries a lower counter: a possible clone
        r = await rp.post("/fido2/assertion/result", {**first, "fido2SessionId": options["fido2SessionId"]})
        assert_failed(r, 400)
        # completed in its own (still open) session it fails for its counter alone (WebAuthn L3 §7.2 step 21)
        r = await rp.post("/fido2/assertion/result", {**first, "fido2SessionId": first_options["fido2SessionId"]})
        assert_failed(r, 400, "SignCountError")


async def test_result_without_session() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("ned")
        rp.http.cookies.clear()
        assert_failed(await rp.post("/fido2/attestation/result", credential), 400, "options endpoint")
        r = await rp.post("/fido2/attestation/result", {**credential, "fido2SessionId": "x" * 200})
        assert_failed(r, 400, "options endpoint")


async def test_registration_session_cannot_complete_an_assertion() -> None:
    async with rp_env() as rp:
        _, credential = await rp.register("oli")
        assert_failed(await rp.post("/fido2/assertion/result", credential), 400, "registration")


async def test_session_cookie_is_http_only() -> None:
    async with rp_env() as rp:
        r = await rp.post("/fido2/attestation/options", {"username": "pat", "displayName": "pat"})
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        value = r.cookies.get("fido2-session")
        assert value is not None and value == r.json()["fido2SessionId"]
        assert await rp.store.get(SESSIONS, value) is not None
        assert "secure" not in cookie.replace("samesite", "")  # plain http on localhost
    app = create_app(MemoryStore(), origin="https://localhost", otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://localhost") as http:
        r = await http.post("/fido2/attestation/options", json={"username": "pat", "displayName": "pat"})
        assert "; secure" in r.headers["set-cookie"].lower()


async def test_user_records_are_written_when_a_registration_completes() -> None:
    async with rp_env() as rp:
        first, cred_1 = await rp.register("quin")
        second, cred_2 = await rp.register("quin")  # both started before either completed
        assert first["user"]["id"] != second["user"]["id"]
        assert await rp.store.scan(USERS) == []  # an abandoned options call leaves no user behind
        session_1 = {"fido2SessionId": first["fido2SessionId"]}
        assert (await rp.post("/fido2/attestation/result", {**cred_1, **session_1})).status_code == 200
        r = await rp.post("/fido2/attestation/result", {**cred_2, "fido2SessionId": second["fido2SessionId"]})
        assert_failed(r, 409, "concurrently")
        assert len(await rp.store.scan(USERS)) == 1 and len(await rp.store.scan(CREDENTIALS)) == 1
        record = await rp.store.get(USERS, "quin")
        assert record is not None and json.loads(record.value) == {"id": first["user"]["id"], "displayName": "quin"}
        r = await rp.post("/fido2/attestation/options", {"username": "quin", "displayName": "Q"})
        assert r.json()["user"]["id"] == first["user"]["id"]


async def test_unknown_paths_and_methods_under_fido2_are_server_responses() -> None:
    async with rp_env() as rp:
        r = await rp.http.get("/fido2/attestation/options")
        assert_failed(r, 405, "GET")
        assert r.headers["allow"] == "POST"
        r = await rp.http.request("TRACE", "/fido2/credentials/AAAA")
        assert_failed(r, 405, "TRACE")
        assert set(r.headers["allow"].split(", ")) == {"PATCH", "DELETE"}
        assert_failed(await rp.http.post("/fido2/nothing", json={}), 404, "/fido2/nothing")
        assert (await rp.http.get("/nothing")).status_code == 404


async def test_openapi_describes_every_route() -> None:
    async with rp_env() as rp:
        r = await rp.http.get("/openapi.json")
        doc = r.json()
        assert r.status_code == 200 and doc["openapi"].startswith("3.")
        assert doc["info"]["title"] and doc["info"]["version"]
        routes = {route.path: route for route in rp.http._transport.app.routes}  # type: ignore[attr-defined]
        assert set(routes) <= set(doc["paths"])
        for path, route in routes.items():
            assert {m.lower() for m in route.methods - {"HEAD"}} <= set(doc["paths"][path]), path
        _check_refs(doc, doc)
        for item in doc["paths"].values():
            for op in item.values():
                assert op["responses"] and all(str(code).isdigit() or code == "default" for code in op["responses"])
        schemas = doc["components"]["schemas"]
        request = schemas["ServerPublicKeyCredentialCreationOptionsRequest"]["properties"]
        assert {"username", "displayName", "authenticatorSelection", "attestation", "extensions"} <= set(request)
        ext = schemas["AuthenticationExtensionsClientInputs"]["properties"]
        assert set(ext) >= {
            "appid", "appidExclude", "uvm", "credProps", "credentialProtectionPolicy",
            "enforceCredentialProtectionPolicy", "hmacCreateSecret", "hmacGetSecret",
        }  # fmt: skip
        assert schemas["ServerResponse"]["required"] == ["status", "errorMessage"]


def test_openapi_document_validates_against_the_openapi_schema() -> None:
    validator = pytest.importorskip(
        "openapi_spec_validator", reason="openapi-spec-validator is not installed (the minimal checks above still ran)"
    )
    validator.validate(create_app(MemoryStore(), admin_token="t" * 32).state.openapi)
    broken = create_app(MemoryStore(), otp_routes=False).state.openapi
    broken["paths"]["/fido2/assertion/result"]["post"]["responses"] = "none"
    with pytest.raises(Exception, match="is not of type"):
        validator.validate(broken)


def _check_refs(node: Any, doc: dict[str, Any]) -> None:
    """Every $ref points at an existing component."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in doc["components"]["schemas"], (
                ref
            )
        for value in node.values():
            _check_refs(value, doc)
    elif isinstance(node, list):
        for value in node:
            _check_refs(value, doc)


async def test_index_page() -> None:
    async with rp_env() as rp:
        r = await rp.http.get("/")
        assert r.status_code == 200 and "navigator.credentials.create" in r.text and "/fido2/assertion/result" in r.text


async def test_otp_routes_are_mounted_and_described() -> None:
    app = create_app(MemoryStore(), otp_routes=True, admin_token="t" * 32)
    paths = {getattr(r, "path", "") for r in app.routes}
    doc = app.state.openapi
    assert "/private/otp-devices" in paths and paths <= set(doc["paths"])
    _check_refs(doc, doc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        for path, item in doc["paths"].items():
            if "/private/" not in path:
                continue
            url = re.sub(r"{[^}]+}", "x", path)
            for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
                r = await http.request(method, url)
                # documented methods exist (any answer but 405), undocumented ones are refused
                assert (r.status_code != 405) == (method.lower() in item), (method, path, r.status_code)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["username", "displayName", "id", "rawId", "type", "response", "extensions",
                         "authenticatorSelection", "attestation", "userVerification", "fido2SessionId",
                         "clientDataJSON", "attestationObject", "signature", "x"]), children, max_size=6),
    max_leaves=20,
))  # fmt: skip
async def test_any_json_gets_a_server_response(body: Any) -> None:
    app = create_app(MemoryStore(), otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        for path in ("/fido2/attestation/options", "/fido2/attestation/result", "/fido2/assertion/result"):
            r = await http.post(path, json=body)
            data = r.json()
            assert data["status"] in ("ok", "failed")
            assert (r.status_code == 200) == (data["status"] == "ok")
            assert data["status"] == "ok" or data["errorMessage"]


_CBOR_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.binary(max_size=80) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.integers(-8, 8), children, max_size=4),
    max_leaves=12,
)  # fmt: skip
_RP_HASH = hashlib.sha256(b"localhost").digest()
_AUTH_DATA = st.binary(max_size=300) | st.builds(
    lambda flags, counter, tail: _RP_HASH + bytes([flags]) + counter.to_bytes(4, "big") + tail,
    st.sampled_from([0x41, 0x45, 0xC5, 0x5D, 0x01]), st.integers(0, 2**32 - 1), st.binary(max_size=200),
)  # fmt: skip
_ATT_OBJECTS = st.one_of(
    st.binary(max_size=200),
    st.fixed_dictionaries(
        {"fmt": st.sampled_from(["none", "packed", "fido-u2f", "tpm", "apple", "x"]), "attStmt": _CBOR_VALUES,
         "authData": _AUTH_DATA}
    ).map(cbor.dumps),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(att_obj=_ATT_OBJECTS, raw_id=st.binary(min_size=1, max_size=40))
async def test_forged_attestation_objects_get_a_400_and_write_nothing(att_obj: bytes, raw_id: bytes) -> None:
    store = MemoryStore()
    app = create_app(store, origin=ORIGIN, otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        options = (await http.post("/fido2/attestation/options", json={"username": "u", "displayName": "u"})).json()
        client_data = {"type": "webauthn.create", "challenge": options["challenge"], "origin": ORIGIN}
        credential = {
            "id": websafe_encode(raw_id), "rawId": websafe_encode(raw_id), "type": "public-key",
            "response": {"clientDataJSON": websafe_encode(json.dumps(client_data).encode()),
                         "attestationObject": websafe_encode(att_obj)},
        }  # fmt: skip
        r = await http.post("/fido2/attestation/result", json=credential)
    assert r.status_code == 400, r.text
    assert r.json()["status"] == "failed" and r.json()["errorMessage"]
    assert await store.scan(CREDENTIALS) == [] and await store.scan(USERS) == []
