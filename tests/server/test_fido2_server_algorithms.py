"""``Fido2Server``'s algorithms: python-fido2's default pubKeyCredParams (not RS1), and a fully-specified algorithm
(ESP256, RFC 9864) registered and used end to end once the relying party lists it in ``allowed_algorithms``."""

from __future__ import annotations

import json
import os
from typing import Any

import fido2.server
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from aioctap import cbor
from aioctap.cose import ESP256, CoseKey
from aioctap.server import Fido2Server
from aioctap.utils import sha256, websafe_encode
from aioctap.webauthn import PublicKeyCredentialParameters, PublicKeyCredentialType

RP = {"id": "example.com", "name": "Example RP"}
USER = {"id": b"user_id", "name": "A. User"}
ORIGIN = "https://example.com"


def test_default_pub_key_cred_params_are_python_fido2s() -> None:
    ours = dict(Fido2Server(RP).register_begin(USER)[0])["publicKey"]["pubKeyCredParams"]
    theirs = dict(fido2.server.Fido2Server(RP).register_begin(USER)[0])["publicKey"]["pubKeyCredParams"]
    assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))
    assert -65535 not in {p["alg"] for p in ours}  # RS1 (SHA-1): verifiable for TPM attestation, never offered


def _client_data(kind: str, challenge: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": ORIGIN}).encode()


def _register(server: Fido2Server, private: ec.EllipticCurvePrivateKey, alg: int) -> Any:
    _, state = server.register_begin(USER)
    cred_id = os.urandom(16)
    cose_key = cbor.dumps(dict(CoseKey.for_alg(alg).from_cryptography_key(private.public_key())))
    attested = bytes(16) + len(cred_id).to_bytes(2, "big") + cred_id + cose_key
    auth_data = sha256(b"example.com") + bytes([0x45]) + bytes(4) + attested
    response = {
        "id": websafe_encode(cred_id),
        "rawId": websafe_encode(cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": websafe_encode(_client_data("webauthn.create", state["challenge"] or "")),
            "attestationObject": websafe_encode(cbor.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})),
        },
    }
    return server.register_complete(state, response)


def test_esp256_end_to_end_when_offered() -> None:
    server = Fido2Server(RP)
    private = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValueError, match="algorithm -9 was not requested"):
        _register(server, private, ESP256.ALGORITHM)
    server.allowed_algorithms = [
        PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=a) for a in (-9, -7)
    ]
    options, _ = server.register_begin(USER)
    assert [p.alg for p in options.public_key.pub_key_cred_params] == [-9, -7]
    credential = _register(server, private, ESP256.ALGORITHM).credential_data
    assert isinstance(credential.public_key, ESP256)

    options, state = server.authenticate_begin([credential], user_verification="required")
    auth_data = sha256(b"example.com") + bytes([0x05]) + (1).to_bytes(4, "big")  # UP and UV
    client_data = _client_data("webauthn.get", state["challenge"] or "")
    signature = private.sign(auth_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
    response: dict[str, Any] = {
        "id": websafe_encode(credential.credential_id),
        "rawId": websafe_encode(credential.credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": websafe_encode(client_data),
            "authenticatorData": websafe_encode(auth_data),
            "signature": websafe_encode(signature),
        },
    }
    assert server.authenticate_complete(state, [credential], response) == credential
    without_uv = sha256(b"example.com") + bytes([0x01]) + (2).to_bytes(4, "big")
    response["response"]["authenticatorData"] = websafe_encode(without_uv)
    with pytest.raises(ValueError, match="User verification required"):
        server.authenticate_complete(state, [credential], response)
