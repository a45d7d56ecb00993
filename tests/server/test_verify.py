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
        a: dict[str, Any] = copy.deepcopy(assertion)
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


async def test_challenge_must_be_spelled_exactly_as_base64url(ceremony: Any) -> None:
    """§7.1 step 8 / §7.2 step 12: C.challenge equals base64url(challenge) -- unpadded, url alphabet -- exactly."""
    import base64

    reg, assertion, rch, ach, _ = ceremony
    stored = register(reg, rch)
    kw = {"expected_challenge": ach, "expected_origin": ORIGIN, "expected_rp_id": RP_ID,
          "credential_public_key": stored.credential_public_key, "credential_current_sign_count": 0}  # fmt: skip
    assert len(rch) % 3 and len(ach) % 3  # their base64url needs padding
    for spelling, error in (
        (lambda c: base64.urlsafe_b64encode(c).decode(), ChallengeMismatchError),  # padded
        (lambda c: websafe_encode(c) + "=" * 4, MalformedResponseError),  # padding past the end: not base64url
        (lambda c: base64.b64encode(c).decode().rstrip("="), None),  # standard alphabet, when it has + or /
    ):
        for credential, challenge, verify in (
            (reg, rch, lambda cred: register(cred, rch)),
            (assertion, ach, lambda cred: verify_authentication(cred, **kw)),
        ):
            spelled = spelling(challenge)
            if spelled == websafe_encode(challenge):
                continue  # this challenge has no "+" or "/" in standard base64
            with pytest.raises(error or (ChallengeMismatchError, MalformedResponseError)):
                verify(_client_data(credential, challenge=spelled))


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
    # HTML "is a registrable domain suffix of or is equal to": no public suffix, IP addresses only match themselves
    assert not verify_rp_id("com", "https://example.com")
    assert not verify_rp_id("c.kawasaki.jp", "https://a.b.c.kawasaki.jp")  # *.kawasaki.jp: a wildcard rule
    assert verify_rp_id("b.c.kawasaki.jp", "https://a.b.c.kawasaki.jp")
    assert verify_rp_id("github.io", "https://github.io")  # equal to the host: allowed even for a public suffix
    assert verify_rp_id("Example.COM", "https://LOGIN.example.com")
    assert verify_rp_id("::1", "https://[::1]:8443") and verify_rp_id("[::1]", "https://[::1]")
    assert not verify_rp_id("0.1", "https://10.0.0.1") and not verify_rp_id("10.0.0.1", "https://host.example")
    # secure contexts: http only on localhost, *.localhost and loopback addresses
    assert verify_rp_id("a.localhost", "http://b.a.localhost:8000") and verify_rp_id("127.0.0.1", "http://127.0.0.1")
    assert verify_rp_id("::1", "http://[::1]:80") and not verify_rp_id("10.0.0.1", "http://10.0.0.1")
    assert not verify_rp_id("example.com", "ftp://example.com") and not verify_rp_id("example.com", "not a url")


async def test_client_rejects_foreign_rp_id() -> None:
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://evil.example")
        with pytest.raises(ClientError, match="not valid for origin"):
            await client.create(creation_options(b"c" * 32))


# ---------------------------------------------------------------- hand-made assertions, every COSE algorithm


def make_assertion(
    private_key: Any, alg: int, challenge: bytes, *, counter: int = 5, flags: int = 0x05, user_handle: bytes = b"u1",
    origin: str = ORIGIN, credential_id: bytes = b"cred-1", **client: Any,
) -> dict[str, Any]:  # fmt: skip
    import hashlib
    import struct

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    client_data = json.dumps({"type": "webauthn.get", "challenge": websafe_encode(challenge), "origin": origin,
                              **client}).encode()  # fmt: skip
    auth_data = hashlib.sha256(RP_ID.encode()).digest() + struct.pack(">BI", flags, counter)
    message = auth_data + hashlib.sha256(client_data).digest()
    if alg in (-7, -35, -36):
        h = {-7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512()}[alg]
        signature = private_key.sign(message, ec.ECDSA(h))
    elif alg == -8:
        signature = private_key.sign(message)
    elif alg == -37:
        signature = private_key.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    else:
        h = hashes.SHA1() if alg == -65535 else hashes.SHA256()
        signature = private_key.sign(message, padding.PKCS1v15(), h)
    return {
        "id": websafe_encode(credential_id), "rawId": websafe_encode(credential_id), "type": "public-key",
        "response": {"clientDataJSON": websafe_encode(client_data), "authenticatorData": websafe_encode(auth_data),
                     "signature": websafe_encode(signature), "userHandle": websafe_encode(user_handle)},
    }  # fmt: skip


