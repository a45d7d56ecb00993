"""aioctap's WebAuthnClient + ``aioctap virtual`` make credentials that python-fido2 and py_webauthn accept.

Options come from python-fido2's Fido2Server (its JSON form goes to aioctap's client). Where an extension's
result can be computed by another client, python-fido2's Fido2Client does the same ceremony against the same
authenticator and the client extension results must be equal (credProps, hmacCreateSecret, hmacGetSecret and
prf outputs are deterministic for a given credential and salt).
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio.to_thread
import pytest
from cryptography.hazmat.primitives import serialization
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2.extensions import CredPropsExtension, CredProtectExtension, HmacSecretExtension

import aioctap
from aioctap.client import WebAuthnClient
from aioctap.cose import CoseKey
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "https://example.com"
PIN = "4711-interop"
REJECTED_BY_ALL = {"python-fido2": "rejected", "py_webauthn": "rejected", "aioctap": "rejected"}


class PinInteraction(UserInteraction):  # type: ignore[misc]
    def request_pin(self, permissions: Any, rp_id: Any) -> str:
        return PIN


def fido2_client(dev: Any) -> Any:
    extensions = [HmacSecretExtension(allow_hmac_secret=True), CredProtectExtension(), CredPropsExtension()]
    return Fido2Client(dev, DefaultClientDataCollector(ORIGIN), PinInteraction(), extensions)


def check_public_key_members(registration: dict[str, Any]) -> None:
    """getPublicKey() / getPublicKeyAlgorithm(): the SPKI and the algorithm are those of the attested key."""
    import fido2.webauthn

    att_obj = fido2.webauthn.AttestationObject(websafe_decode(registration["response"]["attestationObject"]))
    cred = att_obj.auth_data.credential_data
    assert cred is not None
    assert registration["response"]["publicKeyAlgorithm"] == cred.public_key[3]
    spki = serialization.load_der_public_key(websafe_decode(registration["response"]["publicKey"]))
    cose = CoseKey.for_alg(cred.public_key[3]).from_cryptography_key(spki)
    assert dict(cose) == dict(cred.public_key)


@pytest.mark.parametrize("alg", [-7, -8], ids=["ES256", "EdDSA"])
@pytest.mark.parametrize("with_pin", [False, True], ids=["no-pin", "pin"])
async def test_aioctap_client_credentials_accepted_by_all(
    authenticator: Any, three_rps: Any, alg: int, with_pin: bool
) -> None:
    rp = three_rps(authenticator.root_der, algorithms=(alg,))
    uv = "required" if with_pin else "discouraged"
    async with aioctap.open_device(authenticator.address) as dev:
        if with_pin:
            await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN if with_pin else None)
        registration = await client.create(dict(rp.register_begin(b"carol", user_verification=uv)))
        check_public_key_members(registration)
        registered = rp.register_complete(registration)
        assert registered.aioctap.alg == alg and registered.user_verified is with_pin
        assert registered.aioctap.attestation_trusted
        for _ in range(2):
            assertion = await client.get(dict(rp.authenticate_begin(user_verification=uv)))
            for member in ("clientDataJSON", "authenticatorData", "signature"):
                raw = bytearray(websafe_decode(assertion["response"][member]))
                raw[len(raw) // 2] ^= 0x80
                forged = {**assertion, "response": {**assertion["response"], member: websafe_encode(bytes(raw))}}
                assert rp.authenticate_outcomes(forged) == REJECTED_BY_ALL, member
            result = rp.authenticate_complete(assertion)
            assert result.user_verified is with_pin and result.user_present


async def test_discoverable_credential_user_handle(authenticator: Any, three_rps: Any) -> None:
    rp = three_rps(authenticator.root_der, algorithms=(-8, -7))
    async with aioctap.open_device(authenticator.address) as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        options = dict(rp.register_begin(b"\x00dave\xff", resident_key="required", extensions={"credProps": True}))
        registration = await client.create(options)
        assert registration["clientExtensionResults"] == {"credProps": {"rk": True}}
        registered = rp.register_complete(registration)
        assert registered.aioctap.alg == -8  # the RP's first choice
        assertion = await client.get(dict(rp.authenticate_begin(discoverable=True, user_verification="required")))
        assert websafe_decode(assertion["response"]["userHandle"]) == b"\x00dave\xff"
        assert rp.authenticate_complete(assertion).user_handle == b"\x00dave\xff"


async def test_extension_results_equal_python_fido2_client(authenticator: Any, three_rps: Any) -> None:
    """Same options, same authenticator: aioctap's client and python-fido2's give the same extension results,
    the authenticator's extension outputs parse the same in python-fido2 and aioctap, and hmac-secret / prf
    outputs for the same credential and salts are equal whichever client computed them (they decrypt what
    the authenticator encrypted under each client's own shared secret)."""
    rp = three_rps(authenticator.root_der)
    create_ext = {
        "credProps": True,
        "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
        "hmacCreateSecret": True,
    }
    async with aioctap.open_device(authenticator.address) as dev:
        client = WebAuthnClient(dev, ORIGIN)
        ours = await client.create(dict(rp.register_begin(b"erin", resident_key="required", extensions=create_ext)))
        registered = rp.register_complete(ours)
        with authenticator.fido2_device() as fdev:
            theirs_client = fido2_client(fdev)
            options = rp.register_begin(b"frank", resident_key="required", extensions=create_ext)
            theirs = dict(await anyio.to_thread.run_sync(theirs_client.make_credential, options.public_key))
        other = rp.register_complete(theirs)
        assert ours["clientExtensionResults"] == theirs["clientExtensionResults"]
        assert ours["clientExtensionResults"] == {"credProps": {"rk": True}, "hmacCreateSecret": True}
        for cred in (registered, other):
            assert cred.fido2_credential is not None
            assert cred.extensions == {"credProtect": 2, "hmac-secret": True}

        salt1, salt2 = hashlib.sha256(b"salt one").digest(), hashlib.sha256(b"salt two").digest()
        get_ext: dict[str, Any] = {
            "hmacGetSecret": {"salt1": websafe_encode(salt1), "salt2": websafe_encode(salt2)},
        }
        prf_ext: dict[str, Any] = {"prf": {"eval": {"first": websafe_encode(b"first input")}}}
        for ext in (get_ext, prf_ext):
            ours_get = await client.get(dict(rp.authenticate_begin(extensions=ext, only=registered)))
            rp.authenticate_complete(ours_get)
            with authenticator.fido2_device() as fdev:
                theirs_client = fido2_client(fdev)
                options = rp.authenticate_begin(extensions=ext, only=registered)
                selection = await anyio.to_thread.run_sync(theirs_client.get_assertion, options.public_key)
                theirs_get = dict(selection.get_response(0))
            rp.authenticate_complete(theirs_get)
            assert ours_get["clientExtensionResults"], ext
            assert ours_get["clientExtensionResults"] == without_empty(theirs_get["clientExtensionResults"])
        outputs = ours_get["clientExtensionResults"]["prf"]["results"]
        assert len(websafe_decode(outputs["first"])) == 32 and "second" not in outputs  # no second input


def without_empty(results: dict[str, Any]) -> dict[str, Any]:
    """python-fido2 2.2.1 serializes an absent prf ``results.second`` as ``"second": []``; drop such members."""
    return {k: without_empty(v) if isinstance(v, dict) else v for k, v in results.items() if v != []}
