"""CTAP 2.2 thirdPartyPayment extension: the software authenticator keeps the flag in the credential ID and reports
it at authentication and in credential management; the host's ThirdPartyPaymentExtension asks for it."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from aioctap import cbor
from aioctap.client import WebAuthnClient
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, CredentialManagement
from aioctap.ctap2.extensions import ThirdPartyPaymentExtension, default_extensions
from aioctap.virtual import open_virtual_device
from aioctap.webauthn import AuthenticatorData, websafe_decode, websafe_encode

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
CM = CredentialManagement


@pytest.mark.parametrize("rk", [False, True])
async def test_flag_is_kept_and_reported(make_rig: Any, rk: bool) -> None:
    async with make_rig() as rig:
        assert "thirdPartyPayment" in (await rig.ctap.get_info()).extensions
        options = {"rk": True} if rk else None
        paying = await rig.make(b"pay", options=options, extensions={"thirdPartyPayment": True})
        assert paying.auth_data.extensions == {"thirdPartyPayment": True}
        plain = await rig.make(b"plain", options=options)
        assert not plain.auth_data.extensions
        for att, expected in ((paying, True), (plain, False)):
            allow = [{"type": "public-key", "id": att.auth_data.credential_data.credential_id}]
            asked = await rig.ctap.get_assertion("example.com", CDH, allow, extensions={"thirdPartyPayment": True})
            assert asked.auth_data.extensions == {"thirdPartyPayment": expected}
            asked.verify(CDH, att.auth_data.credential_data.public_key)
            unasked = await rig.ctap.get_assertion("example.com", CDH, allow)
            assert not unasked.auth_data.extensions  # not asked: nothing said
        with pytest.raises(CtapError) as e:  # the input is a boolean; a bad one makes nothing
            await rig.make(b"bad", options=options, extensions={"thirdPartyPayment": 1})
        assert e.value.code == ERR.CBOR_UNEXPECTED_TYPE
        assert len(rig.auth.state.credentials) == (2 if rk else 0)
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, extensions={"thirdPartyPayment": "yes"})
        assert e.value.code == ERR.CBOR_UNEXPECTED_TYPE
        # false asks for nothing: a credential made with it is not enabled
        off = await rig.make(b"off", extensions={"thirdPartyPayment": False})
        allow = [{"type": "public-key", "id": off.auth_data.credential_data.credential_id}]
        asked = await rig.ctap.get_assertion("example.com", CDH, allow, extensions={"thirdPartyPayment": True})
        assert asked.auth_data.extensions == {"thirdPartyPayment": False}


async def test_credential_management_reports_the_flag(make_rig: Any) -> None:
    """enumerateCredentials' thirdPartyPayment (0x0C, CTAP 2.2 §6.8) for each discoverable credential."""
    async with make_rig() as rig:
        await rig.set_pin()
        for user, payment in ((b"a", True), (b"b", False)):
            proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
            await rig.make(
                user, options={"rk": True}, extensions={"thirdPartyPayment": payment},
                pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2,
            )  # fmt: skip
        proto, token = await rig.token(P.CREDENTIAL_MGMT)
        creds = await CM(rig.ctap, proto, token).enumerate_creds(hashlib.sha256(b"example.com").digest())
        assert {c[CM.RESULT.USER]["id"]: c[CM.RESULT.THIRD_PARTY_PAYMENT] for c in creds} == {b"a": True, b"b": False}


async def test_host_extension_asks_for_it_from_the_payment_input() -> None:
    """WebAuthn's ``payment: {isPayment: true}`` becomes thirdPartyPayment: true (python-fido2's
    ThirdPartyPaymentExtension rule); the extension is opt-in, not a default one."""
    assert not any(isinstance(e, ThirdPartyPaymentExtension) for e in default_extensions())
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://example.com", extensions=[ThirdPartyPaymentExtension()])
        base = {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": websafe_encode(b"user"), "name": "bob"},
            "challenge": websafe_encode(os.urandom(32)),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"residentKey": "required", "userVerification": "discouraged"},
        }
        reg = await client.create({**base, "extensions": {"payment": {"isPayment": True}}})
        auth_data = AuthenticatorData(cbor.loads(websafe_decode(reg["response"]["attestationObject"]))["authData"])
        assert auth_data.extensions == {"thirdPartyPayment": True}
        other = await client.create({**base, "user": {"id": websafe_encode(b"other"), "name": "al"}})
        assert not AuthenticatorData(
            cbor.loads(websafe_decode(other["response"]["attestationObject"]))["authData"]
        ).extensions
        challenge = websafe_encode(os.urandom(32))
        request = {"rpId": "example.com", "challenge": challenge, "userVerification": "discouraged"}
        for cred, expected in ((reg, True), (other, False)):
            got = await client.get(
                {**request, "allowCredentials": [{"type": "public-key", "id": cred["id"]}],
                 "extensions": {"payment": {"isPayment": True}}}
            )  # fmt: skip
            data = AuthenticatorData(websafe_decode(got["response"]["authenticatorData"]))
            assert data.extensions == {"thirdPartyPayment": expected}
        got = await client.get({**request, "allowCredentials": [{"type": "public-key", "id": reg["id"]}]})
        assert not AuthenticatorData(websafe_decode(got["response"]["authenticatorData"])).extensions
