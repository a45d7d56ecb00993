"""verify_registration / verify_authentication: the software authenticator through the async client,
cross-checked with py_webauthn, and one failing test per check of WebAuthn L3 §7.1 / §7.2."""

from __future__ import annotations

import copy
import datetime
import json
import os
from typing import Any

import pytest
import webauthn as py_webauthn
from cryptography import x509

from aioctap import cbor
from aioctap.client import ClientError, WebAuthnClient, verify_rp_id
from aioctap.server import (
    AttestationType,
    TrustAnchors,
    verify_authentication,
    verify_registration,
)
from aioctap.server.errors import (
    AttestationError,
    BackupFlagsError,
    ChallengeMismatchError,
    ClientDataTypeError,
    CredentialIdError,
    CrossOriginError,
    InvalidSignatureError,
    MalformedResponseError,
    OriginMismatchError,
    RpIdHashMismatchError,
    SignCountError,
    UnsupportedAlgorithmError,
    UntrustedAttestationError,
    UserPresenceError,
    UserVerificationError,
    VerificationError,
)
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "https://example.com"
RP_ID = "example.com"


def creation_options(challenge: bytes, **selection: Any) -> dict[str, Any]:
    return {
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": websafe_encode(b"user-1"), "name": "alice", "displayName": "Alice"},
        "challenge": websafe_encode(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -8}],
        "authenticatorSelection": selection,
        "attestation": "direct",
    }


@pytest.fixture
async def ceremony() -> Any:
    """(registration JSON, authentication JSON, challenges, authenticator) from a real client run."""
    auth = VirtualAuthenticator()
    async with open_virtual_device(authenticator=auth) as dev:
        client = WebAuthnClient(dev, ORIGIN)
        reg_challenge, auth_challenge = os.urandom(32), os.urandom(32)
        reg = await client.create(creation_options(reg_challenge, residentKey="discouraged"))
        assertion = await client.get(
            {"challenge": websafe_encode(auth_challenge), "rpId": RP_ID,
             "allowCredentials": [{"type": "public-key", "id": reg["id"]}]}
        )  # fmt: skip
    return reg, assertion, reg_challenge, auth_challenge, auth


def register(reg: Any, challenge: bytes, **kw: Any) -> Any:
    return verify_registration(reg, expected_challenge=challenge, expected_origin=ORIGIN, expected_rp_id=RP_ID, **kw)


async def test_round_trip_and_py_webauthn_agrees(ceremony: Any) -> None:
    reg, assertion, reg_challenge, auth_challenge, auth = ceremony
    anchors = TrustAnchors(roots=[x509.load_der_x509_certificate(auth.attestation_root)])
    result = register(reg, reg_challenge, trust_anchors=anchors)
    assert result.fmt == "packed" and result.attestation_type is AttestationType.BASIC and result.attestation_trusted
    assert result.credential_id == websafe_decode(reg["rawId"]) and result.user_present
    assert str(result.aaguid) != "00000000-0000-0000-0000-000000000000"
    theirs = py_webauthn.verify_registration_response(
        credential=reg, expected_challenge=reg_challenge, expected_origin=ORIGIN, expected_rp_id=RP_ID
    )
    assert theirs.credential_id == result.credential_id and theirs.credential_public_key == result.credential_public_key
    auth_result = verify_authentication(
        assertion, expected_challenge=auth_challenge, expected_origin=[ORIGIN, "https://other"],
        expected_rp_id=RP_ID, credential_public_key=result.credential_public_key,
        credential_current_sign_count=result.sign_count,
    )  # fmt: skip
    assert auth_result.new_sign_count > result.sign_count and not auth_result.possible_clone
    theirs_auth = py_webauthn.verify_authentication_response(
        credential=assertion, expected_challenge=auth_challenge, expected_origin=ORIGIN, expected_rp_id=RP_ID,
        credential_public_key=result.credential_public_key, credential_current_sign_count=result.sign_count,
    )  # fmt: skip
    assert theirs_auth.new_sign_count == auth_result.new_sign_count


def _client_data(reg: dict[str, Any], **changes: Any) -> dict[str, Any]:
    reg = copy.deepcopy(reg)
    cd = json.loads(websafe_decode(reg["response"]["clientDataJSON"]))
    cd.update(changes)
    reg["response"]["clientDataJSON"] = websafe_encode(json.dumps(cd).encode())
    return reg


def _att_obj(reg: dict[str, Any], auth_data: bytes | None = None, **changes: Any) -> dict[str, Any]:
    reg = copy.deepcopy(reg)
    obj = cbor.loads(websafe_decode(reg["response"]["attestationObject"]), strict=False)
    if auth_data is not None:
        obj["authData"] = auth_data
    obj.update(changes)
    reg["response"]["attestationObject"] = websafe_encode(cbor.dumps(obj))
    return reg


def _auth_data(reg: dict[str, Any]) -> bytes:
    return bytes(cbor.loads(websafe_decode(reg["response"]["attestationObject"]), strict=False)["authData"])


