"""aioctap's HTTP relying party (conformance API) accepts what python-fido2's Fido2Client makes.

python-fido2's client talks to ``aioctap virtual`` over UDP and to ``aioctap.server.app`` over HTTP (httpx's
ASGI transport, a memory store), following the FIDO conformance-server flow: attestation options -> create ->
attestation result; assertion options -> get -> assertion result. The session travels in the cookie only,
as a conformance tool's would. The server runs in its conformance test mode (``conformance=True``: U2F keys
without discoverable credentials, allowCredentials listed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2.base import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.webauthn import PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions

from aioctap.server.app import create_app
from aioctap.stores import open_store
from aioctap.webauthn import websafe_decode

ORIGIN = "https://example.com"
PIN = "interop-1234"
SERVER_MEMBERS = ("status", "errorMessage", "fido2SessionId")


class PinInteraction(UserInteraction):
    def __init__(self) -> None:
        self.asked = 0

    def request_pin(self, permissions: Any, rp_id: Any) -> str:
        self.asked += 1
        return PIN


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with open_store("memory://") as store:
        app = create_app(store, rp_id="example.com", origin=ORIGIN, otp_routes=False, conformance=True)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://example.com") as client:
            yield client


async def post(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(path, json=body)
    data: dict[str, Any] = response.json()
    assert response.status_code == 200 and data["status"] == "ok", data
    assert data["errorMessage"] == ""
    return data


def options_of(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in SERVER_MEMBERS}


async def register(http: httpx.AsyncClient, client: Any, username: str, **request: Any) -> dict[str, Any]:
    data = await post(http, "/fido2/attestation/options", {"username": username, "displayName": username, **request})
    options = PublicKeyCredentialCreationOptions.from_dict(options_of(data))
    assert options.rp.id == "example.com" and options.user.name == username
    result = await anyio.to_thread.run_sync(client.make_credential, options)
    outcome = await post(http, "/fido2/attestation/result", dict(result))
    assert outcome["username"] == username
    assert websafe_decode(outcome["credentialId"]) == result.raw_id
    return dict(result)


async def sign_in(http: httpx.AsyncClient, client: Any, username: str, **request: Any) -> dict[str, Any]:
    data = await post(http, "/fido2/assertion/options", {"username": username, **request})
    options = PublicKeyCredentialRequestOptions.from_dict(options_of(data))
    assert options.rp_id == "example.com"
    selection = await anyio.to_thread.run_sync(client.get_assertion, options)
    response = dict(selection.get_response(0))
    outcome = await post(http, "/fido2/assertion/result", response)
    return {**outcome, "response": response}


@pytest.mark.parametrize("over", ["ctap2", "u2f"])
async def test_register_and_sign_in_without_pin(
    authenticator: Any, http: httpx.AsyncClient, u2f_only: Any, over: str
) -> None:
    with authenticator.fido2_device() as dev:
        client = Fido2Client(dev if over == "ctap2" else u2f_only(dev), DefaultClientDataCollector(ORIGIN))
        selection = {"userVerification": "discouraged"}
        registration = await register(http, client, "alice", authenticatorSelection=selection, attestation="direct")
        for _ in range(2):
            outcome = await sign_in(http, client, "alice", userVerification="discouraged")
            assert outcome["username"] == "alice" and outcome["credentialId"] == registration["id"]
        # the same assertion a second time: the session was consumed
        response = await http.post("/fido2/assertion/result", json=outcome["response"])
        assert response.status_code == 400 and response.json()["status"] == "failed"


async def test_register_and_sign_in_with_pin_and_discoverable(authenticator: Any, http: httpx.AsyncClient) -> None:
    with authenticator.fido2_device() as dev:
        ClientPin(Ctap2(dev)).set_pin(PIN)
        interaction = PinInteraction()
        client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN), interaction)
        selection = {"userVerification": "required", "residentKey": "required"}
        registration = await register(http, client, "bob", authenticatorSelection=selection, attestation="none")
        assert interaction.asked >= 1
        att_obj = registration["response"]["attestationObject"]
        assert att_obj  # the packed statement is passed on (python-fido2 does not strip it)
        outcome = await sign_in(http, client, "bob", userVerification="required")
        assert outcome["username"] == "bob"
        # discoverable: no username, the authenticator finds bob's credential by the RP ID
        outcome = await sign_in(http, client, "", userVerification="required")
        assert outcome["username"] == "bob" and outcome["credentialId"] == registration["id"]
        assert websafe_decode(outcome["response"]["response"]["userHandle"])


async def test_second_credential_is_excluded_then_other_user_ok(authenticator: Any, http: httpx.AsyncClient) -> None:
    """excludeCredentials from the RP's options is honoured by python-fido2 + aioctap's authenticator."""
    from fido2.client import ClientError

    with authenticator.fido2_device() as dev:
        client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN))
        selection = {"userVerification": "discouraged"}
        await register(http, client, "carol", authenticatorSelection=selection)
        data = await post(
            http, "/fido2/attestation/options",
            {"username": "carol", "displayName": "carol", "authenticatorSelection": selection},
        )  # fmt: skip
        options = PublicKeyCredentialCreationOptions.from_dict(options_of(data))
        assert options.exclude_credentials and len(options.exclude_credentials) == 1
        with pytest.raises(ClientError) as e:
            await anyio.to_thread.run_sync(client.make_credential, options)
        assert e.value.code == ClientError.ERR.DEVICE_INELIGIBLE
        await register(http, client, "dave", authenticatorSelection=selection)


async def test_authentication_through_the_attestation_endpoints(authenticator: Any, http: httpx.AsyncClient) -> None:
    """A ServerPublicKeyCredentialGetOptionsRequest sent to /fido2/attestation/options (nevisFIDO style) starts an
    authentication that /fido2/attestation/result completes, with python-fido2's request-options parser."""
    with authenticator.fido2_device() as dev:
        client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN))
        registration = await register(http, client, "erin", authenticatorSelection={"userVerification": "discouraged"})
        data = await post(http, "/fido2/attestation/options", {"username": "erin", "userVerification": "discouraged"})
        options = PublicKeyCredentialRequestOptions.from_dict(options_of(data))
        assert options.allow_credentials and options.allow_credentials[0].id == websafe_decode(registration["id"])
        selection = await anyio.to_thread.run_sync(client.get_assertion, options)
        outcome = await post(http, "/fido2/attestation/result", dict(selection.get_response(0)))
        assert outcome["username"] == "erin" and outcome["credentialId"] == registration["id"]
