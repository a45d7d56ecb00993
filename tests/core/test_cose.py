"""COSE keys: every algorithm signs/verifies, malformed keys give CoseError."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.cose import (
    ES256,
    ES384,
    ES512,
    MLDSA44,
    MLDSA65,
    MLDSA87,
    PS256,
    RS1,
    RS256,
    CoseError,
    CoseKey,
    EdDSA,
    UnsupportedKey,
)

MSG = b"message to sign"


def _ec(curve: ec.EllipticCurve, h: hashes.HashAlgorithm, cls: type[CoseKey]) -> tuple[CoseKey, bytes]:
    priv = ec.generate_private_key(curve)
    return cls.from_cryptography_key(priv.public_key()), priv.sign(MSG, ec.ECDSA(h))


def _rsa(pad: padding.AsymmetricPadding, h: hashes.HashAlgorithm, cls: type[CoseKey]) -> tuple[CoseKey, bytes]:
    priv = rsa.generate_private_key(65537, 2048)
    return cls.from_cryptography_key(priv.public_key()), priv.sign(MSG, pad, h)


def _eddsa() -> tuple[CoseKey, bytes]:
    priv = ed25519.Ed25519PrivateKey.generate()
    return EdDSA.from_cryptography_key(priv.public_key()), priv.sign(MSG)


def _mldsa(private: Any, cls: type[CoseKey]) -> tuple[CoseKey, bytes]:
    priv = private.generate()
    return cls.from_cryptography_key(priv.public_key()), priv.sign(MSG)


CASES: list[Any] = [
    lambda: _ec(ec.SECP256R1(), hashes.SHA256(), ES256),
    lambda: _ec(ec.SECP384R1(), hashes.SHA384(), ES384),
    lambda: _ec(ec.SECP521R1(), hashes.SHA512(), ES512),
    _eddsa,
    lambda: _rsa(padding.PKCS1v15(), hashes.SHA256(), RS256),
    lambda: _rsa(padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256(), PS256),
    lambda: _rsa(padding.PKCS1v15(), hashes.SHA1(), RS1),
    lambda: _mldsa(mldsa.MLDSA44PrivateKey, MLDSA44),
    lambda: _mldsa(mldsa.MLDSA65PrivateKey, MLDSA65),
    lambda: _mldsa(mldsa.MLDSA87PrivateKey, MLDSA87),
]


@pytest.mark.parametrize(
    "make", CASES, ids=["ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256", "RS1", "MLDSA44", "MLDSA65", "MLDSA87"]
)
def test_sign_verify_round_trip(make: Any) -> None:
    key, sig = make()
    parsed = CoseKey.from_bytes(cbor.dumps(dict(key)))
    assert type(parsed) is type(key)
    parsed.verify(MSG, sig)
    with pytest.raises(CoseError, match="does not verify"):
        parsed.verify(MSG + b"!", sig)


def test_supported_algorithms() -> None:
    assert CoseKey.supported_algorithms() == [-7, -8, -35, -36, -37, -257, -48, -49, -50, -65535]


def test_ml_dsa_keys_are_checked() -> None:
    """AKP keys (draft-ietf-cose-dilithium): kty 7 and a public key of the parameter set's exact size."""
    key, sig = _mldsa(mldsa.MLDSA44PrivateKey, MLDSA44)
    for bad in ({**key, 1: 2}, {**key, -1: key[-1][:-1]}, {1: 7, 3: -48}):
        with pytest.raises(CoseError):
            CoseKey.parse(bad)
    with pytest.raises(CoseError, match="needs an MLDSA65PublicKey"):
        MLDSA65.from_cryptography_key(mldsa.MLDSA44PrivateKey.generate().public_key())
    other, _ = _mldsa(mldsa.MLDSA44PrivateKey, MLDSA44)
    with pytest.raises(CoseError, match="does not verify"):
        CoseKey.parse(dict(other)).verify(MSG, sig)


def test_unknown_algorithm_is_unsupported() -> None:
    key = CoseKey.parse({1: 2, 3: -9999})
    assert isinstance(key, UnsupportedKey)
    with pytest.raises(CoseError, match="not supported"):
        key.verify(b"", b"")


@pytest.mark.parametrize(
    "cose",
    [
        [],
        {1: 2},
        {1: 2, 3: "ES256"},
        {1: 2, 3: -7, -1: 1, -2: b"\0" * 32},
        {1: 2, 3: -7, -1: 2, -2: b"\0" * 32, -3: b"\0" * 32},
        {1: 2, 3: -7, -1: 1, -2: b"\0" * 31, -3: b"\0" * 32},
        {1: 1, 3: -8, -1: 6, -2: 5},
        {1: 3, 3: -257, -1: b"", -2: b"\x01"},
    ],
)
def test_malformed_keys(cose: Any) -> None:
    with pytest.raises(CoseError):
        CoseKey.parse(cose)


def test_point_not_on_curve() -> None:
    key = CoseKey.parse({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32})
    with pytest.raises(CoseError, match=r"invalid EC public key: the point \(x, y\) is not on the curve secp256r1"):
        key.verify(MSG, b"\x30\x00")


def test_u2f_raw_point_round_trip() -> None:
    key, _ = _ec(ec.SECP256R1(), hashes.SHA256(), ES256)
    assert isinstance(key, ES256)
    assert ES256.from_raw(key.to_raw()) == key


@settings(max_examples=300)
@given(st.binary(max_size=120))
def test_from_bytes_any_input(data: bytes) -> None:
    try:
        key = CoseKey.from_bytes(data)
    except CoseError:
        return
    try:
        key.verify(MSG, b"sig")
    except CoseError:
        pass
