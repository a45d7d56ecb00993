"""A post-quantum passkey end to end: the software authenticator makes ML-DSA-44/65/87 credentials (COSE -48/-49/
-50, ``cryptography``'s ``mldsa``), aioctap's WebAuthnClient carries them, and aioctap.server's Fido2Server
(configured for those algorithms) registers and signs in with them."""

from __future__ import annotations

import pytest

from aioctap.client import WebAuthnClient
from aioctap.cose import CoseKey
from aioctap.server.ceremony import Fido2Server, StoredCredential
from aioctap.virtual import open_virtual_device

ORIGIN = "https://example.com"


@pytest.mark.parametrize(("alg", "name"), [(-48, "MLDSA44"), (-49, "MLDSA65"), (-50, "MLDSA87")])
@pytest.mark.parametrize("attestation", ["packed", "self"])
async def test_ml_dsa_passkey_registers_and_signs_in(alg: int, name: str, attestation: str) -> None:
    server = Fido2Server("example.com", ORIGIN, algorithms=[alg])
    async with open_virtual_device(attestation=attestation) as dev:
        client = WebAuthnClient(dev, ORIGIN)
        options, state = server.register_begin(
            {"id": b"pq-user", "name": "pq"}, resident_key_requirement="required", user_verification="discouraged",
            attestation="direct",
        )  # fmt: skip
        registration = server.register_complete(state, await client.create({"publicKey": options}))
        key = CoseKey.from_bytes(registration.credential_public_key)
        assert type(key).__name__ == name and key[3] == alg
        assert registration.fmt == "packed"
        stored = StoredCredential(
            registration.credential_id, registration.credential_public_key, registration.sign_count, b"pq-user"
        )
        for allow in ([stored], []):  # with the credential named, and as a discoverable sign-in
            options, state = server.authenticate_begin(allow, user_verification="discouraged")
            result, matched = server.authenticate_complete(state, [stored], await client.get({"publicKey": options}))
            assert matched is stored and result.new_sign_count > stored.sign_count and result.user_present


async def test_an_rp_that_does_not_list_ml_dsa_gets_an_algorithm_it_asked_for() -> None:
    """The authenticator takes the first of the RP's pubKeyCredParams it supports: a default RP gets ES256."""
    server = Fido2Server("example.com", ORIGIN)
    async with open_virtual_device() as dev:
        options, state = server.register_begin({"id": b"u", "name": "u"}, user_verification="discouraged")
        registration = server.register_complete(state, await WebAuthnClient(dev, ORIGIN).create({"publicKey": options}))
        assert CoseKey.from_bytes(registration.credential_public_key)[3] == -7
