"""A whole session at DEBUG: no PIN, pinUvAuthToken, hmac-secret/PRF output, credBlob or largeBlobKey in any
log record (the software authenticator and the host stack log every command), nor in the reprs of what the
client and the authenticator hand back."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest

from aioctap.client import WebAuthnClient
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import websafe_decode, websafe_encode

PIN = "PIN-7319-SECRET"
BLOB = b"CREDBLOB-SECRET!"
ORIGIN = "https://login.example.com"


async def test_a_session_logs_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    authenticator = VirtualAuthenticator()
    secrets: list[bytes | str] = [PIN, BLOB]
    async with open_virtual_device(authenticator=authenticator) as dev:
        ctap = await Ctap2.create(dev)
        await ClientPin(ctap).set_pin(PIN)
        token = await ClientPin(ctap).get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
        secrets.append(token)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        options: dict[str, Any] = {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": websafe_encode(b"user"), "name": "bob", "displayName": "Bob"},
            "challenge": websafe_encode(os.urandom(32)),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
            "extensions": {"credBlob": websafe_encode(BLOB), "prf": {}, "largeBlob": {"support": "preferred"}},
        }
        await client.create(options)
        got = await client.get(
            {
                "rpId": "example.com",
                "challenge": websafe_encode(os.urandom(32)),
                "userVerification": "required",
                "extensions": {"getCredBlob": True, "prf": {"eval": {"first": websafe_encode(b"salt" * 8)}}},
            }
        )
        results = got["clientExtensionResults"]
        assert websafe_decode(results["getCredBlob"]) == BLOB
        prf_output = websafe_decode(results["prf"]["results"]["first"])
        secrets.append(prf_output)
    assert caplog.records, "the session logged nothing: the test would prove nothing"
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(authenticator)
    for secret in secrets:
        forms = [secret] if isinstance(secret, str) else [secret.hex(), websafe_encode(secret), repr(secret)]
        for form in forms:
            assert form not in text
