"""WebAuthn binary data model: authenticator data, attested credential data, client data, base64url."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.cose import ES256
from aioctap.webauthn import (
    Aaguid,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    WebAuthnDataError,
    websafe_decode,
    websafe_encode,
)

RP_HASH = hashlib.sha256(b"example.com").digest()


def _key() -> ES256:
    key = ES256.from_cryptography_key(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert isinstance(key, ES256)
    return key


def test_authenticator_data_round_trip_with_credential_and_extensions() -> None:
    acd = AttestedCredentialData.create(b"\x11" * 16, b"cred-id", _key())
    flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT
    ad = AuthenticatorData.create(RP_HASH, flags | AuthenticatorData.FLAG.ED, 7, acd, {"credProtect": 2})
    parsed = AuthenticatorData(bytes(ad))
    assert parsed.rp_id_hash == RP_HASH
    assert parsed.counter == 7
    assert parsed.is_user_present() and parsed.is_user_verified() and parsed.is_attested()
    assert not parsed.is_backup_eligible() and not parsed.is_backed_up()
    assert parsed.credential_data == acd
    assert parsed.extensions == {"credProtect": 2}
    assert str(parsed.credential_data.aaguid) == "11111111-1111-1111-1111-111111111111"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\0" * 36, "at least 37"),
        (RP_HASH + b"\x41" + b"\0\0\0\1" + b"\0" * 10, "shorter than 18"),
        (RP_HASH + b"\x41" + b"\0\0\0\1" + b"\0" * 16 + b"\x00\x20" + b"x", "runs past"),
        (RP_HASH + b"\x01" + b"\0\0\0\1" + b"junk", "trailing"),
        (RP_HASH + b"\x81" + b"\0\0\0\1" + b"\xff", "extensions"),
        (RP_HASH + b"\x81" + b"\0\0\0\1" + b"\xa1\x01\x02", "text keys"),
    ],
)
def test_malformed_authenticator_data(data: bytes, message: str) -> None:
    with pytest.raises(WebAuthnDataError, match=message):
        AuthenticatorData(data)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_authenticator_data_any_bytes(data: bytes) -> None:
    try:
        AuthenticatorData(data)
    except WebAuthnDataError:
        pass


@settings(max_examples=200)
@given(st.binary(min_size=37, max_size=120))
def test_authenticator_data_with_flags_any_bytes(data: bytes) -> None:
    for flag in (0x40, 0x80, 0xC0):
        try:
            AuthenticatorData(data[:32] + bytes([flag]) + data[33:])
        except WebAuthnDataError:
            pass


def test_client_data() -> None:
    cd = CollectedClientData.create(CollectedClientData.TYPE.CREATE, b"\x01\x02", "https://example.com")
    assert cd.type == "webauthn.create"
    assert cd.challenge == b"\x01\x02"
    assert cd.origin == "https://example.com"
    assert cd.cross_origin is False
    assert cd.hash == hashlib.sha256(bytes(cd)).digest()


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b"[]",
        json.dumps({"type": "webauthn.get", "origin": "x"}).encode(),
        json.dumps({"type": "webauthn.get", "origin": "x", "challenge": "***"}).encode(),
        json.dumps({"type": "webauthn.get", "origin": "x", "challenge": "AA", "crossOrigin": "no"}).encode(),
        json.dumps({"type": 1, "origin": "x", "challenge": "AA"}).encode(),
    ],
)
def test_malformed_client_data(raw: bytes) -> None:
    with pytest.raises(WebAuthnDataError):
        CollectedClientData(raw)


@settings(max_examples=200)
@given(st.binary(max_size=100))
def test_client_data_any_bytes(data: bytes) -> None:
    try:
        CollectedClientData(data)
    except WebAuthnDataError:
        pass


@given(st.binary(max_size=64))
def test_websafe_round_trip(data: bytes) -> None:
    encoded = websafe_encode(data)
    assert "=" not in encoded
    assert websafe_decode(encoded) == data
    assert websafe_decode(encoded + "=" * (-len(encoded) % 4)) == data


@pytest.mark.parametrize("bad", ["a", "ab+c", "ab/c", "a b", "é", 5])
def test_websafe_rejects(bad: object) -> None:
    with pytest.raises(WebAuthnDataError):
        websafe_decode(bad)  # type: ignore[arg-type]


def test_aaguid() -> None:
    assert not Aaguid.NONE
    assert Aaguid.parse("11111111-1111-1111-1111-111111111111") == b"\x11" * 16
    with pytest.raises(WebAuthnDataError):
        Aaguid(b"short")


def test_attested_credential_data_is_python_fido2s_bytes() -> None:
    acd = AttestedCredentialData.create(b"\x11" * 16, b"cred-id", _key())
    raw = bytes(acd)
    assert isinstance(acd, bytes) and acd == raw and type(raw) is bytes
    parsed = AttestedCredentialData(raw)
    assert parsed == acd and parsed.credential_id == b"cred-id" and parsed.aaguid == b"\x11" * 16
    assert parsed.public_key == acd.public_key and isinstance(parsed.aaguid, Aaguid)
    assert AttestedCredentialData(acd.aaguid, acd.credential_id, acd.public_key) == raw
    assert "credential_id=b'cred-id'" in repr(acd) and str(acd) == repr(acd)
    with pytest.raises(AttributeError):
        acd.credential_id = b"other"  # type: ignore[misc]
    with pytest.raises(WebAuthnDataError, match="trailing"):
        AttestedCredentialData(raw + b"\x00")
    with pytest.raises(WebAuthnDataError):
        AttestedCredentialData(raw[:17])
    with pytest.raises(TypeError):
        AttestedCredentialData(b"\x11" * 16, b"cred-id")  # type: ignore[call-overload]
    rest = b"tail"
    assert AttestedCredentialData.unpack_from(raw + rest) == (acd, rest)


def test_attested_credential_data_copies_and_pickles() -> None:
    import copy
    import pickle

    acd = AttestedCredentialData.create(b"\x11" * 16, b"cred-id", _key())
    for again in (copy.copy(acd), copy.deepcopy(acd), pickle.loads(pickle.dumps(acd))):
        assert again == acd and type(again) is AttestedCredentialData and again.public_key == acd.public_key
