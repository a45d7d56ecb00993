"""A post-quantum passkey (ML-DSA, FIPS 204; COSE -48/-49/-50) registered and used through the relying-party
server (issue 16): the app offering ML-DSA first, the software authenticator making the key, the server
verifying the registration and the sign-in over HTTP (ASGI). The same for the fully-specified ESP256 and Ed25519
(RFC 9864; COSE -9/-19)."""

from __future__ import annotations

import httpx
import pytest
import typer

from aioctap import cbor
from aioctap.cli.server_cmds import parse_algorithms
from aioctap.client import WebAuthnClient
from aioctap.server.app import create_app
from aioctap.stores.memory import MemoryStore
from aioctap.virtual import open_virtual_device
from aioctap.webauthn import AuthenticatorData, websafe_decode, websafe_encode

ORIGIN = "http://localhost:8000"


@pytest.mark.parametrize(
    ("name", "alg"), [("ML-DSA-44", -48), ("ML-DSA-65", -49), ("ML-DSA-87", -50), ("ESP256", -9), ("Ed25519", -19)]
)
async def test_ml_dsa_passkey_through_the_server(name: str, alg: int) -> None:
    app = create_app(MemoryStore(), origin=ORIGIN, otp_routes=False, algorithms=parse_algorithms([name, "ES256"]))
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as browser,
        open_virtual_device() as device,
    ):
        client = WebAuthnClient(device, ORIGIN)
        r = await browser.post("/fido2/attestation/options", json={"username": "pq", "displayName": "PQ"})
        options = r.json()
        assert [p["alg"] for p in options["pubKeyCredParams"]] == [alg, -7]
        credential = await client.create(options)
        attestation = cbor.loads(websafe_decode(credential["response"]["attestationObject"]))
        auth_data = AuthenticatorData(attestation["authData"])
        assert auth_data.credential_data is not None
        assert auth_data.credential_data.public_key[3] == alg  # the authenticator made a key of that algorithm
        r = await browser.post("/fido2/attestation/result", json=credential)
        assert r.status_code == 200, r.text
        await browser.post("/fido2/logout")
        r = await browser.post("/fido2/assertion/options", json={})
        assertion = await client.get(r.json())
        r = await browser.post("/fido2/assertion/result", json=assertion)
        assert r.status_code == 200 and r.json()["username"] == "pq", r.text
        # a signature that does not verify is refused
        r = await browser.post("/fido2/assertion/options", json={})
        tampered = await client.get(r.json())
        signature = bytearray(websafe_decode(tampered["response"]["signature"]))
        signature[10] ^= 1
        tampered["response"]["signature"] = websafe_encode(bytes(signature))
        r = await browser.post("/fido2/assertion/result", json=tampered)
        assert r.status_code == 400, r.text


def test_algorithm_option_names() -> None:
    assert parse_algorithms(["ES256", "ML-DSA-65", "-8", "ES256"]) == [-7, -49, -8]
    assert parse_algorithms(["ESP256", "Ed25519", "-51", "ES256K"]) == [-9, -19, -51, -47]  # RFC 9864, RFC 8812
    with pytest.raises(typer.BadParameter):
        parse_algorithms(["RSA-1024"])
