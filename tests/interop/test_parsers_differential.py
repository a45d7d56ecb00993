"""Differential checks of the shared data model: aioctap against python-fido2 (and py_webauthn) on the same bytes.

* CTAP2 canonical CBOR (CTAP 2.1 §8): aioctap's encoding must be byte-for-byte python-fido2's, and aioctap's
  strict decoder must accept what python-fido2 (and Chromium's ``CTAPLess``) consider canonical.
* authenticator data (WebAuthn L3 §6.1): whatever aioctap accepts, python-fido2 and py_webauthn accept and read
  the same way; aioctap never fails with anything else than its typed ``WebAuthnDataError``.
* client data (§5.8.1): aioctap and python-fido2 write the same bytes and read the same members.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fido2 import cbor as fido2_cbor
from fido2.webauthn import AuthenticatorData as Fido2AuthenticatorData
from fido2.webauthn import CollectedClientData as Fido2ClientData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webauthn.helpers import parse_authenticator_data, parse_client_data_json

from aioctap import cbor
from aioctap.cose import ES256, EdDSA
from aioctap.webauthn import AuthenticatorData, CollectedClientData, WebAuthnDataError, websafe_encode

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

# -- CBOR -----------------------------------------------------------------------------------------------------

LEAVES = (
    st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=40) | st.text(max_size=40) | st.booleans()
)  # python-fido2's encoder has no null


def same_major_type_maps(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Maps whose keys all have one CBOR major type (non-negative ints, negative ints, or text)."""
    return (
        st.dictionaries(st.integers(0, 2**32), children, max_size=6)
        | st.dictionaries(st.integers(-(2**32), -1), children, max_size=6)
        | st.dictionaries(st.text(max_size=8), children, max_size=6)
    )


VALUES = st.recursive(LEAVES, lambda ch: st.lists(ch, max_size=5) | same_major_type_maps(ch), max_leaves=25)


@SETTINGS
@given(VALUES)
def test_cbor_encoding_matches_python_fido2(value: Any) -> None:
    ours = cbor.dumps(value)
    assert ours == fido2_cbor.encode(value)
    assert cbor.loads(ours) == value == fido2_cbor.decode(ours)


# CTAP 2.1 §8 "CTAP2 canonical CBOR encoding form": map keys sort by major type first, then by the length of
# their encoding, then bytewise (Chromium's cbor::Value::Less, python-fido2's encoder). RFC 7049 §3.9 ordering
# (cbor2's canonical=True) skips the first rule and differs when a longer key has a lower major type.
MIXED_KEY_MAPS = [
    ({24: "a", -1: "b"}, "a218186161206162"),  # 24 (major 0, 2 bytes) before -1 (major 1, 1 byte)
    ({256: 1, "a": 2}, "a219010001616102"),  # an int before a text key, whatever their lengths
    ({"a": 3, -1: 1, 24: 2}, "a31818022001616103"),
]


@pytest.mark.parametrize(("value", "expected"), MIXED_KEY_MAPS)
def test_cbor_mixed_major_type_keys_in_ctap2_order(value: dict[Any, Any], expected: str) -> None:
    canonical = bytes.fromhex(expected)
    assert fido2_cbor.encode(value) == canonical  # the reference agrees with the spec
    assert cbor.loads(canonical) == value  # strict decoding accepts the canonical form
    assert cbor.dumps(value) == canonical


# -- authenticator data ----------------------------------------------------------------------------------------

_EC_KEY = dict(ES256.from_cryptography_key(ec.derive_private_key(7, ec.SECP256R1()).public_key()))
_ED_KEY = dict(EdDSA.from_cryptography_key(ed25519.Ed25519PrivateKey.from_private_bytes(b"\1" * 32).public_key()))


@st.composite
def authenticator_data(draw: st.DrawFn) -> bytes:
    """Mostly well-formed authenticator data, with flags that may lie and a tail that may be cut or extended."""
    flags = draw(st.integers(0, 255))
    data = hashlib.sha256(draw(st.binary(max_size=8))).digest() + struct.pack(
        ">BI", flags, draw(st.integers(0, 2**32 - 1))
    )
    if draw(st.booleans()) if flags & 0x40 else draw(st.integers(0, 9)) == 0:
        cred_id = draw(st.binary(max_size=80))
        key = draw(st.sampled_from([_EC_KEY, _ED_KEY, {**_EC_KEY, 3: -8}, {1: 2, 3: -7}, {**_ED_KEY, 99: 1}]))
        data += draw(st.binary(min_size=16, max_size=16)) + struct.pack(">H", len(cred_id)) + cred_id
        data += cbor.dumps(key)
    if draw(st.booleans()) if flags & 0x80 else draw(st.integers(0, 9)) == 0:
        ext = draw(
            st.sampled_from([{"credProtect": 2}, {"hmac-secret": True}, {"credBlob": b"xyz"}, {"a": [1, "b"]}, {1: 2}])
        )
        data += cbor.dumps(ext)
    cut = draw(st.integers(0, 3))
    if cut == 1:
        data = data[: draw(st.integers(0, len(data)))]
    elif cut == 2:
        data += draw(st.binary(min_size=1, max_size=3))
    return data