RSA_KEY: Any = None


def _key_for(alg: int) -> tuple[Any, bytes]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from aioctap.cose import CoseKey

    global RSA_KEY
    if alg in (-7, -35, -36):
        private: Any = ec.generate_private_key({-7: ec.SECP256R1(), -35: ec.SECP384R1(), -36: ec.SECP521R1()}[alg])
    elif alg == -8:
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        RSA_KEY = RSA_KEY or rsa.generate_private_key(65537, 2048)
        private = RSA_KEY
    return private, cbor.dumps(dict(CoseKey.for_alg(alg).from_cryptography_key(private.public_key())))


@pytest.mark.parametrize("alg", [-7, -35, -36, -8, -257, -37, -65535])
def test_assertion_with_every_cose_algorithm(alg: int) -> None:
    private, cose = _key_for(alg)
    challenge = os.urandom(32)
    assertion = make_assertion(private, alg, challenge)
    kw: dict[str, Any] = {"expected_challenge": challenge, "expected_origin": ORIGIN, "expected_rp_id": RP_ID,
                          "credential_public_key": cose, "credential_current_sign_count": 4}  # fmt: skip
    result = verify_authentication(json.dumps(assertion), **kw)
    assert result.new_sign_count == 5 and result.user_verified and result.user_handle == b"u1"
    other, _ = _key_for(alg) if alg not in (-257, -37, -65535) else (None, b"")
    if other is not None:
        with pytest.raises(InvalidSignatureError):
            verify_authentication(make_assertion(other, alg, challenge), **kw)
    with pytest.raises(InvalidSignatureError):
        verify_authentication(_flip_signature(assertion), **kw)