async def test_registration_checks_each_fail(ceremony: Any) -> None:
    reg, _, ch, _, auth = ceremony
    ad = _auth_data(reg)
    cases: list[tuple[Any, type[VerificationError], dict[str, Any]]] = [
        ("not json", MalformedResponseError, {}),
        ({**reg, "type": "x"}, MalformedResponseError, {}),
        ({**reg, "id": websafe_encode(b"other")}, CredentialIdError, {}),
        (_client_data(reg, type="webauthn.get"), ClientDataTypeError, {}),
        (_client_data(reg, challenge=websafe_encode(b"nope")), ChallengeMismatchError, {}),
        (_client_data(reg, origin="https://evil.example"), OriginMismatchError, {}),
        (_client_data(reg, crossOrigin=True), CrossOriginError, {}),
        (_att_obj(reg, b"\x00" * 32 + ad[32:]), RpIdHashMismatchError, {}),
        (_att_obj(reg, ad[:32] + bytes([ad[32] & ~0x01]) + ad[33:]), UserPresenceError, {}),
        (reg, UserVerificationError, {"require_user_verification": True}),
        (_att_obj(reg, ad[:32] + bytes([ad[32] | 0x10]) + ad[33:]), BackupFlagsError, {}),
        (reg, UnsupportedAlgorithmError, {"supported_algorithms": [-257]}),
        (_att_obj(reg, fmt="tpm-unknown"), AttestationError, {}),
        (_att_obj(reg, attStmt={"alg": -7, "sig": b"bad", "x5c": [b"\x30\x00"]}), AttestationError, {}),
        (_att_obj(reg, auth_data=ad[:-1] + bytes([ad[-1] ^ 1])), AttestationError, {}),  # signature breaks
        (reg, UntrustedAttestationError, {"trust_anchors": TrustAnchors()}),
        (reg, AttestationError, {"now": datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)}),
        (_att_obj(reg, auth_data=ad[:32] + bytes([ad[32] & ~0x40]) + ad[33:37]), MalformedResponseError, {}),
    ]
    for credential, error, kw in cases:
        with pytest.raises(error) as e:
            register(credential, ch, **kw)
        assert str(e.value)
    trusted = TrustAnchors(roots=[x509.load_der_x509_certificate(auth.attestation_root)])
    assert register(reg, ch, trust_anchors=trusted).attestation_trusted


async def test_authentication_checks_each_fail(ceremony: Any) -> None:
    reg, assertion, rch, ach, _ = ceremony
    stored = register(reg, rch)
    kw = {
        "expected_challenge": ach,
        "expected_origin": ORIGIN,
        "expected_rp_id": RP_ID,
        "credential_public_key": stored.credential_public_key,
        "credential_current_sign_count": stored.sign_count,
    }
    ad = websafe_decode(assertion["response"]["authenticatorData"])

    def with_ad(data: bytes) -> dict[str, Any]:
        a = copy.deepcopy(assertion)
        a["response"]["authenticatorData"] = websafe_encode(data)
        return a

    cases: list[tuple[Any, type[VerificationError], dict[str, Any]]] = [
        (_client_data(assertion, type="webauthn.create"), ClientDataTypeError, {}),
        (_client_data(assertion, challenge=websafe_encode(b"x")), ChallengeMismatchError, {}),
        (_client_data(assertion, origin="https://evil"), OriginMismatchError, {}),
        (with_ad(b"\x01" * 32 + ad[32:]), RpIdHashMismatchError, {}),
        (with_ad(ad[:32] + bytes([ad[32] & ~1]) + ad[33:]), UserPresenceError, {}),
        (assertion, UserVerificationError, {"require_user_verification": True}),
        (with_ad(ad[:-1] + bytes([ad[-1] ^ 1])), InvalidSignatureError, {}),
        (assertion, SignCountError, {"credential_current_sign_count": 10**6}),
        ({**assertion, "response": {**assertion["response"], "signature": "!!"}}, MalformedResponseError, {}),
    ]
    for credential, error, extra in cases:
        with pytest.raises(error):
            verify_authentication(credential, **{**kw, **extra})
    flagged = verify_authentication(assertion, **{**kw, "credential_current_sign_count": 10**6},
                                    reject_possible_clone=False)  # fmt: skip
    assert flagged.possible_clone


async def test_zero_counters_are_allowed(ceremony: Any) -> None:
    reg, assertion, rch, ach, _ = ceremony
    stored = register(reg, rch)
    ad = bytearray(websafe_decode(assertion["response"]["authenticatorData"]))
    # a counter of 0 on both sides is fine (authenticators that never count); the signature then fails,
    # which proves the counter check ran first without rejecting
    ad[33:37] = b"\0\0\0\0"
    a = copy.deepcopy(assertion)
    a["response"]["authenticatorData"] = websafe_encode(bytes(ad))
    with pytest.raises(InvalidSignatureError):
        verify_authentication(a, expected_challenge=ach, expected_origin=ORIGIN, expected_rp_id=RP_ID,
                              credential_public_key=stored.credential_public_key,
                              credential_current_sign_count=0)  # fmt: skip


def test_rp_id_rules() -> None:
    assert verify_rp_id("example.com", "https://login.example.com")
    assert verify_rp_id("localhost", "http://localhost:8000")
    assert not verify_rp_id("example.com", "http://example.com")
    assert not verify_rp_id("example.com", "https://badexample.com")
    assert not verify_rp_id("login.example.com", "https://example.com")


async def test_client_rejects_foreign_rp_id() -> None:
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://evil.example")
        with pytest.raises(ClientError, match="not valid for origin"):
            await client.create(creation_options(b"c" * 32))
