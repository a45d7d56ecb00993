"""An attacker's inputs to the parsers added for python-fido2's names: U2F registration data (ctap1), attested
credential data (webauthn), HID report descriptors (hid.base), MDS3 dataclasses (mds3), AttestationVerifier's
ca_lookup (attestation), the fully-specified COSE algorithms (cose) and cbor.encode/decode. Every malformed input
is the module's typed error (what was wrong), never struct.error/IndexError/KeyError/TypeError/RecursionError."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.cose import ES256, ES256K, ESP256, ESP384, ESP512, CoseError, CoseKey, Ed448, Ed25519
from aioctap.ctap1 import RegistrationData, SignatureData, U2fResponseError
from aioctap.hid.base import parse_report_descriptor
from aioctap.webauthn import AttestedCredentialData, WebAuthnDataError

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- ctap1: RegistrationData ------------------------------------------------------------------------------

KEY = b"\x04" + bytes(64)
CERT = b"\x30\x03\x02\x01\x01"


def _reg(kh: bytes = b"\x01" * 16, cert: bytes = CERT, sig: bytes = b"\x30\x00") -> bytes:
    return b"\x05" + KEY + bytes([len(kh)]) + kh + cert + sig


def test_registration_data_parses_its_members() -> None:
    reg = RegistrationData(_reg())
    assert (reg.public_key, reg.key_handle, reg.certificate, reg.signature) == (KEY, b"\x01" * 16, CERT, b"\x30\x00")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"", "0x05"),
        (b"\x04" + _reg()[1:], "0x05"),
        (_reg()[:66], "0x05"),
        (b"\x05" + KEY + b"\xff" + b"\x01" * 10, "truncated"),  # key handle length beyond the data
        (_reg(cert=b"\x31\x03\x02\x01\x01"), "not DER"),
        (_reg(cert=b"\x30\x80\x00\x00"), "DER length"),  # indefinite length
        (_reg(cert=b"\x30\x84\xff\xff\xff\xff"), "DER length"),  # 4 length bytes
        (_reg(cert=b"\x30\x83\xff\xff\xff"), "no signature"),  # a 16 MiB certificate in a short message
        (_reg(sig=b""), "no signature"),
    ],
)
def test_malformed_registration_data(data: bytes, what: str) -> None:
    with pytest.raises(U2fResponseError, match=what):
        RegistrationData(data)
    with pytest.raises(U2fResponseError, match=what):
        RegistrationData.from_bytes(data)


@pytest.mark.parametrize("value", ["x" * 100, 10**12, None, 1.5, [5] * 100])
def test_registration_data_of_a_non_bytes_value(value: Any) -> None:
    # 10**12 was bytes(10**12): a terabyte of zeros allocated before the parse; None and str were TypeErrors
    with pytest.raises(U2fResponseError, match="must be bytes"):
        RegistrationData(value)


@pytest.mark.parametrize("value", ["x" * 100, 10**12, None, [5] * 100])
def test_attested_credential_data_of_a_non_bytes_value(value: Any) -> None:
    with pytest.raises(WebAuthnDataError, match="must be bytes"):
        AttestedCredentialData(value)


@pytest.mark.parametrize("text", ["", "!!!!", "é", "AAA", "A" * 5, 5, None, b"\xff"])
def test_registration_data_from_bad_b64(text: Any) -> None:
    with pytest.raises(U2fResponseError):
        RegistrationData.from_b64(text)


@SETTINGS
@given(st.one_of(st.binary(max_size=400), st.builds(_reg, st.binary(max_size=255), st.binary(max_size=40))))
def test_registration_data_any_bytes(data: bytes) -> None:
    try:
        reg = RegistrationData(data)
    except U2fResponseError:
        return
    assert bytes(reg) == data
    assert RegistrationData(reg.public_key, reg.key_handle, reg.certificate, reg.signature) == data
    try:
        reg.verify(b"\x00" * 32, b"\x01" * 32)
    except (U2fResponseError, InvalidSignature):
        pass


@SETTINGS
@given(st.binary(max_size=200), st.binary(max_size=70))
def test_signature_data_any_bytes(data: bytes, public_key: bytes) -> None:
    try:
        sig = SignatureData.from_bytes(data)
    except U2fResponseError:
        return
    try:
        sig.verify(b"\x00" * 32, b"\x01" * 32, public_key)
    except (U2fResponseError, InvalidSignature):
        pass


# -- webauthn: AttestedCredentialData ---------------------------------------------------------------------

COSE = cbor.dumps(dict(ES256.from_cryptography_key(ec.generate_private_key(ec.SECP256R1()).public_key())))


def _acd(cred_id: bytes = b"\x07" * 16, key: bytes = COSE, length: int | None = None) -> bytes:
    n = len(cred_id) if length is None else length
    return b"\x01" * 16 + n.to_bytes(2, "big") + cred_id + key


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01" * 17,
        _acd(length=0xFFFF),  # credential ID length beyond the data
        _acd(length=17),
        _acd(key=b""),
        _acd(key=b"\xff"),
        _acd(key=b"\x1c"),  # reserved additional information
        _acd(key=cbor.dumps([1, 2])),  # not a map
        _acd(key=cbor.dumps({"a": 1})),
        _acd(key=cbor.dumps({3: "x"})),
        _acd(key=cbor.dumps({3: True})),
        _acd(key=b"\xa1" * 5000 + b"\x00"),  # nesting
        _acd(key=COSE[:-1]),
        _acd() + b"\x00",  # trailing data
        _acd(key=cbor.dumps({1: 2, 3: -9, -1: 1, -2: b"x" * 32, -3: 5})),
    ],
)
def test_malformed_attested_credential_data(data: bytes) -> None:
    with pytest.raises(WebAuthnDataError):
        AttestedCredentialData(data)


@SETTINGS
@given(st.one_of(st.binary(max_size=300), st.builds(_acd, st.binary(max_size=40), st.binary(max_size=100))))
def test_attested_credential_data_any_bytes(data: bytes) -> None:
    try:
        acd = AttestedCredentialData(data)
    except WebAuthnDataError:
        return
    assert bytes(acd) == data
    repr(acd)


# -- hid.base: parse_report_descriptor --------------------------------------------------------------------

FIDO = bytes.fromhex("06d0f10901a1010920150026ff007508954081020921150026ff00750895409102c0")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (bytes.fromhex("06d0"), "truncated"),  # a 2-byte usage page item cut after one byte
        (bytes.fromhex("06d0f10901a101750897ffff"), "truncated"),  # a 4-byte report count cut short
        (bytes.fromhex("fe05"), "truncated"),  # a long item with no tag
        (bytes.fromhex("fe0500aa"), "truncated"),  # a long item's data beyond the descriptor
        # report size 0xFFFFFFFF bits x count 0xFFFFFFFF: an absurd report a host must not allocate
        (bytes.fromhex("06d0f10901a10177ffffffff97ffffffff810291 02c0".replace(" ", "")), "report"),
    ],
)
def test_malformed_report_descriptor(data: bytes, what: str) -> None:
    with pytest.raises(ValueError, match=what):
        parse_report_descriptor(data)


def test_huge_descriptor_is_linear() -> None:
    # a megabyte of items before the FIDO ones: parsed in one pass
    assert parse_report_descriptor(bytes.fromhex("0901") * 500_000 + FIDO) == (64, 64)


@SETTINGS
@given(st.binary(max_size=300))
def test_report_descriptor_any_bytes(data: bytes) -> None:
    try:
        sizes = parse_report_descriptor(FIDO[:12] + data)
    except ValueError:
        return
    assert all(0 <= s <= 65535 for s in sizes)


# -- cose: the fully-specified algorithms -----------------------------------------------------------------

EC_CASES: list[tuple[type[CoseKey], int, int]] = [
    (ESP256, 1, 32),
    (ESP384, 2, 48),
    (ESP512, 3, 66),
    (ES256K, 8, 32),
]


@pytest.mark.parametrize(("cls", "crv", "size"), EC_CASES)
def test_malformed_fully_specified_ec_keys(cls: type[CoseKey], crv: int, size: int) -> None:
    good = {1: 2, 3: cls.ALGORITHM, -1: crv, -2: b"\x01" * size, -3: b"\x02" * size}
    for change in (
        {-1: crv % 8 + 1},  # another curve
        {-1: "P-256"},
        {-1: True},
        {1: 1},
        {-2: b"\x01" * (size - 1)},
        {-3: b"\x02" * (size + 1)},
        {-2: int.from_bytes(b"\x01" * size, "big")},
        {-3: "y"},
        {-2: None},
    ):
        with pytest.raises(CoseError):
            CoseKey.parse({**good, **change})
    key = CoseKey.parse(good)  # sizes right, the point is not on the curve: known when the key is used
    with pytest.raises(CoseError, match="curve"):
        key.verify(b"m", b"\x30\x06\x02\x01\x01\x02\x01\x01")


@pytest.mark.parametrize(("cls", "crv", "size"), [(Ed25519, 6, 32), (Ed448, 7, 57)])
def test_malformed_okp_keys(cls: type[CoseKey], crv: int, size: int) -> None:
    good = {1: 1, 3: cls.ALGORITHM, -1: crv, -2: b"\x01" * size}
    for change in ({-1: 13 - crv}, {1: 2}, {-2: b"\x01" * (size + 1)}, {-2: 5}, {-2: "x"}, {-1: None}):
        with pytest.raises(CoseError):
            CoseKey.parse({**good, **change})
    key = CoseKey.parse(good)
    for sig in (b"", b"\x00" * 10, os.urandom(2 * size), b"\xff" * 2 * size):
        with pytest.raises((CoseError, InvalidSignature)):
            key.verify(b"m", sig)


_cose_values = st.one_of(
    st.integers(-(2**70), 2**70), st.binary(max_size=70), st.text(max_size=5), st.booleans(), st.none()
)


@SETTINGS
@given(
    st.sampled_from([-9, -51, -52, -47, -19, -53]),
    st.dictionaries(st.sampled_from([1, -1, -2, -3, 2, 4]), _cose_values, max_size=5),
    st.binary(max_size=140),
)
def test_fully_specified_any_members(alg: int, members: dict[int, Any], sig: bytes) -> None:
    try:
        key = CoseKey.parse({**members, 3: alg})
    except CoseError:
        return
    try:
        key.verify(b"message", sig)
    except (CoseError, InvalidSignature):
        pass


# -- cbor: encode / decode --------------------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=300))
def test_cbor_decode_any_bytes(data: bytes) -> None:
    try:
        value = cbor.decode(data)
    except cbor.CborError:
        return
    assert cbor.decode(cbor.encode(value)) == value


@pytest.mark.parametrize("data", [b"\x81" * 100_000 + b"\x00", b"\xa1\x01" * 100_000 + b"\x00", b"\x9f" * 1000])
def test_cbor_decode_deep_nesting(data: bytes) -> None:
    with pytest.raises(cbor.CborError):
        cbor.decode(data)


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4), st.binary(max_size=4)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(st.booleans(), st.integers(), st.text(max_size=3), st.binary(max_size=3)), inner, max_size=3
        ),
    ),
    max_leaves=20,
)


@SETTINGS
@given(_json)
def test_cbor_encode_any_value(value: object) -> None:
    try:
        cbor.encode(value)
    except cbor.CborError:
        pass


def test_cbor_encode_deep_and_self_referencing() -> None:
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    loop: list[Any] = []
    loop.append(loop)
    for value in (deep, loop, {1: deep}, {True: loop}, object(), {object(): 1}, {(1, 2): 1}):
        with pytest.raises(cbor.CborError):
            cbor.encode(value)


# -- webauthn JSON: client extension outputs from a browser -----------------------------------------------


def test_deeply_nested_extension_outputs_are_refused() -> None:
    from aioctap.webauthn import RegistrationResponse, websafe_encode

    deep: Any = []
    for _ in range(900):  # json.loads takes this; item access and repr recursed past the limit (RecursionError)
        deep = [deep]
    body = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {
            "clientDataJSON": websafe_encode(
                b'{"type":"webauthn.create","challenge":"AAAA","origin":"https://a.example"}'
            ),
            "attestationObject": websafe_encode(cbor.dumps({"fmt": "none", "authData": bytes(37), "attStmt": {}})),
        },
        "clientExtensionResults": {"credProps": {"rk": True}, "x": deep},
    }
    with pytest.raises(ValueError, match="nested deeper than 16"):
        RegistrationResponse.from_dict(body)
    body["clientExtensionResults"] = {"credProps": {"rk": True}}
    assert dict(RegistrationResponse.from_dict(body))["clientExtensionResults"] == {"credProps": {"rk": True}}