def _fido2_public_key(cred: Any) -> dict[Any, Any]:
    return dict(cred.public_key)


@SETTINGS
@given(authenticator_data())
def test_authenticator_data_accepted_by_aioctap_reads_the_same_everywhere(raw: bytes) -> None:
    try:
        ours = AuthenticatorData(raw)
    except WebAuthnDataError:
        return  # a typed refusal; any other exception fails the test
    theirs = Fido2AuthenticatorData(raw)
    parsed = parse_authenticator_data(raw)
    assert ours.rp_id_hash == theirs.rp_id_hash == parsed.rp_id_hash
    assert ours.flags == theirs.flags
    assert ours.counter == theirs.counter == parsed.sign_count
    assert ours.is_user_present() == parsed.flags.up and ours.is_user_verified() == parsed.flags.uv
    assert ours.is_backup_eligible() == parsed.flags.be and ours.is_backed_up() == parsed.flags.bs
    assert ours.extensions == theirs.extensions
    if ours.credential_data is None:
        assert theirs.credential_data is None and parsed.attested_credential_data is None
    else:
        assert theirs.credential_data is not None and parsed.attested_credential_data is not None
        assert ours.credential_data.credential_id == theirs.credential_data.credential_id
        assert ours.credential_data.credential_id == parsed.attested_credential_data.credential_id
        assert bytes(ours.credential_data.aaguid) == bytes(theirs.credential_data.aaguid)
        assert dict(ours.credential_data.public_key) == _fido2_public_key(theirs.credential_data)
        assert dict(ours.credential_data.public_key) == cbor.loads(
            parsed.attested_credential_data.credential_public_key, strict=False
        )


# -- client data -----------------------------------------------------------------------------------------------

ORIGINS = st.sampled_from(["https://example.com", "https://login.example.com:8443", "http://localhost:8000"])


@SETTINGS
@given(
    typ=st.sampled_from(["webauthn.create", "webauthn.get"]),
    challenge=st.binary(min_size=16, max_size=64),
    origin=ORIGINS,
    cross_origin=st.booleans(),
)
def test_client_data_written_and_read_alike(typ: str, challenge: bytes, origin: str, cross_origin: bool) -> None:
    ours = CollectedClientData.create(typ, challenge, origin, cross_origin)
    # §5.8.1.1: the members in this order, no white space: the bytes a browser (and python-fido2) writes
    expected = (
        f'{{"type":"{typ}","challenge":"{websafe_encode(challenge)}","origin":"{origin}",'
        f'"crossOrigin":{"true" if cross_origin else "false"}}}'
    ).encode()
    assert bytes(ours) == expected == bytes(Fido2ClientData.create(typ, challenge, origin, cross_origin))
    theirs, parsed = Fido2ClientData(bytes(ours)), parse_client_data_json(bytes(ours))
    assert ours.type == theirs.type == parsed.type
    assert ours.challenge == theirs.challenge == parsed.challenge
    assert ours.origin == theirs.origin == parsed.origin
    assert ours.cross_origin == theirs.cross_origin == parsed.cross_origin
    assert ours.hash == theirs.hash == hashlib.sha256(expected).digest()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda ch: st.lists(ch, max_size=3) | st.dictionaries(st.text(max_size=6), ch, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(
    members=st.dictionaries(
        st.sampled_from(["type", "challenge", "origin", "crossOrigin", "topOrigin", "other"]), JSON_VALUES, max_size=6
    ),
    challenge=st.binary(max_size=40),
)
def test_client_data_accepted_by_aioctap_reads_the_same(members: dict[str, Any], challenge: bytes) -> None:
    if "challenge" in members and isinstance(members["challenge"], str):
        members["challenge"] = websafe_encode(challenge)
    raw = json.dumps(members).encode()
    try:
        ours = CollectedClientData(raw)
    except WebAuthnDataError:
        return
    theirs = Fido2ClientData(raw)
    assert (ours.type, ours.challenge, ours.origin) == (theirs.type, theirs.challenge, theirs.origin)
    assert ours.cross_origin == theirs.cross_origin
    assert ours.hash == theirs.hash
