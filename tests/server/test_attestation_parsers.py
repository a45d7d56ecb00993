"""Property tests: the parsers of untrusted attestation bytes (TPM structures, DER extensions, JWS) raise only
their typed error, and round-trip what they accept."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap.server.attestation import _der
from aioctap.server.attestation.android_key import KeyDescription
from aioctap.server.attestation.android_safetynet import Jws
from aioctap.server.attestation.tpm import TPM_ST_ATTEST_CERTIFY, TpmsAttest, TpmtPublic
from aioctap.server.errors import AttestationError, MalformedAttestationError, MetadataError
from aioctap.server.mds import MetadataEntry

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tpm2b(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


@SETTINGS
@given(st.binary(max_size=200))
def test_tpms_attest_rejects_garbage_with_typed_error(data: bytes) -> None:
    try:
        TpmsAttest.parse(data)
    except MalformedAttestationError:
        pass


@SETTINGS
@given(
    st.binary(max_size=40),
    st.binary(max_size=64),
    st.binary(max_size=40),
    st.binary(max_size=40),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**32 - 1),
)
def test_tpms_attest_round_trip(signer: bytes, extra: bytes, name: bytes, qname: bytes, clock: int, reset: int) -> None:
    data = (
        struct.pack(">IH", 0xFF544347, TPM_ST_ATTEST_CERTIFY)
        + tpm2b(signer)
        + tpm2b(extra)
        + struct.pack(">QIIB", clock, reset, 7, 1)
        + struct.pack(">Q", 42)
        + tpm2b(name)
        + tpm2b(qname)
    )
    parsed = TpmsAttest.parse(data)
    assert (parsed.qualified_signer, parsed.extra_data, parsed.attested_name) == (signer, extra, name)
    assert (parsed.clock, parsed.reset_count, parsed.attested_qualified_name) == (clock, reset, qname)
    for cut in range(len(data)):
        try:
            TpmsAttest.parse(data[:cut])
        except MalformedAttestationError:
            continue
        raise AssertionError(f"truncated certInfo of {cut} bytes parsed")


@SETTINGS
@given(st.binary(max_size=300))
def test_tpmt_public_rejects_garbage_with_typed_error(data: bytes) -> None:
    try:
        TpmtPublic.parse(data)
    except MalformedAttestationError:
        pass


@SETTINGS
@given(st.sampled_from([0x0001, 0x0023]), st.binary(max_size=300), st.binary(max_size=66))
def test_tpmt_public_round_trip(kind: int, unique: bytes, unique_y: bytes) -> None:
    head = struct.pack(">HHI", kind, 0x000B, 0x00060472) + tpm2b(b"") + struct.pack(">HH", 0x0010, 0x0010)
    if kind == 0x0001:
        data = head + struct.pack(">HI", 2048, 0) + tpm2b(unique)
    else:
        data = head + struct.pack(">HH", 0x0003, 0x0010) + tpm2b(unique) + tpm2b(unique_y)
    parsed = TpmtPublic.parse(data)
    assert parsed.type == kind and parsed.unique == unique
    try:
        TpmtPublic.parse(data[:-1])
    except MalformedAttestationError:
        pass
    else:
        raise AssertionError("truncated pubArea parsed")


der_leaf = st.builds(
    lambda tag, body: bytes([tag, len(body)]) + body, st.sampled_from([2, 4, 5, 10]), st.binary(max_size=20)
)


@st.composite
def der_tree(draw: Any, depth: int = 0) -> bytes:
    if depth > 3 or draw(st.booleans()):
        out: bytes = draw(der_leaf)
        return out
    children = b"".join(draw(st.lists(der_tree(depth + 1), max_size=4)))
    tag = draw(st.sampled_from([0x30, 0x31, 0xA1, 0xBF]))
    prefix = bytes([tag]) + (b"\x85\x3e" if tag == 0xBF else b"")
    n = len(children)
    length = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 256 else bytes([0x82]) + n.to_bytes(2, "big")
    return prefix + length + children


@SETTINGS
@given(der_tree())
def test_der_reader_accepts_what_it_should(data: bytes) -> None:
    def walk(tlvs: list[_der.Tlv]) -> int:
        return sum(1 + (walk(t.children()) if t.constructed else 0) for t in tlvs)

    assert walk([_der.parse_one(data)]) >= 1
    try:
        KeyDescription.parse(data)
    except MalformedAttestationError:
        pass


@SETTINGS
@given(st.one_of(st.binary(max_size=120), der_tree().map(lambda d: d[:-1] + b"\xff")))
def test_der_reader_and_key_description_reject_garbage(data: bytes) -> None:
    for parse in (_der.parse_all, KeyDescription.parse):
        try:
            parse(data)
        except MalformedAttestationError:
            pass


def _b64u(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200),
        st.tuples(json_values, json_values, st.binary(max_size=8)).map(
            lambda t: f"{_b64u(t[0])}.{_b64u(t[1])}.{base64.urlsafe_b64encode(t[2]).decode().rstrip('=')}"
        ),
    )
)
def test_jws_rejects_garbage_with_typed_error(token: bytes | str) -> None:
    try:
        jws = Jws.parse(token)
    except MalformedAttestationError:
        return
    try:
        jws.certificates()
    except AttestationError:
        pass


@SETTINGS
@given(json_values)
def test_metadata_entry_rejects_garbage_with_typed_error(obj: Any) -> None:
    try:
        MetadataEntry.parse(obj)
    except MetadataError:
        pass


_STMT_KEYS = st.sampled_from(["alg", "sig", "x5c", "ver", "certInfo", "pubArea", "response", "ecdaaKeyId"])
_STMT_VALUES = st.one_of(
    st.binary(max_size=64),
    st.integers(-300, 300),
    st.text(max_size=8),
    st.none(),
    st.lists(st.binary(max_size=64), max_size=3),
)


@SETTINGS
@given(
    st.sampled_from(["packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple", "none"]),
    st.dictionaries(_STMT_KEYS, _STMT_VALUES, max_size=6),
)
def test_verify_attestation_raises_only_attestation_errors(fmt: str, stmt: dict[str, Any]) -> None:
    import datetime
    import hashlib

    from aioctap.cose import ES256
    from aioctap.server import verify_attestation
    from aioctap.webauthn import AttestedCredentialData, AuthenticatorData

    key = ES256({1: 2, 3: -7, -1: 1, -2: _X, -3: _Y})
    auth_data = AuthenticatorData.create(
        hashlib.sha256(b"rp").digest(), 0x41, 1, AttestedCredentialData.create(b"\1" * 16, b"id", key)
    )
    try:
        verify_attestation(fmt, stmt, auth_data, b"\0" * 32, now=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    except AttestationError:
        pass


# a valid P-256 point (the generator)
_X = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
_Y = bytes.fromhex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")


@SETTINGS
@given(st.binary(max_size=80))
def test_websafe_round_trip(data: bytes) -> None:
    from aioctap.webauthn import websafe_decode, websafe_encode

    text = websafe_encode(data)
    assert (
        websafe_decode(text) == data == websafe_decode(text + "=" * (-len(text) % 4)) == websafe_decode(text.encode())
    )


@SETTINGS
@given(st.text(max_size=40) | st.binary(max_size=40))
def test_websafe_decode_rejects_garbage_with_typed_error(text: str | bytes) -> None:
    from aioctap.webauthn import WebAuthnDataError, websafe_decode

    try:
        out = websafe_decode(text)
    except WebAuthnDataError:
        return
    as_text = text if isinstance(text, str) else text.decode("ascii")
    assert not set(as_text) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert base64.urlsafe_b64decode(as_text + "==") == out