def _flip_signature(assertion: dict[str, Any]) -> dict[str, Any]:
    a = copy.deepcopy(assertion)
    sig = bytearray(websafe_decode(a["response"]["signature"]))
    sig[len(sig) // 2] ^= 1
    a["response"]["signature"] = websafe_encode(bytes(sig))
    return a


def test_assertion_options_of_section_7_2() -> None:
    from aioctap.server.errors import UserHandleError

    private, cose = _key_for(-7)
    challenge = os.urandom(32)
    kw: dict[str, Any] = {"expected_challenge": challenge, "expected_origin": ORIGIN, "expected_rp_id": RP_ID,
                          "credential_public_key": cose, "credential_current_sign_count": 0}  # fmt: skip
    a = make_assertion(private, -7, challenge)
    # step 5: allowCredentials
    assert verify_authentication(a, allowed_credential_ids=[b"x", b"cred-1"], **kw).credential_id == b"cred-1"
    with pytest.raises(CredentialIdError, match="allowCredentials"):
        verify_authentication(a, allowed_credential_ids=[b"x"], **kw)
    # step 6: the user handle names the credential's owner
    assert verify_authentication(a, expected_user_handle=b"u1", **kw).user_handle == b"u1"
    with pytest.raises(UserHandleError):
        verify_authentication(a, expected_user_handle=b"u2", **kw)
    # step 12: topOrigin; crossOrigin allowed only when asked for
    framed = make_assertion(private, -7, challenge, crossOrigin=True, topOrigin="https://shop.example")
    with pytest.raises(CrossOriginError):
        verify_authentication(framed, **kw)
    assert verify_authentication(framed, allow_cross_origin=True, expected_top_origin=["https://shop.example"], **kw)
    with pytest.raises(CrossOriginError, match="topOrigin"):
        verify_authentication(framed, allow_cross_origin=True, expected_top_origin="https://other.example", **kw)
    # step 17-ish: BE must agree with the stored backup eligibility; BS without BE is rejected
    backed = make_assertion(private, -7, challenge, flags=0x1D)
    assert verify_authentication(backed, credential_backup_eligible=True, **kw).backup_state
    with pytest.raises(BackupFlagsError):
        verify_authentication(backed, credential_backup_eligible=False, **kw)
    with pytest.raises(BackupFlagsError):
        verify_authentication(make_assertion(private, -7, challenge, flags=0x15), **kw)
    # step 20: extension outputs (client and authenticator) must have been asked for
    from aioctap.server.errors import UnexpectedExtensionError

    with_ext = {**a, "clientExtensionResults": {"appid": False}}
    assert verify_authentication(with_ext, allowed_extensions=["appid"], **kw)
    with pytest.raises(UnexpectedExtensionError, match="appid"):
        verify_authentication(with_ext, allowed_extensions=[], **kw)
    # step 21: counters; both zero is fine, equal non-zero is a possible clone
    assert verify_authentication(make_assertion(private, -7, challenge, counter=0), **kw).new_sign_count == 0
    with pytest.raises(SignCountError):
        verify_authentication(
            make_assertion(private, -7, challenge, counter=3), **{**kw, "credential_current_sign_count": 3}
        )
    flagged = verify_authentication(
        make_assertion(private, -7, challenge, counter=0),
        **{**kw, "credential_current_sign_count": 3},
        reject_possible_clone=False,
    )
    assert flagged.possible_clone
    # malformed: missing members, bad stored key, wrong credential type
    bad: Any
    for bad in ({**a, "response": {**a["response"], "authenticatorData": None}},
                {**a, "response": {**a["response"], "signature": None}},
                {**a, "response": {**a["response"], "authenticatorData": websafe_encode(b"short")}},
                {**a, "rawId": None}, {**a, "id": 5}, {**a, "response": "x"}, [1, 2], "{"):  # fmt: skip
        with pytest.raises(MalformedResponseError):
            verify_authentication(bad, **kw)
    with pytest.raises(MalformedResponseError, match="stored credential public key"):
        verify_authentication(a, **{**kw, "credential_public_key": b"\xa1\x01\x02"})
    with pytest.raises(OriginMismatchError):
        verify_authentication(make_assertion(private, -7, challenge, origin="https://example.com:8443"), **kw)
    assert verify_authentication(make_assertion(private, -7, challenge, origin="https://a.example.com"),
                                 **{**kw, "expected_origin": ["https://a.example.com", ORIGIN]})  # fmt: skip
    with pytest.raises(RpIdHashMismatchError):
        verify_authentication(a, **{**kw, "expected_rp_id": ["other.example", "example.org"]})
    assert verify_authentication(a, **{**kw, "expected_rp_id": ["other.example", RP_ID]})


async def test_registration_options_of_section_7_1(ceremony: Any) -> None:
    from aioctap.server.errors import (
        AttestationSignatureError,
        MalformedAttestationError,
        UnsupportedAttestationFormatError,
    )

    reg, _, ch, _, _ = ceremony
    assert register(json.dumps(reg), ch).fmt == "packed"  # a JSON string works as well as a dict
    with pytest.raises(UnsupportedAttestationFormatError):
        register(_att_obj(reg, fmt="x-unknown"), ch)
    with pytest.raises(MalformedAttestationError):
        register(_att_obj(reg, attStmt={"alg": -7}), ch)
    with pytest.raises(UntrustedAttestationError, match="none attestation"):
        register(_att_obj(reg, fmt="none", attStmt={}), ch, require_attestation=True)
    assert register(_att_obj(reg, fmt="none", attStmt={}), ch).attestation_type is AttestationType.NONE
    framed = _client_data(reg, crossOrigin=True, topOrigin="https://shop.example")
    with pytest.raises(CrossOriginError):
        register(framed, ch)
    # the origin checks pass; then the attestation signature (over the changed client data) fails
    with pytest.raises(AttestationSignatureError):
        register(framed, ch, allow_cross_origin=True, expected_top_origin="https://shop.example")
    with pytest.raises(CrossOriginError, match="topOrigin"):
        register(framed, ch, allow_cross_origin=True, expected_top_origin=["https://other.example"])
    for bad in ({**reg, "response": {**reg["response"], "attestationObject": None}},
                {**reg, "response": {**reg["response"], "clientDataJSON": "***"}},
                {**reg, "response": {**reg["response"], "attestationObject": websafe_encode(b"\xff")}},
                {**reg, "response": {**reg["response"], "attestationObject": websafe_encode(cbor.dumps([1]))}},
                {**reg, "response": {**reg["response"], "transports": "usb"}},
                _att_obj(reg, fmt=7)):  # fmt: skip
        with pytest.raises(MalformedResponseError):
            register(bad, ch)
    # step 19: extension outputs must have been asked for
    from aioctap.server.errors import UnexpectedExtensionError

    with_ext = {**reg, "clientExtensionResults": {"credProps": {"rk": False}}}
    assert register(with_ext, ch, allowed_extensions={"credProps"}).fmt == "packed"
    with pytest.raises(UnexpectedExtensionError, match="credProps"):
        register(with_ext, ch, allowed_extensions=set())
    with pytest.raises(MalformedResponseError):
        register({**reg, "clientExtensionResults": []}, ch, allowed_extensions=set())
    # step 24: a credential ID over 1023 bytes
    ad = _auth_data(reg)
    old_len = int.from_bytes(ad[53:55], "big")
    too_long = ad[:53] + (1024).to_bytes(2, "big") + b"\x07" * 1024 + ad[55 + old_len :]
    with pytest.raises(CredentialIdError, match="1023"):
        register(_att_obj(reg, auth_data=too_long), ch)
    result = register({**reg, "response": {**reg["response"], "transports": ["usb", "nfc"]}}, ch)
    assert result.transports == ("usb", "nfc") and result.alg in (-7, -8) and result.sign_count >= 0
    assert not result.backup_eligible and not result.backup_state and result.user_present


def test_client_data_limited_verification_and_full_parse_agree() -> None:
    """§5.8.1.2: the browser's exact serialization is checked by prefix; anything else by a JSON parse, so
    a member repeated or escaped after the prefix cannot slip past."""
    import hashlib
    import struct

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    private, cose = _key_for(-7)
    challenge = os.urandom(32)
    kw: dict[str, Any] = {"expected_challenge": challenge, "expected_origin": ORIGIN, "expected_rp_id": RP_ID,
                          "credential_public_key": cose, "credential_current_sign_count": 0}  # fmt: skip
    head = f'{{"type":"webauthn.get","challenge":"{websafe_encode(challenge)}","origin":"{ORIGIN}","crossOrigin":false'

    def signed(client_data: str) -> dict[str, Any]:
        auth_data = hashlib.sha256(RP_ID.encode()).digest() + struct.pack(">BI", 0x01, 1)
        raw = client_data.encode()
        sig = private.sign(auth_data + hashlib.sha256(raw).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": "Y3JlZA", "rawId": "Y3JlZA", "type": "public-key",
                "response": {"clientDataJSON": websafe_encode(raw), "authenticatorData": websafe_encode(auth_data),
                             "signature": websafe_encode(sig)}}  # fmt: skip

    accepted = [
        head + "}",
        head + ',"other_keys_can_be_added_here":"do not compare clientDataJSON against a template"}',
        f'{{"origin":"{ORIGIN}","challenge":"{websafe_encode(challenge)}","type":"webauthn.get"}}',  # other order
        head.replace('"crossOrigin":false', '"crossOrigin": false') + "}",
    ]
    for client_data in accepted:
        assert verify_authentication(signed(client_data), **kw).new_sign_count == 1
    rejected: list[tuple[str, type[VerificationError]]] = [
        (head + ',"type":"webauthn.create"}', ClientDataTypeError),  # the last duplicate wins in a JSON parse
        (head + ',"t\\u0079pe":"webauthn.create"}', ClientDataTypeError),  # an escaped duplicate
        (head + ',"origin":"https://evil.example"}', OriginMismatchError),
        (head + ',"topOrigin":"https://evil.example"}', CrossOriginError),
        (head + ',"challenge":"AAAA"}', ChallengeMismatchError),
        (head + ",", MalformedResponseError),
        (head.replace(ORIGIN, "https://evil.example") + "}", OriginMismatchError),
        (head.replace("webauthn.get", "webauthn.create") + "}", ClientDataTypeError),
    ]
    for client_data, error in rejected:
        with pytest.raises(error):
            verify_authentication(signed(client_data), **kw)


def test_localhost_is_an_rp_id_for_its_subdomains() -> None:
    # python-fido2's rule (its test_rpid.py) and browsers': *.localhost is a secure context and "localhost" an RP ID
    # for it (RFC 6761 §6.3 reserves the names for loopback; the PSL's default rule alone would call it public)
    assert verify_rp_id("localhost", "http://example.localhost")
    assert verify_rp_id("localhost", "https://a.b.localhost:8443")
    assert verify_rp_id("example.localhost", "http://example.localhost")
    assert not verify_rp_id("localhost", "http://")
    assert not verify_rp_id("localhost", "http://localhost.example.com")
    assert not verify_rp_id("localhost", "http://example-localhost")
    assert not verify_rp_id("other.localhost", "http://example.localhost")
